"""Sweeps: many design points x replications, streamed to disk task by task, resumable.

The runs are cut into tasks of at most TASK_RUNS (point, replication) pairs, in point order; the
cut depends only on the design and the replications, never on the executor. Each finished task is
written as its own folder `tasks/NNNNNN/` (the run tables), staged under a hidden name and renamed
into place, so a task is on disk completely or not at all; workers that share the folder's disk
write their own tasks, others send the tables back. A killed sweep resumes by running the tasks
whose folder is missing. When every task is in, each table's parts are moved (not rewritten) into
`<table>.parquet/part-NNNNNN.parquet`: a Parquet dataset that `pandas.read_parquet` reads as one
table, with the same columns as `blocsim run`'s plus `point`; the design is in `points.parquet`.

Point p, replication r draws its randomness from `SeedSequence(seed, spawn_key=(p, r))`, i.e.
`SeedSequence(seed).spawn(points)[p].spawn(replications)[r]`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from blocsim.errors import ResultsError
from blocsim.experiment import debris
from blocsim.experiment.designs import design_points
from blocsim.experiment.executors import Executor
from blocsim.experiment.locking import folder_lock
from blocsim.experiment.ownership import TASKS_DIR, carry_over, foreign_entries, set_aside
from blocsim.experiment.preflight import check_can_write, check_space
from blocsim.experiment.runner import simulate
from blocsim.experiment.store import MANIFEST, check_writable, read_manifest, versions
from blocsim.experiment.sweepfile import Sweep
from blocsim.experiment.tables import TABLES, build_tables
from blocsim.model.inputs import ModelInputs, compile_inputs
from blocsim.scenario.schema import Scenario

TASK_RUNS = 128


@dataclass(frozen=True)
class Segment:
    """Replications `start..stop-1` of one design point."""

    point: int
    start: int
    stop: int


@dataclass(frozen=True)
class SweepTask:
    """A unit of work: a few segments, about TASK_RUNS runs in all."""

    task_id: int
    segments: tuple[Segment, ...]

    @property
    def runs(self) -> int:
        """How many (point, replication) runs the task holds."""
        return sum(s.stop - s.start for s in self.segments)


@dataclass(frozen=True)
class SweepContext:
    """What every worker needs once: the base scenario, the points and the seed."""

    key: str
    base: Scenario
    points: pd.DataFrame
    seed: int
    folder: str | None = None
    """Where workers write finished tasks themselves; None: they send the tables back."""


def plan_tasks(points: int, replications: int, task_runs: int = TASK_RUNS) -> list[SweepTask]:
    """Cut points x replications into tasks of at most `task_runs` runs, in point order."""
    tasks: list[SweepTask] = []
    segments: list[Segment] = []
    filled = 0
    for point in range(points):
        start = 0
        while start < replications:
            stop = min(replications, start + task_runs - filled)
            segments.append(Segment(point, start, stop))
            filled += stop - start
            start = stop
            if filled == task_runs:
                tasks.append(SweepTask(len(tasks), tuple(segments)))
                segments, filled = [], 0
    if segments:
        tasks.append(SweepTask(len(tasks), tuple(segments)))
    return tasks


def point_scenario(context: SweepContext, point: int) -> Scenario:
    """The base scenario with one design point's values set (validated)."""
    row = context.points.loc[point]
    return context.base.with_values({path: _plain(value) for path, value in row.items()})


def _plain(value: object) -> object:
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


_INPUTS_CACHE: dict[tuple[str, int], ModelInputs] = {}


def _point_inputs(context: SweepContext, point: int) -> ModelInputs:
    key = (context.key, point)
    if key not in _INPUTS_CACHE:
        if len(_INPUTS_CACHE) > 8:
            _INPUTS_CACHE.clear()
        _INPUTS_CACHE[key] = compile_inputs(point_scenario(context, point))
    return _INPUTS_CACHE[key]


