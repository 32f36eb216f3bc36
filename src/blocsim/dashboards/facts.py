"""A scenario as the pages name it: groupings, states, shocks, inputs, read once from a manifest.

Values are validated table by table with the scenario schema's own models, so every default is the
schema's and none is copied here; keys and names are kept as written (the templates escape them).
This is also the one place that names things: `title(key)` for a grouping, `state_label(code)`,
`parameter(path)` for a dotted path.

    facts = scenario_facts(manifest["scenario"])
    facts.title("QUAD")                       # "QUAD: Quadrilateral Security Dialogue"
    parameter("states.IND.autonomy", facts)   # Parameter(label="India: autonomy", ...)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pydantic import ValidationError

from blocsim.calendar import quarter_label, step_of
from blocsim.errors import ResultsError
from blocsim.mechanisms import REGISTRY
from blocsim.model.pressures import NEUTRAL_PRESSURE, schedule_values, shock_profile
from blocsim.scenario.schema import Dynamics, Grouping, Scenario, Schedule, Shock, State
from blocsim.scenario.sources import Change
from blocsim.vocabulary import PRESSURES, STATE_ATTRIBUTE_MEANINGS

OWNERS = {"china": "China's", "russia": "Russia's", "europe": "Europe's",
          "dprk": "North Korea's", "us": "US", "nato": "NATO", "asean": "ASEAN",
          "taiwan": "Taiwan Strait"}
"""How a pressure's first word reads in a label (possessive for states, adjective otherwise)."""

WORDS = {"threat_china": "threat felt from China", "threat_dprk": "threat felt from North Korea",
         "threat_russia": "threat felt from Russia",
         "china_trade_dependence": "trade dependence on China",
         "russia_defense_dependence": "arms dependence on Russia",
         "us_alliance": "alliance ties with the US", "end": "end of run",
         "start": "start of run", "value": "constant"}
"""Readable words for attribute and schedule keys (others: underscores as spaces)."""


@dataclass(frozen=True)
class GroupingFacts:
    """A grouping as the scenario defines it (`key` is the tables' `grouping` column)."""

    key: str
    name: str
    members: tuple[str, ...]
    observers: tuple[str, ...]
    source: str
    initial_level: float = 0.0
    """Its level when it comes into being (a treaty pact starts at 4)."""

    @property
    def label(self) -> str:
        """The short label of axes and legends: the key with underscores as dashes."""
        return self.key.replace("_", "–")

    @property
    def title(self) -> str:
        """The one title of a grouping: `QUAD: Quadrilateral Security Dialogue`, or the label."""
        return self.label if self.name in ("", self.key, self.label) else \
            f"{self.label}: {self.name}"


@dataclass(frozen=True)
class ShockFacts:
    """A shock placed on the run's calendar, with the value it adds each quarter (`profile`)."""

    shock: Shock
    step: int
    quarter: str
    profile: tuple[float, ...]

    @property
    def target(self) -> str:
        """The pressure or state attribute it moves."""
        return self.shock.pressure or self.shock.attribute or "?"

    @property
    def targets(self) -> str:
        """`all`, or the states that feel it, comma-joined."""
        targets = self.shock.targets
        return targets if isinstance(targets, str) else ", ".join(targets)


@dataclass(frozen=True)
class ScenarioFacts:
    """Everything a page says about a scenario besides the results tables."""

    name: str
    description: str
    file: str
    hash: str
    start: str
    steps: int
    states: dict[str, State] = field(repr=False)
    groupings: tuple[GroupingFacts, ...] = field(repr=False)
    shocks: tuple[ShockFacts, ...] = field(repr=False)
    dynamics: Dynamics = field(repr=False)
    pressures: dict[str, Schedule] = field(repr=False)
    raw: dict = field(repr=False)
    changes: tuple[Change, ...] = field(repr=False)

    @property
    def end(self) -> str:
        """The last quarter simulated."""
        return quarter_label(self.start, self.steps - 1)

    @property
    def quarters(self) -> list[str]:
        """Every quarter of the run, in order."""
        return [quarter_label(self.start, s) for s in range(self.steps)]

    @property
    def asean(self) -> frozenset[str]:
        """The ASEAN members' codes."""
        return frozenset(code for code, state in self.states.items() if state.asean)

    def shock_quarters(self) -> list[tuple[int, str]]:
        """(step, quarter) of each distinct quarter a shock hits."""
        return sorted({(s.step, s.quarter) for s in self.shocks})

    def state_label(self, code: str) -> str:
        """A state's name, or its code when the scenario does not name it."""
        state = self.states.get(code)
        return state.name if state is not None else str(code)

    def grouping(self, key: str) -> GroupingFacts:
        """The grouping with this key (a bare one for a key the scenario lacks)."""
        found = next((g for g in self.groupings if g.key == key), None)
        return found or GroupingFacts(str(key), "", (), (), "")

    def label(self, key: str) -> str:
        """A grouping's short label."""
        return self.grouping(key).label

    def title(self, key: str) -> str:
        """A grouping's title (label and long name)."""
        return self.grouping(key).title

    def value_at(self, path: str) -> float | None:
        """The scenario's own value at a dotted path ("you are here"), None if not a number.

        A pressure's `start`, `end` or `value` reads its schedule (a constant for either end, the
        run's mean for `value` of a ramp); a pressure the file leaves out is neutral (0.5).
        """
        parts = path.split(".")
        if parts[0] == "pressures" and len(parts) == 3:
            schedule = self.pressures.get(parts[1])
            if schedule is None:
                return NEUTRAL_PRESSURE
            path_values = schedule_values(schedule, self.start, self.steps)
            return float({"start": path_values[0], "end": path_values[-1]}
                         .get(parts[2], path_values.mean()))
        node: Any = self.full
        for part in parts:
            node = node.get(part) if isinstance(node, dict) else None
        return float(node) if isinstance(node, int | float) else None

    @cached_property
    def full(self) -> dict:
        """The resolved scenario with the schema's defaults filled in (the raw file if invalid)."""
        try:
            return Scenario.model_validate(self.raw).model_dump()
        except ValidationError:
            return self.raw


