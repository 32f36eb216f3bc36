"""The record's facts as predicates on replications: which runs of a batch reproduce each fact."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from blocsim.analysis.calibration.spec import Condition, Fact
from blocsim.calendar import quarter_offset
from blocsim.experiment.kernel import RunBatch
from blocsim.experiment.plan import Task
from blocsim.model.outcomes import linked_groupings


def _step(batch: RunBatch, quarter: str) -> int:
    return quarter_offset(batch.structure.start, quarter)


def _columns(batch: RunBatch, grouping: str) -> list[int]:
    names = list(batch.structure.grouping_names)
    return list(range(len(names))) if grouping == "any" else [names.index(grouping)]


def condition_holds(condition: Condition, batch: RunBatch) -> np.ndarray:
    """`(r,)` whether the condition holds in each replication of the batch."""
    trajectory, outcomes = batch.trajectory, batch.outcomes
    kind = condition.kind
    columns = _columns(batch, condition.grouping)
    j = columns[0]
    if kind in ("mean_level", "level"):
        if kind == "level":
            value = trajectory.level[:, _step(batch, condition.at), j]
        else:
            span = slice(_step(batch, condition.from_), _step(batch, condition.to) + 1)
            value = trajectory.level[:, span, j].mean(axis=1)
        holds = np.ones(len(value), bool)
        if condition.below is not None:
            holds &= value < condition.below
        if condition.at_least is not None:
            holds &= value >= condition.at_least
        return holds
    if kind == "level_rise":
        level = trajectory.level[:, :, j]
        return (level[:, _step(batch, condition.to)] - level[:, _step(batch, condition.from_)]
                >= condition.at_least)
    if kind == "tie_rising":
        tie = trajectory.nato_tie[:, :, j]
        return tie[:, _step(batch, condition.to)] > tie[:, _step(batch, condition.from_)]
    if kind == "consolidated":
        at = outcomes.consolidated_at[:, columns]
        happened = ((at >= 0) & (at <= _step(batch, condition.by))).any(axis=1)
        return happened == condition.is_
    codes = list(batch.structure.state_codes)
    if kind == "exited":
        exits = trajectory.member_exited_at[:, :, j]
        rows = list(range(len(codes))) if condition.state == "any" else [
            codes.index(condition.state)]
        first = _step(batch, condition.from_) if condition.from_ is not None else 0
        left = exits[:, rows]
        happened = ((left >= first) & (left <= _step(batch, condition.by))).any(axis=1)
        return happened == condition.is_
    if kind == "first_to_exit":
        return ((trajectory.exiter[:, j] == codes.index(condition.state))
                & (trajectory.exited_at[:, j] >= 0)
                & (trajectory.exited_at[:, j] <= _step(batch, condition.by)))
    if kind == "linked":
        step = _step(batch, condition.by)
        linked = linked_groupings(trajectory.level[:, step], trajectory.nato_tie[:, step],
                                  batch.structure.core,
                                  batch.inputs.rule("dynamics", "link_level"),
                                  batch.inputs.rule("dynamics", "link_nato_tie"))
        return linked[:, columns].any(axis=1) == condition.is_
    raise ValueError(f"unknown condition kind {kind!r}")


def fact_holds(fact: Fact, batch: RunBatch) -> np.ndarray:
    """`(r,)` whether every condition of the fact holds in each replication."""
    holds = np.ones(len(batch.point), bool)
    for condition in fact.conditions:
        holds &= condition_holds(condition, batch)
    return holds


@dataclass(frozen=True)
class FactCollector:
    """Collects, per run, which facts hold: `(point, replication, fact...)` boolean rows."""

    facts: tuple[Fact, ...]

    def collect(self, batches: list[RunBatch], task: Task) -> dict[str, np.ndarray]:
        """point, replication and one boolean column per fact id, over the task's runs."""
        if not batches:
            return {"point": np.zeros(0, int), "replication": np.zeros(0, int),
                    **{f.id: np.zeros(0, bool) for f in self.facts}}
        return {"point": np.concatenate([b.point for b in batches]),
                "replication": np.concatenate([b.replication for b in batches]),
                **{f.id: np.concatenate([fact_holds(f, b) for b in batches])
                   for f in self.facts}}
