"""blocsim: a scenario simulator of alliance formation in the Indo-Pacific.

The command line (`blocsim run`, `blocsim compare`, `blocsim validate`, ...) and this API do the
same work.
"""

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
