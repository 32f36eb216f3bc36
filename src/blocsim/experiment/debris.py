"""What a killed writer leaves behind, cleaned up or reported by the next writer of the folder.

Called only while holding the folder's write lock (`locking.folder_lock`), so no live process is
writing what is found: a hidden staging folder or partial file is debris of a dead one and is
removed; a set-aside folder (`NAME.replaced-PID`, the old results of an interrupted
`--overwrite`) may hold data the user wants, so it is never deleted here, only reported; a task
folder of a sweep whose tables cannot be read is removed so that `--resume` runs it again.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq

from blocsim.errors import BlocsimWarning
from blocsim.experiment.ownership import REPLACED_MARK, TASKS_DIR

_REPORTED: set[Path] = set()
"""Set-aside folders already reported by this process (each is reported once)."""


def _notice(text: str) -> None:
    warnings.warn(BlocsimWarning(text), stacklevel=3)


def _remove(path: Path) -> bool:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except OSError:
        return False
    return True


def set_aside_folders(folder: Path) -> list[Path]:
    """Folders beside `folder` holding its old results, set aside by an interrupted overwrite."""
    parent = folder.parent
    if not parent.is_dir():
        return []
    marks = (f"{folder.name}{REPLACED_MARK}", f".{folder.name}{REPLACED_MARK}")
    own = f"{REPLACED_MARK}{os.getpid()}"
    return sorted(p for p in parent.iterdir()
                  if p.name.startswith(marks) and not p.name.endswith(own) and p.is_dir())


def tidy_beside(folder: Path, keep: Path | None = None) -> None:
    """Remove staging folders left beside `folder`; report set-aside old results.

    Args:
        folder: a results folder (existing or not) whose lock the caller holds.
        keep: a set-aside folder the caller knows about and reports itself.

    """
    folder = Path(folder)
    parent = folder.parent
    if not parent.is_dir():
        return
    staged = [p for p in parent.glob(f".{folder.name}.partial-*") if _remove(p)]
    if staged:
        _notice(f"removed {len(staged)} unfinished staging folder(s) of {folder.name} left by "
                f"an interrupted write")
    for retired in set_aside_folders(folder):
        if (keep is not None and retired == keep) or retired in _REPORTED:
            continue
        _REPORTED.add(retired)
        _notice(f"{retired} holds earlier results of {folder.name}, set aside by an "
                f"interrupted --overwrite; keep what you need from it and delete it")


def tidy_inside(folder: Path, quiet: bool = False) -> None:
    """Remove partial files and task staging folders a killed sweep left inside `folder`.

    Args:
        folder: a sweep folder whose lock the caller holds, with no worker writing into it.
        quiet: do not report (the caller is unwinding its own interrupted write).

    """
    folder = Path(folder)
    if not folder.is_dir():
        return
    debris = [p for p in folder.glob(".*.partial*") if p.name != ".partial"]
    tasks = folder / TASKS_DIR
    if tasks.is_dir():
        debris += list(tasks.glob(".*.partial-*"))
    removed = [p for p in debris if _remove(p)]
    if removed and not quiet:
        _notice(f"removed {len(removed)} partial file(s) or folder(s) in {folder} left by an "
                f"interrupted write")


def readable_parquet(path: Path) -> bool:
    """Whether `path` is a Parquet file whose footer can be read (not truncated or damaged)."""
    try:
        pq.read_metadata(path)
    except (OSError, ValueError, EOFError):
        return False
    return True


def damaged_tasks(folder: Path, tables: tuple[str, ...], part_name: Callable[[int], str]
                  ) -> list[int]:
    """Remove the finished tasks of a sweep whose tables are missing or unreadable.

    A task counts as finished when its folder `tasks/NNNNNN/` exists; each of its tables is
    either still there or already moved into the table's dataset (`<table>.parquet/part-...`).

    Args:
        folder: the sweep folder (its lock held by the caller).
        tables: the table names every task writes.
        part_name: `task_id -> file name` of a task's part inside a dataset.

    Returns:
        The ids of the tasks removed (they will be run again), each reported.

    """
    root = Path(folder) / TASKS_DIR
    if not root.is_dir():
        return []
    removed = []
    for task in sorted(p for p in root.iterdir() if p.is_dir() and p.name.isdigit()):
        task_id = int(task.name)
        places = [(task / f"{name}.parquet", Path(folder) / f"{name}.parquet" / part_name(task_id))
                  for name in tables]
        bad = [own.name for own, part in places
               if not (readable_parquet(own) if own.exists() else readable_parquet(part))]
        if bad:
            for _, part in places:
                if part.exists():
                    _remove(part)
            _remove(task)
            removed.append(task_id)
            _notice(f"task {task_id} of {folder} was damaged ({', '.join(bad)} missing or "
                    f"unreadable); it will be run again")
    return removed
