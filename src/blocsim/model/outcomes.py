"""Outcomes of one replication, read off its trajectory: consolidation, peaks, blockers, links.

Consolidation into a formal bloc is an event: the level at or above `consolidation_level` with every
core member committed at or above `consolidation_commitment`, held for `consolidation_quarters`
quarters in a row. The blocker of a grouping that did not consolidate is the core member with the
lowest mean commitment over the quarters in which the weakest-link rule held the level down (over
the whole run if it never did).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from blocsim.model.dynamics import weakest_core_commitment
from blocsim.model.inputs import ModelInputs
from blocsim.model.model import Trajectory
from blocsim.vocabulary import stage_name

LINK_LEVEL = 3.0
LINK_NATO_TIE = 0.25


@dataclass(frozen=True)
class GroupingOutcome:
    """One grouping's fate in one replication (`consolidated_at` is a step index or -1)."""

    grouping: str
    consolidated: bool
    consolidated_at: int
    final_level: float
    peak_level: float
    final_stage: str
    blocker: str
    final_nato_tie: float
    in_linked_bloc: bool


def first_streak_end(condition: np.ndarray, length: int) -> int:
    """Index at which `condition` has first been true `length` times in a row, or -1."""
    run = 0
    for t, holds in enumerate(condition):
        run = run + 1 if holds else 0
        if run >= length:
            return t
    return -1


def blocker_of(commitment: np.ndarray, core_column: np.ndarray, binds: np.ndarray,
               codes: list[str]) -> str:
    """Core member with the lowest mean commitment while the weakest link bound (else overall)."""
    quarters = binds if binds.any() else np.ones_like(binds)
    mean = commitment[quarters].mean(axis=0)
    members = np.flatnonzero(core_column)
    return codes[members[np.argmin(mean[members])]]


def linked_groupings(final_level: np.ndarray, nato_tie: np.ndarray, core: np.ndarray) -> np.ndarray:
    """`(g,)` groupings that are part of a linked bloc (the "Asian NATO" path).

    Institutionalized groupings (level >= 3) sharing a core member form components; a component of
    two or more with a NATO tie of at least 0.25 somewhere is a linked bloc.
    """
    strong = final_level >= LINK_LEVEL
    shares = (core.T.astype(int) @ core.astype(int)) > 0
    adjacency = shares & strong[:, None] & strong[None, :]
    component = np.arange(len(final_level))
    for _ in range(len(final_level)):
        component = np.array([component[adjacency[j]].min() if strong[j] else j
                              for j in range(len(final_level))])
    linked = np.zeros(len(final_level), bool)
    for label in np.unique(component[strong]):
        members = component == label
        if members.sum() >= 2 and nato_tie[members].max() >= LINK_NATO_TIE:
            linked |= members
    return linked


def replication_outcomes(trajectory: Trajectory, inputs: ModelInputs,
                         index: int = 0) -> list[GroupingOutcome]:
    """Outcomes of every grouping in replication `index` of a trajectory."""
    rules = inputs.scenario.dynamics
    codes = inputs.scenario.state_codes
    level, commitment = trajectory.level[index], trajectory.commitment[index]
    nato_tie, binds = trajectory.nato_tie[index], trajectory.weakest_binds[index]
    weakest = weakest_core_commitment(commitment, inputs.core)
    consolidating = ((level >= rules.consolidation_level)
                     & (weakest >= rules.consolidation_commitment))
    final_level = level[-1]
    linked = linked_groupings(final_level, nato_tie[-1], inputs.core)
    outcomes = []
    for j, name in enumerate(inputs.scenario.groupings):
        at = first_streak_end(consolidating[:, j], rules.consolidation_quarters)
        blocker = "" if at >= 0 else blocker_of(commitment[:, :, j], inputs.core[:, j],
                                                binds[:, j], codes)
        outcomes.append(GroupingOutcome(
            grouping=name, consolidated=at >= 0, consolidated_at=at,
            final_level=float(final_level[j]), peak_level=float(level[:, j].max()),
            final_stage=stage_name(final_level[j]), blocker=blocker,
            final_nato_tie=float(nato_tie[-1, j]), in_linked_bloc=bool(linked[j]),
        ))
    return outcomes
