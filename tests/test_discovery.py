"""Scenario discovery: PRIM recovers a known box, its trajectory behaves, and a sweep is analysed
end to end with its tables written beside it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blocsim.analysis.discovery import discover, format_discovery
from blocsim.analysis.prim import _Limits, paste_box, peel, prim
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


def chosen(trajectory: pd.DataFrame, boxes: list[pd.DataFrame]) -> tuple[pd.Series, pd.DataFrame]:
    index = int(np.flatnonzero(trajectory["chosen"])[0])
    return trajectory.iloc[index], boxes[index]


def assert_recovers_truth(box: pd.DataFrame, tolerance: float) -> None:
    assert sorted(box.index[box["restricted"]]) == sorted(TRUTH)
    for axis, (low, high) in TRUTH.items():
        assert box.loc[axis, "low"] == pytest.approx(low, abs=tolerance)
        assert box.loc[axis, "high"] == pytest.approx(high, abs=tolerance)


def test_prim_recovers_a_box_shaped_truth_within_its_interval():
    x, y = box_truth(seed=1)
    trajectory, boxes = prim(x, y)
    row, box = chosen(trajectory, boxes)
    assert_recovers_truth(box, tolerance=0.05)
    assert row.density >= 0.9
    assert row.coverage >= 0.8
    free = box[~box["restricted"]]
    assert (free["low"] == free["data_low"]).all() and (free["high"] == free["data_high"]).all()
    assert free["qp"].isna().all()
    assert (box.loc[list(TRUTH), "qp"] < 1e-6).all()


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_prim_recovers_the_truth_with_five_percent_of_labels_flipped(seed: int):
    x, y = box_truth(seed=seed, flip=0.05)
    trajectory, boxes = prim(x, y)
    _, box = chosen(trajectory, boxes)
    assert_recovers_truth(box, tolerance=0.08)


def test_peeling_shrinks_mass_raises_density_and_never_gains_coverage():
    x, y = box_truth(seed=5, flip=0.05)
    trajectory, _ = prim(x, y)
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
    trajectory, boxes = prim(x, y, prune=True)
    assert list(trajectory["phase"].iloc[-2:]) == ["paste", "prune"]
    assert sorted(boxes[-1].index[boxes[-1]["restricted"]]) == sorted(TRUTH)
    assert values.shape[1] == len(boxes[-1])


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


def test_discover_on_a_small_lhs_sweep_writes_its_tables_beside_it(lhs_sweep: Path):
    probabilities = pd.read_parquet(lhs_sweep / "outcomes.parquet").query("grouping == 'AUKUS'") \
        .groupby("point")["consolidated"].mean()
    threshold = float(np.quantile(probabilities, 0.75))
    result = discover(lhs_sweep, "AUKUS", threshold=max(threshold, 0.1))
    for name in ("trajectory", "box"):
        saved = pd.read_parquet(lhs_sweep / f"discovery_AUKUS_{name}.parquet")
        assert len(saved) == len(getattr(result, name))
    assert not list(lhs_sweep.glob(".*partial"))
    assert result.trajectory[["coverage", "density", "mass"]].stack().between(0, 1).all()
    assert result.trajectory["chosen"].sum() == 1
    assert result.points == 40 and result.design == "lhs"
    assert set(result.box["axis"]) == {"pressures.china_assertiveness.end",
                                       "pressures.us_engagement.end", "states.IND.autonomy"}
    report = format_discovery(result)
    assert "AUKUS" in report and "coverage" in report


def test_discover_names_the_groupings_when_one_is_misspelled(lhs_sweep: Path):
    with pytest.raises(ResultsError, match="did you mean 'AUKUS'"):
        discover(lhs_sweep, "AUKU", write=False)


def test_discover_refuses_a_threshold_no_point_reaches(lhs_sweep: Path):
    with pytest.raises(ResultsError, match="no design point"):
        discover(lhs_sweep, "IP4", threshold=1.0, write=False)
