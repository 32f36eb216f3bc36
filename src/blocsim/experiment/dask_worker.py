"""A Dask worker preload: load blocsim's engine while the worker starts, not inside the first task.

Without it, a worker imports the engine (Mesa, pandas, pyarrow: about 0.8 s) when it unpickles the
first context it receives, and a broadcast scatter reaches the workers one after another, so a
2-worker LocalCluster started its first task 2.4 s after it was up (local processes: 0.4 s).
`DaskExecutor("local")` starts its workers with this preload; start your own the same way:

    dask worker tcp://HOST:PORT --preload blocsim.experiment.dask_worker
"""

from __future__ import annotations

from typing import Any

import blocsim.experiment.engine  # noqa: F401  (what every blocsim task unpickles)
import blocsim.experiment.sweep  # noqa: F401
from blocsim.experiment.executors import limit_maths_once


def dask_setup(worker: Any) -> None:
    """Called by Dask once the worker process has loaded this module: one BLAS thread."""
    limit_maths_once()
