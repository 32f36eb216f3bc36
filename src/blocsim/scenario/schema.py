"""Typed, validated, immutable scenario: what a scenario file may say and in which ranges.

Every model forbids unknown keys (a typo is an error, not a silently ignored setting) and is
frozen (parameters cannot change during a run). Units: every state attribute is a share in
[0, 1] unless its docstring says otherwise; time is in quarters.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    create_model,
    field_validator,
    model_validator,
)

from blocsim.limits import MAX_REPLICATIONS
from blocsim.mechanisms import ALIGNMENT, DYNAMICS, REGISTRY, Mechanism, Parameter
from blocsim.scenario.keys import AffinityKey, Key, Label, StateCode, Text
from blocsim.scenario.sanity import scenario_warnings
from blocsim.vocabulary import ADVERSARIES, MAX_LEVEL, PRESSURE_NAMES, REGIONS

QUARTER_PATTERN = re.compile(r"^(\d{4})Q([1-4])$")
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
MAX_STEPS = 400
MAX_CAPABILITY = 10.0
SHOCKABLE_ATTRIBUTES: tuple[str, ...] = (
    "capability", "threat_china", "threat_dprk", "threat_russia", "autonomy",
    "china_trade_dependence", "us_alliance", "domestic_constraint",
)
"""State attributes a dated shock can move (affinities have their own kind of shock)."""
PATH_ATTRIBUTES = SHOCKABLE_ATTRIBUTES
"""State attributes that can follow a dated path over the run."""

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Affinity = Annotated[float, Field(ge=-1.0, le=1.0)]
Level = Annotated[float, Field(ge=0.0, le=float(MAX_LEVEL))]
Quarter = Annotated[str, Field(pattern=QUARTER_PATTERN.pattern)]
QuarterRef = Quarter | Annotated[int, Field(ge=0)]
Source = Annotated[Text, Field(min_length=1)]


MAX_SCENARIO_NAME = 64


def scenario_hash(data: dict) -> str:
    """Return a stable SHA-256 of a scenario's resolved content (key order irrelevant)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class Strict(BaseModel):
    """Base of every scenario table: unknown keys rejected, values frozen, no type coercion."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ScenarioMeta(Strict):
    """The `[scenario]` table: identity and run size."""

    name: Annotated[str, Field(min_length=1, max_length=MAX_SCENARIO_NAME, pattern=NAME_PATTERN)]
    description: Text = ""
    start: Quarter = "2025Q1"
    steps: Annotated[int, Field(ge=1, le=MAX_STEPS)] = 40
    replications: Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)] = 100
    seed: Annotated[int, Field(ge=0)] = 0
    posterior: str | None = None
    """A calibrated posterior (`posterior.parquet`, relative to the scenario file) that each
    block of replications draws its parameters from; `blocsim run --point` ignores it."""


class State(Strict):
    """A `[states.ISO3]` table: one state's standing dispositions, each with its ground."""

    name: Annotated[Label, Field(min_length=1)]
    region: Literal[REGIONS]  # type: ignore[valid-type]
    asean: bool = False
    capability: Annotated[float, Field(ge=0.0, le=MAX_CAPABILITY)]
    """Military capability relative to the United States (SIPRI spending ratio, US = 1; the
    USSR's 1984 ratio was above 1)."""
    threat_china: Share
    """Baseline perception of China as a threat, before China's assertiveness scales it."""
    threat_dprk: Share = 0.0
    threat_russia: Share = 0.0
    autonomy: Share
    """Aversion to binding commitments (strategic autonomy); India highest."""
    hedging: Share
    """Propensity to stay between the US and China rather than choose."""
    china_trade_dependence: Share
    russia_defense_dependence: Share
    us_alliance: Share
    """Strength of the state's alliance ties with the US (treaty ally ~1, none 0)."""
    domestic_constraint: Share
    """Constitutional or domestic-political limits on military commitments."""
    paths: dict[Literal[PATH_ATTRIBUTES],  # type: ignore[valid-type]
                Annotated[list[tuple[QuarterRef, Annotated[float, Field(ge=0.0)]]],
                          Field(min_length=1)]] = {}
    """Dated values of attributes that change over the run (`capability = [["2007Q1", 0.106],
    ["2024Q4", 0.315]]`): piecewise linear between the points, flat beyond them; the constant
    above is then not used for that attribute."""
    source: Source

    @field_validator("paths", mode="before")
    @classmethod
    def _pairs_as_tuples(cls, paths: object) -> object:
        if isinstance(paths, dict):
            return {k: [tuple(p) if isinstance(p, list) else p for p in v]
                    if isinstance(v, list) else v for k, v in paths.items()}
        return paths

    @model_validator(mode="after")
    def _path_values_in_range(self) -> State:
        for name, points in self.paths.items():
            high = MAX_CAPABILITY if name == "capability" else 1.0
            for _, value in points:
                if value > high:
                    raise ValueError(f"`paths.{name}` values lie in [0, {high:g}], found {value}")
        return self


