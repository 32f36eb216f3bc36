"""Sensitivity: Sobol indices recover Ishigami's analytic values; Morris ranks a null parameter
last; the real model's sweeps yield indices beside the sweep."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from SALib.test_functions import Ishigami

from blocsim.analysis.sensitivity import morris_effects, sobol_indices
from blocsim.errors import ResultsError
from blocsim.experiment.designs import MORRIS_LEVELS, design_points, sobol_problem
from blocsim.experiment.executors import LocalExecutor
from blocsim.experiment.sweep import run_sweep
from blocsim.experiment.sweepfile import SweepSpec, load_sweep
from tests.conftest import BASELINE

ISHIGAMI_S1 = np.array([0.3139, 0.4424, 0.0])
ISHIGAMI_ST = np.array([0.5576, 0.4424, 0.2437])


def synthetic_spec(design: str, samples: int) -> SweepSpec:
    return SweepSpec.model_validate({
        "name": "synthetic", "base": "unused.toml", "design": design, "samples": samples,
        "seed": 1, "axes": [{"path": f"x{i}", "range": (-np.pi, np.pi)} for i in range(3)]})


def test_sobol_indices_recover_ishigamis_analytic_values_within_their_intervals():
    spec = synthetic_spec("sobol", 2048)
    points = design_points(spec).to_numpy()
    table = sobol_indices(sobol_problem(spec.axes), Ishigami.evaluate(points), seed=1)
    tolerance = 0.01
    assert (np.abs(table.S1 - ISHIGAMI_S1) <= table.S1_conf + tolerance).all()
    assert (np.abs(table.ST - ISHIGAMI_ST) <= table.ST_conf + tolerance).all()


def test_morris_ranks_a_parameter_without_effect_last_with_mu_star_near_zero():
    spec = synthetic_spec("morris", 60)
    points = design_points(spec).to_numpy()
    y = 3 * points[:, 0] + points[:, 1] ** 2
    table = morris_effects(sobol_problem(spec.axes), points, y, MORRIS_LEVELS, seed=1)
    assert list(table.sort_values("mu_star", ascending=False).parameter) == ["x0", "x1", "x2"]
    assert table.mu_star[2] == pytest.approx(0.0, abs=1e-9)


def noisy_probabilities(design: str, samples: int, runs: int = 20, axes: int = 10):
    """A design of `axes` axes over [0, 1] where only x0 matters: P = 0.1 + 0.3 x0, each point's
    probability a share of `runs` Bernoulli runs. Returns the problem, the points, the shares and
    each share's unbiased noise variance."""
    spec = SweepSpec.model_validate({
        "name": "noisy", "base": "unused.toml", "design": design, "samples": samples, "seed": 1,
        "axes": [{"path": f"x{i}", "range": (0.0, 1.0)} for i in range(axes)]})
    points = design_points(spec).to_numpy()
    shares = np.random.default_rng(3).binomial(runs, 0.1 + 0.3 * points[:, 0]) / runs
    return sobol_problem(spec.axes), points, shares, shares * (1 - shares) / (runs - 1)


def test_sobol_indices_without_noise_are_salibs_estimates():
    from SALib.analyze import sobol

    problem, _, shares, _ = noisy_probabilities("sobol", 64)
    salib = sobol.analyze(problem, shares, calc_second_order=False, seed=1)
    table = sobol_indices(problem, shares, seed=1)
    assert np.allclose(table.S1, salib["S1"]) and np.allclose(table.ST, salib["ST"])
    assert (table.noise_share == 0).all()


def test_replication_noise_would_pass_for_influence_of_pressures_without_any():
    problem, _, shares, _ = noisy_probabilities("sobol", 128)
    inert = sobol_indices(problem, shares, seed=1).iloc[1:]
    assert (inert.ST - inert.ST_conf > 0.2).all()


def test_sobol_indices_net_of_noise_give_inert_axes_nothing_and_the_real_one_everything():
    problem, _, shares, noise = noisy_probabilities("sobol", 128)
    table = sobol_indices(problem, shares, seed=1, noise=noise)
    real, inert = table.iloc[0], table.iloc[1:]
    assert 0.3 < table.noise_share.iloc[0] < 0.7
    assert abs(real.S1 - 1) <= real.S1_conf and abs(real.ST - 1) <= real.ST_conf
    assert (inert.ST.abs() <= inert.ST_conf).all()


