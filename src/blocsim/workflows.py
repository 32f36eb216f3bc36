"""Whole jobs into results folders: what each `blocsim` command does, callable from Python too.

Each function takes a folder's lock for the whole write (a second writer is refused), tidies what
a killed earlier writer left, checks the disk before the work, and returns what it made; none
prints. The command line (`blocsim.cli`) formats what these return and calls nothing else.

    from blocsim import workflows
    results = workflows.run_into("scenarios/baseline.toml", out="results/baseline")
    found = workflows.tip_into("scenarios/baseline.toml", "states.IND.autonomy", "QUAD")
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from blocsim.analysis.discovery import DiscoveryResult, format_discovery
from blocsim.analysis.discovery import discover as run_prim
from blocsim.analysis.levers import STEP
from blocsim.analysis.sensitivity import analyze_sensitivity, format_sensitivity
from blocsim.analysis.summary import format_summary
from blocsim.analysis.sweeps import sweep_summary
from blocsim.analysis.tipping import TippingResult
from blocsim.api import (
    LEVER_REPLICATIONS,
    Comparison,
    Results,
    compare,
    executor_for,
    levers,
    load,
    open_results,
    run,
    tipping_point,
)
from blocsim.dashboards import write_dashboard
from blocsim.dashboards.report import write_report
from blocsim.errors import BlocsimError
from blocsim.experiment.debris import tidy_beside
from blocsim.experiment.lifecycle import Terminated, children_stopped, terminate_on_sigterm
from blocsim.experiment.locking import folder_lock
from blocsim.experiment.preflight import can_write, check_space, os_error_message
from blocsim.experiment.store import (
    MANIFEST,
    check_writable,
    read_manifest,
    versions,
    write_results,
)
from blocsim.experiment.sweep import TASK_RUNS, run_sweep
from blocsim.experiment.sweepfile import load_sweep
from blocsim.landscape.command import align_command
from blocsim.validation import validate_file

DEFAULT_RESULTS_ROOT = Path("results")
MAX_PRECISION_STEPS = 100_000
"""A tipping-point precision finer than this share of the range is refused."""

__all__ = [
    "DEFAULT_RESULTS_ROOT", "MAX_PRECISION_STEPS", "Terminated", "align", "analyze_into",
    "children_stopped", "compare_into", "dashboard", "format_discovery", "format_sensitivity",
    "format_summary", "levers_into", "os_error_message", "replaced_folder", "report", "run_into",
    "summarize", "sweep_folder", "sweep_into", "sweep_started", "terminate_on_sigterm",
    "tip_into", "validate_file",
]


def _prepare(out: Path, overwrite: bool) -> Path:
    """Check a folder can be written (and replaced if asked); tidy a killed writer's debris."""
    folder = check_writable(out, overwrite)
    tidy_beside(folder)
    check_space(folder)
    return folder


def run_into(file: str | Path, out: str | Path | None = None, overwrite: bool = False,
             replications: int | None = None, seed: int | None = None,
             workers: int | None = None, dask: str | None = None, point: bool = False,
             with_levers: bool = True, lever_step: float = STEP, dashboard: bool = True,
             progress: bool = False) -> Results:
    """Run a scenario file, compute its levers, and write its results folder and page."""
    scenario = load(file)
    out = Path(out) if out is not None else DEFAULT_RESULTS_ROOT / scenario.scenario.name
    with folder_lock(out):
        folder = _prepare(out, overwrite)
        results = run(scenario, replications=replications, seed=seed, workers=workers,
                      progress=progress, dask=dask, point=point)
        if with_levers:
            levers(results, step=lever_step, workers=workers, dask=dask, progress=progress)
        results.save(folder, overwrite=overwrite, dashboard=dashboard)
    return results


def levers_into(folder: str | Path, step: float = STEP,
                replications: int = LEVER_REPLICATIONS, workers: int | None = None,
                progress: bool = False) -> tuple[pd.DataFrame, Path]:
    """The levers of an existing run folder, written into it; its page refreshed."""
    folder = Path(folder)
    with folder_lock(folder):
        results = open_results(folder)
        table = levers(results, step=step, replications=replications, workers=workers,
                       progress=progress)
        page = write_dashboard(folder)
    return table, page


