"""What the contract tests measure on a run: the measures mechanisms name in their `Ablation`.

A measure is a short phrase, `level QUAD` or `commitment IND QUAD`, read off the final quarter
(or, for pressures, the whole run) of a batch of replications, averaged over replications.
"""

from __future__ import annotations

import numpy as np

from blocsim.model import AllianceModel, compile_batch
from blocsim.model.record import Trajectory
from blocsim.scenario.schema import Scenario
from blocsim.vocabulary import PRESSURE_NAMES


def run_batch(scenario: Scenario, replications: int, seed: int = 11) -> Trajectory:
    """One lockstep batch of the scenario (the same streams for every call with the same seed)."""
    streams = np.random.SeedSequence(seed).spawn(replications)
    return AllianceModel(compile_batch(scenario, replications), rng=list(streams)).run()


def measure(phrase: str, scenario: Scenario, trajectory: Trajectory) -> float:
    """The value of a measure phrase on a trajectory."""
    kind, *names = phrase.split()
    codes, groupings = scenario.state_codes, scenario.grouping_names
    if kind == "level":
        return float(trajectory.level[:, -1, groupings.index(names[0])].mean())
    if kind == "commitment":
        i, j = codes.index(names[0]), groupings.index(names[1])
        return float(trajectory.commitment[:, -1, i, j].mean())
    if kind == "spread":
        j = groupings.index(names[0])
        members = [codes.index(c) for c in scenario.groupings[names[0]].members]
        return float(trajectory.commitment[:, -1, members, j].std(axis=1).mean())
    if kind == "tie":
        return float(trajectory.nato_tie[:, -1, groupings.index(names[0])].mean())
    if kind == "pressure":
        return float(trajectory.pressure[:, :, PRESSURE_NAMES.index(names[0])].max(axis=1).mean())
    if kind == "alignment_distance":
        asean = [codes.index(c) for c, s in scenario.states.items() if s.asean]
        return float(np.abs(trajectory.alignment[:, -1, asean]).mean())
    if kind == "suspended":
        return float(trajectory.suspended[:, :, groupings.index(names[0])].mean())
    raise ValueError(f"unknown measure {phrase!r}")