class Grouping(Strict):
    """A `[groupings.NAME]` table: a minilateral format and its institutional starting point."""

    name: Label = ""
    members: Annotated[list[StateCode], Field(min_length=2)]
    observers: list[StateCode] = []
    initial_level: Level
    """Level when the grouping comes into being (at the start, or at `formed`)."""
    formed: QuarterRef | None = None
    """Quarter the grouping comes into being (e.g. "2021Q3"); before it there is no grouping to
    commit to or to counter. None: it exists from the start of the run."""
    nato_partner: bool = False
    """Whether NATO's outreach is directed at this grouping (the IP4)."""
    adversaries: Annotated[list[Literal[ADVERSARIES]],  # type: ignore[valid-type]
                           Field(min_length=1)] = ["china"]
    """The powers the grouping answers (china, north_korea, russia): a member's threat for it
    counts only these. Default: China, at which the seeds say the formats are aimed (000,
    abstract: 'aimed at China'; 002)."""
    source: Source


class Schedule(Strict):
    """A `[pressures.NAME]` table: a value in [0, 1] per quarter.

    Exactly one form: `value` (constant), `start` and `end` (linear over the run), or
    `points = [[quarter, value], ...]` (piecewise linear, flat beyond the ends).
    """

    value: Share | None = None
    start: Share | None = None
    end: Share | None = None
    points: list[tuple[QuarterRef, Share]] | None = None
    source: Text = ""

    @field_validator("points", mode="before")
    @classmethod
    def _pairs_as_tuples(cls, points: object) -> object:
        if isinstance(points, list):
            return [tuple(p) if isinstance(p, list) else p for p in points]
        return points

    @model_validator(mode="after")
    def _one_form(self) -> Schedule:
        forms = [self.value is not None, self.start is not None or self.end is not None,
                 self.points is not None]
        if sum(forms) != 1:
            raise ValueError("exactly one of `value`, `start`/`end` or `points`")
        if forms[1] and (self.start is None or self.end is None):
            raise ValueError("`start` and `end` go together")
        if forms[2] and not self.points:
            raise ValueError("`points` needs at least one [quarter, value] pair")
        return self


