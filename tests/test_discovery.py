"""Scenario discovery: PRIM recovers a known box, breaks ties without restricting new axes, tests
each limit on its own, lets the analyst take any box of the trade-off, and a sweep is analysed
end to end with its tables written beside it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blocsim.analysis.discovery import discover, format_discovery
from blocsim.analysis.prim import (
    QP_SIGNIFICANCE,
    _best_peel,
    _Limits,
    jaccard_overlap,
    paste_box,
    peel,
    peel_count,
    prim,
    prune_box,
    quasi_p_values,
)
from blocsim.errors import ResultsError
from tests.conftest import SCENARIOS

TRUTH = {"x0": (0.2, 0.6), "x2": (0.5, 1.0)}


def box_truth(seed: int, points: int = 2000, flip: float = 0.0) -> tuple[pd.DataFrame, np.ndarray]:
    """X uniform in [0, 1]^5; y = x0 in [0.2, 0.6] and x2 > 0.5, a share `flip` of them flipped."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.uniform(size=(points, 5)), columns=[f"x{i}" for i in range(5)])
    y = ((x.x0 >= 0.2) & (x.x0 <= 0.6) & (x.x2 > 0.5)).to_numpy()
    if flip:
        y = y ^ (rng.random(points) < flip)
    return x, y


def chosen(result) -> tuple[pd.Series, pd.DataFrame]:
    index = int(np.flatnonzero(result.trajectory["chosen"])[0])
    return result.trajectory.iloc[index], result.boxes[index]