def test_sobol_indices_are_not_given_where_the_points_differ_by_noise_alone():
    problem, _, shares, noise = noisy_probabilities("sobol", 64)
    table = sobol_indices(problem, np.full_like(shares, 0.25) + (shares - shares.mean()) * 0.01,
                          seed=1, noise=noise)
    assert (table.noise_share >= 1).all() and table.S1.isna().all() and table.ST.isna().all()


def test_morris_floor_is_the_mu_star_of_parameters_without_effect():
    problem, points, shares, noise = noisy_probabilities("morris", 100, axes=4)
    table = morris_effects(problem, points, shares, MORRIS_LEVELS, seed=1, noise=noise)
    inert = table.iloc[1:]
    assert (abs(inert.mu_star - inert.mu_star_noise) <= inert.mu_star_conf + 0.02).all()
    assert table.mu_star.iloc[0] - table.mu_star_conf.iloc[0] > table.mu_star_noise.iloc[0]


def test_replication_noise_of_a_point_is_the_variance_of_its_mean():
    from blocsim.analysis.sensitivity import replication_noise

    consolidated = np.array([1, 0, 0, 0, 1, 1, 0, 0])
    outcomes = pd.DataFrame({"point": 0, "grouping": "QUAD", "replication": np.arange(8),
                             "consolidated": consolidated.astype(bool),
                             "peak_level": np.arange(8.0)})
    noise = replication_noise(outcomes).iloc[0]
    assert noise.probability == pytest.approx(consolidated.var(ddof=1) / 8)
    assert noise.mean_peak_level == pytest.approx(np.arange(8.0).var(ddof=1) / 8)
    blocks = replication_noise(outcomes, draw_block=4).iloc[0]
    assert blocks.probability == pytest.approx(np.var([0.25, 0.5], ddof=1) / 2)
    assert np.isnan(replication_noise(outcomes, draw_block=8).iloc[0].probability)


def test_a_point_whose_noise_is_unknown_takes_the_others_mean():
    """One point left with a single run must not turn the correction off for every point."""
    from blocsim.analysis.sensitivity import _noise_of

    rows = pd.DataFrame({"probability_noise": [0.01, np.nan, 0.03]})
    assert list(_noise_of(rows, "probability")) == [0.01, 0.02, 0.03]
    assert _noise_of(rows.assign(probability_noise=np.nan), "probability") is None
    assert _noise_of(pd.DataFrame({"x": [1]}), "probability") is None  # common random numbers


THREE_AXES = (("pressures.china_assertiveness.end", 0.0, 1.0),
              ("pressures.us_engagement.end", 0.0, 1.0), ("states.IND.autonomy", 0.3, 1.0))


def real_sweep(tmp_path, design: str, samples: int, axes=THREE_AXES, replications: int = 6,
               seed: int = 5, point: bool = True):
    """Write and run a small sweep of the baseline; return its folder.

    At the hand-set weights by default (`point = true`), where every grouping varies: what the
    analysis machinery needs; `point=False` draws from the calibrated posterior.
    """
    path = tmp_path / f"{design}.toml"
    text = (f'name = "{design}"\nbase = "{BASELINE}"\ndesign = "{design}"\n'
            f"samples = {samples}\nreplications = {replications}\nseed = {seed}\n"
            f"point = {'true' if point else 'false'}\n")
    for axis, low, high in axes:
        text += f'\n[[axes]]\npath = "{axis}"\nrange = [{low}, {high}]\n'
    path.write_text(text)
    run_sweep(load_sweep(path), tmp_path / design, LocalExecutor(2))
    return tmp_path / design