class Shock(Strict):
    """A `[[shocks]]` entry: a dated jolt to one pressure or one state attribute.

    The jolt adds `magnitude` at quarter `at` and fades linearly to nothing over
    `decay_quarters` (0 means it lasts that one quarter). It moves either a `pressure`, as felt by
    the targets, or a state `attribute` of the targets.
    """

    name: Annotated[Label, Field(min_length=1)]
    at: QuarterRef
    targets: list[StateCode] | Literal["all"] = "all"
    pressure: Literal[PRESSURE_NAMES] | None = None  # type: ignore[valid-type]
    attribute: Literal[(*SHOCKABLE_ATTRIBUTES, "affinity")] | None = None  # type: ignore[valid-type]
    """A state attribute of the targets, or `affinity`: the affinity between exactly two
    targets (Japan-Korea relations in 2012, 2018-19, 2023)."""
    magnitude: Annotated[float, Field(ge=-1.0, le=1.0)]
    decay_quarters: Annotated[int, Field(ge=0, le=MAX_STEPS)] = 4
    source: Text = ""

    @model_validator(mode="after")
    def _one_target(self) -> Shock:
        if (self.pressure is None) == (self.attribute is None):
            raise ValueError("a shock moves exactly one of `pressure` or `attribute`")
        if self.attribute == "affinity" and (
                self.targets == "all" or len(set(self.targets)) != 2):
            raise ValueError("an `affinity` shock names exactly two distinct `targets`")
        return self


def parameter_annotation(parameter: Parameter) -> object:
    """The pydantic type of a declared parameter: its range, its meaning and source as metadata."""
    limits: dict[str, float] = {"le": parameter.high}
    limits["gt" if parameter.exclusive_low else "ge"] = parameter.low
    kind = int if parameter.integer else float
    if parameter.integer:
        limits = {key: int(value) for key, value in limits.items()}
    return Annotated[kind, Field(description=parameter.meaning,
                                 json_schema_extra={"source": parameter.source}, **limits)]


def parameter_table(name: str, doc: str, parameters: tuple[Parameter, ...],
                    switch: bool = False) -> type[Strict]:
    """A frozen table model with one field per declared parameter (and `enabled` if a switch).

    Each table also takes a `source`: why a file sets these values (a variant that turns a
    mechanism off or pins a weight says so there). Where no file sets one, the declared
    parameters' own sources stand (most read "calibrated").
    """
    fields: dict[str, object] = {p.name: (parameter_annotation(p), p.default) for p in parameters}
    if switch:
        fields = {"enabled": (bool, True), **fields}
    fields["source"] = (Text, "")
    return create_model(name, __base__=Strict, __doc__=doc, **fields)  # type: ignore[call-overload]


def _mechanism_table(mechanism: Mechanism) -> type[Strict]:
    doc = f"`[mechanisms.{mechanism.name}]`: {mechanism.title}. {mechanism.effect}."
    model_name = "".join(part.title() for part in mechanism.name.split("_"))
    return parameter_table(model_name, doc, mechanism.parameters, switch=True)


MECHANISM_TABLES: dict[str, type[Strict]] = {m.name: _mechanism_table(m) for m in REGISTRY}
# Module-level names, so that plain pickle (a `spawn` worker) finds the generated classes.
globals().update({table.__name__: table for table in MECHANISM_TABLES.values()})

Mechanisms = create_model(  # type: ignore[call-overload]
    "Mechanisms", __base__=Strict,
    __doc__="The `[mechanisms]` table: a switch and the parameters of each registered mechanism.",
    **{name: (table, table()) for name, table in MECHANISM_TABLES.items()})


class Dynamics(parameter_table("DynamicsTable", "", DYNAMICS)):  # type: ignore[misc]
    """The `[dynamics]` table: commitment revision, the ladder, consolidation, observers, links."""

    @model_validator(mode="after")
    def _ordered(self) -> Dynamics:
        if self.broad_support >= self.full_support:
            raise ValueError("`broad_support` must be below `full_support`")
        return self


Alignment = parameter_table(
    "Alignment", "The `[alignment]` table: each state's drift on the US-China axis.", ALIGNMENT)


class Poles(Strict):
    """The `[poles]` table: which states are the US, China, Russia and North Korea."""

    us: StateCode = "USA"
    china: StateCode = "CHN"
    russia: StateCode = "RUS"
    north_korea: StateCode = "PRK"
    """Needed only when a grouping answers North Korea."""


