"""The inputs the what-if view lets the user move: each with its path, value and source.

Read from a loaded scenario's resolved content (`Scenario.raw`), so each input shows the value
and the `source` text the file gives it. A pressure is moved by its end value (a ramp from its
start over the run) or its constant `value`; a pressure given as dated `points` is shown but not
moved. A state is moved by its main attributes; one that follows a dated `paths` entry is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from blocsim.vocabulary import PRESSURES, STATE_ATTRIBUTE_MEANINGS

if TYPE_CHECKING:
    from blocsim.api import Scenario

STATE_ATTRIBUTES: tuple[str, ...] = (
    "autonomy", "threat_china", "hedging", "china_trade_dependence", "us_alliance",
    "domestic_constraint",
)
"""The state attributes offered for each state, in the order shown."""

PRESSURE_MEANINGS: dict[str, str] = {p.name: p.meaning for p in PRESSURES}
PROPER_NAMES: dict[str, str] = {"us": "US", "dprk": "DPRK", "nato": "NATO", "asean": "ASEAN",
                                "china": "China", "russia": "Russia", "europe": "Europe",
                                "taiwan": "Taiwan"}


def title(key: str) -> str:
    """A readable title for a snake_case key: `us_engagement` -> "US engagement"."""
    words = [PROPER_NAMES.get(word, word) for word in key.split("_")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


STATE_KEYS: tuple[str, ...] = (
    "capability", "threat_china", "threat_dprk", "threat_russia", "autonomy", "hedging",
    "china_trade_dependence", "russia_defense_dependence", "us_alliance", "domestic_constraint",
)
"""Keys whose grounds a state's `source` gives as "key value: ground" (the shipped convention)."""
GROUND = re.compile(r"(?<![\w.])(" + "|".join(STATE_KEYS) +
                    r")(?: -?[\d.]+)?(?: \([^)]{0,40}\))?:")
"""Where one value's ground starts: `autonomy 0.9:`, `autonomy 0.97 (baseline 0.9):`."""


def passage(source: str, key: str) -> str:
    """The part of a state's `source` that grounds `key` ("" when it is not written that way)."""
    starts = [(match.start(), match.group(1)) for match in GROUND.finditer(source)]
    for index, (start, found) in enumerate(starts):
        if found == key:
            end = starts[index + 1][0] if index + 1 < len(starts) else len(source)
            return source[start:end].strip()
    return ""


@dataclass(frozen=True)
class Input:
    """One value the user can move.

    Attributes:
        path: its dotted scenario path (`states.IND.autonomy`, `pressures.china_coercion.end`).
        owner: the table whose `source` grounds it (`states.IND`, `pressures.china_coercion`).
        key: its key in that table (`autonomy`, `end`).
        label: what the slider is called.
        value: the file's own value.
        meaning: what the value stands for.
        source: the file's `source` text for the table the value belongs to.
        ground: the part of `source` about this value (all of it for a pressure; "" where a
            state's source does not single the value out).
        note: how the value acts, or why it cannot be moved here ("" when nothing to say).
        movable: whether a slider may move it.

    """

    path: str
    owner: str
    key: str
    label: str
    value: float
    meaning: str
    source: str
    ground: str
    note: str = ""
    movable: bool = True


def pressure_inputs(scenario: Scenario) -> list[Input]:
    """One input per pressure the scenario sets, in the vocabulary's order."""
    tables = scenario.raw.get("pressures", {})
    found = []
    for name in (p.name for p in PRESSURES if p.name in tables):
        table = tables[name]
        owner = f"pressures.{name}"
        source = str(table.get("source", ""))
        common = {"owner": owner, "label": title(name), "meaning": PRESSURE_MEANINGS[name],
                  "source": source, "ground": source}
        if "value" in table:
            found.append(Input(f"{owner}.value", key="value", value=float(table["value"]),
                               note="constant over the run", **common))
        elif "end" in table:
            start, end = float(table["start"]), float(table["end"])
            found.append(Input(f"{owner}.end", key="end", value=end,
                               note=f"end value: a ramp from {start:g} at the start", **common))
        else:
            last = float(table["points"][-1][1])
            found.append(Input(f"{owner}.points", key="points", value=last, movable=False,
                               note="dated points: not moved here (edit the file)", **common))
    return found


def state_inputs(scenario: Scenario, code: str) -> list[Input]:
    """The main attributes of one state, each with the state's `source` text."""
    table = scenario.raw["states"][code]
    dated = table.get("paths", {})
    owner = f"states.{code}"
    source = str(table.get("source", ""))
    found = []
    for key in STATE_ATTRIBUTES:
        moving = key in dated
        found.append(Input(f"{owner}.{key}", owner=owner, key=key, label=title(key),
                           value=float(table[key]), meaning=STATE_ATTRIBUTE_MEANINGS[key],
                           source=source, ground=passage(source, key), movable=not moving,
                           note="follows dated paths: not moved here" if moving else ""))
    return found


def state_names(scenario: Scenario) -> dict[str, str]:
    """Each state's code to "Name (CODE)", in file order."""
    return {code: f"{table.get('name', code)} ({code})"
            for code, table in scenario.raw["states"].items()}
