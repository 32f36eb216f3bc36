"""Typed, validated, immutable scenario: what a scenario file may say and in which ranges.

Every model forbids unknown keys (a typo is an error, not a silently ignored setting) and is
frozen (parameters cannot change during a run). Units: every state attribute is a share in
[0, 1] unless its docstring says otherwise; time is in quarters.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from blocsim.scenario.keys import AffinityKey, Key, Label, StateCode, Text
from blocsim.scenario.sanity import scenario_warnings
from blocsim.vocabulary import MAX_LEVEL, PRESSURE_NAMES, REGIONS

QUARTER_PATTERN = re.compile(r"^(\d{4})Q([1-4])$")
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
MAX_STEPS = 400
MAX_REPLICATIONS = 100_000

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Affinity = Annotated[float, Field(ge=-1.0, le=1.0)]
Level = Annotated[float, Field(ge=0.0, le=float(MAX_LEVEL))]
Quarter = Annotated[str, Field(pattern=QUARTER_PATTERN.pattern)]
QuarterRef = Quarter | Annotated[int, Field(ge=0)]
Source = Annotated[Text, Field(min_length=1)]


class Strict(BaseModel):
    """Base of every scenario table: unknown keys rejected, values frozen, no type coercion."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ScenarioMeta(Strict):
    """The `[scenario]` table: identity and run size."""

    name: Annotated[str, Field(min_length=1, max_length=64, pattern=NAME_PATTERN)]
    description: Text = ""
    start: Quarter = "2025Q1"
    steps: Annotated[int, Field(ge=1, le=MAX_STEPS)] = 40
    replications: Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)] = 100
    seed: Annotated[int, Field(ge=0)] = 0


class State(Strict):
    """A `[states.ISO3]` table: one state's standing dispositions, each with its ground."""

    name: Annotated[Label, Field(min_length=1)]
    region: Literal[REGIONS]  # type: ignore[valid-type]
    asean: bool = False
    capability: Share
    """Military capability relative to the United States (SIPRI spending share, US = 1)."""
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
    source: Source


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
    attribute: Literal["threat_china", "threat_dprk", "threat_russia", "autonomy",  # noqa: F821
                       "china_trade_dependence", "us_alliance"] | None = None
    magnitude: Annotated[float, Field(ge=-1.0, le=1.0)]
    decay_quarters: Annotated[int, Field(ge=0, le=MAX_STEPS)] = 4
    source: Text = ""

    @model_validator(mode="after")
    def _one_target(self) -> Shock:
        if (self.pressure is None) == (self.attribute is None):
            raise ValueError("a shock moves exactly one of `pressure` or `attribute`")
        return self


class MechanismSwitch(Strict):
    """Common to every mechanism: a switch and a weight (utility units per unit of the term)."""

    enabled: bool = True
    weight: Annotated[float, Field(ge=0.0, le=50.0)] = 1.0


class BalanceOfThreat(MechanismSwitch):
    """Walt: security value of partners' committed, reliable capability against the threat."""

    weight: Annotated[float, Field(ge=0.0, le=50.0)] = 10.0
    level_credibility: Annotated[float, Field(ge=0.0, le=2.0)] = 0.5
    """Extra security value per ladder rung, relative to a dormant grouping (binding pledges)."""


class AutonomyCost(MechanismSwitch):
    """Convex cost of binding commitments to autonomy-minded or constrained states."""

    weight: Annotated[float, Field(ge=0.0, le=50.0)] = 4.5
    convexity: Annotated[float, Field(ge=1.0, le=5.0)] = 2.0
    """Exponent on (level+1)/5: 2 makes a formal alliance cost most."""


class EconomicExposure(MechanismSwitch):
    """Cost of China's coercion to states that trade with it."""

    weight: Annotated[float, Field(ge=0.0, le=50.0)] = 4.0


class RussiaPull(MechanismSwitch):
    """Cost of displeasing Russia for its arms clients (India)."""

    weight: Annotated[float, Field(ge=0.0, le=50.0)] = 4.0


class EntrapmentAbandonment(MechanismSwitch):
    """Snyder: weight times (abandonment x fear of US abandonment - entrapment x fear)."""

    weight: Annotated[float, Field(ge=0.0, le=50.0)] = 1.0
    entrapment: Annotated[float, Field(ge=0.0, le=50.0)] = 3.0
    abandonment: Annotated[float, Field(ge=0.0, le=50.0)] = 1.5


class PeerInfluence(MechanismSwitch):
    """Pull toward fellow members' commitment, weighted by affinity."""

    weight: Annotated[float, Field(ge=0.0, le=50.0)] = 2.0


class CounterMoves(MechanismSwitch):
    """China, Russia and NATO's constraints reacting to the groupings' levels."""

    china_response: Annotated[float, Field(ge=0.0, le=1.0)] = 0.25
    """Rise in China's assertiveness and coercion when the most formal grouping reaches level 4."""
    russia_response: Annotated[float, Field(ge=0.0, le=1.0)] = 0.3
    """Rise in Russia's courtship of a state per unit of its groupings' mean level / 4."""
    nato_veto_risk: Share = 0.3
    """Chance-weighted share of NATO outreach lost to a consensus veto (France on Tokyo office)."""


