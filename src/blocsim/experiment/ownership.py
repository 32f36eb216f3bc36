"""What blocsim wrote in a results folder, and replacing only that.

A results folder may also hold the user's own files (notes, figures, a copy of the scenario).
`--overwrite` replaces what blocsim wrote and keeps everything else, and says what it kept. The
old folder is first renamed to a visible sibling `NAME.replaced-PID`, so that whatever interrupts
a replacement, the old results are still on disk under a name the next command reports.
"""

from __future__ import annotations

import fnmatch
import json
import os
import warnings
from pathlib import Path

from blocsim.errors import BlocsimWarning

MANIFEST = "manifest.json"
TASKS_DIR = "tasks"
WRITTEN_NAMES = frozenset({MANIFEST, "dashboard.html", "points.parquet", "summary.parquet",
                           "sensitivity.parquet", "failures.json", "comparison.html", TASKS_DIR})
"""Names blocsim writes in a run, sweep, tipping or comparison folder besides the manifest's
tables and a comparison's runs."""
BRIEF_NAMES = frozenset({"report.md", "report-probability.svg", "report-levers.svg"})
"""What `blocsim report` writes in a run folder (kept, a brief would describe the old runs);
in another kind of folder these names are the user's."""
WRITTEN_PATTERNS = ("discovery_*_trajectory.parquet", "discovery_*_box.parquet", ".*.partial",
                    ".*.partial-*", ".*.partial.*")
"""Analyses' outputs and hidden staging names of interrupted writes."""
REPLACED_MARK = ".replaced-"


def manifest_entries(folder: Path) -> set[str]:
    """Entries a folder's manifest accounts for, if it is readable.

    Its tables (`<table>.parquet`); in a comparison, the runs saved inside it (a relative folder
    name each); in a run folder, its brief.
    """
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return set()
    if not isinstance(manifest, dict):
        return set()
    tables, runs = manifest.get("tables"), manifest.get("runs")
    listed = {f"{name}.parquet" for name in tables} if isinstance(tables, dict) else set()
    if manifest.get("kind") == "run":
        listed |= BRIEF_NAMES
    if isinstance(runs, dict):
        listed |= {where for where in runs.values()
                   if isinstance(where, str) and where and Path(where).name == where}
    return listed


def written_by_blocsim(name: str, tables: set[str]) -> bool:
    """Whether an entry of a results folder is one blocsim writes."""
    return (name in WRITTEN_NAMES or name in tables
            or any(fnmatch.fnmatchcase(name, pattern) for pattern in WRITTEN_PATTERNS))


def foreign_entries(folder: Path) -> list[str]:
    """Names of the entries of `folder` that blocsim did not write (sorted)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    tables = manifest_entries(folder)
    return sorted(entry.name for entry in folder.iterdir()
                  if not written_by_blocsim(entry.name, tables))


def set_aside(folder: Path) -> Path:
    """Rename `folder` to `NAME.replaced-PID` beside it and return the new path."""
    retired = folder.parent / f"{folder.name}{REPLACED_MARK}{os.getpid()}"
    os.replace(folder, retired)
    return retired


def carry_over(retired: Path, folder: Path, names: list[str]) -> list[str]:
    """Move the user's entries `names` from the set-aside folder into the new one.

    Returns:
        The names that could not be moved (they stay in `retired`); the caller keeps `retired`
        when any did.

    """
    stuck = []
    for name in names:
        try:
            if (folder / name).exists():
                raise FileExistsError(name)
            os.replace(retired / name, folder / name)
        except OSError:
            stuck.append(name)
    if names:
        moved = [name for name in names if name not in stuck]
        if moved:
            warnings.warn(BlocsimWarning(
                f"kept in {folder} (not written by blocsim, so not replaced): "
                f"{', '.join(moved)}"), stacklevel=2)
        if stuck:
            warnings.warn(BlocsimWarning(
                f"could not move back into {folder}: {', '.join(stuck)}; they are in "
                f"{retired}"), stacklevel=2)
    return stuck
