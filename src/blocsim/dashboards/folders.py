"""Which kind of results folder a path is: a run, a sweep, or a folder of runs to compare."""

from __future__ import annotations

import json
from pathlib import Path

from blocsim.errors import ResultsError
from blocsim.experiment.store import MANIFEST

RUN = "run"
SWEEP = "sweep"
TIPPING = "tipping"
COMPARISON = "comparison"

EXPECTED = ("a run folder (`blocsim run`), a finished sweep folder (`blocsim sweep`), a tipping "
            "folder (`blocsim tip`) or a folder holding two or more run folders to compare")
"""What `write_dashboard` accepts, in words, for error messages."""


def _manifest_kind(folder: Path) -> str | None:
    """The `kind` in a folder's manifest, None without a readable manifest."""
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest.get("kind") if isinstance(manifest, dict) else None


def run_subfolders(folder: Path) -> list[Path]:
    """The direct subfolders of `folder` whose manifest says kind `run`, sorted by name."""
    return sorted(child for child in folder.iterdir()
                  if child.is_dir() and _manifest_kind(child) == RUN)


def folder_kind(folder: Path) -> str:
    """Which dashboard a folder gets: `RUN`, `SWEEP`, `TIPPING` or `COMPARISON`.

    A folder with a manifest is what its manifest's `kind` says (run, sweep or tipping); a folder
    without one is a comparison when at least two of its direct subfolders are runs.

    Args:
        folder: an existing folder.

    Returns:
        The kind.

    Raises:
        ResultsError: for a manifest of another kind, or a folder with no manifest and fewer
            than two run subfolders; the message says what was expected.

    """
    folder = Path(folder)
    if (folder / MANIFEST).is_file():
        kind = _manifest_kind(folder)
        if kind in (RUN, SWEEP, TIPPING):
            return kind
        raise ResultsError(f"{folder} holds a {kind!r} results folder (or an unreadable "
                           f"{MANIFEST}); expected {EXPECTED}")
    runs = run_subfolders(folder)
    if len(runs) >= 2:
        return COMPARISON
    found = (f"only one run folder ({runs[0].name})" if runs else
             f"no {MANIFEST} and no run folders inside")
    raise ResultsError(f"{folder} is not a blocsim results folder: expected {EXPECTED}; "
                       f"found {found}")
