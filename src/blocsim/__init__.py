"""blocsim: a scenario simulator of alliance formation in the Indo-Pacific.

The command line (`blocsim run`, `blocsim compare`, `blocsim validate`, ...) and this API do the
same work.

The API's names (`blocsim.run`, `blocsim.load`, ...) are loaded on first use, not when the package
is imported. A process that needs only the engine (a Dask worker unpickling a task, a script that
runs a sweep) then imports the scenario, model and experiment layers alone: 0.7 s and about 90 MB
instead of 1.9 s and 130 MB with the analyses, dashboards and SciPy behind the API.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from blocsim.api import (
        Comparison,
        Results,
        compare,
        discover,
        levers,
        load,
        open_results,
        run,
        sensitivity,
        sweep,
        tipping_point,
    )

__all__ = ["Comparison", "Results", "compare", "discover", "levers", "load", "open_results",
           "run", "sensitivity", "sweep", "tipping_point"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("blocsim.api"), name)
    raise AttributeError(f"module 'blocsim' has no attribute {name!r}")