def compare_into(items: list[Path], out: str | Path | None = None, overwrite: bool = False,
                 reference: str | None = None, replications: int | None = None,
                 seed: int | None = None, workers: int | None = None,
                 progress: bool = False) -> Comparison:
    """Scenarios run with common random numbers (or run folders), compared into a folder."""
    if len(items) < 2:
        raise BlocsimError("compare needs two or more scenario files or run folders")
    names = "_".join(Path(i).stem if Path(i).suffix == ".toml" else Path(i).name for i in items)
    out = Path(out) if out is not None else DEFAULT_RESULTS_ROOT / f"compare_{names}"[:120]
    with folder_lock(out):
        folder = _prepare(out, overwrite)
        comparison = compare(*items, reference=reference, replications=replications, seed=seed,
                             workers=workers, progress=progress)
        comparison.save(folder, overwrite=overwrite)
    return comparison


def report(folder: str | Path, output: str | Path | None = None) -> Path:
    """A Markdown brief of a run folder, with static figures."""
    return write_report(Path(folder), None if output is None else Path(output))


def dashboard(folder: str | Path, output: str | Path | None = None) -> Path:
    """(Re)write the HTML page of a results folder."""
    return write_dashboard(Path(folder), None if output is None else Path(output))


@dataclass
class SweepRun:
    """A finished (or already complete) sweep: its folder, manifest and where it ran."""

    folder: Path
    manifest: dict
    executor: str


