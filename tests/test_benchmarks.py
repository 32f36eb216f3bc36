"""The benchmarks' own pieces: they must keep running against the engine and measure like with
like (`benchmarks/README.md`). The measurements themselves are not tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from blocsim.experiment.designs import design_points
from blocsim.experiment.engine import run_in_memory
from blocsim.experiment.sweep import sweep_plan
from blocsim.experiment.sweepfile import load_sweep

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(autouse=True)
def benchmarks_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))


def test_every_benchmark_script_imports_against_the_engine():
    import importlib

    for name in ("harness", "bench_run", "bench_sweep", "bench_states", "batchrun_model"):
        importlib.import_module(name)


def test_the_benchmark_lhs_sweep_varies_every_pressure_end_once_per_point(tmp_path: Path):
    from harness import SWEEP_TABLES, lhs_sweep_file

    from blocsim.vocabulary import PRESSURE_NAMES

    sweep = load_sweep(lhs_sweep_file(tmp_path, samples=7))
    points = design_points(sweep.spec)
    assert list(points.columns) == [f"pressures.{p}.end" for p in PRESSURE_NAMES]
    assert len(points) == 7 and sweep.spec.replications == 1
    assert tuple(sweep.spec.tables) == SWEEP_TABLES


def test_the_one_point_sweep_sits_at_the_baseline_values(tmp_path: Path):
    from harness import base_pressure_ends, one_point_sweep_file

    from blocsim.model import CompiledScenario

    sweep = load_sweep(one_point_sweep_file(tmp_path, replications=5))
    points = design_points(sweep.spec)
    assert len(points) == 1
    compiled = CompiledScenario(sweep.base)
    patched = compiled.point({path: float(v) for path, v in points.iloc[0].items()})
    assert np.array_equal(patched.exogenous, compiled.base.exogenous)
    assert sorted(base_pressure_ends()) == sorted(p.split(".")[1] for p in points.columns)


def test_batch_run_and_ema_run_the_sweeps_model_to_the_bit(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch):
    import batchrun_model
    from harness import lhs_sweep_file

    sweep = load_sweep(lhs_sweep_file(tmp_path, samples=3, seed=5))
    points = design_points(sweep.spec)
    batchrun_model.save_design(tmp_path / "design.npz", points, sweep.spec.seed)
    monkeypatch.setenv(batchrun_model.DESIGN_ENV, str(tmp_path / "design.npz"))
    batchrun_model.design.cache_clear()
    tables, _ = run_in_memory(sweep_plan(sweep, points), tables=("levels",), with_point=True)
    levels = tables["levels"]
    for point in range(3):
        trajectory, _ = batchrun_model.run_point(point)
        theirs = levels[levels["point"] == point]["level"].to_numpy()
        assert np.array_equal(trajectory.level[0].reshape(-1), theirs)
    batchrun_model.design.cache_clear()


def test_batch_run_model_collects_every_quarter_and_the_outcomes_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import batchrun_model
    from harness import lhs_sweep_file

    sweep = load_sweep(lhs_sweep_file(tmp_path, samples=2))
    batchrun_model.save_design(tmp_path / "design.npz", design_points(sweep.spec), 1)
    monkeypatch.setenv(batchrun_model.DESIGN_ENV, str(tmp_path / "design.npz"))
    batchrun_model.design.cache_clear()
    model = batchrun_model.BatchRunAllianceModel(point=1)
    while model.running:
        model.step()
    collected = model.datacollector.get_model_vars_dataframe()
    groupings = batchrun_model.grouping_names()
    assert len(collected) == sweep.base.scenario.steps
    assert np.array_equal(collected[f"level_{groupings[0]}"].to_numpy(),
                          model.trajectory.level[0, :, 0])
    outcomes = collected["outcomes"]
    assert outcomes.iloc[:-1].isna().all() and set(outcomes.iloc[-1]) == set(groupings)
    batchrun_model.design.cache_clear()


def test_synthetic_scenarios_have_the_sizes_asked_and_load_as_files(tmp_path: Path):
    from bench_states import synthetic

    scenario = synthetic(40, 12, tmp_path)
    assert len(scenario.states) == 40 and len(scenario.groupings) == 12
    assert scenario.path.is_file()
