"""How much work one command or file may ask for: the limits the command line and files share.

Kept apart from the modules that enforce them (the scenario schema, the executors, the landscape
search) so that the command line can state them in its help without loading any of those.
"""

from __future__ import annotations

MAX_REPLICATIONS = 100_000
"""Most replications a scenario file or `--replications` may ask for."""
MAX_WORKERS = 256
"""Most local worker processes (each holds a copy of the model, ~100-200 MB)."""
MAX_SEARCH_RUNS = 10_000_000
"""Most runs a tipping-point search may spend (`--max-runs`)."""
MAX_STARTS = 100_000
"""Most random starts of the landscape dynamic (`blocsim align --starts`)."""
