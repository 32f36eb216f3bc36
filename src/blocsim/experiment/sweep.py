"""Sweeps: many design points x replications, streamed to disk task by task, resumable.

The runs are cut into tasks of at most TASK_RUNS (point, replication) pairs, in point order; the
cut depends only on the design and the replications, never on the executor. Each finished task is
written as its own folder `tasks/NNNNNN/` (the run tables), staged under a hidden name and renamed
into place, so a task is on disk completely or not at all; workers that share the folder's disk
write their own tasks, others send the tables back. A killed sweep resumes by running the tasks
whose folder is missing. When every task is in, each table's parts are moved (not rewritten) into
`<table>.parquet/part-NNNNNN.parquet`: a Parquet dataset that `pandas.read_parquet` reads as one
table, with the same columns as `blocsim run`'s plus `point`; the design is in `points.parquet`.

Point p, replication r draws its randomness from `SeedSequence(seed, spawn_key=(k, r))` where k is
the point's stream key (its index, or 0 for every point with `common_random_numbers`): the one
seeding rule of `experiment.plan`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from blocsim.errors import BlocsimWarning, ResultsError
from blocsim.experiment import debris
from blocsim.experiment.arithmetic import warn_if_mixed
from blocsim.experiment.designs import design_points
from blocsim.experiment.executors import Executor
from blocsim.experiment.kernel import KernelContext, TaskResult, run_task
from blocsim.experiment.locking import folder_lock
from blocsim.experiment.ownership import TASKS_DIR, carry_over, foreign_entries, set_aside
from blocsim.experiment.plan import TASK_RUNS, Plan, Task
from blocsim.experiment.posterior import SEARCH_DRAW_BLOCK, drawn_posterior, posterior_record
from blocsim.experiment.preflight import check_can_write, check_space
from blocsim.experiment.store import (
    MANIFEST,
    changed_versions,
    check_writable,
    read_manifest,
    versions,
)
from blocsim.experiment.sweepfile import Sweep
from blocsim.experiment.tables import TableCollector

FAILURES = "failures.json"
ARITHMETIC = "arithmetic.txt"
"""In a finished task's folder: how the process that ran it rounds."""


@dataclass(frozen=True)
class SweepContext:
    """What every worker needs once: the kernel's context and where finished tasks go."""

    kernel: KernelContext
    folder: str | None = None
    """Where workers write finished tasks themselves; None: they send the tables back."""


def sweep_plan(sweep: Sweep, points: pd.DataFrame) -> Plan:
    """The plan of a sweep: its design points x replications, its seed and streams."""
    keys = np.zeros(len(points), int) if sweep.spec.common_random_numbers else None
    return Plan(sweep.base, points, sweep.spec.replications, sweep.spec.seed, keys,
                task_runs=TASK_RUNS, posterior=drawn_posterior(sweep.base, sweep.spec.point),
                draw_block=SEARCH_DRAW_BLOCK)


def run_sweep_task(context: SweepContext, task: Task
                   ) -> tuple[TaskResult, dict[str, pd.DataFrame] | None]:
    """Run one task; write it (tables and failures) where workers share the folder's disk."""
    result = run_task(context.kernel, task)
    tables = result.collected
    result.collected = None
    if context.folder is not None:
        write_task(Path(context.folder), task.task_id, tables, result.failures,
                   result.arithmetic)
        return result, None
    return result, tables


def task_folder(folder: Path, task_id: int) -> Path:
    """Where a finished task's tables live."""
    return folder / TASKS_DIR / f"{task_id:06d}"


def done_tasks(folder: Path) -> set[int]:
    """Ids of the tasks whose tables are on disk (complete by construction)."""
    root = folder / TASKS_DIR
    if not root.is_dir():
        return set()
    return {int(p.name) for p in root.iterdir() if p.is_dir() and p.name.isdigit()}


def write_task(folder: Path, task_id: int, tables: dict[str, pd.DataFrame],
               failures: list[dict], arithmetic: str = "") -> None:
    """Write a task's tables, failures and arithmetic under a hidden name, then move it in place.

    `arithmetic` is how the process that ran it rounds (`experiment.arithmetic`): kept with the
    task, it survives an interrupted session and a resumption elsewhere.
    """
    root = folder / TASKS_DIR
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{task_id:06d}.partial-", dir=root))
    try:
        for name, table in tables.items():
            table.to_parquet(staging / f"{name}.parquet", index=False)
        (staging / FAILURES).write_text(json.dumps(failures) + "\n")
        (staging / ARITHMETIC).write_text(arithmetic + "\n")
        target = task_folder(folder, task_id)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def tasks_arithmetic(folder: Path, tasks: list[Task], known: list[str]) -> list[str]:
    """Every way the sweep's finished tasks were rounded: those on disk and those `known`."""
    found = set(known)
    for task in tasks:
        written = task_folder(folder, task.task_id) / ARITHMETIC
        if written.is_file():
            found.add(written.read_text().strip())
    return sorted(found - {""})


