"""The Python API: the same functions the command line uses, for notebooks and scripts.

import blocsim
scenario = blocsim.load("scenarios/baseline.toml")
results = blocsim.run(scenario, replications=200, seed=1, workers=2)
results.summary()            # probabilities of consolidation with 95% intervals
results.save("results/my-run")
again = blocsim.open_results("results/my-run")
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from blocsim.analysis.calibration import load_calibration, report_facts
from blocsim.analysis.calibration.smc import run_abc
from blocsim.analysis.discovery import discover as run_prim
from blocsim.analysis.levers import STEP, choose_levers, lever_table, write_levers
from blocsim.analysis.paired import Difference, paired_difference, scenario_differences
from blocsim.analysis.sensitivity import analyze_sensitivity
from blocsim.analysis.summary import blocker_reasons, consolidation_summary
from blocsim.analysis.tipping import find_tipping_point
from blocsim.dashboards import write_dashboard
from blocsim.errors import ResultsError, ScenarioError, nearest
from blocsim.experiment.arithmetic import warn_if_mixed
from blocsim.experiment.engine import run_in_memory
from blocsim.experiment.evaluate import ModelEvaluator
from blocsim.experiment.executors import Executor, default_workers, make_executor
from blocsim.experiment.limits import check_count, usable_workers
from blocsim.experiment.plan import TASK_RUNS, Plan
from blocsim.experiment.posterior import (
    DRAW_BLOCK,
    Posterior,
    drawn_posterior,
    drawn_summary,
    file_sha256,
    pinned_outside,
    posterior_record,
)
from blocsim.experiment.store import read_results, versions, write_results
from blocsim.experiment.sweep import run_sweep
from blocsim.experiment.sweepfile import load_sweep
from blocsim.experiment.variants import run_variants
from blocsim.limits import MAX_REPLICATIONS, MAX_WORKERS
from blocsim.scenario.loading import load, validate
from blocsim.scenario.schema import Scenario
from blocsim.scenario.sources import Change, changes, origin

SEEDING = "SeedSequence(seed, spawn_key=(stream_key, replication)); a run is point 0, stream key 0"

__all__ = ["Comparison", "Difference", "Results", "calibrate", "compare", "discover", "levers",
           "load", "open_results", "paired_difference", "run", "sensitivity", "sweep",
           "tipping_point"]

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

    @property
    def warnings(self) -> list[str]:
        """The scenario's valid-but-meaningless settings, as `Scenario.warnings` listed them."""
        return list(self.manifest.get("warnings", []))

    def reasons(self) -> dict[str, str]:
        """Per grouping, why its most frequent blocker holds back (its utility terms, in words)."""
        return blocker_reasons(self.summary(), self.tables.get("blocker_terms"))

    @property
    def draw_block(self) -> int | None:
        """Replications that shared one posterior draw (None: the run drew from no posterior)."""
        drawn = self.manifest.get("posterior")
        return int(drawn.get("draw_block", 1)) if drawn else None

    def summary(self) -> pd.DataFrame:
        """Per grouping: P(consolidation) with a 95% Wilson interval, peak stage, top blocker."""
        if self._summary is None:
            self._summary = consolidation_summary(self.outcomes, self.draw_block)
        return self._summary

    @property
    def resolved(self) -> Scenario:
        """The scenario the run was made from (rebuilt from the manifest for a folder read back)."""
        if self.scenario is None:
            meta = self.manifest["scenario"]
            base = meta.get("posterior_base")
            self.scenario = validate(meta["resolved"], {}, Path(meta.get("file", "<memory>")),
                                     Path(base) if base else None)
        return self.scenario

    def save(self, folder: str | Path, overwrite: bool = False, dashboard: bool = True) -> Path:
        """Write the results folder atomically, then (unless not `dashboard`) its page.

        An existing folder is refused unless `overwrite`.
        """
        self.folder = write_results(Path(folder), self.tables, self.manifest, overwrite)
        if dashboard:
            write_dashboard(self.folder)
        return self.folder


def executor_for(tasks: int, workers: int | None = None, dask: str | None = None) -> Executor:
    """Local processes (no more than the tasks or the cores can use), or a Dask cluster."""
    wanted = default_workers() if workers is None else workers
    if dask:
        return make_executor(check_count("workers", wanted, 1, MAX_WORKERS), dask)
    return make_executor(usable_workers(wanted, tasks), None)