@pytest.mark.slow
@pytest.mark.parametrize("design, samples", [("sobol", 16), ("morris", 10)])
def test_analyze_writes_indices_for_every_grouping_beside_the_sweep(tmp_path, design, samples):
    folder = real_sweep(tmp_path, design, samples)
    done = subprocess.run([sys.executable, "-m", "blocsim.cli", "analyze", str(folder),
                           "--sensitivity"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    table = pd.read_parquet(folder / "sensitivity.parquet")
    assert set(table.grouping) == {"QUAD", "AUKUS", "IP4", "US_JPN_ROK", "PBP", "SQUAD"}
    assert set(table.outcome) == {"probability", "mean_peak_level"}
    assert len(table) == 6 * 2 * 3
    assert "nan" not in done.stdout
    assert re.search(r"pressures\.china_assertiveness\.end +(ST|mu_star) +\d", done.stdout)


def test_sensitivity_of_a_design_without_indices_is_refused_with_the_reason(tmp_path):
    from blocsim.analysis.sensitivity import analyze_sensitivity

    folder = real_sweep(tmp_path, "lhs", 8)
    with pytest.raises(ResultsError, match="sobol"):
        analyze_sensitivity(folder)


@pytest.mark.slow
def test_a_grouping_that_never_varies_is_reported_as_such_not_as_zero_indices(tmp_path):
    from blocsim.analysis.sensitivity import analyze_sensitivity

    table = analyze_sensitivity(real_sweep(tmp_path, "sobol", 8))
    ip4 = table[(table.grouping == "IP4") & (table.outcome == "probability")]
    assert ip4.ST.isna().all() and ip4.note.str.startswith("no variation").all()


@pytest.mark.slow
def test_sobol_and_prim_agree_on_what_drives_the_trilateral(tmp_path):
    """At the calibrated weights, what moves the trilateral's peak level most (Sobol) is among
    the dimensions PRIM restricts to where it consolidates. Its probability itself is too rare
    there (at most 0.2 in the design) for 32 Sobol samples to rank the pressures."""
    from blocsim.analysis.discovery import discover
    from blocsim.analysis.sensitivity import analyze_sensitivity

    axes = (("pressures.china_assertiveness.end", 0.0, 1.0),
            ("pressures.us_engagement.end", 0.0, 1.0),
            ("pressures.europe_bandwidth.end", 0.0, 1.0))

    def sweep(design: str, samples: int):
        return real_sweep(tmp_path, design, samples, axes, replications=10, seed=8,
                          point=False)

    sobol = analyze_sensitivity(sweep("sobol", 32))
    trilateral = sobol[(sobol.grouping == "US_JPN_ROK") & (sobol.outcome == "mean_peak_level")]
    most_sensitive = trilateral.sort_values("ST", ascending=False).parameter.iloc[0]
    found = discover(sweep("lhs", 120), "US_JPN_ROK", threshold=0.1)
    assert most_sensitive in found.restricted_axes
    assert "pressures.europe_bandwidth.end" != most_sensitive


def test_indices_are_printed_when_every_grouping_varies():
    from blocsim.analysis.sensitivity import format_sensitivity

    spec = synthetic_spec("sobol", 64)
    points = design_points(spec).to_numpy()
    table = sobol_indices(sobol_problem(spec.axes), Ishigami.evaluate(points), seed=1)
    table.insert(0, "outcome", "probability")
    table.insert(0, "grouping", "QUAD")
    table["note"] = ""
    text = format_sensitivity(table)
    assert "nan" not in text and "x1" in text and "ST" in text


def test_an_outcome_varying_only_in_the_cross_samples_gets_a_note_not_zero_indices():
    from blocsim.analysis.sensitivity import unmeasured_note

    parameters = 3
    y = np.zeros(64 * (parameters + 2))
    y[[1, 7 * (parameters + 2) + 2]] = 1.0  # two hits, both in AB rows
    note = unmeasured_note(y, "sobol", parameters, "probability")
    assert note is not None and note.startswith("too rare for Sobol indices")
    assert "at 2 of 320 points" in note


def test_an_outcome_varying_in_the_base_samples_gets_indices():
    from blocsim.analysis.sensitivity import unmeasured_note

    y = np.zeros(64 * 5)
    y[5] = 1.0  # the A row of the second block
    assert unmeasured_note(y, "sobol", 3, "probability") is None
    assert unmeasured_note(y, "morris", 3, "probability") is None


def test_both_outcomes_are_ranked_when_printed():
    from blocsim.analysis.sensitivity import format_sensitivity

    spec = synthetic_spec("sobol", 64)
    y = Ishigami.evaluate(design_points(spec).to_numpy())
    frames = []
    for outcome in ("probability", "mean_peak_level"):
        table = sobol_indices(sobol_problem(spec.axes), y, seed=1)
        table.insert(0, "outcome", outcome)
        table.insert(0, "grouping", "QUAD")
        table["note"] = ""
        frames.append(table)
    text = format_sensitivity(pd.concat(frames, ignore_index=True))
    assert "P(consolidation), ranked" in text and "mean peak level, ranked" in text