def part_name(task_id: int) -> str:
    """File name of one task's part inside a table's dataset folder."""
    return f"part-{task_id:06d}.parquet"


def gather_parts(folder: Path, tasks: list[Task], tables: tuple[str, ...]
                 ) -> tuple[dict[str, int], list[dict]]:
    """Move every task's tables into `<table>.parquet/` datasets; return row counts and failures.

    Moving is idempotent, so a sweep interrupted while finishing finishes on `--resume`; the
    failures of every task are joined into `failures.json` first.
    """
    failures_path = folder / FAILURES
    if (folder / TASKS_DIR).is_dir():
        failures = []
        for task in tasks:
            written = task_folder(folder, task.task_id) / FAILURES
            if written.is_file():
                failures.extend(json.loads(written.read_text()))
        _write_json(folder, FAILURES, failures)
    else:
        failures = json.loads(failures_path.read_text()) if failures_path.is_file() else []
    rows: dict[str, int] = {}
    for name in tables:
        dataset = folder / f"{name}.parquet"
        dataset.mkdir(exist_ok=True)
        count = 0
        for task in tasks:
            source = task_folder(folder, task.task_id) / f"{name}.parquet"
            target = dataset / part_name(task.task_id)
            if source.exists():
                os.replace(source, target)
            if target.exists():
                count += pq.ParquetFile(target).metadata.num_rows
        rows[name] = count
    shutil.rmtree(folder / TASKS_DIR, ignore_errors=True)
    return rows, failures


def _write_json(folder: Path, name: str, content: object) -> None:
    staging = folder / f".{name}.partial"
    staging.write_text(json.dumps(content, indent=2, default=str) + "\n")
    os.replace(staging, folder / name)


def _write_manifest(folder: Path, manifest: dict) -> None:
    _write_json(folder, MANIFEST, manifest)


def _previous_sweep(sweep: Sweep, folder: Path, resume: bool, overwrite: bool) -> dict | None:
    """The manifest of the sweep to finish in `folder` (None to start one).

    Refuses a folder that cannot be used. It only reads: nothing is written before the workers
    have started.
    """
    manifest_path = folder / MANIFEST
    if folder.exists() and not folder.is_dir():
        raise ResultsError(f"{folder} exists and is not a folder; choose another --out")
    if not (folder.exists() and any(folder.iterdir())):
        return None
    if resume and manifest_path.is_file():
        manifest = read_manifest(folder)
        if manifest.get("kind") != "sweep" or manifest.get("sweep", {}).get("hash") != \
                sweep.hash:
            raise ResultsError(f"{folder} holds a different sweep (its hash differs from "
                               f"{sweep.path.name}'s); choose another --out")
        return manifest
    if overwrite:
        check_writable(folder, overwrite=True)
        return None
    if resume:
        raise ResultsError(f"{folder} is not a sweep folder to resume (no {MANIFEST})")
    raise ResultsError(f"{folder} already exists; pass --resume to finish an interrupted sweep "
                       f"there, --overwrite to replace it, or choose another --out")