def run(scenario: Scenario | str | Path, replications: int | None = None,
        seed: int | None = None, workers: int | None = None, progress: bool = False,
        dask: str | None = None, point: bool = False) -> Results:
    """Run a scenario's replications (defaults from its `[scenario]` table) and return Results.

    When the scenario names a calibrated posterior, each block of replications draws its
    parameters from it, so the probabilities carry parameter uncertainty as well as Monte Carlo
    noise; `point=True` runs every replication at the scenario's own values instead.
    The same scenario and seed give identical tables whatever `workers` is, and on Dask
    (`dask="tcp://host:port"` or `"local"`) as on local processes.
    """
    if not isinstance(scenario, Scenario):
        scenario = load(scenario)
    meta = scenario.scenario
    replications = meta.replications if replications is None else replications
    seed = meta.seed if seed is None else seed
    check_count("replications", replications, 1, MAX_REPLICATIONS)
    wanted = default_workers() if workers is None else workers
    task_runs = max(8, min(TASK_RUNS, -(-replications // (4 * max(wanted, 1)))))
    posterior = drawn_posterior(scenario, point)
    plan = Plan(scenario, Plan.single(scenario, replications, seed).points, replications, seed,
                task_runs=task_runs, posterior=posterior)
    executor = executor_for(len(plan.tasks()), workers, dask)
    started = time.perf_counter()
    try:
        with tqdm(total=replications, unit="run", desc=meta.name, disable=not progress,
                  leave=False) as bar:
            tables, gathered = run_in_memory(plan, executor, progress=bar.update)
    finally:
        executor.close()
    wall = time.perf_counter() - started
    warn_if_mixed(f"the run of {meta.name}", gathered.arithmetic)
    base = origin(scenario.path)
    manifest = {
        "kind": "run",
        "scenario": {"name": meta.name, "description": meta.description,
                     "file": str(scenario.path), "hash": scenario.hash,
                     "resolved": scenario.raw,
                     "posterior_base": str(scenario._posterior_base.resolve()),
                     "changes": [vars(c) for c in _with_draws(changes(base, scenario.raw),
                                                              scenario, posterior)]
                     if base else []},
        "seed": seed,
        "seeding": SEEDING,
        "posterior": posterior_record(posterior, plan.draw_block),
        "replications": replications,
        "workers": executor.workers,
        "executor": executor.description,
        "warnings": [*scenario.warnings,
                     *(pinned_outside(scenario) if posterior is not None else [])],
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        "arithmetic_of_tasks": gathered.arithmetic,
        "failures": gathered.failures,
        "timings": {
            "wall_seconds": round(wall, 4),
            "replication_seconds_mean": round(gathered.compute_seconds / replications, 6),
        },
    }
    return Results(tables, manifest, scenario=scenario)


def _with_draws(found: list[Change], scenario: Scenario,
                posterior: Posterior | None) -> list[Change]:
    """The changes, each kept value's old side saying what the base's runs draw instead."""
    if posterior is None or not posterior.pinned:
        return found
    return [dataclasses.replace(c, old_drawn=drawn_summary(scenario, c.path))
            if c.path in posterior.pinned else c for c in found]


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
    executor = executor_for(-(-runs * len(chosen) // TASK_RUNS), workers, dask)
    posterior_info = results.manifest.get("posterior")
    posterior = None
    if posterior_info:
        recorded = posterior_info.get("sha256")
        if recorded and file_sha256(posterior_info["file"]) != recorded:
            executor.close()
            raise ResultsError(f"{posterior_info['file']} has changed since the run drew from "
                               "it (its SHA-256 differs from the manifest's): levers would not "
                               "pair with the run's draws; run the scenario again")
        posterior = Posterior.read(posterior_info["file"]).without(
            posterior_info.get("pinned", []))
    try:
        with tqdm(total=runs * len(chosen), unit="run", desc="levers",
                  disable=not progress, leave=False) as bar:
            hits = run_variants(scenario, [lever.values for lever in chosen], runs,
                                int(results.manifest["seed"]), executor, posterior,
                                posterior_info["draw_block"] if posterior_info else DRAW_BLOCK,
                                progress=bar.update)
    finally:
        executor.close()
    table = lever_table(chosen, results.outcomes, hits, scenario.grouping_names, step,
                        results.draw_block)
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
        table: per scenario and grouping, the probability and the mean final level, each with
            its (paired) difference from the reference and a 95% interval
            (`analysis.paired.scenario_differences`).
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
    table = scenario_differences({k: r.outcomes for k, r in runs.items()}, reference, paired,
                                 {k: r.draw_block for k, r in runs.items()})
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
                  dask: str | None = None, max_runs: int = 20_000, progress: bool = False,
                  point: bool = False):
    """Find where `grouping`'s consolidation probability crosses `target` as `vary` moves.

    Runs draw from the scenario's posterior as `run` does (`point=True`: its own values).

    `vary` is a dotted scenario path (`pressures.china_assertiveness.value`,
    `states.IND.autonomy`); the search spends runs only where they narrow the answer. Returns a
    `TippingResult`: `.status`, `.estimate`, `.low`, `.high` (the crossing, when one is
    identified), `.peak_value`, `.peak_probability`, `.peak_low`, `.peak_high`, `.reached`,
    `.crossings`, `.runs`, `.table()` and `.evaluations` (DataFrames).
    """
    if not isinstance(scenario, Scenario):
        scenario = load(scenario)
    if grouping not in scenario.groupings:
        raise ScenarioError(scenario.path, "groupings", "a grouping of the scenario",
                            repr(grouping), nearest(grouping, scenario.groupings))
    for value in (low, high):
        scenario.with_values({vary: value})
    posterior = drawn_posterior(scenario, point)
    executor = make_executor(usable_workers(default_workers() if workers is None else workers,
                                            MAX_WORKERS), dask)
    evaluator = ModelEvaluator(scenario, vary, grouping, executor,
                               scenario.scenario.seed if seed is None else seed, posterior)
    bar = tqdm(total=max_runs, unit="run", desc=f"tip {grouping}", disable=not progress,
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
                          vary=vary, grouping=grouping, low=low, high=high,
                          posterior=posterior_record(evaluator.context.posterior,
                                                     evaluator.context.draw_block))
    return result


def sweep(path: str | Path, out: str | Path | None = None, workers: int | None = None,
          dask: str | None = None, resume: bool = False, overwrite: bool = False) -> Path:
    """Run (or, with `resume`, finish) a sweep file into a results folder; return the folder.

    Read the tables with `pandas.read_parquet(folder / "outcomes.parquet")`; summarize with
    `blocsim.analysis.sweeps.sweep_summary(folder)`.
    """
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
    return analyze_sensitivity(Path(folder))


def discover(folder: str | Path, grouping: str, threshold: float = 0.5):
    """PRIM boxes of a sweep's parameter space where `grouping` consolidates.

    Returns a `DiscoveryResult`: `.trajectory` (the coverage-density trade-off, a DataFrame),
    `.limits` (the reported box, one row per axis with quasi-p-values per limit) and
    `.box(step)` for any other step of the trade-off, pasted and pruned alike (all also written
    as `discovery_<GROUPING>_*.parquet` beside the sweep).
    """
    return run_prim(Path(folder), grouping, threshold=threshold)


def calibrate(path: str | Path, out: str | Path | None = None, workers: int | None = None,
              dask: str | None = None, resume: bool = False, overwrite: bool = False,
              progress: bool = False) -> dict:
    """Estimate the parameters of a calibration file by ABC-SMC and score its test facts.

    Writes `posterior.parquet`, `generations.parquet`, `facts.parquet`, `test_scores.parquet`,
    `manifest.json` and the calibration page `dashboard.html` into `out` (default
    `results/calibration_<name>`); returns the manifest, with the page's path as `dashboard`.
    A killed calibration continues with `resume=True` from its last finished generation.
    """
    calibration = load_calibration(path)
    name = calibration.spec.name
    folder = Path(out) if out is not None else Path("results") / f"calibration_{name}"
    wanted = default_workers() if workers is None else max(1, workers)
    bar = tqdm(total=calibration.spec.max_generations, unit="generation", desc="ABC-SMC",
               disable=not progress, leave=False)

    def advance(state: dict) -> None:
        bar.n = state["generation"] + 1
        bar.set_postfix(tolerance=f"{state['tolerance']:.3f}",
                        acceptance=f"{state['acceptance_rate']:.3f}",
                        particles_simulated=state["simulations"])

    executor = executor_for(4 * wanted, wanted, dask)
    try:
        run_abc(calibration, folder, wanted, dask, resume, overwrite, advance)
        bar.close()
        manifest = report_facts(calibration, folder, executor)
    finally:
        executor.close()
    manifest["folder"] = str(folder)
    manifest["dashboard"] = str(write_dashboard(folder))
    return manifest
