"""What a mechanism is: a named, cited causal channel with typed parameters and pure hooks.

A mechanism is one object in one place (Axelrod's strategies are the model): its name, theory and
citation, its parameters (each with a range and a source, or "calibrated"), the expected effect of
switching it off, and the functions that compute what it does. The scenario schema, the model's
wiring, the documentation and the contract tests are all derived from the registry
(`blocsim.mechanisms.REGISTRY`).

Hooks are pure functions of a `Quarter` (the arrays of one quarter of a lockstep batch) and the
mechanism's parameters. Every parameter arrives as an array with one value per replication
(shape `(r,)`), because replications of one batch may come from different design points.
Shapes: `r` replications, `n` states, `g` groupings; utility terms are `(r, n, g)` in logit units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from blocsim.vocabulary import MAX_LEVEL

FloatArray = np.ndarray

CALIBRATED = "calibrated"
"""The source of a parameter no seed passage or public figure pins: the calibration estimates it
(`blocsim calibrate`); its default is a defensible prior value."""


@dataclass(frozen=True)
class Parameter:
    """One numeric parameter of a mechanism or of the model's rules.

    Attributes:
        name: the key in the scenario file.
        default: the value a scenario gets when it does not set one.
        low, high: the valid range (inclusive); sweeps and priors stay inside it.
        meaning: what the number is, in which units.
        source: a seed passage or public figure that grounds the default, or CALIBRATED.
        integer: whether the value is a whole number (quarters).
        exclusive_low: whether `low` itself is invalid (a rate that must be positive).

    """

    name: str
    default: float
    low: float
    high: float
    meaning: str
    source: str = CALIBRATED
    integer: bool = False
    exclusive_low: bool = False

    @property
    def calibrated(self) -> bool:
        """Whether the default is a prior value left to the calibration."""
        return self.source == CALIBRATED


@dataclass(frozen=True)
class Ablation:
    """What switching a mechanism off does, as its theory says: a testable expectation.

    `measure` names a measurement on the final quarter of a baseline run (see
    `tests/mechanism_contract.py`), `direction` is +1 if the measure rises when the mechanism is
    off and -1 if it falls; `overrides` set scenario values first (e.g. a Taiwan crisis for
    entrapment), so the expectation is checked where the theory says it acts.
    """

    measure: str
    direction: int
    why: str
    overrides: dict[str, object] = field(default_factory=dict)
    scenario: str = "baseline"


def ordered_sum(values: FloatArray, axis: int = -1) -> FloatArray:
    """Sum along `axis` adding the elements strictly in order.

    numpy reduces a contiguous last axis pairwise and with SIMD, grouping the terms differently
    for different batch shapes; a one-ulp difference can later flip a threshold. A cumulative sum
    adds strictly in order, so a replication's result is independent of the batch it ran in.
    """
    values = np.asarray(values, dtype=float)
    if values.shape[axis] == 0:
        return np.zeros(np.delete(values.shape, axis))
    return values.cumsum(axis=axis).take(-1, axis=axis)


def power(base: FloatArray, exponent: FloatArray) -> FloatArray:
    """`base ** exponent` for base >= 0, computed as `exp(exponent * log(base))`.

    numpy's `**` takes a fast path (x * x) when the exponent is one scalar for the whole call and
    the general routine otherwise, so the same replication could round differently in batches of
    different sizes; exp and log are evaluated element by element the same way in any batch.
    `0 ** y` is 0 for y > 0 and 1 for y = 0.
    """
    base, exponent = np.asarray(base, float), np.asarray(exponent, float)
    positive = base > 0
    value = np.where(positive, np.exp(exponent * np.log(np.where(positive, base, 1.0))), 0.0)
    return np.where(exponent == 0, 1.0, value)


def per_pair(values: FloatArray) -> FloatArray:
    """A per-replication array `(r,)` shaped to broadcast over `(r, n, g)`."""
    return np.asarray(values, dtype=float)[:, None, None]


def per_state(values: FloatArray) -> FloatArray:
    """A per-replication array `(r,)` shaped to broadcast over `(r, n)` (or `(r, g)`)."""
    return np.asarray(values, dtype=float)[:, None]


class Params:
    """A mechanism's parameters for a batch: `params.weight` is an `(r,)` array."""

    def __init__(self, values: dict[str, FloatArray]) -> None:
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"Params({sorted(self.__dict__)})"