def issue_synthetic(seed: int, points: int = 1000, flip: float = 0.1):
    """The issue's set: x uniform in [0, 1]^4, y = x1 > 0.6 and x2 < 0.4, a share flipped."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.uniform(size=(points, 4)), columns=["x1", "x2", "x3", "x4"])
    y = ((x.x1 > 0.6) & (x.x2 < 0.4)).to_numpy() ^ (rng.random(points) < flip)
    return x, y


def assert_recovers_truth(box: pd.DataFrame, tolerance: float) -> None:
    assert sorted(box.index[box["restricted"]]) == sorted(TRUTH)
    for axis, (low, high) in TRUTH.items():
        assert box.loc[axis, "low"] == pytest.approx(low, abs=tolerance)
        assert box.loc[axis, "high"] == pytest.approx(high, abs=tolerance)


def test_prim_recovers_a_box_shaped_truth_within_its_interval():
    x, y = box_truth(seed=1)
    row, box = chosen(prim(x, y))
    assert_recovers_truth(box, tolerance=0.05)
    assert row.density >= 0.9
    assert row.coverage >= 0.8
    free = box[~box["restricted"]]
    assert (free["low"] == free["data_low"]).all() and (free["high"] == free["data_high"]).all()
    assert free[["qp", "qp_low", "qp_high"]].isna().all().all()
    assert (box.loc[list(TRUTH), "qp"] < 1e-6).all()
    assert np.isnan(box.loc["x2", "qp_high"])  # x2's upper limit is the data's own


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_prim_recovers_the_truth_with_five_percent_of_labels_flipped(seed: int):
    x, y = box_truth(seed=seed, flip=0.05)
    _, box = chosen(prim(x, y))
    assert_recovers_truth(box, tolerance=0.08)


def test_peeling_shrinks_mass_raises_density_and_never_gains_coverage():
    x, y = box_truth(seed=5, flip=0.05)
    trajectory = prim(x, y).trajectory
    peeled = trajectory[trajectory["phase"] == "peel"]
    assert (peeled["step"].to_numpy() == np.arange(len(peeled))).all()
    assert (np.diff(peeled["mass"]) < 0).all()
    assert (np.diff(peeled["coverage"]) <= 1e-12).all()
    assert peeled["density"].iloc[-1] >= peeled["density"].iloc[0]
    assert peeled["mass"].iloc[0] == 1.0 and peeled["coverage"].iloc[0] == 1.0
    assert peeled["mass"].iloc[-1] >= 0.05
    assert trajectory[["coverage", "density", "mass"]].stack().between(0, 1).all()


def test_pasting_never_lowers_the_box_mean():
    x, y = box_truth(seed=6, flip=0.1)
    values = x.to_numpy()
    for limits in peel(values, y, 0.05, 0.05)[5::5]:
        before = y[limits.contains(values)].mean()
        pasted = paste_box(values, y, limits, 0.05)
        assert y[pasted.contains(values)].mean() >= before
        assert (pasted.low <= limits.low).all() and (pasted.high >= limits.high).all()


def test_pasting_recovers_a_limit_that_peeling_overshot():
    x, y = box_truth(seed=7)
    values = x.to_numpy()
    # x0 cut too high at 0.3 and left too wide at 0.7: the mean rises while pasting below 0.3
    overshot = _Limits(np.array([0.3, 0, 0.5, 0, 0]), np.array([0.7, 1, 1, 1, 1]))
    pasted = paste_box(values, y, overshot, 0.05)
    assert pasted.low[0] == pytest.approx(0.2, abs=0.03)
    assert pasted.high[0] == 0.7
    assert y[pasted.contains(values)].mean() > y[overshot.contains(values)].mean()


def test_pruning_drops_a_restriction_that_does_not_matter():
    x, y = box_truth(seed=8)
    values = x.to_numpy()
    result = prim(x, y)
    assert list(result.trajectory["phase"].iloc[-2:]) == ["paste", "prune"]
    assert sorted(result.boxes[-1].index[result.boxes[-1]["restricted"]]) == sorted(TRUTH)
    assert values.shape[1] == len(result.boxes[-1])


def test_peel_removes_the_points_below_the_alpha_quantile_as_ema_workbench_does():
    assert [peel_count(n, 0.05) for n in (21, 100, 999, 1000)] == [2, 5, 50, 50]
    assert peel_count(2, 0.05) == 1


def test_tied_peels_go_to_an_axis_already_restricted():
    rng = np.random.default_rng(0)
    values = np.column_stack([rng.permutation(100), rng.permutation(100)]) / 99.0
    flags = np.all((values > 0.2) & (values < 0.8), axis=1)  # no case near either edge
    data = _Limits(values.min(axis=0), values.max(axis=0))
    limits = data.with_limit(1, 0, 3 / 99)  # axis 1 already restricted from below
    inside = limits.contains(values)
    move = _best_peel(values, flags, limits, data, inside, 0.05, 5)
    restricted = np.flatnonzero((move.limits.low > data.low) | (move.limits.high < data.high))
    assert restricted.tolist() == [1]  # axis 0's peels removed no case either, but stay unused


@pytest.mark.parametrize("seed", range(5))
def test_the_reported_box_restricts_only_the_true_axes_of_the_issues_synthetic_set(seed: int):
    x, y = issue_synthetic(seed)
    box = prim(x, y).box()
    assert box.restricted_axes == ["x1", "x2"] == box.significant_axes


@pytest.mark.slow
def test_the_known_box_is_recovered_on_average_over_thirty_seeds():
    truth_low, truth_high = np.array([0.6, 0, 0, 0]), np.array([1, 0.4, 1, 1])
    overlaps = []
    for seed in range(30):
        x, y = issue_synthetic(100 + seed)
        limits = prim(x, y).box().limits
        low = np.where(limits["restricted"], limits["low"], 0.0)
        high = np.where(limits["restricted"], limits["high"], 1.0)
        overlaps.append(jaccard_overlap(low, high, truth_low, truth_high))
    assert np.mean(overlaps) >= 0.8 and min(overlaps) >= 0.6


def test_each_limit_has_its_own_quasi_p_value_and_a_noise_limit_is_pruned():
    x, y = issue_synthetic(seed=3, flip=0.05)
    values = x.to_numpy()
    data = _Limits(values.min(axis=0), values.max(axis=0))
    # x1's lower limit is real (0.6); its upper limit at 0.7 cuts off cases for no reason
    box = data.with_limit(0, 0, 0.6).with_limit(0, 1, 0.7).with_limit(1, 1, 0.4)
    qp = quasi_p_values(values, y, box, data)
    assert qp[0, 0] < 1e-6 and qp[1, 0] >= QP_SIGNIFICANCE
    assert np.isnan(qp[0, 1]) and qp[1, 1] < 1e-6 and np.isnan(qp[:, 2:]).all()
    pruned = prune_box(values, y, box, data)
    assert pruned.low[0] == 0.6 and pruned.high[0] == data.high[0] and pruned.high[1] == 0.4


def test_every_limit_of_the_reported_box_is_significant():
    x, y = box_truth(seed=12, flip=0.1)
    limits = prim(x, y).box().limits
    restricted = limits[limits["restricted"]]
    assert len(restricted) and (restricted["qp"] < QP_SIGNIFICANCE).all()


def test_any_step_of_the_trade_off_can_be_taken_and_is_refined_like_the_reported_box():
    x, y = box_truth(seed=13, flip=0.05)
    result = prim(x, y)
    reported = result.box()
    assert reported.step == result.chosen_step and reported.phase == "prune"
    pd.testing.assert_frame_equal(reported.limits, result.boxes[-1])
    assert reported.coverage == result.trajectory["coverage"].iloc[-1]
    early = result.box(3)
    peeled = result.trajectory.query("phase == 'peel' and step == 3").iloc[0]
    assert early.step == 3 and early.mass >= 0.0
    restricted = early.limits[early.limits["restricted"]]
    assert (restricted["qp"] < QP_SIGNIFICANCE).all()
    assert early.points >= 1 and early.density >= peeled["density"] - 0.05
    with pytest.raises(IndexError, match="not on the peeling trajectory"):
        result.box(result.steps)


def test_step_boxes_hold_every_steps_peeled_and_refined_box():
    x, y = box_truth(seed=14, points=400, flip=0.05)
    result = prim(x, y)
    table = result.step_boxes()
    assert len(table) == result.steps * 2 * x.shape[1]
    peeled = table[table["stage"] == "peeled"].groupby("step")["coverage"].first()
    trajectory = result.trajectory.query("phase == 'peel'").set_index("step")["coverage"]
    pd.testing.assert_series_equal(peeled, trajectory, check_names=False)
    refined = table[(table["stage"] == "refined") & (table["step"] == result.chosen_step)]
    assert refined.set_index("axis")[["low", "high"]].equals(result.boxes[-1][["low", "high"]])


def test_prim_refuses_labels_without_a_case_of_interest():
    x, _ = box_truth(seed=9, points=100)
    with pytest.raises(ValueError, match="no case of interest"):
        prim(x, np.zeros(len(x), dtype=bool))


def write_lhs_sweep(tmp_path: Path) -> Path:
    path = tmp_path / "lhs.toml"
    path.write_text(textwrap.dedent(f'''
        name = "discovery_test"
        base = "{SCENARIOS / "baseline.toml"}"
        design = "lhs"
        samples = 40
        replications = 10
        seed = 11
        point = true  # the hand-set weights, where AUKUS consolidates often enough for PRIM

        [[axes]]
        path = "pressures.china_assertiveness.end"
        range = [0.0, 1.0]

        [[axes]]
        path = "pressures.us_engagement.end"
        range = [0.0, 1.0]

        [[axes]]
        path = "states.IND.autonomy"
        range = [0.3, 1.0]
    '''))
    return path


@pytest.fixture(scope="module")
def lhs_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from blocsim.experiment.executors import LocalExecutor
    from blocsim.experiment.sweep import run_sweep
    from blocsim.experiment.sweepfile import load_sweep

    tmp_path = tmp_path_factory.mktemp("discovery")
    run_sweep(load_sweep(write_lhs_sweep(tmp_path)), tmp_path / "out", LocalExecutor(2))
    return tmp_path / "out"


@pytest.mark.slow
def test_discover_on_a_small_lhs_sweep_writes_its_tables_beside_it(lhs_sweep: Path):
    probabilities = pd.read_parquet(lhs_sweep / "outcomes.parquet").query("grouping == 'AUKUS'") \
        .groupby("point")["consolidated"].mean()
    threshold = float(np.quantile(probabilities, 0.75))
    result = discover(lhs_sweep, "AUKUS", threshold=max(threshold, 0.1))
    for name, table in (("trajectory", result.trajectory), ("box", result.limits)):
        saved = pd.read_parquet(lhs_sweep / f"discovery_AUKUS_{name}.parquet")
        assert len(saved) == len(table)
    boxes = pd.read_parquet(lhs_sweep / "discovery_AUKUS_boxes.parquet")
    assert {"step", "stage", "axis", "low", "high", "qp_low", "qp_high", "coverage", "density",
            "mass"} <= set(boxes.columns)
    assert boxes["step"].nunique() == result.prim_result.steps
    assert not list(lhs_sweep.glob(".*partial"))
    assert result.trajectory[["coverage", "density", "mass"]].stack().between(0, 1).all()
    assert result.trajectory["chosen"].sum() == 1
    assert result.points == 40 and result.design == "lhs"
    assert set(result.limits["axis"]) == {"pressures.china_assertiveness.end",
                                       "pressures.us_engagement.end", "states.IND.autonomy"}
    report = format_discovery(result)
    assert "AUKUS" in report and "coverage" in report and ".box(step)" in report
    other = result.box(1)
    assert other.step == 1 and list(other.limits.index) == list(result.limits["axis"])


def test_discover_names_the_groupings_when_one_is_misspelled(lhs_sweep: Path):
    with pytest.raises(ResultsError, match="did you mean 'AUKUS'"):
        discover(lhs_sweep, "AUKU", write=False)


def test_discover_refuses_a_threshold_no_point_reaches(lhs_sweep: Path):
    with pytest.raises(ResultsError, match="no design point"):
        discover(lhs_sweep, "IP4", threshold=1.0, write=False)


@pytest.mark.slow  # 30 s: EMA Workbench in its own venv, where `make bench-sweep` made one
def test_prim_agrees_with_ema_workbench_and_recovers_the_known_box_at_least_as_well():
    from benchmarks.bench_prim_ema import compare, installed_ema_python, recovery, run_ema

    python = installed_ema_python()
    if python is None:
        pytest.skip("ema_workbench is not installed here nor in benchmarks/.venv-ema (not a "
                    "dependency of blocsim): `make bench-prim-ema` creates that venv")
    x, y = issue_synthetic(0)
    [theirs] = run_ema([(x, y)], python)
    compared = compare("synthetic", x, y, theirs)
    assert compared["mean |density gap| at equal mass"] <= 0.02
    assert compared["blocsim restricted"] == compared["EMA restricted after dropping weak"] == 2
    found = recovery(30, python)
    assert found["mean overlap, blocsim"] >= found["mean overlap, EMA"]
    assert found["mean overlap, blocsim"] >= found["mean overlap, EMA, weak axes dropped"]


def test_the_sweep_page_lets_the_analyst_pick_another_box_of_the_trade_off(lhs_sweep: Path,
                                                                            browser, tmp_path):
    from blocsim.dashboards import write_dashboard
    from tests.browser_support import open_page

    result = discover(lhs_sweep, "AUKUS", threshold=0.1)
    page_path = write_dashboard(lhs_sweep, tmp_path / "sweep.html")
    page, errors, _ = open_page(browser, page_path)
    figure = "document.querySelector('#discovery .js-plotly-plot')"
    sliders = page.evaluate(f"() => {figure}.layout.sliders.map(s => [s.name, s.steps.length,"
                            " s.active])")
    steps = result.prim_result.steps
    assert ["AUKUS", steps, result.chosen_step] in sliders
    hover = page.evaluate(f"() => {figure}.data.find(t => t.name && t.name.startsWith("
                          "'peeling') && t.meta === 'AUKUS').customdata.map(r => r[5])")
    assert hover[0] == "" and any("≥" in text or "≤" in text for text in hover[1:])
    index = [s[0] for s in sliders].index("AUKUS")
    rail = page.query_selector_all("#discovery .slider-rail-touch-rect")[index]
    rail.scroll_into_view_if_needed()
    box = rail.bounding_box()
    page.mouse.click(box["x"] + 2, box["y"] + box["height"] / 2)  # the first step: whole data
    page.wait_for_timeout(300)
    picked = page.evaluate(f"() => {figure}.data.find(t => t.name && t.name.startsWith("
                           "'picked') && t.meta === 'AUKUS')")
    whole = result.box(0)
    assert picked["x"][0] == pytest.approx(whole.coverage)
    assert picked["y"][0] == pytest.approx(whole.density)
    assert not errors
