"""Results folders: Parquet tables and `manifest.json`, written atomically, never silently replaced.

A folder is first written in full under a hidden sibling name and then renamed into place, so a
reader never sees a half-written results folder and an interrupted write leaves nothing behind
under the final name.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

import pandas as pd

from blocsim.errors import ResultsError

MANIFEST = "manifest.json"
DEPENDENCIES = ("blocsim", "mesa", "numpy", "pandas", "pyarrow", "pydantic", "plotly")


def versions() -> dict[str, str]:
    """Versions of Python and of the packages that shape a result."""
    found = {"python": platform.python_version()}
    for name in DEPENDENCIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    return found


def check_writable(folder: Path, overwrite: bool) -> None:
    """Refuse an existing results folder unless `overwrite` (checked before any work is done)."""
    if folder.exists() and not overwrite:
        raise ResultsError(f"{folder} already exists; choose another --out or pass --overwrite "
                           f"to replace it")
    if folder.exists() and not folder.is_dir():
        raise ResultsError(f"{folder} exists and is not a folder")


def write_results(folder: Path, tables: dict[str, pd.DataFrame], manifest: dict,
                  overwrite: bool = False) -> Path:
    """Write every table as `<name>.parquet` and the manifest, atomically; return the folder."""
    folder = Path(folder)
    check_writable(folder, overwrite)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial-", dir=folder.parent))
    try:
        manifest = {**manifest, "tables": {name: len(t) for name, t in tables.items()}}
        for name, table in tables.items():
            table.to_parquet(staging / f"{name}.parquet", index=False)
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def read_results(folder: Path) -> tuple[dict[str, pd.DataFrame], dict]:
    """Read every table and the manifest of a results folder."""
    folder = Path(folder)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise ResultsError(f"{folder} is not a blocsim results folder (no {MANIFEST})")
    manifest = json.loads(manifest_path.read_text())
    tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in manifest["tables"]}
    return tables, manifest
