"""Pressure schedules and decaying shocks, compiled to arrays once per scenario.

A pressure not named in a scenario stays at its neutral default for the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from blocsim.calendar import step_of
from blocsim.scenario.schema import SHOCKABLE_ATTRIBUTES, Scenario, Schedule, Shock
from blocsim.vocabulary import PRESSURE_NAMES

NEUTRAL_PRESSURE = 0.5
__all__ = ["SHOCKABLE_ATTRIBUTES", "attribute_paths", "compile_shocks", "exogenous_pressures",
           "schedule_values", "shock_profile"]


def dated_values(points: list, start: str, steps: int) -> np.ndarray:
    """A piecewise-linear series of `[quarter, value]` points, flat beyond its ends, `(steps,)`."""
    pairs = sorted((step_of(start, at), value) for at, value in points)
    xs, ys = zip(*pairs, strict=True)
    return np.interp(np.arange(steps), xs, ys)


def schedule_values(schedule: Schedule, start: str, steps: int) -> np.ndarray:
    """Values of one schedule for each quarter of the run, `(steps,)`, in [0, 1]."""
    if schedule.value is not None:
        return np.full(steps, schedule.value, dtype=float)
    if schedule.points is not None:
        return dated_values(schedule.points, start, steps)
    if steps == 1:
        return np.array([schedule.start], dtype=float)
    return np.linspace(schedule.start, schedule.end, steps)


def shock_profile(shock: Shock, start: str, steps: int) -> np.ndarray:
    """A shock's added value for each quarter, `(steps,)`: full at `at`, fading linearly to zero."""
    at = step_of(start, shock.at)
    elapsed = np.arange(steps) - at
    fade = 1.0 - elapsed / (shock.decay_quarters + 1)
    return np.where(elapsed >= 0, shock.magnitude * np.clip(fade, 0.0, 1.0), 0.0)


@dataclass(frozen=True)
class ShockField:
    """Every shock of a run, as offsets added to what it moves.

    Attributes:
        felt_offset: `(steps, n, k)` offsets on the pressures as each state feels them.
        attribute_offset: `(steps, n, a)` offsets on state attributes (SHOCKABLE_ATTRIBUTES).
        affinity_offset: `(steps, n, n)` offsets on affinities, or None without affinity shocks.

    """

    felt_offset: np.ndarray
    attribute_offset: np.ndarray
    affinity_offset: np.ndarray | None


def exogenous_pressures(scenario: Scenario) -> np.ndarray:
    """`(steps, k)` schedule value of each pressure (column order PRESSURE_NAMES)."""
    meta = scenario.scenario
    exogenous = np.full((meta.steps, len(PRESSURE_NAMES)), NEUTRAL_PRESSURE)
    for name, schedule in scenario.pressures.items():
        exogenous[:, PRESSURE_NAMES.index(name)] = schedule_values(schedule, meta.start,
                                                                  meta.steps)
    return exogenous


def compile_shocks(scenario: Scenario) -> ShockField:
    """Compile a scenario's shocks into offsets."""
    meta = scenario.scenario
    codes = scenario.state_codes
    steps, n = meta.steps, len(codes)
    felt = np.zeros((steps, n, len(PRESSURE_NAMES)))
    attributes = np.zeros((steps, n, len(SHOCKABLE_ATTRIBUTES)))
    affinity = None
    for shock in scenario.shocks:
        profile = shock_profile(shock, meta.start, steps)
        targets = np.ones(n, bool) if shock.targets == "all" else np.isin(codes, shock.targets)
        if shock.pressure is not None:
            felt[:, targets, PRESSURE_NAMES.index(shock.pressure)] += profile[:, None]
        elif shock.attribute == "affinity":
            if affinity is None:
                affinity = np.zeros((steps, n, n))
            i, j = (codes.index(code) for code in shock.targets)
            affinity[:, i, j] += profile
            affinity[:, j, i] += profile
        else:
            attributes[:, targets, SHOCKABLE_ATTRIBUTES.index(shock.attribute)] += \
                profile[:, None]
    return ShockField(felt, attributes, affinity)


def attribute_paths(scenario: Scenario) -> dict[str, np.ndarray]:
    """Attributes some state follows on a dated path: name -> `(steps, n)` value per quarter.

    States without a path for that attribute hold their constant.
    """
    meta = scenario.scenario
    states = list(scenario.states.values())
    paths: dict[str, np.ndarray] = {}
    for name in SHOCKABLE_ATTRIBUTES:
        if not any(name in s.paths for s in states):
            continue
        paths[name] = np.stack([dated_values(s.paths[name], meta.start, meta.steps)
                                if name in s.paths else np.full(meta.steps, getattr(s, name))
                                for s in states], axis=1)
    return paths