def _make_folder(folder: Path) -> Path | None:
    """Make the folder of a new sweep; return the old one if it was set aside (`--overwrite`).

    An overwritten sweep folder is renamed aside (`NAME.replaced-PID`, recorded in the new
    manifest as `replaces`) and deleted only once the new sweep is complete, so a failed or
    interrupted replacement never loses the old results nor hides them; the user's own files in
    it are moved into the new folder at once.
    """
    if folder.exists() and any(folder.iterdir()):
        keep = foreign_entries(folder)
        retired = set_aside(folder)
        folder.mkdir(parents=True)
        carry_over(retired, folder, keep)
        return retired
    folder.mkdir(parents=True, exist_ok=True)
    return None


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
        debris.damaged_tasks(folder, tuple(sweep.spec.tables), part_name)
    previous = _previous_sweep(sweep, folder, resume, overwrite)
    if previous and previous.get("status") == "complete":
        return {**previous, "timings": {**previous.get("timings", {}), "runs_this_session": 0,
                                        "wall_seconds": 0.0}}
    points = design_points(sweep.spec)
    plan = sweep_plan(sweep, points)
    tasks = plan.tasks()
    executor.start()  # a cluster that cannot start fails here, before the folder is touched
    retired = (None if previous else _make_folder(folder)) or replaces
    done = done_tasks(folder)
    manifest = previous or _sweep_manifest(sweep, plan, tasks)
    if previous:
        _note_changed_versions(folder, manifest)
    manifest.update(status="running", executor=executor.description, workers=executor.workers)
    if retired is not None:
        manifest["replaces"] = str(retired)
    _write_manifest(folder, manifest)
    points.reset_index().to_parquet(folder / "points.parquet", index=False)
    todo = [task for task in tasks if task.task_id not in done]
    advance = progress(sum(t.runs for t in tasks), sum(t.runs for t in tasks
                                                        if t.task_id in done)) if progress else None
    shared_disk = str(folder.resolve()) if executor.shares_filesystem else None
    tables_kept = tuple(sweep.spec.tables)
    kernel = KernelContext.of(plan, TableCollector(tables_kept, with_point=True))
    context = SweepContext(kernel, shared_disk)
    started, compute = time.perf_counter(), 0.0
    try:
        for result, tables in executor.run(run_sweep_task, context, todo):
            if tables is not None:
                write_task(folder, result.task_id, tables, result.failures, result.arithmetic)
            compute += result.seconds
            if advance is not None:
                advance(result.runs)
    finally:
        executor.close()
    manifest.update(status="finishing", arithmetic_of_tasks=tasks_arithmetic(
        folder, tasks, manifest.get("arithmetic_of_tasks", [])))
    _write_manifest(folder, manifest)
    warn_if_mixed(folder, manifest["arithmetic_of_tasks"])
    rows, failures = gather_parts(folder, tasks, tables_kept)
    wall = time.perf_counter() - started
    timings = manifest.setdefault("timings", {})
    timings.update(wall_seconds=round(wall, 3), compute_seconds=round(compute, 3),
                   parallel_efficiency=round(compute / (wall * executor.workers), 3)
                   if wall > 0 and todo else None,
                   runs_this_session=sum(t.runs for t in todo))
    manifest.update(status="complete", tables={**rows, "points": len(points)},
                    failures=failure_summary(failures),
                    completed=datetime.now(UTC).isoformat(timespec="seconds"))
    manifest.pop("replaces", None)
    _write_manifest(folder, manifest)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
    return manifest


def _note_changed_versions(folder: Path, manifest: dict) -> None:
    """Warn and record when a sweep is finished with other package versions than it started with.

    The folder's tables then mix the two, so the manifest lists each resumption's changes
    (`resumed_with`). A machine that rounds differently shows in the tasks' own records instead
    (`arithmetic_of_tasks`, `experiment.arithmetic.warn_if_mixed`).
    """
    changed = changed_versions(manifest.get("versions", {}), versions())
    if not changed:
        return
    manifest.setdefault("resumed_with", []).append(changed)
    said = "; ".join(f"{name} {before} -> {now}" for name, (before, now) in changed.items())
    warnings.warn(BlocsimWarning(
        f"{folder} was started with other package versions ({said}); the tasks run now may "
        "differ from those run before"), stacklevel=2)


def failure_summary(failures: list[dict]) -> dict:
    """How many points and replications failed, and the distinct messages (for the manifest)."""
    points = sorted({f["point"] for f in failures if f["kind"] == "point"})
    replications = [f for f in failures if f["kind"] == "replication"]
    messages: dict[str, int] = {}
    for failure in failures:
        messages[failure["message"]] = messages.get(failure["message"], 0) + 1
    return {"points": len(points), "replications": len(replications),
            "messages": [{"message": m, "count": c} for m, c in
                         sorted(messages.items(), key=lambda item: -item[1])[:10]],
            "file": FAILURES if failures else None}


def _read_replaces(folder: Path) -> Path | None:
    """The set-aside old folder an interrupted `--overwrite` of this sweep recorded, if any."""
    try:
        replaces = read_manifest(folder).get("replaces")
    except ResultsError:
        return None
    return Path(replaces) if isinstance(replaces, str) and Path(replaces).is_dir() else None


def _sweep_manifest(sweep: Sweep, plan: Plan, tasks: list[Task]) -> dict:
    points = plan.points
    spec = sweep.spec
    return {
        "kind": "sweep",
        "sweep": {"name": spec.name, "description": spec.description, "file": str(sweep.path),
                  "hash": sweep.hash, "spec": spec.model_dump(mode="json")},
        "scenario": {"name": sweep.base.scenario.name, "file": str(sweep.base.path),
                     "hash": sweep.base.hash, "resolved": sweep.base.raw},
        "seed": spec.seed,
        "seeding": "SeedSequence(seed, spawn_key=(stream_key, replication)); stream_key = "
                   + ("0 for every point (common random numbers)"
                      if spec.common_random_numbers else "the point's index"),
        "posterior": posterior_record(plan.posterior, plan.draw_block),
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
