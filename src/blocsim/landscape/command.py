"""The `blocsim align FILE [--json]` entry point."""

from __future__ import annotations

from pathlib import Path

from blocsim.landscape import report
from blocsim.landscape.input import load_landscape
from blocsim.landscape.search import analyse


def align_command(path: Path, as_json: bool = False, starts: int = 2000, seed: int = 0) -> str:
    """Analyse a landscape file and return the text (or JSON) to print.

    Args:
        path: a landscape TOML file (see `blocsim.landscape.input`).
        as_json: return `{"minima": [...]}` as JSON instead of text.
        starts: random starts of the dynamic, for sampled basins (n > 12) and the search (n > 24).
        seed: seed of those starts; same file and seed, same output.

    Raises:
        LandscapeError: the file is missing, not TOML, or invalid (names file and key path).
        BlocsimError: `starts` or the system beyond the limits of `search.check_size`.
    """
    system = load_landscape(path)
    landscape = analyse(system.sizes, system.propensity, starts=starts, seed=seed)
    if as_json:
        return report.as_json(landscape, system.names)
    return report.as_text(landscape, system.names, system.name)
