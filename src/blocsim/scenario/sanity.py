"""Valid but meaningless: inputs the schema accepts that cannot mean what their author intended.

Each check returns plain sentences naming the key path; `Scenario.warnings` and `Sweep.warnings`
give them to the API, and `blocsim validate`, `run` and `sweep` print them. None stops a run.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from blocsim.calendar import quarter_label, step_of

if TYPE_CHECKING:
    from blocsim.scenario.schema import Scenario

SWEEP_INERT_PATHS = {
    "scenario.seed": "a sweep draws every replication from its own `seed`, not the scenario's",
    "scenario.replications": "a sweep runs its own `replications` per point, not the scenario's",
}
"""Scenario values a sweep axis may name but that never reach the sweep's runs."""


def pole_warnings(scenario: Scenario) -> list[str]:
    """The US, China and Russia poles should be three different states."""
    poles = scenario.poles
    by_state: dict[str, list[str]] = defaultdict(list)
    for role in ("us", "china", "russia"):
        by_state[getattr(poles, role)].append(f"poles.{role}")
    return [f"{' and '.join(roles)} are the same state ({code}): the US, China and Russia poles "
            f"should be three different states, or the counter-moves and alignments lose meaning"
            for code, roles in by_state.items() if len(roles) > 1]


def schedule_warnings(scenario: Scenario) -> list[str]:
    """A piecewise schedule with two values for one quarter is ambiguous."""
    found = []
    start = scenario.scenario.start
    for name, schedule in scenario.pressures.items():
        values: dict[int, set[float]] = defaultdict(set)
        for at, value in schedule.points or []:
            values[step_of(start, at)].add(float(value))
        for step, seen in sorted(values.items()):
            if len(seen) > 1:
                listed = ", ".join(f"{v:g}" for v in sorted(seen))
                found.append(f"pressures.{name}.points gives {len(seen)} values for "
                             f"{quarter_label(start, step)} ({listed}): only one can hold in a "
                             f"quarter; give one value per quarter")
    return found


def shock_warnings(scenario: Scenario) -> list[str]:
    """A shock that moves nothing: no targets, or no magnitude."""
    found = []
    for index, shock in enumerate(scenario.shocks):
        if shock.targets == []:
            found.append(f"shocks[{index}] ({shock.name}) has no targets: it moves nothing (omit "
                         f"`targets` for every state)")
        elif shock.magnitude == 0:
            found.append(f"shocks[{index}] ({shock.name}) has magnitude 0: it moves nothing")
    return found


def consolidation_warnings(scenario: Scenario) -> list[str]:
    """Consolidation needs more quarters than the run has."""
    needed = scenario.dynamics.consolidation_quarters
    steps = scenario.scenario.steps
    if needed <= steps:
        return []
    return [f"dynamics.consolidation_quarters ({needed}) is longer than the run (scenario.steps "
            f"= {steps}): no grouping can consolidate"]


def scenario_warnings(scenario: Scenario) -> list[str]:
    """Every warning of a validated scenario, in file order of the tables."""
    return [*pole_warnings(scenario), *schedule_warnings(scenario), *shock_warnings(scenario),
            *consolidation_warnings(scenario)]


def axis_warnings(base: Scenario, paths: list[str]) -> list[str]:
    """Sweep axes that cannot change any result."""
    found = []
    for index, path in enumerate(paths):
        if path in SWEEP_INERT_PATHS:
            found.append(f"axes[{index}] varies {path}, which cannot act: "
                         f"{SWEEP_INERT_PATHS[path]}")
        parts = path.split(".")
        if len(parts) == 3 and parts[0] == "mechanisms" and parts[2] != "enabled":
            mechanism = getattr(base.mechanisms, parts[1], None)
            switch = f"mechanisms.{parts[1]}.enabled"
            if mechanism is not None and not mechanism.enabled and switch not in paths:
                found.append(f"axes[{index}] varies {path}, but mechanisms.{parts[1]} is switched "
                             f"off in the base scenario: the axis cannot act")
    return found
