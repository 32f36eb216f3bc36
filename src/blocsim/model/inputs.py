"""A scenario compiled to the arrays the dynamics need, built once and shared by replications."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from blocsim.calendar import step_of
from blocsim.model.pressures import SHOCKABLE_ATTRIBUTES, PressureField, compile_pressures
from blocsim.scenario.schema import Mechanisms, Scenario

STATE_ATTRIBUTES: tuple[str, ...] = (
    "capability", "threat_china", "threat_dprk", "threat_russia", "autonomy", "hedging",
    "china_trade_dependence", "russia_defense_dependence", "us_alliance", "domestic_constraint",
)


@dataclass(frozen=True)
class ModelInputs:
    """Arrays indexed like `scenario.state_codes` (n) and `scenario.grouping_names` (g).

    Attributes:
        attributes: name -> `(n,)` baseline state attribute.
        affinity: `(n, n)` symmetric, zero diagonal, in [-1, 1].
        core: `(n, g)` core members; `involved`: core members and observers.
        us, china: indices of the US and China.
        asean: `(n,)` ASEAN members (the hedgers whose stance is the legitimacy test).
        europe: `(n,)` European states (whose forces NATO lends; their bandwidth caps it).
        us_led: `(g,)` groupings the US belongs to (what China counters).
        nato_partner: `(g,)` groupings NATO's outreach is aimed at.
        initial_level: `(g,)`.
        nato_capability: capability NATO lends a partner grouping (sum over European states).
        active: `(steps, g)` whether each grouping exists that quarter (see Grouping.formed).
        attribute_path: name -> `(steps, n)` shockable attribute per quarter, shocks included.
        felt: `(steps, n, k)` exogenous pressures as each state feels them, shocks included.

    """

    scenario: Scenario
    attributes: dict[str, np.ndarray]
    affinity: np.ndarray
    core: np.ndarray
    involved: np.ndarray
    us: int
    china: int
    asean: np.ndarray
    europe: np.ndarray
    us_led: np.ndarray
    nato_partner: np.ndarray
    initial_level: np.ndarray
    nato_capability: float
    pressures: PressureField
    active: np.ndarray
    attribute_path: dict[str, np.ndarray]
    felt: np.ndarray

    @property
    def mechanisms(self) -> Mechanisms:
        """The scenario's mechanism switches and weights."""
        return self.scenario.mechanisms


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


def compile_inputs(scenario: Scenario) -> ModelInputs:
    """Compile a validated scenario into ModelInputs."""
    codes = scenario.state_codes
    groupings = list(scenario.groupings.values())
    states = list(scenario.states.values())
    attributes = {name: np.array([getattr(s, name) for s in states], float)
                  for name in STATE_ATTRIBUTES}
    core = np.array([[code in g.members for g in groupings] for code in codes], bool)
    observers = np.array([[code in g.observers for g in groupings] for code in codes], bool)
    us = codes.index(scenario.poles.us)
    europe = np.array([s.region == "europe" for s in states])
    field = compile_pressures(scenario)
    attribute_path = {
        name: np.clip(attributes[name][None, :] + field.attribute_offset[:, :, a], 0.0, 1.0)
        for a, name in enumerate(SHOCKABLE_ATTRIBUTES)}
    felt = np.clip(field.exogenous[:, None, :] + field.felt_offset, 0.0, 1.0)
    steps, start = scenario.scenario.steps, scenario.scenario.start
    formed = np.array([0 if g.formed is None else step_of(start, g.formed) for g in groupings],
                      dtype=int)
    active = np.arange(steps)[:, None] >= formed[None, :]
    return ModelInputs(
        scenario=scenario,
        attributes=attributes,
        affinity=affinity_matrix(scenario),
        core=core.reshape(len(codes), len(groupings)),
        involved=(core | observers).reshape(len(codes), len(groupings)),
        us=us,
        china=codes.index(scenario.poles.china),
        asean=np.array([s.asean for s in states]),
        europe=europe,
        us_led=core[us].astype(float) if groupings else np.zeros(0),
        nato_partner=np.array([g.nato_partner for g in groupings], float),
        initial_level=np.array([g.initial_level for g in groupings], float),
        nato_capability=float(attributes["capability"][europe].sum()),
        pressures=field,
        active=active.reshape(steps, len(groupings)),
        attribute_path=attribute_path,
        felt=felt,
    )
