"""blocsim: a scenario simulator of alliance formation in the Indo-Pacific.

The command line (`blocsim run`, `blocsim validate`) and this API do the same work.
"""

from blocsim.api import (
    Results,
    discover,
    load,
    open_results,
    run,
    sensitivity,
    sweep,
    tipping_point,
)

__all__ = ["Results", "discover", "load", "open_results", "run", "sensitivity", "sweep",
           "tipping_point"]
