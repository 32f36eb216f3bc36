"""Results folders: Parquet tables and `manifest.json`, written atomically, never silently replaced.

A folder is first written in full under a hidden sibling name and then renamed into place, so a
reader never sees a half-written results folder and an interrupted write leaves nothing behind
under the final name.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

import pandas as pd

from blocsim.errors import ResultsError
from blocsim.experiment.arithmetic import arithmetic
from blocsim.experiment.debris import tidy_beside
from blocsim.experiment.locking import folder_lock
from blocsim.experiment.ownership import MANIFEST, carry_over, foreign_entries, set_aside
from blocsim.experiment.preflight import check_space

KINDS = ("run", "sweep", "tipping", "comparison", "calibration")
"""The kinds of folder blocsim writes (a manifest's `kind`)."""
DEPENDENCIES = ("blocsim", "mesa", "numpy", "pandas", "pyarrow", "pydantic", "plotly")


def versions() -> dict[str, str]:
    """Versions of Python and of the packages that shape a result; the machine's `arithmetic`."""
    return dict(_installed_versions())


def changed_versions(before: dict[str, str], now: dict[str, str]) -> dict[str, list[str]]:
    """The entries of `versions()` that differ between two sessions: `{name: [before, now]}`.

    Only entries both recorded: one an older manifest lacks was not recorded, not changed. The
    arithmetic is left out: each task records its own (`arithmetic_of_tasks`), and the process
    that writes the manifest need not be the one that ran the tasks (Dask).
    """
    return {name: [str(before[name]), str(now[name])] for name in before
            if name in now and name != "arithmetic" and before[name] != now[name]}


@functools.cache
def _installed_versions() -> tuple[tuple[str, str], ...]:
    """Looked up once a process: reading package metadata costs milliseconds a run."""
    found = {"python": platform.python_version()}
    for name in DEPENDENCIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    found["arithmetic"] = arithmetic()
    return tuple(found.items())


def is_results_folder(folder: Path) -> bool:
    """Whether `folder` holds a blocsim results folder (a manifest this package wrote)."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return False
    try:
        return json.loads(manifest.read_text()).get("kind") in KINDS
    except (OSError, ValueError):
        return False


def check_writable(folder: Path, overwrite: bool) -> Path:
    """Return the resolved folder if results may be written there (checked before any work).

    An existing folder is refused unless `overwrite`; even then only a blocsim results folder (or
    an empty folder) is ever replaced, never another folder, the current folder or a parent of it.
    """
    folder = Path(folder).resolve()
    if folder == Path(folder.anchor) or Path.cwd().resolve().is_relative_to(folder):
        raise ResultsError(f"{folder} is the current folder or one of its parents; choose "
                           f"another --out")
    if not folder.exists():
        return folder
    if not folder.is_dir():
        raise ResultsError(f"{folder} exists and is not a folder; choose another --out")
    if not overwrite:
        raise ResultsError(f"{folder} already exists; choose another --out or replace it with "
                           f"--overwrite (overwrite=True in Python)")
    if any(folder.iterdir()) and not is_results_folder(folder):
        raise ResultsError(f"{folder} is not a blocsim results folder (no {MANIFEST} written by "
                           f"blocsim); refusing to replace it")
    return folder


def readable_folder(path: Path) -> None:
    """Give a folder made by `tempfile.mkdtemp` (mode 0700) the usual permissions (umask)."""
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o777 & ~umask)


def write_results(folder: Path, tables: dict[str, pd.DataFrame], manifest: dict,
                  overwrite: bool = False) -> Path:
    """Write every table as `<name>.parquet` and the manifest, atomically; return the folder.

    Holds the folder's write lock throughout. A replaced folder is renamed aside
    (`NAME.replaced-PID`) before the new one is renamed into place; the user's own files in it
    (anything blocsim did not write) are moved into the new folder, and the rest is deleted only
    afterwards, so at every moment the name holds a complete folder (old or new) and the old one
    is never lost under a hidden name.
    """
    with folder_lock(folder):
        folder = check_writable(folder, overwrite)
        tidy_beside(folder)
        check_space(folder.parent)
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial-", dir=folder.parent))
        retired: Path | None = None
        try:
            readable_folder(staging)
            manifest = {**manifest, "tables": {name: len(t) for name, t in tables.items()}}
            for name, table in tables.items():
                table.to_parquet(staging / f"{name}.parquet", index=False)
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
            keep = foreign_entries(folder)
            if folder.exists():
                retired = set_aside(folder)
            os.replace(staging, folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            if retired is not None and not folder.exists():
                os.replace(retired, folder)
            raise
        if retired is not None and not carry_over(retired, folder, keep):
            shutil.rmtree(retired, ignore_errors=True)
    return folder


def read_manifest(folder: Path) -> dict:
    """The manifest of a results folder; a ResultsError if it is missing or unreadable."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise ResultsError(f"{folder} is not a blocsim results folder (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ResultsError(f"{path} cannot be read ({error}); the folder is damaged") from None
    if not isinstance(manifest, dict):
        raise ResultsError(f"{path} is not a blocsim manifest")
    return manifest


def read_results(folder: Path) -> tuple[dict[str, pd.DataFrame], dict]:
    """Read every table and the manifest of a results folder."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in manifest["tables"]}
    return tables, manifest
