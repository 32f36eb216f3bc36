"""The Python API: the same functions the command line uses, for notebooks and scripts.

import blocsim
scenario = blocsim.load("scenarios/baseline.toml")
results = blocsim.run(scenario, replications=200, seed=1, workers=2)
results.summary()            # probabilities of consolidation with 95% intervals
results.save("results/my-run")
again = blocsim.open_results("results/my-run")
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm as progress_bar

from blocsim.analysis.summary import consolidation_summary
from blocsim.experiment.limits import MAX_WORKERS, check_count, usable_workers
from blocsim.experiment.runner import (
    chunk_bounds,
    default_chunk_size,
    default_workers,
    run_chunks,
)
from blocsim.experiment.store import read_results, versions, write_results
from blocsim.experiment.tables import build_tables
from blocsim.model.inputs import compile_inputs
from blocsim.scenario.loading import load
from blocsim.scenario.schema import MAX_REPLICATIONS, Scenario

__all__ = ["Results", "discover", "load", "open_results", "run", "sensitivity", "sweep",
           "tipping_point"]


@dataclass
class Results:
    """The tables of a run (or a results folder read back) and its manifest."""

    tables: dict[str, pd.DataFrame]
    manifest: dict
    folder: Path | None = None
    _summary: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def outcomes(self) -> pd.DataFrame:
        """One row per (replication, grouping): consolidated, consolidated_at, blocker, ..."""
        return self.tables["outcomes"]

    @property
    def levels(self) -> pd.DataFrame:
        """One row per (replication, step, grouping): level in [0, 4] and NATO tie."""
        return self.tables["levels"]

    @property
    def commitments(self) -> pd.DataFrame:
        """One row per (replication, step, state, grouping): commitment in [0, 1]."""
        return self.tables["commitments"]

    @property
    def alignment(self) -> pd.DataFrame:
        """One row per (replication, step, state): position on the US(+1)-China(-1) axis."""
        return self.tables["alignment"]

    @property
    def camps(self) -> pd.DataFrame:
        """One row per (replication, state): whether it ends in the US's camp (landscape theory)."""
        return self.tables["camps"]

    @property
    def pressures(self) -> pd.DataFrame:
        """One row per (replication, step, pressure): the pressure as it acted."""
        return self.tables["pressures"]

    @property
    def warnings(self) -> list[str]:
        """The scenario's valid-but-meaningless settings, as `Scenario.warnings` listed them."""
        return list(self.manifest.get("warnings", []))

    def summary(self) -> pd.DataFrame:
        """Per grouping: P(consolidation) with a 95% Wilson interval, peak stage, top blocker."""
        if self._summary is None:
            self._summary = consolidation_summary(self.outcomes)
        return self._summary

    def save(self, folder: str | Path, overwrite: bool = False) -> Path:
        """Write the results folder atomically; refuse an existing one unless `overwrite`."""
        self.folder = write_results(Path(folder), self.tables, self.manifest, overwrite)
        return self.folder


def run(scenario: Scenario | str | Path, replications: int | None = None,
        seed: int | None = None, workers: int | None = None, progress: bool = False) -> Results:
    """Run a scenario's replications (defaults from its `[scenario]` table) and return Results.

    The same scenario and seed give identical tables whatever `workers` is.
    """
    if not isinstance(scenario, Scenario):
        scenario = load(scenario)
    meta = scenario.scenario
    replications = meta.replications if replications is None else replications
    seed = meta.seed if seed is None else seed
    check_count("replications", replications, 1, MAX_REPLICATIONS)
    workers = default_workers() if workers is None else workers
    workers = usable_workers(workers, len(chunk_bounds(
        replications, default_chunk_size(replications, workers))))
    inputs = compile_inputs(scenario)
    started = time.perf_counter()
    progress_bar.monitor_interval = 0
    with progress_bar(total=replications, unit="run", desc=meta.name, disable=not progress,
              leave=False) as bar:
        chunks = run_chunks(inputs, seed, replications, workers, progress=bar.update)
    simulated = time.perf_counter() - started
    tables = build_tables(chunks, inputs)
    manifest = {
        "kind": "run",
        "scenario": {"name": meta.name, "description": meta.description,
                     "file": str(scenario.path), "hash": scenario.hash,
                     "resolved": scenario.raw},
        "seed": seed,
        "replications": replications,
        "workers": workers,
        "warnings": scenario.warnings,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        "timings": {
            "wall_seconds": round(simulated, 4),
            "replication_seconds_mean": round(sum(c.seconds for c in chunks) / replications, 6),
            "tables_seconds": round(time.perf_counter() - started - simulated, 4),
        },
    }
    return Results(tables, manifest)


