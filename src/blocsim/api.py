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

import numpy as np
import pandas as pd
from tqdm.auto import tqdm as progress_bar

from blocsim.analysis.levers import STEP, choose_levers, lever_table, write_levers
from blocsim.analysis.paired import scenario_differences
from blocsim.analysis.summary import consolidation_summary
from blocsim.dashboards import write_dashboard
from blocsim.errors import ResultsError
from blocsim.experiment.executors import make_executor
from blocsim.experiment.runner import default_workers, run_chunks
from blocsim.experiment.store import read_results, versions, write_results
from blocsim.experiment.tables import build_tables
from blocsim.experiment.variants import run_variants
from blocsim.model.inputs import compile_inputs
from blocsim.scenario.loading import load, validate
from blocsim.scenario.schema import Scenario
from blocsim.scenario.sources import Change, changes, origin

__all__ = ["Comparison", "Results", "compare", "discover", "levers", "load", "open_results",
           "run", "sensitivity", "sweep", "tipping_point"]

LEVER_REPLICATIONS = 200
"""Replications per lever variant (at most the run's): paired with the run's own, a few hundred
give differences of a few points' precision; the cost is (levers x this) runs."""


@dataclass
class Results:
    """The tables of a run (or a results folder read back) and its manifest."""

    tables: dict[str, pd.DataFrame]
    manifest: dict
    folder: Path | None = None
    scenario: Scenario | None = field(default=None, repr=False)
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

    def summary(self) -> pd.DataFrame:
        """Per grouping: P(consolidation) with a 95% Wilson interval, peak stage, top blocker."""
        if self._summary is None:
            self._summary = consolidation_summary(self.outcomes)
        return self._summary

    @property
    def resolved(self) -> Scenario:
        """The scenario the run was made from (rebuilt from the manifest for a folder read back)."""
        if self.scenario is None:
            meta = self.manifest["scenario"]
            self.scenario = validate(meta["resolved"], {}, Path(meta.get("file", "<memory>")))
        return self.scenario

    def save(self, folder: str | Path, overwrite: bool = False, dashboard: bool = True) -> Path:
        """Write the results folder atomically, then (unless not `dashboard`) its page.

        An existing folder is refused unless `overwrite`.
        """
        self.folder = write_results(Path(folder), self.tables, self.manifest, overwrite)
        if dashboard:
            write_dashboard(self.folder)
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
    workers = default_workers() if workers is None else max(1, workers)
    if replications < 1:
        raise ValueError("replications must be at least 1")
    inputs = compile_inputs(scenario)
    started = time.perf_counter()
    progress_bar.monitor_interval = 0
    with progress_bar(total=replications, unit="run", desc=meta.name, disable=not progress,
              leave=False) as bar:
        chunks = run_chunks(inputs, seed, replications, workers, progress=bar.update)
    simulated = time.perf_counter() - started
    tables = build_tables(chunks, inputs)
    base = origin(scenario.path)
    manifest = {
        "kind": "run",
        "scenario": {"name": meta.name, "description": meta.description,
                     "file": str(scenario.path), "hash": scenario.hash,
                     "resolved": scenario.raw,
                     "changes": [vars(c) for c in changes(base, scenario.raw)] if base else []},
        "seed": seed,
        "replications": replications,
        "workers": workers,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        "timings": {
            "wall_seconds": round(simulated, 4),
            "replication_seconds_mean": round(sum(c.seconds for c in chunks) / replications, 6),
            "tables_seconds": round(time.perf_counter() - started - simulated, 4),
        },
    }
    return Results(tables, manifest, scenario=scenario)


def open_results(folder: str | Path) -> Results:
    """Read a results folder written by `blocsim run` or `Results.save`."""
    tables, manifest = read_results(Path(folder))
    return Results(tables, manifest, Path(folder))


def levers(results: Results, step: float = STEP, replications: int = LEVER_REPLICATIONS,
           workers: int | None = None, dask: str | None = None,
           progress: bool = False) -> pd.DataFrame:
    """How far one step of each pressure and key state attribute moves each probability.

    Each lever (`analysis.levers.choose_levers`) is a variant run with the run's own seed, so its
    replication r pairs with the run's replication r (common random numbers); the first
    `replications` replications of the run (at most all of them) are the reference.

    Returns:
        The lever table (`analysis.levers.lever_table`); also kept in `results.tables["levers"]`
        (so `save` writes `levers.parquet`) and, for a folder already saved, written into it.

    """
    scenario = results.resolved
    chosen = choose_levers(scenario, results.outcomes, step)
    runs = min(replications, int(results.manifest["replications"]))
    executor = make_executor(default_workers() if workers is None else workers, dask)
    try:
        with progress_bar(total=runs * len(chosen), unit="run", desc="levers",
                          disable=not progress, leave=False) as bar:
            hits = run_variants([scenario.with_values(lever.values) for lever in chosen], runs,
                                int(results.manifest["seed"]), executor, progress=bar.update)
    finally:
        executor.close()
    table = lever_table(chosen, results.outcomes, hits, scenario.grouping_names, step)
    results.tables["levers"] = table
    if results.folder is not None:
        write_levers(results.folder, table)
    return table


