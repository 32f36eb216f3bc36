"""A scenario compiled to arrays: the structure every replication shares, the values each may vary.

A plan (a run, a sweep, a tipping search, a calibration) runs replications of many design points
in one lockstep batch. What a design point can change (state attributes, affinities, pressure
schedules, mechanism and rule parameters, groupings' starting levels and formation quarters) is
held per point (`PointInputs`) and stacked along a leading replication axis (`BatchInputs`); the
scenario's structure (its states, groupings, members, poles) is one `Structure` for all.

`CompiledScenario.point(values)` sets dotted scenario paths on the compiled base without
re-validating the whole scenario: each touched table (a state, a schedule, a mechanism, the rules)
is validated by the scenario schema itself, and only what it feeds is recompiled. A path the fast
route does not know goes the slow way (`Scenario.with_values`, then a full compile), which must
leave the structure unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from blocsim.calendar import step_of
from blocsim.errors import ScenarioError
from blocsim.mechanisms import MECHANISMS, Params
from blocsim.model.pressures import (
    SHOCKABLE_ATTRIBUTES,
    ShockField,
    attribute_paths,
    compile_shocks,
    exogenous_pressures,
    schedule_values,
)
from blocsim.scenario.schema import MAX_CAPABILITY, Scenario, Schedule
from blocsim.vocabulary import ADVERSARIES, PRESSURE_NAMES

STATE_ATTRIBUTES: tuple[str, ...] = (
    "capability", "threat_china", "threat_dprk", "threat_russia", "autonomy", "hedging",
    "china_trade_dependence", "russia_defense_dependence", "us_alliance", "domestic_constraint",
)
PARAMETER_SECTIONS = ("mechanisms", "dynamics", "alignment")


@dataclass(frozen=True)
class Structure:
    """What every replication of a plan shares: who exists, who belongs to what, who leads.

    Attributes:
        state_codes, grouping_names: the index order of every per-state and per-grouping array.
        core: `(n, g)` core members; observer: `(n, g)` observers.
        hub, china: indices of the United States and China.
        asean: `(n,)` ASEAN members (the hedgers); europe: `(n,)` European states.
        hub_led: `(g,)` 1 where the hub is a core member; nato_partner: `(g,)` NATO's partners.
        answers: `(g, a)` 1 where the grouping answers adversary a (ADVERSARIES order).
        adversary: `(a,)` index of each adversary's state, -1 where the scenario has none.
        steps, start: the run's length in quarters and its first quarter.

    """

    state_codes: tuple[str, ...]
    grouping_names: tuple[str, ...]
    core: np.ndarray
    observer: np.ndarray
    hub: int
    china: int
    asean: np.ndarray
    europe: np.ndarray
    hub_led: np.ndarray
    nato_partner: np.ndarray
    answers: np.ndarray
    adversary: np.ndarray
    steps: int
    start: str

    @property
    def involved(self) -> np.ndarray:
        """`(n, g)` core members and observers."""
        return self.core | self.observer

    def key(self) -> tuple:
        """Everything that defines the structure, comparable across compilations."""
        return (self.state_codes, self.grouping_names, self.core.tobytes(),
                self.observer.tobytes(), self.hub, self.china, self.asean.tobytes(),
                self.europe.tobytes(), self.nato_partner.tobytes(), self.answers.tobytes(),
                self.adversary.tobytes(), self.steps, self.start)


@dataclass(frozen=True)
class PointInputs:
    """The numbers of one design point (no replication axis).

    Attributes:
        attributes: name -> `(n,)` state attribute.
        paths: name -> `(steps, n)` for attributes some state follows on a dated path.
        affinity: `(n, n)` symmetric, zero diagonal, in [-1, 1].
        exogenous: `(steps, k)` schedule value of each pressure.
        shocks: the dated shocks as offsets.
        initial_level: `(g,)` level at formation; formed: `(g,)` quarter of formation (0: start).
        params: flat parameters, `mechanisms.NAME.PARAM` (and `.enabled` as 0/1),
            `dynamics.PARAM`, `alignment.PARAM`.

    """

    attributes: dict[str, np.ndarray]
    paths: dict[str, np.ndarray]
    affinity: np.ndarray
    exogenous: np.ndarray
    shocks: ShockField
    initial_level: np.ndarray
    formed: np.ndarray
    params: dict[str, float]


def affinity_matrix(scenario: Scenario) -> np.ndarray:
    """Symmetric `(n, n)` affinity from the `[affinities]` tables; unlisted pairs are 0."""
    codes = scenario.state_codes
    index = {code: i for i, code in enumerate(codes)}
    matrix = np.zeros((len(codes), len(codes)))
    for code, row in scenario.affinities.items():
        for other, value in row.items():
            if other != "source" and other != code:
                matrix[index[code], index[other]] = matrix[index[other], index[code]] = value
    return matrix


def compile_structure(scenario: Scenario) -> Structure:
    """The shared structure of a validated scenario."""
    codes = scenario.state_codes
    groupings = list(scenario.groupings.values())
    states = list(scenario.states.values())
    n, g = len(codes), len(groupings)
    core = np.array([[code in gr.members for gr in groupings] for code in codes],
                    bool).reshape(n, g)
    observer = np.array([[code in gr.observers for gr in groupings] for code in codes],
                        bool).reshape(n, g)
    hub = codes.index(scenario.poles.us)
    answers = np.array([[a in gr.adversaries for a in ADVERSARIES] for gr in groupings],
                       float).reshape(g, len(ADVERSARIES))
    poles = {"china": scenario.poles.china, "north_korea": scenario.poles.north_korea,
             "russia": scenario.poles.russia}
    adversary = np.array([codes.index(poles[a]) if poles[a] in codes else -1
                          for a in ADVERSARIES], int)
    return Structure(
        state_codes=tuple(codes), grouping_names=tuple(scenario.grouping_names),
        core=core, observer=observer, hub=hub, china=codes.index(scenario.poles.china),
        asean=np.array([s.asean for s in states], bool),
        europe=np.array([s.region == "europe" for s in states], bool),
        hub_led=core[hub].astype(float), nato_partner=np.array(
            [gr.nato_partner for gr in groupings], float).reshape(g),
        answers=answers, adversary=adversary, steps=scenario.scenario.steps,
        start=scenario.scenario.start)


def flat_parameters(scenario: Scenario) -> dict[str, float]:
    """Every mechanism, rule and alignment parameter as `section.[name.]param` -> float."""
    params: dict[str, float] = {}
    for name in MECHANISMS:
        for key, value in getattr(scenario.mechanisms, name).model_dump(
                exclude={"source"}).items():
            params[f"mechanisms.{name}.{key}"] = float(value)
    for section in ("dynamics", "alignment"):
        for key, value in getattr(scenario, section).model_dump(exclude={"source"}).items():
            params[f"{section}.{key}"] = float(value)
    return params


def formation_steps(scenario: Scenario) -> np.ndarray:
    """`(g,)` the quarter each grouping comes into being (0 when it exists from the start)."""
    start = scenario.scenario.start
    return np.array([0 if gr.formed is None else step_of(start, gr.formed)
                     for gr in scenario.groupings.values()], int)


def compile_point(scenario: Scenario) -> PointInputs:
    """The numbers of a validated scenario, as one design point."""
    states = list(scenario.states.values())
    return PointInputs(
        attributes={name: np.array([getattr(s, name) for s in states], float)
                    for name in STATE_ATTRIBUTES},
        paths=attribute_paths(scenario),
        affinity=affinity_matrix(scenario),
        exogenous=exogenous_pressures(scenario),
        shocks=compile_shocks(scenario),
        initial_level=np.array([gr.initial_level for gr in scenario.groupings.values()], float),
        formed=formation_steps(scenario),
        params=flat_parameters(scenario),
    )


class _SlowPath(Exception):
    """A path the fast route does not handle (or a value it must let the slow route explain)."""


def _revalidated(model: BaseModel, updates: dict[str, Any]) -> BaseModel:
    """The table `model` with `updates`, validated by its own schema class."""
    try:
        return type(model).model_validate({**model.model_dump(), **updates})
    except ValidationError:
        raise _SlowPath from None


def _schedule_with(schedule: Schedule | None, updates: dict[str, Any]) -> Schedule:
    """A pressure schedule with dotted updates, as `Scenario.with_values` reads them."""
    data = {} if schedule is None else schedule.model_dump(exclude_none=True)
    for leaf, value in updates.items():
        if leaf in ("start", "end") and "value" in data:
            constant = data.pop("value")
            data.setdefault("start", constant)
            data.setdefault("end", constant)
        elif leaf in ("value", "points"):
            for other in ("value", "start", "end", "points"):
                if other != leaf:
                    data.pop(other, None)
        data[leaf] = value
    try:
        return Schedule.model_validate(data)
    except ValidationError:
        raise _SlowPath from None


class CompiledScenario:
    """A validated scenario compiled once; design points are patched onto it cheaply."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.structure = compile_structure(scenario)
        self.base = compile_point(scenario)
        self._state_index = {c: i for i, c in enumerate(self.structure.state_codes)}
        self._grouping_index = {g: j for j, g in enumerate(self.structure.grouping_names)}

    def point(self, values: Mapping[str, object] | None = None) -> PointInputs:
        """The design point with dotted scenario paths set, validated as a scenario file is.

        Raises:
            ScenarioError: if a value is invalid where it is set, or a path changes the structure.

        """
        if not values:
            return self.base
        try:
            return self._patched(values)
        except _SlowPath:
            pass
        scenario = self.scenario.with_values(dict(values))
        if compile_structure(scenario).key() != self.structure.key():
            path = next(iter(values))
            raise ScenarioError(f"with_values({path!r})", path, "a value that keeps the "
                                "scenario's states, groupings and members", "a change of "
                                "structure (not variable within one plan)")
        return compile_point(scenario)

    def _patched(self, values: Mapping[str, object]) -> PointInputs:
        tables: dict[tuple[str, ...], dict[str, Any]] = {}
        for path, value in values.items():
            parts = tuple(path.split("."))
            if len(parts) < 2 or not self._fast(parts):
                raise _SlowPath
            tables.setdefault(parts[:-1], {})[parts[-1]] = value
        base, scenario = self.base, self.scenario
        attributes, params = dict(base.attributes), dict(base.params)
        affinity, exogenous = base.affinity, base.exogenous
        initial_level, formed = base.initial_level, base.formed
        for table, updates in tables.items():
            section = table[0]
            if section == "states":
                if set(updates) & set(base.paths):
                    raise _SlowPath
                state = _revalidated(scenario.states[table[1]], updates)
                i = self._state_index[table[1]]
                for name in updates:
                    attributes[name] = attributes[name].copy()
                    attributes[name][i] = getattr(state, name)
            elif section == "affinities":
                affinity = affinity.copy() if affinity is base.affinity else affinity
                for other, value in updates.items():
                    if isinstance(value, bool) or not isinstance(value, int | float) \
                            or not -1.0 <= value <= 1.0:
                        raise _SlowPath
                    i, j = self._state_index[table[1]], self._state_index[other]
                    affinity[i, j] = affinity[j, i] = float(value)
            elif section == "pressures":
                schedule = _schedule_with(scenario.pressures.get(table[1]), updates)
                exogenous = exogenous.copy() if exogenous is base.exogenous else exogenous
                exogenous[:, PRESSURE_NAMES.index(table[1])] = schedule_values(
                    schedule, self.structure.start, self.structure.steps)
            elif section == "groupings":
                grouping = _revalidated(scenario.groupings[table[1]], updates)
                j = self._grouping_index[table[1]]
                if "initial_level" in updates:
                    initial_level = initial_level.copy()
                    initial_level[j] = grouping.initial_level
                if "formed" in updates:
                    step = 0 if grouping.formed is None else step_of(self.structure.start,
                                                                     grouping.formed)
                    if not 0 <= step < self.structure.steps:
                        raise _SlowPath
                    formed = formed.copy()
                    formed[j] = step
            else:
                prefix = ".".join(table)
                current = (getattr(scenario.mechanisms, table[1]) if section == "mechanisms"
                           else getattr(scenario, section))
                validated = _revalidated(current, updates)
                for key in updates:
                    params[f"{prefix}.{key}"] = float(getattr(validated, key))
        return PointInputs(attributes, base.paths, affinity, exogenous, base.shocks,
                           initial_level, formed, params)

    def _fast(self, parts: tuple[str, ...]) -> bool:
        """Whether the fast route knows the path."""
        section, leaf = parts[0], parts[-1]
        if section == "states":
            return len(parts) == 3 and parts[1] in self._state_index and \
                leaf in STATE_ATTRIBUTES
        if section == "affinities":
            return (len(parts) == 3 and parts[1] in self._state_index
                    and leaf in self._state_index and leaf != parts[1])
        if section == "pressures":
            return len(parts) == 3 and parts[1] in PRESSURE_NAMES and \
                leaf in ("value", "start", "end", "points")
        if section == "groupings":
            return len(parts) == 3 and parts[1] in self._grouping_index and \
                leaf in ("initial_level", "formed")
        if section == "mechanisms":
            return len(parts) == 3 and f"mechanisms.{parts[1]}.{leaf}" in self.base.params
        if section in ("dynamics", "alignment"):
            return len(parts) == 2 and f"{section}.{leaf}" in self.base.params
        return False