@dataclass
class Quarter:
    """The arrays of one quarter of a lockstep batch: what every hook may read.

    Attributes:
        level: `(r, g)` institutional level in [0, 4] at the start of the quarter.
        commitment: `(r, n, g)` commitment in [0, 1] (zero where not involved).
        alignment: `(r, n)` position on the US(+1)-China(-1) axis.
        nato_tie: `(r, g)` NATO's tie to each grouping in [0, 1].
        members: `(1, n, g)` core members of the groupings that exist this quarter, 0/1.
        core: `(r, n, g)` core members taking part this quarter (exited members excluded), 0/1.
        observer: `(1, n, g)` observers of the groupings that exist this quarter, 0/1.
        involved: `(r, n, g)` core members taking part or observers, 0/1.
        hub: index of the United States (the organizer and hub of the spokes).
        china: index of China.
        hub_led: `(g,)` 1 where the hub is a core member of the grouping.
        nato_partner: `(g,)` 1 where NATO's outreach is aimed at the grouping.
        capability: `(r|1, n)` capability relative to the US.
        attributes: state attributes this quarter (shocks included), each `(r|1, n)`.
        felt: each pressure as each state feels it this quarter, `(r, n)`, in [0, 1].
        threat: perceived threat from each adversary (china, north_korea, russia), `(r, n)`.
        grouping_threat: `(r, n, g)` threat each grouping answers for each member.
        adversary_capability: `(r|1, g)` combined capability of the adversaries a grouping answers.
        affinity: `(r|1, n, n)` affinities this quarter (shocks included), zero diagonal.
        nato_capability: `(r|1,)` capability NATO can lend (sum over European states).
        asean, europe: `(n,)` ASEAN members (the hedgers) and European states.
        starting_level: `(r|1, g)` levels at the start of the run (what scheduled pressures answer).

    """

    level: FloatArray
    commitment: FloatArray
    alignment: FloatArray
    nato_tie: FloatArray
    members: FloatArray
    core: FloatArray
    observer: FloatArray
    involved: FloatArray
    hub: int
    china: int
    hub_led: FloatArray
    nato_partner: FloatArray
    capability: FloatArray
    attributes: dict[str, FloatArray]
    felt: dict[str, FloatArray]
    threat: dict[str, FloatArray]
    grouping_threat: FloatArray
    adversary_capability: FloatArray
    affinity: FloatArray
    nato_capability: FloatArray
    asean: FloatArray
    europe: FloatArray
    starting_level: FloatArray

    @property
    def replications(self) -> int:
        """How many replications the batch advances."""
        return self.level.shape[0]


@dataclass
class Membership:
    """Who of each grouping's core takes part, per replication (participation and exit).

    Attributes:
        exited: `(r, n, g)` core members that have left and not come back.
        below: `(r, n, g)` consecutive quarters a taking-part member's utility was below the
            exit threshold.
        above: `(r, n, g)` consecutive quarters an exited member's utility was above the
            re-entry threshold.

    """

    exited: np.ndarray
    below: np.ndarray
    above: np.ndarray

    @classmethod
    def everyone_in(cls, shape: tuple[int, ...]) -> Membership:
        """Every core member taking part."""
        return cls(np.zeros(shape, bool), np.zeros(shape, np.int16), np.zeros(shape, np.int16))

    def where(self, keep: np.ndarray, other: Membership) -> Membership:
        """The membership where `keep` `(r,)` is true, `other`'s elsewhere."""
        mask = np.asarray(keep, bool)[:, None, None]
        return Membership(np.where(mask, self.exited, other.exited),
                          np.where(mask, self.below, other.below),
                          np.where(mask, self.above, other.above))


class Mechanism:
    """Base of every mechanism: declare the class attributes and override the hooks it uses.

    Hooks (each optional; the model calls every mechanism's hooks in registry order, and blends
    the result with the hook's absence per replication where the mechanism is switched off):
        adjust_pressures: move the pressures as felt this quarter (counter-moves).
        utility: a term of each member's utility of each grouping, `(r, n, g)`, logit units.
        nato_offer: cap the tie NATO can offer each grouping.
        alignment_damping: how far each state's alignment target is pulled to neutral.
        participation: which core members leave or come back.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    theory: ClassVar[str]
    citation: ClassVar[str]
    effect: ClassVar[str]
    parameters: ClassVar[tuple[Parameter, ...]] = ()
    ablation: ClassVar[Ablation]
    binding: ClassVar[bool] = True
    """Whether the term is about binding oneself (felt by observers only at the observer stake)
    rather than about being associated with a grouping (felt by observers in full)."""

    def bound(self, params: Params) -> FloatArray:
        """Largest absolute value the utility term can take, `(r,)` (contract tests check it)."""
        return np.zeros_like(params.enabled, dtype=float)

    def adjust_pressures(self, quarter: Quarter, params: Params) -> dict[str, FloatArray]:
        """Pressures this mechanism moves this quarter: name -> `(r, n)` felt value."""
        return {}

    def utility(self, quarter: Quarter, params: Params) -> FloatArray | None:
        """The mechanism's term of each member's utility, `(r, n, g)`, or None."""
        return None

    def nato_offer(self, quarter: Quarter, params: Params, offer: FloatArray) -> FloatArray:
        """The tie NATO can offer each grouping, `(r, g)`, given the uncapped offer."""
        return offer

    def alignment_damping(self, quarter: Quarter, params: Params) -> FloatArray | None:
        """Share in [0, 1] by which each state's alignment target is pulled to neutral, `(r, n)`."""
        return None

    def participation(self, quarter: Quarter, params: Params, utility: FloatArray,
                      membership: Membership) -> Membership:
        """Who takes part after this quarter, given each member's utility `(r, n, g)`."""
        return membership

    @classmethod
    def parameter(cls, name: str) -> Parameter:
        """The declaration of one of this mechanism's parameters."""
        for declared in cls.parameters:
            if declared.name == name:
                return declared
        raise KeyError(f"{cls.name} has no parameter {name!r}")

    @classmethod
    def defaults(cls, replications: int = 1) -> Params:
        """The mechanism's default parameters for a batch (switched on)."""
        values = {p.name: np.full(replications, float(p.default)) for p in cls.parameters}
        return Params({"enabled": np.ones(replications), **values})


def level_share(level: FloatArray) -> FloatArray:
    """A grouping's level as a share of a formal alliance, in [0, 1]."""
    return np.asarray(level) / MAX_LEVEL


def across_members(per_grouping: FloatArray) -> FloatArray:
    """A per-grouping array `(r, g)` shaped to broadcast over `(r, n, g)`."""
    return per_grouping[:, None, :]