def run_sweep_task(context: SweepContext, task: SweepTask
                   ) -> tuple[int, dict[str, pd.DataFrame] | None, float]:
    """Run one task; return its id, its tables (None if written here) and its seconds of work.

    The tables carry a `point` column before the run tables' own columns.
    """
    started = time.perf_counter()
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLES}
    for segment in task.segments:
        inputs = _point_inputs(context, segment.point)
        seeds = [np.random.SeedSequence(context.seed, spawn_key=(segment.point, r))
                 for r in range(segment.start, segment.stop)]
        tables = build_tables([simulate(inputs, segment.start, seeds)], inputs)
        for name, table in tables.items():
            table.insert(0, "point", np.int32(segment.point))
            parts[name].append(table)
    joined = {name: pd.concat(frames, ignore_index=True) for name, frames in parts.items()}
    if context.folder is not None:
        write_task(Path(context.folder), task.task_id, joined)
        return task.task_id, None, time.perf_counter() - started
    return task.task_id, joined, time.perf_counter() - started


def task_folder(folder: Path, task_id: int) -> Path:
    """Where a finished task's tables live."""
    return folder / TASKS_DIR / f"{task_id:06d}"


def done_tasks(folder: Path) -> set[int]:
    """Ids of the tasks whose tables are on disk (complete by construction)."""
    root = folder / TASKS_DIR
    if not root.is_dir():
        return set()
    return {int(p.name) for p in root.iterdir() if p.is_dir() and p.name.isdigit()}


def write_task(folder: Path, task_id: int, tables: dict[str, pd.DataFrame]) -> None:
    """Write a task's tables under a hidden name, then rename the folder into place."""
    root = folder / TASKS_DIR
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{task_id:06d}.partial-", dir=root))
    try:
        for name, table in tables.items():
            table.to_parquet(staging / f"{name}.parquet", index=False)
        target = task_folder(folder, task_id)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def part_name(task_id: int) -> str:
    """File name of one task's part inside a table's dataset folder."""
    return f"part-{task_id:06d}.parquet"


def gather_parts(folder: Path, tasks: list[SweepTask]) -> dict[str, int]:
    """Move every task's tables into `<table>.parquet/` datasets; return row counts.

    Moving is idempotent, so a sweep interrupted while finishing finishes on `--resume`.
    """
    rows: dict[str, int] = {}
    for name in TABLES:
        dataset = folder / f"{name}.parquet"
        dataset.mkdir(exist_ok=True)
        count = 0
        for task in tasks:
            source = task_folder(folder, task.task_id) / f"{name}.parquet"
            target = dataset / part_name(task.task_id)
            if source.exists():
                os.replace(source, target)
            count += pq.ParquetFile(target).metadata.num_rows
        rows[name] = count
    shutil.rmtree(folder / TASKS_DIR, ignore_errors=True)
    return rows


def _write_manifest(folder: Path, manifest: dict) -> None:
    staging = folder / f".{MANIFEST}.partial"
    staging.write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    os.replace(staging, folder / MANIFEST)


def _start_or_resume(sweep: Sweep, folder: Path, resume: bool,
                     overwrite: bool) -> tuple[dict | None, Path | None]:
    """Prepare the folder; return the manifest when resuming and the folder set aside.

    An overwritten sweep folder is renamed aside (`NAME.replaced-PID`, recorded in the new
    manifest as `replaces`) and deleted only once the new sweep is complete, so a failed or
    interrupted replacement never loses the old results nor hides them; the user's own files in
    it are moved into the new folder at once.
    """
    manifest_path = folder / MANIFEST
    if folder.exists() and not folder.is_dir():
        raise ResultsError(f"{folder} exists and is not a folder; choose another --out")
    if folder.exists() and any(folder.iterdir()):
        if resume and manifest_path.is_file():
            manifest = read_manifest(folder)
            if manifest.get("kind") != "sweep" or manifest.get("sweep", {}).get("hash") != \
                    sweep.hash:
                raise ResultsError(f"{folder} holds a different sweep (its hash differs from "
                                   f"{sweep.path.name}'s); choose another --out")
            return manifest, None
        if overwrite:
            check_writable(folder, overwrite=True)
            keep = foreign_entries(folder)
            retired = set_aside(folder)
            folder.mkdir(parents=True)
            carry_over(retired, folder, keep)
            return None, retired
        elif resume:
            raise ResultsError(f"{folder} is not a sweep folder to resume (no {MANIFEST})")
        else:
            raise ResultsError(f"{folder} already exists; pass --resume to finish an "
                               f"interrupted sweep there, --overwrite to replace it, or "
                               f"choose another --out")
    folder.mkdir(parents=True, exist_ok=True)
    return None, None