def _stacked(values: Sequence[np.ndarray]) -> np.ndarray:
    """Stack per-replication arrays; one shared copy (leading axis 1) when all are the same."""
    first = values[0]
    if all(v is first for v in values):
        return first[None]
    return np.stack(values)


@dataclass(frozen=True)
class BatchInputs:
    """The inputs of a lockstep batch: a leading axis of length r (varies) or 1 (shared).

    Attributes:
        structure: the shared structure.
        attributes: name -> `(r|1, n)`; paths: name -> `(r|1, steps, n)`; affinity
            `(r|1, n, n)`; exogenous `(r|1, steps, k)`.
        felt_offset: `(r|1, steps, n, k)`; attribute_offset `(r|1, steps, n, a)`;
            affinity_offset `(r|1, steps, n, n)` or None.
        initial_level: `(r|1, g)`; formed: `(r|1, g)`.
        params: every flat parameter as an `(r,)` array.

    """

    structure: Structure
    replications: int
    attributes: dict[str, np.ndarray]
    paths: dict[str, np.ndarray]
    affinity: np.ndarray
    exogenous: np.ndarray
    felt_offset: np.ndarray
    attribute_offset: np.ndarray
    affinity_offset: np.ndarray | None
    initial_level: np.ndarray
    formed: np.ndarray
    params: dict[str, np.ndarray]

    @classmethod
    def stack(cls, structure: Structure, points: Sequence[PointInputs]) -> BatchInputs:
        """One batch from the design point of each replication (in replication order)."""
        shocks = [p.shocks for p in points]
        affinity_offsets = [s.affinity_offset for s in shocks]
        if any(a is None for a in affinity_offsets):
            if any(a is not None for a in affinity_offsets):
                zeros = np.zeros((structure.steps, len(structure.state_codes),
                                  len(structure.state_codes)))
                affinity_offsets = [zeros if a is None else a for a in affinity_offsets]
                affinity_offset: np.ndarray | None = _stacked(affinity_offsets)
            else:
                affinity_offset = None
        else:
            affinity_offset = _stacked(affinity_offsets)
        names = points[0].params
        return cls(
            structure=structure, replications=len(points),
            attributes={name: _stacked([p.attributes[name] for p in points])
                        for name in STATE_ATTRIBUTES},
            paths={name: _stacked([p.paths[name] for p in points]) for name in points[0].paths},
            affinity=_stacked([p.affinity for p in points]),
            exogenous=_stacked([p.exogenous for p in points]),
            felt_offset=_stacked([s.felt_offset for s in shocks]),
            attribute_offset=_stacked([s.attribute_offset for s in shocks]),
            affinity_offset=affinity_offset,
            initial_level=_stacked([p.initial_level for p in points]),
            formed=_stacked([p.formed for p in points]),
            params={name: np.array([p.params[name] for p in points]) for name in names},
        )

    def take(self, keep: np.ndarray) -> BatchInputs:
        """The inputs of the replications where `keep` `(r,)` is true (shared arrays stay)."""
        r = self.replications

        def cut(value: object) -> object:
            if isinstance(value, dict):
                return {k: cut(v) for k, v in value.items()}
            if isinstance(value, np.ndarray) and value.ndim and value.shape[0] == r and r > 1:
                return value[keep]
            return value

        kept = {name: cut(getattr(self, name)) for name in self.__dataclass_fields__
                if name not in ("structure", "replications")}
        return BatchInputs(structure=self.structure, replications=int(np.sum(keep)), **kept)

    def mechanism(self, name: str) -> Params:
        """One mechanism's parameters, `(r,)` each, with `enabled` as 0/1."""
        prefix = f"mechanisms.{name}."
        return Params({key[len(prefix):]: value for key, value in self.params.items()
                       if key.startswith(prefix)})

    def rule(self, section: str, name: str) -> np.ndarray:
        """A `[dynamics]` or `[alignment]` parameter, `(r,)`."""
        return self.params[f"{section}.{name}"]

    def attribute_at(self, name: str, t: int) -> np.ndarray:
        """A state attribute in quarter t (its path, shocks included), `(r|1, n)`.

        Clipped to [0, 1] (capability to [0, MAX_CAPABILITY]).
        """
        base = self.paths[name][:, t] if name in self.paths else self.attributes[name]
        if name not in SHOCKABLE_ATTRIBUTES:
            return base
        offset = self.attribute_offset[:, t, :, SHOCKABLE_ATTRIBUTES.index(name)]
        return np.clip(base + offset, 0.0, MAX_CAPABILITY if name == "capability" else 1.0)

    def attribute_series(self, name: str) -> np.ndarray:
        """A state attribute for every quarter, `(r|1, steps, n)`, or `(r|1, 1, n)` if constant."""
        varies = name in self.paths or (name in SHOCKABLE_ATTRIBUTES and bool(
            self.attribute_offset[..., SHOCKABLE_ATTRIBUTES.index(name)].any()))
        if not varies:
            return self.attributes[name][:, None, :]
        return np.stack([self.attribute_at(name, t) for t in range(self.structure.steps)],
                        axis=1)

    def felt_series(self) -> np.ndarray:
        """`(r|1, steps, n, k)` every pressure as each state feels it, every quarter, in [0, 1]."""
        return np.clip(self.exogenous[:, :, None, :] + self.felt_offset, 0.0, 1.0)

    def affinity_series(self) -> np.ndarray:
        """`(r|1, steps|1, n, n)` affinities every quarter (one shared when no shock moves them)."""
        if self.affinity_offset is None:
            return self.affinity[:, None]
        return np.clip(self.affinity[:, None] + self.affinity_offset, -1.0, 1.0)

    def varies_over_time(self, name: str) -> bool:
        """Whether an attribute follows a path or is moved by a shock in some quarter."""
        if name in self.paths:
            return True
        if name not in SHOCKABLE_ATTRIBUTES:
            return False
        return bool(self.attribute_offset[..., SHOCKABLE_ATTRIBUTES.index(name)].any())

    def affinity_at(self, t: int) -> np.ndarray:
        """`(r|1, n, n)` affinities in quarter t, shocks included, clipped to [-1, 1]."""
        if self.affinity_offset is None:
            return self.affinity
        return np.clip(self.affinity + self.affinity_offset[:, t], -1.0, 1.0)

    def felt_at(self, t: int) -> np.ndarray:
        """`(r|1, n, k)` each pressure as each state feels it in quarter t, in [0, 1]."""
        return np.clip(self.exogenous[:, t, None, :] + self.felt_offset[:, t], 0.0, 1.0)

    def active_at(self, t: int) -> np.ndarray:
        """`(r|1, g)` whether each grouping exists in quarter t."""
        return self.formed <= t


def compile_batch(scenario: Scenario, replications: int = 1) -> BatchInputs:
    """A batch of `replications` of one scenario (no design points)."""
    compiled = CompiledScenario(scenario)
    return BatchInputs.stack(compiled.structure, [compiled.base] * replications)
