"""Outcomes of a batch of replications, read off its trajectory, all replications at once.

Consolidation into a formal bloc is an event: the level at or above `consolidation_level` with every
core member committed at or above `consolidation_commitment`, held for `consolidation_quarters`
quarters in a row. The blocker of a grouping that did not consolidate is the core member with the
lowest mean commitment over the quarters in which the weakest-link rule held the level down (over
the whole run if it never did); its utility terms over the same quarters say why it held back.
A member that left the grouping committed nothing while out, so it is usually the blocker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from blocsim.mechanisms.base import ordered_sum
from blocsim.model.dynamics import first_streak_end, weakest_core_commitment
from blocsim.model.inputs import BatchInputs
from blocsim.model.record import Trajectory


@dataclass(frozen=True)
class Outcomes:
    """Every grouping's fate in every replication of a batch, each `(r, g)`.

    Attributes:
        consolidated, consolidated_at: whether and when (step, -1 if never) it consolidated.
        final_level, peak_level: level at the end and the highest it reached.
        blocker: index of the state that held it back (-1 where it consolidated).
        blocker_terms: term -> the blocker's mean utility term (logit units) over the quarters
            it held the grouping back (NaN where there is no blocker).
        final_nato_tie: NATO's tie at the end.
        in_linked_bloc: whether it ends part of a linked bloc (the "Asian NATO" path).
        exiter, exited_at, relaunched_at: the first member to leave (-1 if none), when, and
            when the grouping was relaunched (-1 if never).
        suspended_quarters: quarters it spent with a member out.

    """

    consolidated: np.ndarray
    consolidated_at: np.ndarray
    final_level: np.ndarray
    peak_level: np.ndarray
    blocker: np.ndarray
    blocker_terms: dict[str, np.ndarray]
    final_nato_tie: np.ndarray
    in_linked_bloc: np.ndarray
    exiter: np.ndarray
    exited_at: np.ndarray
    relaunched_at: np.ndarray
    suspended_quarters: np.ndarray


def blockers(commitment: np.ndarray, core: np.ndarray, binds: np.ndarray) -> np.ndarray:
    """`(r, g)` core member with the lowest mean commitment while the weakest link bound.

    Over the whole run where it never bound. `commitment` `(r, steps, n, g)`, `core` `(n, g)`,
    `binds` `(r, steps, g)`.
    """
    quarters = np.where(binds.any(axis=1, keepdims=True), binds, True).astype(float)
    total = ordered_sum(commitment * quarters[:, :, None, :], axis=1)
    mean = total / np.maximum(quarters.sum(axis=1), 1.0)[:, None, :]
    return np.where(core[None], mean, np.inf).argmin(axis=1)


def linked_groupings(final_level: np.ndarray, nato_tie: np.ndarray, core: np.ndarray,
                     link_level: np.ndarray, link_tie: np.ndarray) -> np.ndarray:
    """`(r, g)` groupings that are part of a linked bloc (the "Asian NATO" path).

    Groupings at or above `link_level` `(r,)` that share a core member form components; a
    component of two or more with a NATO tie of at least `link_tie` `(r,)` somewhere is a bloc.
    """
    strong = final_level >= link_level[:, None]
    shares = (core.T.astype(int) @ core.astype(int)) > 0
    adjacency = shares[None] & strong[:, :, None] & strong[:, None, :]
    g = final_level.shape[1]
    label = np.broadcast_to(np.arange(g), final_level.shape).copy()
    for _ in range(g):
        neighbours = np.where(adjacency, label[:, None, :], g)
        label = np.minimum(label, neighbours.min(axis=2))
    same = (label[:, :, None] == label[:, None, :]) & strong[:, :, None] & strong[:, None, :]
    size = same.sum(axis=2)
    best_tie = np.where(same, nato_tie[:, None, :], -np.inf).max(axis=2)
    return strong & (size >= 2) & (best_tie >= link_tie[:, None])


def batch_outcomes(trajectory: Trajectory, inputs: BatchInputs) -> Outcomes:
    """The outcomes of every grouping in every replication of a batch."""
    structure = inputs.structure
    core = structure.core

    def rule(name: str) -> np.ndarray:
        return inputs.rule("dynamics", name)

    level, commitment = trajectory.level, trajectory.commitment
    weakest = weakest_core_commitment(commitment, core[None, None])
    consolidating = ((level >= rule("consolidation_level")[:, None, None])
                     & (weakest >= rule("consolidation_commitment")[:, None, None]))
    at = first_streak_end(consolidating, rule("consolidation_quarters"))
    consolidated = at >= 0
    blocker = np.where(consolidated, -1, blockers(commitment, core, trajectory.weakest_binds))
    binding = trajectory.quarters_binding > 0
    count = np.where(binding, trajectory.quarters_binding, trajectory.quarters_all)
    terms = {}
    safe_blocker = np.maximum(blocker, 0)[:, None, :]
    for name in trajectory.terms_all:
        total = np.where(binding[:, None, :], trajectory.terms_binding[name],
                         trajectory.terms_all[name])
        at_blocker = np.take_along_axis(total, safe_blocker, axis=1)[:, 0, :]
        terms[name] = np.where(blocker >= 0, at_blocker / np.maximum(count, 1.0), np.nan)
    final_level = level[:, -1]
    return Outcomes(
        consolidated=consolidated, consolidated_at=at, final_level=final_level,
        peak_level=level.max(axis=1), blocker=blocker, blocker_terms=terms,
        final_nato_tie=trajectory.nato_tie[:, -1],
        in_linked_bloc=linked_groupings(final_level, trajectory.nato_tie[:, -1], core,
                                        rule("link_level"), rule("link_nato_tie")),
        exiter=trajectory.exiter, exited_at=trajectory.exited_at,
        relaunched_at=trajectory.relaunched_at,
        suspended_quarters=trajectory.suspended.sum(axis=1))
