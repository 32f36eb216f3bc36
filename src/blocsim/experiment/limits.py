"""How much work a command may ask for: the same limits on the command line as in files.

Replications and design sizes are bounded by the scenario and sweep schemas
(`MAX_REPLICATIONS`, `MAX_POINTS`, `MAX_RUNS`); workers are bounded here, and never more are
started than the work has tasks to give them or the machine has cores.
"""

from __future__ import annotations

import os
import warnings

from blocsim.errors import BlocsimError, BlocsimWarning
from blocsim.limits import MAX_WORKERS


def check_count(name: str, value: int, low: int, high: int) -> int:
    """Return `value` if it lies in low..high, else a BlocsimError naming the option."""
    if not low <= value <= high:
        raise BlocsimError(f"{name} must lie in {low:,}..{high:,}, found {value:,}")
    return value


def usable_workers(requested: int, tasks: int, cores: int | None = None) -> int:
    """Workers worth starting on this machine: no more than asked, than tasks, or than cores.

    Simulation is CPU-bound, so processes beyond the cores only take memory.

    Args:
        requested: workers asked for (1..MAX_WORKERS, else a BlocsimError).
        tasks: how many tasks (chunks) the work is cut into.
        cores: the machine's cores; default `os.cpu_count()`.

    Returns:
        The number of worker processes to start; a BlocsimWarning says when fewer than asked
        because of the cores.

    """
    check_count("workers", requested, 1, MAX_WORKERS)
    cores = cores or os.cpu_count() or 1
    if requested > cores and tasks > cores:
        warnings.warn(BlocsimWarning(f"using {cores} worker process(es), not {requested}: this "
                                     f"machine has {cores} core(s)"), stacklevel=2)
    return max(1, min(requested, tasks, cores))
