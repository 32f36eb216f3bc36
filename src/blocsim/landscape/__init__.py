"""Alignment by landscape theory of aggregation (Axelrod & Bennett 1993).

Actors of given sizes and pairwise propensities split into two camps; each actor moves to the
camp that lowers its own frustration until no single move helps (a local minimum of the
system's energy). `energy` holds the pure numpy arithmetic, `search` the exact enumeration and
the dynamics, `input` the TOML format, `report` the text and JSON output, and `command` the
`align_command` entry point for the command line.
"""

from blocsim.landscape.command import align_command
from blocsim.landscape.input import LandscapeError, LandscapeSystem, load_landscape
from blocsim.landscape.search import Landscape, Minimum, analyse

__all__ = ["Landscape", "LandscapeError", "LandscapeSystem", "Minimum", "align_command",
           "analyse", "load_landscape"]
