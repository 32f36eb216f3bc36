"""The `blocsim` command (and `python -m blocsim`): the command line, loaded only when it runs.

A process whose workers start by spawn or forkserver (a Dask LocalCluster's nannies) makes every
worker import the parent's main module again, and a command loads the whole package (analyses,
dashboards, plotly: about 2.3 s). The entry point therefore imports the command line when called,
and the command line its commands once the arguments parse, so a worker re-importing this module
loads nothing.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run the command line (`blocsim.cli.main`); Ctrl-C while it loads ends quietly (130)."""
    try:
        from blocsim.cli import main as command_line
    except KeyboardInterrupt:
        return 130
    return command_line(argv)


if __name__ == "__main__":
    sys.exit(main())
