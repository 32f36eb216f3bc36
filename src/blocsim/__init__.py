"""blocsim: a scenario simulator of alliance formation in the Indo-Pacific.

The command line (`blocsim run`, `blocsim validate`) and this API do the same work.
"""

from blocsim.api import Results, load, open_results, run, tipping_point

__all__ = ["Results", "load", "open_results", "run", "tipping_point"]