class Scenario(Strict):
    """A whole scenario file after `extends` has been resolved and merged."""

    scenario: ScenarioMeta
    states: dict[StateCode, State]
    affinities: dict[StateCode, dict[AffinityKey, Affinity | Text]] = {}
    groupings: dict[Key, Grouping]
    pressures: dict[Literal[PRESSURE_NAMES], Schedule] = {}  # type: ignore[valid-type]
    shocks: list[Shock] = []
    mechanisms: Mechanisms = Mechanisms()  # type: ignore[valid-type]
    dynamics: Dynamics = Dynamics()
    alignment: Alignment = Alignment()  # type: ignore[valid-type]
    poles: Poles = Poles()

    @field_validator("states")
    @classmethod
    def _iso3_codes(cls, states: dict[str, State]) -> dict[str, State]:
        for code in states:
            if not re.fullmatch(r"[A-Z]{3}", code):
                raise ValueError(f"state key {code!r} is not an ISO3 code (three capitals)")
        if len(states) < 2:
            raise ValueError("a scenario needs at least two states")
        return states

    _raw: dict = PrivateAttr(default_factory=dict)
    _hashed: dict | None = PrivateAttr(default=None)
    _vary: Callable[[Scenario, dict[str, object]], Scenario] | None = PrivateAttr(default=None)
    _path: Path = PrivateAttr(default=Path("<memory>"))
    _posterior_base: Path = PrivateAttr(default=Path("."))
    _set_in: dict[tuple, Path] = PrivateAttr(default_factory=dict)

    @property
    def raw(self) -> dict:
        """The merged file content this scenario was validated from (for hashing, manifests)."""
        return self._raw

    @property
    def path(self) -> Path:
        """The file the scenario was loaded from."""
        return self._path

    def pinned(self, paths: list[str]) -> list[str]:
        """Those of `paths` (a posterior's) this scenario sets itself, not the file naming it.

        A variant that `extends` the scenario naming the posterior, and sets one of the
        parameters the posterior draws (`[mechanisms.autonomy_cost] weight = 0.0`), asks for that
        value: its runs keep it and draw only the others. The values of the file naming the
        posterior are the hand-set ones the posterior replaces.
        """
        named_in = self._set_in.get(("scenario", "posterior"))
        return [path for path in paths
                if self._set_in.get(tuple(path.split("."))) not in (None, named_in)]

    @property
    def posterior_path(self) -> Path | None:
        """The posterior the scenario names, resolved against the file that names it."""
        if self.scenario.posterior is None:
            return None
        return (self._posterior_base / self.scenario.posterior).resolve()

    @property
    def hash(self) -> str:
        """SHA-256 of the resolved content: two runs of equal scenarios share it.

        A variant named after its file hashes with the name it inherited, as before it was
        named (so folders started then still resume).
        """
        return scenario_hash(self._raw if self._hashed is None else self._hashed)

    @property
    def warnings(self) -> list[str]:
        """Valid but meaningless settings (poles that coincide, a shock with no targets, ...)."""
        return scenario_warnings(self)

    def with_values(self, values: dict[str, object]) -> Scenario:
        """Return a new validated Scenario with dotted key paths (`states.IND.autonomy`) set.

        Validated the way its file was (the loader hands each scenario the function that varies
        it); a scenario built from a dict is re-validated by its schema alone.
        """
        if self._vary is None:
            data = {**self._raw}
            for dotted, value in values.items():
                node = data
                *parents, leaf = dotted.split(".")
                for part in parents:
                    node[part] = dict(node.get(part, {}))
                    node = node[part]
                node[leaf] = value
            return type(self).model_validate(data)
        return self._vary(self, values)

    @property
    def state_codes(self) -> list[str]:
        """ISO3 codes in file order: the index order of every per-state array in the model."""
        return list(self.states)

    @property
    def grouping_names(self) -> list[str]:
        """Grouping names in file order: the index order of every per-grouping array."""
        return list(self.groupings)
