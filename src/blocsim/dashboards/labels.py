"""Readable names for the dotted parameter paths a sweep varies, and a palette for series.

    axis_label("pressures.china_assertiveness.end", names)  # "China's assertiveness (end of run)"
    axis_label("states.IND.autonomy", names)                 # "India: autonomy"

Pressure meanings come from `vocabulary.PRESSURES`, state names from the resolved scenario.
"""

from __future__ import annotations

from dataclasses import dataclass

from blocsim.dashboards.style import BLUE, GREEN, ORANGE, PURPLE, SKY, VERMILLION
from blocsim.mechanisms import REGISTRY
from blocsim.vocabulary import PRESSURES

SERIES: tuple[str, ...] = (BLUE, ORANGE, GREEN, VERMILLION, SKY, PURPLE, "#332288", "#999933",
                           "#882255", "#44AA99", "#555555", "#DDCC77")
"""Okabe-Ito colours first, then Tol's: one colour per line when lines are compared."""

_OWNERS = {"china": "China's", "russia": "Russia's", "europe": "Europe's",
           "dprk": "North Korea's", "us": "US", "nato": "NATO", "asean": "ASEAN",
           "taiwan": "Taiwan Strait"}
"""How a pressure's first word reads in a label (possessive for states, adjective otherwise)."""

_WHEN = {"end": ("end of run", "end"), "start": ("start of run", "start"),
         "value": ("constant", "const.")}

_ATTRIBUTES = {
    "threat_china": "threat felt from China",
    "threat_dprk": "threat felt from North Korea",
    "threat_russia": "threat felt from Russia",
    "china_trade_dependence": "trade dependence on China",
    "russia_defense_dependence": "arms dependence on Russia",
    "us_alliance": "alliance ties with the US",
    "domestic_constraint": "domestic constraint",
    "initial_level": "initial level",
    "nato_partner": "NATO partner",
}


def series_colour(index: int) -> str:
    """The colour of the `index`-th line of a comparison (cycling past the palette)."""
    return SERIES[index % len(SERIES)]


@dataclass(frozen=True)
class AxisLabel:
    """How to name one varied parameter.

    Attributes:
        path: the dotted path, e.g. `states.IND.autonomy`.
        label: the readable label, e.g. `India: autonomy`.
        short: a shorter label for narrow places (parallel-coordinate axes).
        meaning: what the parameter means, when the vocabulary says ("" otherwise).

    """

    path: str
    label: str
    short: str
    meaning: str


def _words(name: str) -> str:
    return _ATTRIBUTES.get(name, name.replace("_", " "))


def pressure_name(name: str) -> str:
    """A pressure's readable name: `china_assertiveness` -> "China's assertiveness"."""
    owner, _, rest = name.partition("_")
    if owner in _OWNERS and rest:
        return f"{_OWNERS[owner]} {rest.replace('_', ' ')}"
    return name.replace("_", " ").capitalize()


def axis_label(path: str, state_names: dict[str, str] | None = None,
               grouping_names: dict[str, str] | None = None) -> AxisLabel:
    """A readable label for a sweep axis' dotted path.

    Args:
        path: the axis path, as in the sweep file and the `points` table's column name.
        state_names: ISO3 code to the state's name, from the resolved base scenario.
        grouping_names: grouping key to its short label (e.g. `US–JPN–ROK`).

    Returns:
        The label, a short label and the meaning (pressures only). Unknown paths fall back to
        their parts joined by " › " with underscores as spaces.

    """
    states = state_names or {}
    groupings = grouping_names or {}
    parts = path.split(".")
    meanings = {p.name: p.meaning for p in PRESSURES}
    head = parts[0]
    if head == "pressures" and len(parts) == 3 and parts[1] in meanings:
        name = pressure_name(parts[1])
        when, short_when = _WHEN.get(parts[2], (parts[2], parts[2]))
        return AxisLabel(path, f"{name} ({when})", f"{name} ({short_when})", meanings[parts[1]])
    if head == "states" and len(parts) == 3:
        state = states.get(parts[1], parts[1])
        return AxisLabel(path, f"{state}: {_words(parts[2])}", f"{state}: {_words(parts[2])}", "")
    if head == "groupings" and len(parts) == 3:
        grouping = groupings.get(parts[1], parts[1].replace("_", "–"))
        return AxisLabel(path, f"{grouping}: {_words(parts[2])}",
                         f"{grouping}: {_words(parts[2])}", "")
    if head == "mechanisms" and len(parts) == 3:
        theory = {m.name: m.theory for m in REGISTRY}.get(parts[1], "")
        label = f"{parts[1].replace('_', ' ')} mechanism: {_words(parts[2])}"
        return AxisLabel(path, label, label, theory)
    if head == "dynamics" and len(parts) == 2:
        return AxisLabel(path, f"dynamics: {_words(parts[1])}", _words(parts[1]), "")
    if head == "affinities" and len(parts) == 3:
        a, b = (states.get(code, code) for code in parts[1:])
        return AxisLabel(path, f"affinity {a}–{b}", f"affinity {a}–{b}", "")
    label = " › ".join(part.replace("_", " ") for part in parts)
    return AxisLabel(path, label, label, "")
