"""Tipping points: the adaptive search recovers known thresholds within its interval, says when a
curve never crosses, and spends its runs where the curve crosses."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from blocsim.analysis.tipping import (
    crossing,
    find_tipping_point,
    fit_logistic,
    fixed_grid_runs,
    grid_bracket,
)
from tests.conftest import BASELINE, SCENARIOS


def logistic_model(threshold: float, scale: float, seed: int, rising: bool = True):
    rng = np.random.default_rng(seed)
    sign = 1.0 if rising else -1.0

    def evaluate(values, runs):
        p = 1.0 / (1.0 + np.exp(-sign * (np.asarray(values) - threshold) / scale))
        return rng.binomial(runs, p)

    return evaluate


def test_logistic_fit_recovers_known_coefficients():
    x = np.linspace(0, 1, 41)
    trials = np.full(41, 4000)
    truth = 1 / (1 + np.exp(-(-6 + 10 * x)))
    fit = fit_logistic(x, np.round(trials * truth), trials)
    assert fit.intercept == pytest.approx(-6, abs=0.05) and fit.slope == pytest.approx(10, abs=0.1)
    estimate, low, high = crossing(fit, 0.5)
    assert estimate == pytest.approx(0.6, abs=0.005) and low < 0.6 < high


@pytest.mark.parametrize("seed", range(8))
def test_search_recovers_a_known_threshold_within_its_interval(seed):
    threshold = 0.3 + 0.05 * seed
    result = find_tipping_point(logistic_model(threshold, 0.08, seed), 0.0, 1.0, 0.5, 0.05)
    assert result.status == "crosses"
    assert result.low <= threshold <= result.high
    assert result.width <= 0.05


def test_search_handles_a_falling_curve_and_another_target():
    result = find_tipping_point(logistic_model(0.4, 0.1, 3, rising=False), 0.0, 1.0, 0.2, 0.05)
    truth = 0.4 + 0.1 * np.log(4)
    assert result.status == "crosses" and result.low <= truth <= result.high


def test_a_curve_that_never_reaches_the_target_is_reported_as_such():
    def never(values, runs):
        return np.random.default_rng(1).binomial(runs, 0.1 * np.ones(len(values)))

    result = find_tipping_point(never, 0.0, 1.0, 0.5, 0.05)
    assert result.status == "never crosses in range" and "below 0.5" in result.note
    assert result.runs <= 200


@pytest.mark.parametrize("seed", range(4))
def test_after_the_opening_look_every_run_goes_near_the_crossing(seed):
    result = find_tipping_point(logistic_model(0.7, 0.12, seed), 0.0, 1.0, 0.5, 0.02)
    later = result.evaluations[result.evaluations["round"] > 0]
    assert len(later) > 0 and (np.abs(later.value - 0.7) < 0.15).all()


def test_search_uses_a_quarter_of_the_runs_of_an_analysts_fixed_grid():
    model = logistic_model(0.62, 0.08, 11)
    adaptive = find_tipping_point(model, 0.0, 1.0, 0.5, 0.05).runs
    grid, _ = fixed_grid_runs(model, 0.0, 1.0, 0.5, 0.05, [10, 20, 40, 80, 160, 320, 640])
    assert adaptive * 4 <= grid


def test_grid_bracket_reads_the_crossing_between_confident_neighbours():
    values = np.array([0.4, 0.45, 0.5, 0.55, 0.6])
    low, high = grid_bracket(values, np.array([0, 2, 50, 98, 100]), 100, 0.5)
    assert (low, high) == (0.45, 0.55)


def test_tip_command_reports_and_saves_the_search(tmp_path):
    out = tmp_path / "tip"
    done = subprocess.run([sys.executable, "-m", "blocsim.cli", "tip", str(BASELINE), "--vary",
                           "states.IND.autonomy", "--grouping", "QUAD", "--precision", "0.1",
                           "--workers", "2", "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "crosses" in done.stdout
    assert (out / "tipping.parquet").is_file() and (out / "evaluations.parquet").is_file()


def test_india_tilt_means_quad_never_tips_on_chinas_assertiveness():
    import blocsim

    result = blocsim.tipping_point(SCENARIOS / "india_tilt.toml",
                                   "pressures.china_assertiveness.value", "QUAD", workers=2)
    assert result.status == "never crosses in range"


def test_tipping_search_is_identical_on_local_processes_and_dask():
    import blocsim

    kwargs = dict(scenario=BASELINE, vary="states.IND.autonomy", grouping="QUAD",
                  precision=0.15, seed=4)
    local = blocsim.tipping_point(**kwargs, workers=2)
    dask = blocsim.tipping_point(**kwargs, dask="local", workers=2)
    assert local.status == dask.status
    assert np.array_equal([local.estimate], [dask.estimate], equal_nan=True)
    assert local.evaluations.equals(dask.evaluations)