def sweep_into(file: str | Path, out: str | Path | None = None, workers: int | None = None,
               dask: str | None = None, resume: bool = False, overwrite: bool = False,
               dashboard: bool = True, progress=None) -> SweepRun:
    """Run (or finish) a sweep file into its folder, then write its page.

    `progress(total_runs, already_done)` returns a callback taking each task's runs. An
    interruption (KeyboardInterrupt, Terminated) propagates after the finished tasks are saved;
    `replaced_folder(folder)` then says where an interrupted `--overwrite` kept the old results.
    """
    sweep = load_sweep(file)
    folder = _sweep_folder(sweep.spec.name, out)
    tasks = -(-sweep.spec.point_count * sweep.spec.replications // TASK_RUNS)
    with folder_lock(folder):
        executor = executor_for(tasks, workers, dask)
        manifest = run_sweep(sweep, folder, executor, resume=resume, overwrite=overwrite,
                             progress=progress)
        if dashboard:
            write_dashboard(folder)
    return SweepRun(folder, manifest, executor.description)


def sweep_folder(file: str | Path, out: str | Path | None = None) -> Path:
    """Where `sweep_into` writes a sweep file's results: `out`, else `results/<its name>`.

    The name is the sweep file's `name` (its file's stem if the file cannot be read).
    """
    if out is not None:
        return Path(out)
    try:
        name = load_sweep(file).spec.name
    except BlocsimError:
        name = Path(file).stem
    return _sweep_folder(name, None)


def _sweep_folder(name: str, out: str | Path | None) -> Path:
    return Path(out) if out is not None else DEFAULT_RESULTS_ROOT / name


def sweep_started(folder: str | Path) -> bool:
    """Whether a sweep has written its folder (an interrupt may come before: planning, workers)."""
    return (Path(folder) / MANIFEST).is_file()


def replaced_folder(folder: str | Path) -> str | None:
    """Where an interrupted `--overwrite` of a sweep keeps the previous results, if anywhere."""
    try:
        replaces = read_manifest(Path(folder)).get("replaces")
    except BlocsimError:
        return None
    return replaces if isinstance(replaces, str) else None


def _output_for(folder: Path, output: Path | None, default_name: str) -> Path | None:
    """`output` if given, else beside the data when writable, else None (a read-only folder)."""
    if output is not None:
        return Path(output)
    return Path(folder) / default_name if can_write(Path(folder)) else None


def summarize(folder: str | Path, output: str | Path | None = None
              ) -> tuple[pd.DataFrame, Path | None]:
    """Per design point and grouping, P(consolidation) with intervals; where it was written."""
    target = _output_for(Path(folder), None if output is None else Path(output),
                         "summary.parquet")
    return sweep_summary(Path(folder), output=target, write=target is not None), target


@dataclass
class Analyses:
    """What `analyze` produced: sensitivity indices, PRIM results, where they went."""

    sensitivity: pd.DataFrame | None
    discoveries: list[DiscoveryResult]
    written_to: Path | None
    page: Path | None


def analyze_into(folder: str | Path, sensitivity: bool = False,
                 groupings: tuple[str, ...] = (), threshold: float = 0.5,
                 output: str | Path | None = None, step=None) -> Analyses:
    """Sensitivity indices and/or PRIM discovery on a finished sweep; the page refreshed.

    Written beside the sweep (or into `output`; nowhere for a read-only folder without one).
    `step(label)` is called before each analysis (a progress bar's description).
    """
    folder = Path(folder)
    if not sensitivity and not groupings:
        raise BlocsimError("say what to analyze: --sensitivity and/or --discover GROUPING")
    if output is not None:
        Path(output).mkdir(parents=True, exist_ok=True)
    where = _output_for(folder, None if output is None else Path(output), "")
    table = None
    if sensitivity:
        if step is not None:
            step("sensitivity")
        table = analyze_sensitivity(folder, output=where, write=where is not None)
    found = []
    for grouping in groupings:
        if step is not None:
            step(f"discover {grouping}")
        result = run_prim(folder, grouping, threshold=threshold, write=False)
        if where is not None:
            result.save(where)
        found.append(result)
    page = None
    if where is not None and Path(where).resolve() == folder.resolve():
        page = write_dashboard(folder)
    return Analyses(table, found, where, page)


def tip_into(file: str | Path, vary: str, grouping: str, target: float = 0.5,
             low: float = 0.0, high: float = 1.0, precision: float = 0.05,
             seed: int | None = None, workers: int | None = None, dask: str | None = None,
             max_runs: int = 20_000, out: str | Path | None = None, overwrite: bool = False,
             progress: bool = False, point: bool = False) -> tuple[TippingResult, Path, Path]:
    """A tipping-point search saved with everything needed to reproduce it; its page.

    The manifest records the resolved scenario, the seed, the range, target, precision, the
    budget (`max_runs`), the seeding rule and the posterior drawn from (with its SHA-256); the
    evaluations table records every value asked for with its stream key.
    """
    scenario = load(file)
    if not 0.0 < target < 1.0:
        raise BlocsimError(f"--target must lie strictly between 0 and 1, found {target}")
    if not low < high:
        raise BlocsimError(f"--range needs LOW < HIGH, found {low} {high}")
    if (high - low) / precision > MAX_PRECISION_STEPS:
        raise BlocsimError(f"--precision {precision:g} is finer than 1/{MAX_PRECISION_STEPS:,} "
                           f"of the range [{low:g}, {high:g}]; ask for at least "
                           f"{(high - low) / MAX_PRECISION_STEPS:g}")
    seed = scenario.scenario.seed if seed is None else seed
    out = (Path(out) if out is not None else
           DEFAULT_RESULTS_ROOT / f"tip_{scenario.scenario.name}_{grouping}")
    with folder_lock(out):
        folder = _prepare(out, overwrite)
        result = tipping_point(scenario, vary, grouping, target, low, high, precision, seed,
                               workers, dask, max_runs, progress=progress, point=point)
        manifest = {"kind": "tipping",
                    "scenario": {"name": scenario.scenario.name, "file": str(scenario.path),
                                 "hash": scenario.hash, "resolved": scenario.raw},
                    "vary": vary, "grouping": grouping, "target": target, "range": [low, high],
                    "precision": precision, "seed": seed, "max_runs": max_runs,
                    "seeding": "evaluation k (the k-th value asked for), replication r: "
                               "SeedSequence(seed, spawn_key=(k, r))",
                    "posterior": result.details.get("posterior"),
                    "runs": result.runs,
                    "created": datetime.now(UTC).isoformat(timespec="seconds"),
                    "versions": versions()}
        write_results(folder, {"tipping": result.table(), "evaluations": result.evaluations},
                      manifest, overwrite=overwrite)
        page = write_dashboard(folder)
    return result, folder, page


def align(file: str | Path, as_json: bool = False, starts: int = 2000, seed: int = 0) -> str:
    """Landscape theory's two-camp minima of a landscape file, as text (or JSON)."""
    return align_command(Path(file), as_json=as_json, starts=starts, seed=seed)