@dataclass
class Comparison:
    """Scenarios run with common random numbers, each read against a reference.

    Attributes:
        runs: scenario label to its results, the reference first.
        reference: the reference's label.
        table: per scenario and grouping, the probability and its (paired) difference from the
            reference with a 95% interval (`analysis.paired.scenario_differences`).
        parameters: per other scenario, every value that differs from the reference.
        folder: where the comparison was saved, if it was.

    """

    runs: dict[str, Results]
    reference: str
    table: pd.DataFrame
    parameters: dict[str, list[Change]]
    folder: Path | None = None

    def save(self, folder: str | Path, overwrite: bool = False) -> Path:
        """Write the table, the manifest and the page into `folder`; unsaved runs inside it.

        Each run not yet saved goes into `folder/<label>` with its own page. The manifest lists
        each run's folder: relative inside `folder`, absolute elsewhere.
        """
        members = {label: label if r.folder is None else str(r.folder.resolve())
                   for label, r in self.runs.items()}
        folder = write_results(Path(folder), {"comparison": self.table},
                               {"kind": "comparison", "reference": self.reference,
                                "runs": members, "versions": versions()}, overwrite)
        for label, results in self.runs.items():
            if results.folder is None:
                results.save(folder / label)
        self.folder = folder
        write_dashboard(folder)
        return folder


def compare(*scenarios: Scenario | Results | str | Path, reference: str | None = None,
            replications: int | None = None, seed: int | None = None,
            workers: int | None = None, progress: bool = False) -> Comparison:
    """Run scenarios (or read run folders) with common random numbers and compare them.

    Args:
        *scenarios: scenario files or Scenarios (run here), run folders or Results (as they
            are); two or more.
        reference: the label (scenario name) the others are read against; the first by default.
        replications: replications of each scenario run here (default: the reference's).
        seed: the seed of every scenario run here (default: the reference's), so replication r
            of each draws the same stream and differences are paired by replication.
        workers: local processes for the runs.
        progress: show a progress bar per run.

    Raises:
        ResultsError: with fewer than two scenarios, or an unknown reference.

    """
    items = [open_results(s) if isinstance(s, str | Path) and Path(s).is_dir() else
             load(s) if isinstance(s, str | Path) else s for s in scenarios]
    if len(items) < 2:
        raise ResultsError("a comparison needs two or more scenarios or run folders")
    labels = _labels([i.manifest["scenario"]["name"] if isinstance(i, Results)
                      else i.scenario.name for i in items])
    reference = reference or labels[0]
    if reference not in labels:
        raise ResultsError(f"--reference {reference!r} is none of the scenarios compared "
                           f"({', '.join(labels)})")
    first = items[labels.index(reference)]
    if isinstance(first, Results):
        seed = first.manifest["seed"] if seed is None else seed
        replications = first.manifest["replications"] if replications is None else replications
    runs = {label: item if isinstance(item, Results) else
            run(item, replications=replications if replications is not None else
                first.scenario.replications, seed=seed if seed is not None else
                first.scenario.seed, workers=workers, progress=progress)
            for label, item in zip(labels, items, strict=True)}
    runs = {reference: runs[reference], **runs}
    paired = len({(r.manifest["seed"], r.manifest["replications"]) for r in runs.values()}) == 1
    table = scenario_differences({k: r.outcomes for k, r in runs.items()}, reference, paired)
    base = runs[reference].manifest["scenario"]["resolved"]
    parameters = {label: changes(base, r.manifest["scenario"]["resolved"])
                  for label, r in runs.items() if label != reference}
    return Comparison(runs, reference, table, parameters)


def _labels(names: list[str]) -> list[str]:
    """Scenario names, numbered where they repeat (`baseline`, `baseline-2`)."""
    seen: dict[str, int] = {}
    labels = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        labels.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return labels


def tipping_point(scenario: Scenario | str | Path, vary: str, grouping: str,
                  target: float = 0.5, low: float = 0.0, high: float = 1.0,
                  precision: float = 0.05, seed: int | None = None, workers: int | None = None,
                  dask: str | None = None, max_runs: int = 20_000, progress: bool = False):
    """Find where `grouping`'s consolidation probability crosses `target` as `vary` moves.

    `vary` is a dotted scenario path (`pressures.china_assertiveness.value`,
    `states.IND.autonomy`); the search spends runs where the curve crosses. Returns a
    `TippingResult`: `.status`, `.estimate`, `.low`, `.high`, `.runs`, `.table()` and
    `.evaluations` (DataFrames).
    """
    from blocsim.analysis.tipping import find_tipping_point
    from blocsim.errors import ScenarioError
    from blocsim.experiment.evaluate import ModelEvaluator

    if not isinstance(scenario, Scenario):
        scenario = load(scenario)
    if grouping not in scenario.groupings:
        from blocsim.errors import nearest

        raise ScenarioError(scenario.path, "groupings", "a grouping of the scenario",
                            repr(grouping), nearest(grouping, scenario.groupings))
    for value in (low, high):
        scenario.with_values({vary: value})
    executor = make_executor(default_workers() if workers is None else workers, dask)
    evaluator = ModelEvaluator(scenario, vary, grouping, executor,
                               scenario.scenario.seed if seed is None else seed)
    bar = progress_bar(total=max_runs, unit="run", desc=f"tip {grouping}", disable=not progress,
                       leave=False)

    def counted(values, runs):
        found = evaluator(values, runs)
        bar.update(int(np.sum(np.broadcast_to(runs, (len(values),)))))
        return found

    try:
        result = find_tipping_point(counted, low, high, target, precision, max_runs=max_runs)
    finally:
        bar.close()
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
    from blocsim.experiment.sweep import run_sweep
    from blocsim.experiment.sweepfile import load_sweep

    loaded = load_sweep(path)
    folder = Path(out) if out is not None else Path("results") / loaded.spec.name
    executor = make_executor(default_workers() if workers is None else workers, dask)
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