class Hedging(MechanismSwitch):
    """Non-members drift on the US-China axis; their reluctance costs exclusive blocs."""

    weight: Annotated[float, Field(ge=0.0, le=50.0)] = 2.0
    """Legitimacy cost per unit of regional reluctance toward an anti-China bloc."""
    drift_rate: Share = 0.15
    """Share of the gap to its target alignment a state closes each quarter."""


class Mechanisms(Strict):
    """The `[mechanisms]` table: one switch and weights per mechanism (vocabulary.MECHANISMS)."""

    balance_of_threat: BalanceOfThreat = BalanceOfThreat()
    autonomy_cost: AutonomyCost = AutonomyCost()
    economic_exposure: EconomicExposure = EconomicExposure()
    russia_pull: RussiaPull = RussiaPull()
    entrapment_abandonment: EntrapmentAbandonment = EntrapmentAbandonment()
    peer_influence: PeerInfluence = PeerInfluence()
    counter_moves: CounterMoves = CounterMoves()
    hedging: Hedging = Hedging()


class Dynamics(Strict):
    """The `[dynamics]` table: speeds, noise and the consolidation rule (not mechanisms)."""

    baseline_propensity: Annotated[float, Field(ge=-20.0, le=20.0)] = -0.5
    """Utility of commitment before any mechanism (logit units)."""
    adjustment: Annotated[float, Field(gt=0.0, le=1.0)] = 0.25
    """Share of the gap to its best response a state closes per quarter (1 - inertia)."""
    noise: Annotated[float, Field(ge=0.0, le=0.5)] = 0.04
    """Standard deviation of the quarterly commitment noise."""
    political_volatility: Annotated[float, Field(ge=0.0, le=5.0)] = 1.0
    """Long-run standard deviation (logit units) of each state's domestic-political mood: the
    persistent swing that a change of government gives to all of a state's commitments."""
    political_persistence: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.95
    """Quarterly autocorrelation of that mood (0.95: a half-life of about 3.4 years)."""
    level_rise: Annotated[float, Field(gt=0.0, le=1.0)] = 0.12
    level_fall: Annotated[float, Field(gt=0.0, le=1.0)] = 0.06
    broad_support: Share = 0.35
    """Weakest member's commitment at which the grouping can rise above level 2."""
    full_support: Share = 0.8
    """Weakest member's commitment at which level 4 becomes possible."""
    consolidation_level: Annotated[float, Field(ge=0.0, le=float(MAX_LEVEL))] = 3.5
    consolidation_commitment: Share = 0.7
    consolidation_quarters: Annotated[int, Field(ge=1, le=MAX_STEPS)] = 4
    nato_tie_rate: Share = 0.1

    @model_validator(mode="after")
    def _ordered(self) -> Dynamics:
        if self.broad_support >= self.full_support:
            raise ValueError("`broad_support` must be below `full_support`")
        return self


class Poles(Strict):
    """The `[poles]` table: which states are the US, China and Russia."""

    us: StateCode = "USA"
    china: StateCode = "CHN"
    russia: StateCode = "RUS"


class Scenario(Strict):
    """A whole scenario file after `extends` has been resolved and merged."""

    scenario: ScenarioMeta
    states: dict[StateCode, State]
    affinities: dict[StateCode, dict[AffinityKey, Affinity | Text]] = {}
    groupings: dict[Key, Grouping]
    pressures: dict[Literal[PRESSURE_NAMES], Schedule] = {}  # type: ignore[valid-type]
    shocks: list[Shock] = []
    mechanisms: Mechanisms = Mechanisms()
    dynamics: Dynamics = Dynamics()
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
    _path: Path = PrivateAttr(default=Path("<memory>"))

    @property
    def raw(self) -> dict:
        """The merged file content this scenario was validated from (for hashing, manifests)."""
        return self._raw

    @property
    def path(self) -> Path:
        """The file the scenario was loaded from."""
        return self._path

    @property
    def hash(self) -> str:
        """SHA-256 of the resolved content: two runs of equal scenarios share it."""
        from blocsim.scenario.loading import scenario_hash

        return scenario_hash(self._raw)

    @property
    def warnings(self) -> list[str]:
        """Valid but meaningless settings (poles that coincide, a shock with no targets, ...)."""
        return scenario_warnings(self)

    def with_values(self, values: dict[str, object]) -> Scenario:
        """Return a new validated Scenario with dotted key paths (`states.IND.autonomy`) set."""
        from blocsim.scenario.loading import with_values

        return with_values(self, values)

    @property
    def state_codes(self) -> list[str]:
        """ISO3 codes in file order: the index order of every per-state array in the model."""
        return list(self.states)

    @property
    def grouping_names(self) -> list[str]:
        """Grouping names in file order: the index order of every per-grouping array."""
        return list(self.groupings)