def run_sweep(sweep: Sweep, folder: Path, executor: Executor, resume: bool = False,
              overwrite: bool = False,
              progress: Callable[[int, int], Callable[[int], None]] | None = None) -> dict:
    """Run (or finish) a sweep into `folder`; return its final manifest.

    Holds the folder's write lock throughout (a second writer is refused). Debris of a killed
    earlier writer is removed or reported first, and damaged finished tasks are run again.
    `progress(total_runs, already_done)` returns a callback taking the runs each task completes.
    """
    folder = Path(folder).resolve()
    if Path.cwd().resolve().is_relative_to(folder):
        raise ResultsError(f"{folder} is the current folder or one of its parents; choose "
                           f"another --out")
    with folder_lock(folder):
        try:
            return _run_sweep_locked(sweep, folder, executor, resume, overwrite, progress)
        except BaseException:
            executor.close()  # no worker writes after this: their staging folders are debris
            debris.tidy_inside(folder, quiet=True)
            raise
        finally:
            executor.close()


def _run_sweep_locked(sweep: Sweep, folder: Path, executor: Executor, resume: bool,
                      overwrite: bool,
                      progress: Callable[[int, int], Callable[[int], None]] | None) -> dict:
    replaces = _read_replaces(folder) if resume else None
    debris.tidy_beside(folder, keep=replaces)
    check_can_write(folder if folder.exists() else folder.parent)
    check_space(folder)
    if resume:
        debris.tidy_inside(folder)
        debris.damaged_tasks(folder, TABLES, part_name)
    previous, retired = _start_or_resume(sweep, folder, resume, overwrite)
    retired = retired or replaces
    if previous and previous.get("status") == "complete":
        return {**previous, "timings": {**previous.get("timings", {}), "runs_this_session": 0,
                                        "wall_seconds": 0.0}}
    points = design_points(sweep.spec)
    tasks = plan_tasks(len(points), sweep.spec.replications, TASK_RUNS)
    done = done_tasks(folder)
    manifest = previous or _sweep_manifest(sweep, points, tasks)
    manifest.update(status="running", executor=executor.description, workers=executor.workers)
    if retired is not None:
        manifest["replaces"] = str(retired)
    _write_manifest(folder, manifest)
    points.reset_index().to_parquet(folder / "points.parquet", index=False)
    todo = [task for task in tasks if task.task_id not in done]
    advance = progress(sum(t.runs for t in tasks), sum(t.runs for t in tasks
                                                        if t.task_id in done)) if progress else None
    shared_disk = str(folder.resolve()) if executor.shares_filesystem else None
    context = SweepContext(sweep.hash, sweep.base, points, sweep.spec.seed, shared_disk)
    started, compute = time.perf_counter(), 0.0
    by_id = {task.task_id: task for task in tasks}
    try:
        for task_id, tables, seconds in executor.run(run_sweep_task, context, todo):
            if tables is not None:
                write_task(folder, task_id, tables)
            compute += seconds
            if advance is not None:
                advance(by_id[task_id].runs)
    finally:
        executor.close()
    manifest.update(status="finishing")
    _write_manifest(folder, manifest)
    rows = gather_parts(folder, tasks)
    wall = time.perf_counter() - started
    timings = manifest.setdefault("timings", {})
    timings.update(wall_seconds=round(wall, 3), compute_seconds=round(compute, 3),
                   parallel_efficiency=round(compute / (wall * executor.workers), 3)
                   if wall > 0 and todo else None,
                   runs_this_session=sum(t.runs for t in todo))
    manifest.update(status="complete", tables={**rows, "points": len(points)},
                    completed=datetime.now(UTC).isoformat(timespec="seconds"))
    manifest.pop("replaces", None)
    _write_manifest(folder, manifest)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
    return manifest


