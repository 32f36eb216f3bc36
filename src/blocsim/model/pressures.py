"""Pressure schedules and decaying shocks, compiled to arrays once per scenario.

A pressure not named in a scenario stays at its neutral default for the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from blocsim.calendar import step_of
from blocsim.scenario.schema import Scenario, Schedule, Shock
from blocsim.vocabulary import PRESSURE_NAMES

NEUTRAL_PRESSURE = 0.5
SHOCKABLE_ATTRIBUTES: tuple[str, ...] = (
    "threat_china", "threat_dprk", "threat_russia", "autonomy", "china_trade_dependence",
    "us_alliance",
)


def schedule_values(schedule: Schedule, start: str, steps: int) -> np.ndarray:
    """Values of one schedule for each quarter of the run, `(steps,)`, in [0, 1]."""
    if schedule.value is not None:
        return np.full(steps, schedule.value)
    if schedule.points is not None:
        pairs = sorted((step_of(start, at), value) for at, value in schedule.points)
        xs, ys = zip(*pairs, strict=True)
        return np.interp(np.arange(steps), xs, ys)
    if steps == 1:
        return np.array([schedule.start])
    return np.linspace(schedule.start, schedule.end, steps)


def shock_profile(shock: Shock, start: str, steps: int) -> np.ndarray:
    """A shock's added value for each quarter, `(steps,)`: full at `at`, fading linearly to zero."""
    at = step_of(start, shock.at)
    elapsed = np.arange(steps) - at
    fade = 1.0 - elapsed / (shock.decay_quarters + 1)
    return np.where(elapsed >= 0, shock.magnitude * np.clip(fade, 0.0, 1.0), 0.0)


@dataclass(frozen=True)
class PressureField:
    """Every pressure and attribute shock of a run.

    Attributes:
        exogenous: `(steps, k)` schedule value of each pressure (column order PRESSURE_NAMES).
        felt_offset: `(steps, n, k)` shock offsets on the pressures as each state feels them.
        attribute_offset: `(steps, n, a)` shock offsets on state attributes (SHOCKABLE_ATTRIBUTES).

    """

    exogenous: np.ndarray
    felt_offset: np.ndarray
    attribute_offset: np.ndarray


def compile_pressures(scenario: Scenario) -> PressureField:
    """Compile a scenario's schedules and shocks into a PressureField."""
    meta = scenario.scenario
    codes = scenario.state_codes
    steps, n = meta.steps, len(codes)
    exogenous = np.full((steps, len(PRESSURE_NAMES)), NEUTRAL_PRESSURE)
    for name, schedule in scenario.pressures.items():
        exogenous[:, PRESSURE_NAMES.index(name)] = schedule_values(schedule, meta.start, steps)
    felt = np.zeros((steps, n, len(PRESSURE_NAMES)))
    attributes = np.zeros((steps, n, len(SHOCKABLE_ATTRIBUTES)))
    for shock in scenario.shocks:
        profile = shock_profile(shock, meta.start, steps)
        targets = np.ones(n, bool) if shock.targets == "all" else np.isin(codes, shock.targets)
        if shock.pressure is not None:
            felt[:, targets, PRESSURE_NAMES.index(shock.pressure)] += profile[:, None]
        else:
            attributes[:, targets, SHOCKABLE_ATTRIBUTES.index(shock.attribute)] += profile[:, None]
    return PressureField(exogenous, felt, attributes)
