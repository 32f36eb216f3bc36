"""How much work a command may ask for: the same limits on the command line as in files.

Replications and design sizes are bounded by the scenario and sweep schemas
(`MAX_REPLICATIONS`, `MAX_POINTS`, `MAX_RUNS`); workers are bounded here, and never more are
started than the work has tasks to give them.
"""

from __future__ import annotations

from blocsim.errors import BlocsimError

MAX_WORKERS = 256
"""Most local worker processes (each holds a copy of the model, ~100-200 MB)."""
MAX_SEARCH_RUNS = 10_000_000
"""Most runs a tipping-point search may spend (`--max-runs`)."""


def check_count(name: str, value: int, low: int, high: int) -> int:
    """Return `value` if it lies in low..high, else a BlocsimError naming the option."""
    if not low <= value <= high:
        raise BlocsimError(f"{name} must lie in {low:,}..{high:,}, found {value:,}")
    return value


def usable_workers(requested: int, tasks: int) -> int:
    """Workers worth starting: no more than asked, than MAX_WORKERS, or than there are tasks."""
    check_count("workers", requested, 1, MAX_WORKERS)
    return max(1, min(requested, tasks))