def _read_replaces(folder: Path) -> Path | None:
    """The set-aside old folder an interrupted `--overwrite` of this sweep recorded, if any."""
    try:
        replaces = read_manifest(folder).get("replaces")
    except ResultsError:
        return None
    return Path(replaces) if isinstance(replaces, str) and Path(replaces).is_dir() else None


def _sweep_manifest(sweep: Sweep, points: pd.DataFrame, tasks: list[SweepTask]) -> dict:
    spec = sweep.spec
    return {
        "kind": "sweep",
        "sweep": {"name": spec.name, "description": spec.description, "file": str(sweep.path),
                  "hash": sweep.hash, "spec": spec.model_dump(mode="json")},
        "scenario": {"name": sweep.base.scenario.name, "file": str(sweep.base.path),
                     "hash": sweep.base.hash, "resolved": sweep.base.raw},
        "seed": spec.seed,
        "design": spec.design,
        "points": len(points),
        "replications": spec.replications,
        "runs": len(points) * spec.replications,
        "tasks": len(tasks),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": versions(),
    }


def read_sweep_manifest(folder: Path) -> dict:
    """The manifest of a finished sweep folder; a clear error for anything else."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest.get("kind") != "sweep":
        raise ResultsError(f"{folder} holds a run, not a sweep; `blocsim run` printed its summary")
    if manifest.get("status") != "complete":
        raise ResultsError(f"{folder} holds an unfinished sweep; finish it with "
                           f"`blocsim sweep {manifest['sweep']['file']} --out {folder} --resume`")
    return manifest


def point_probabilities(outcomes: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """Per design point and grouping: P(consolidation) with a 95% Wilson interval.

    `outcomes` needs the columns point, grouping, consolidated, peak_level; `points` is the
    design (point and one column per axis). One row per (point, grouping), axis values first.
    """
    from blocsim.analysis.summary import wilson_interval

    grouped = outcomes.groupby(["point", "grouping"], observed=True, sort=False)
    table = grouped.agg(replications=("consolidated", "size"),
                        consolidated=("consolidated", "sum"),
                        mean_peak_level=("peak_level", "mean")).reset_index()
    table["probability"] = table.consolidated / table.replications
    bounds = [wilson_interval(int(k), int(n)) for k, n in zip(table.consolidated,
                                                               table.replications, strict=True)]
    table["ci_low"] = [low for low, _ in bounds]
    table["ci_high"] = [high for _, high in bounds]
    return points.merge(table, on="point")


def sweep_summary(folder: Path, output: Path | None = None, write: bool = True
                  ) -> pd.DataFrame:
    """Summarize a finished sweep per point and grouping.

    With `write`, the table is also written (atomically) to `output`, by default
    `summary.parquet` beside the sweep; without it nothing is written (a read-only folder).
    """
    folder = Path(folder)
    read_sweep_manifest(folder)
    outcomes = pd.read_parquet(folder / "outcomes.parquet",
                               columns=["point", "grouping", "consolidated", "peak_level"])
    summary = point_probabilities(outcomes, pd.read_parquet(folder / "points.parquet"))
    if write:
        target = Path(output) if output is not None else folder / "summary.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.parent / f".{target.name}.partial"
        try:
            summary.to_parquet(staging, index=False)
            os.replace(staging, target)
        finally:
            staging.unlink(missing_ok=True)
    return summary