def scenario_facts(meta: dict) -> ScenarioFacts:
    """Read the `scenario` entry of a manifest (name, file, hash, resolved content, changes).

    Raises:
        ResultsError: if the resolved scenario is missing or a table fails the schema.

    """
    try:
        raw = meta["resolved"]
        run = raw.get("scenario", {})
        start, steps = run.get("start", "2025Q1"), int(run.get("steps", 40))
        shocks = tuple(Shock.model_validate(s) for s in raw.get("shocks", []))
        return ScenarioFacts(
            name=str(meta.get("name") or run.get("name", "?")),
            description=str(meta.get("description") or run.get("description", "")),
            file=str(meta.get("file", "")), hash=str(meta.get("hash", "")),
            start=start, steps=steps,
            states={code: State.model_validate(s) for code, s in raw.get("states", {}).items()},
            groupings=tuple(_grouping(key, Grouping.model_validate(spec))
                            for key, spec in raw.get("groupings", {}).items()),
            shocks=tuple(ShockFacts(s, step_of(start, s.at), quarter_label(start, step_of(
                start, s.at)), tuple(shock_profile(s, start, steps))) for s in shocks),
            dynamics=Dynamics.model_validate(raw.get("dynamics", {})),
            pressures={k: Schedule.model_validate(v) for k, v in raw.get("pressures", {}).items()},
            raw=raw, changes=tuple(Change(**c) for c in meta.get("changes", [])))
    except (KeyError, TypeError, ValueError) as error:  # pydantic's errors are ValueErrors
        raise ResultsError(f"the manifest's scenario cannot be read ({error})") from error


def _grouping(key: str, spec: Grouping) -> GroupingFacts:
    return GroupingFacts(str(key), spec.name, tuple(spec.members), tuple(spec.observers),
                         spec.source, spec.initial_level)


@dataclass(frozen=True)
class Parameter:
    """How to name a dotted parameter path: label, a shorter label, and its meaning."""

    path: str
    label: str
    short: str
    meaning: str


def pressure_name(name: str) -> str:
    """A pressure's readable name: `china_assertiveness` -> "China's assertiveness"."""
    owner, _, rest = name.partition("_")
    if owner in OWNERS and rest:
        return f"{OWNERS[owner]} {rest.replace('_', ' ')}"
    return name.replace("_", " ").capitalize()


def words(key: str) -> str:
    """An attribute or schedule key in words."""
    return WORDS.get(key, key.replace("_", " "))


def parameter(path: str, facts: ScenarioFacts | None = None) -> Parameter:
    """A readable name for a dotted path (a sweep axis, a lever, an input).

    `pressures.china_assertiveness.end` reads "China's assertiveness (end of run)",
    `pressures.us_engagement` (a whole schedule) "US engagement", `states.IND.autonomy` "India:
    autonomy"; unknown paths their parts joined by " › ".
    """
    parts = path.split(".")
    meanings = {p.name: p.meaning for p in PRESSURES}
    head, rest = parts[0], parts[1:]
    if head == "pressures" and rest and rest[0] in meanings:
        name = pressure_name(rest[0])
        when = f" ({words(rest[1])})" if len(rest) == 2 else ""
        short = f" ({rest[1].replace('value', 'const.')})" if len(rest) == 2 else ""
        return Parameter(path, name + when, name + short, meanings[rest[0]])
    if head in ("states", "groupings") and len(rest) == 2:
        owner = (facts.state_label(rest[0]) if head == "states" else facts.label(rest[0])) \
            if facts else rest[0]
        label = f"{owner}: {words(rest[1])}"
        meaning = STATE_ATTRIBUTE_MEANINGS.get(rest[1], "") if head == "states" else ""
        return Parameter(path, label, label, meaning)
    if head == "mechanisms" and len(rest) == 2:
        theory = {m.name: m.theory for m in REGISTRY}.get(rest[0], "")
        label = f"{rest[0].replace('_', ' ')} mechanism: {words(rest[1])}"
        return Parameter(path, label, label, theory)
    if head == "affinities" and len(rest) == 2:
        a, b = (facts.state_label(c) if facts else c for c in rest)
        return Parameter(path, f"affinity {a}–{b}", f"affinity {a}–{b}", "")
    if head == "dynamics" and len(rest) == 1:
        return Parameter(path, f"dynamics: {words(rest[0])}", words(rest[0]), "")
    label = " › ".join(part.replace("_", " ") for part in parts)
    return Parameter(path, label, label, "")