def open_results(folder: str | Path) -> Results:
    """Read a results folder written by `blocsim run` or `Results.save`."""
    tables, manifest = read_results(Path(folder))
    return Results(tables, manifest, Path(folder))


def tipping_point(scenario: Scenario | str | Path, vary: str, grouping: str,
                  target: float = 0.5, low: float = 0.0, high: float = 1.0,
                  precision: float = 0.05, seed: int | None = None, workers: int | None = None,
                  dask: str | None = None, max_runs: int = 20_000):
    """Find where `grouping`'s consolidation probability crosses `target` as `vary` moves.

    `vary` is a dotted scenario path (`pressures.china_assertiveness.value`,
    `states.IND.autonomy`); the search spends runs where the curve crosses. Returns a
    `TippingResult`: `.status`, `.estimate`, `.low`, `.high`, `.runs`, `.table()` and
    `.evaluations` (DataFrames).
    """
    from blocsim.analysis.tipping import find_tipping_point
    from blocsim.errors import ScenarioError
    from blocsim.experiment.evaluate import ModelEvaluator
    from blocsim.experiment.executors import make_executor

    if not isinstance(scenario, Scenario):
        scenario = load(scenario)
    if grouping not in scenario.groupings:
        from blocsim.errors import nearest

        raise ScenarioError(scenario.path, "groupings", "a grouping of the scenario",
                            repr(grouping), nearest(grouping, scenario.groupings))
    for value in (low, high):
        scenario.with_values({vary: value})
    executor = make_executor(usable_workers(default_workers() if workers is None else workers,
                                            MAX_WORKERS), dask)
    evaluator = ModelEvaluator(scenario, vary, grouping, executor,
                               scenario.scenario.seed if seed is None else seed)
    try:
        result = find_tipping_point(evaluator, low, high, target, precision, max_runs=max_runs)
    finally:
        executor.close()
    result.details.update(scenario=scenario.scenario.name, scenario_hash=scenario.hash,
                          vary=vary, grouping=grouping, low=low, high=high)
    return result


def sweep(path: str | Path, out: str | Path | None = None, workers: int | None = None,
          dask: str | None = None, resume: bool = False, overwrite: bool = False) -> Path:
    """Run (or, with `resume`, finish) a sweep file into a results folder; return the folder.

    Read the tables with `pandas.read_parquet(folder / "outcomes.parquet")`; summarize with
    `blocsim.experiment.sweep.sweep_summary(folder)`.
    """
    from blocsim.experiment.executors import make_executor
    from blocsim.experiment.sweep import TASK_RUNS, run_sweep
    from blocsim.experiment.sweepfile import load_sweep

    loaded = load_sweep(path)
    folder = Path(out) if out is not None else Path("results") / loaded.spec.name
    tasks = -(-loaded.spec.point_count * loaded.spec.replications // TASK_RUNS)
    executor = make_executor(usable_workers(default_workers() if workers is None else workers,
                                            tasks), dask)
    run_sweep(loaded, folder, executor, resume=resume, overwrite=overwrite)
    return folder


def sensitivity(folder: str | Path) -> pd.DataFrame:
    """Sobol indices (sobol sweeps) or Morris effects (morris sweeps) per grouping and outcome.

    Also written to `sensitivity.parquet` beside the sweep.
    """
    from blocsim.analysis.sensitivity import analyze_sensitivity

    return analyze_sensitivity(Path(folder))


def discover(folder: str | Path, grouping: str, threshold: float = 0.5):
    """PRIM boxes of a sweep's parameter space where `grouping` consolidates.

    Returns a `DiscoveryResult` whose `.trajectory` and `.box` are DataFrames (also written as
    `discovery_<GROUPING>_*.parquet` beside the sweep).
    """
    from blocsim.analysis.discovery import discover as run_prim

    return run_prim(Path(folder), grouping, threshold=threshold)
