"""The one kernel every workload runs: a task's replications, in lockstep batches of mixed points.

A task's (point, replication) runs are flattened in order and advanced BATCH at a time by one
AllianceModel, whatever points they come from: each replication carries its point's parameters
(`BatchInputs`) and its own random stream (`plan.replication_stream`). A design point whose values
are invalid together is recorded as failed (its coordinates, stream key and message) and its runs
are skipped; a replication that ends with a non-finite value is recorded with its seed and left out
of the results, never silently dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from blocsim.errors import BlocsimError
from blocsim.experiment.arithmetic import arithmetic
from blocsim.experiment.plan import Plan, Task, _plain, replication_stream
from blocsim.experiment.posterior import DRAW_BLOCK, Posterior
from blocsim.model.camps import camp_structure
from blocsim.model.inputs import BatchInputs, CompiledScenario, PointInputs, Structure
from blocsim.model.model import AllianceModel
from blocsim.model.outcomes import Outcomes, batch_outcomes
from blocsim.model.record import Trajectory

BATCH = 64
"""Replications advanced in lockstep by one model: large enough to amortize numpy's per-call
overhead, small enough to keep a batch's arrays in cache."""


@dataclass
class RunBatch:
    """What one lockstep batch produced (leading axis: its replications, in task order).

    Attributes:
        point, replication: `(r,)` which run each row is.
        inputs: the batch's inputs (per-replication parameters included).
        trajectory: the recorded quarters and events.
        outcomes: every grouping's fate.

    """

    point: np.ndarray
    replication: np.ndarray
    inputs: BatchInputs
    trajectory: Trajectory
    outcomes: Outcomes
    _with_us: np.ndarray | None = None

    @property
    def structure(self) -> Structure:
        """The scenario's shared structure."""
        return self.inputs.structure

    @property
    def with_us(self) -> np.ndarray:
        """`(r, n)` whether each state ends in the US's camp (landscape theory), on demand."""
        if self._with_us is None:
            structure, inputs = self.structure, self.inputs
            last = structure.steps - 1
            capability = inputs.attribute_at("capability", last)
            affinity = inputs.affinity_at(last)
            self._with_us = np.array([
                camp_structure(capability[min(i, len(capability) - 1)],
                               affinity[min(i, len(affinity) - 1)],
                               self.trajectory.alignment[i, -1], structure.hub)
                for i in range(len(self.point))]).reshape(len(self.point), -1)
        return self._with_us


class Collector(Protocol):
    """Turns a task's batches into what the plan keeps (tables, counts, facts...)."""

    def collect(self, batches: list[RunBatch], task: Task) -> object:
        """The task's contribution (picklable; sent back to the caller)."""
        ...


@dataclass
class TaskResult:
    """A finished task: what its collector kept, its failures, its seconds of work."""

    task_id: int
    runs: int
    collected: object
    failures: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    arithmetic: str = ""
    """How the process that ran it rounds (`experiment.arithmetic`)."""


@dataclass(frozen=True)
class KernelContext:
    """What every worker needs once: the compiled scenario, the plan's points and seed."""

    compiled: CompiledScenario
    columns: dict[str, np.ndarray]
    stream_keys: np.ndarray
    seed: int
    collector: Collector
    posterior: Posterior | None = None
    draw_block: int = DRAW_BLOCK

    @classmethod
    def of(cls, plan: Plan, collector: Collector) -> KernelContext:
        """The context of a plan."""
        columns = {path: plan.points[path].to_numpy() for path in plan.points.columns}
        return cls(CompiledScenario(plan.scenario), columns, np.asarray(plan.stream_keys),
                   plan.seed, collector, plan.posterior, plan.draw_block)

    def values(self, point: int, task: Task | None = None) -> dict[str, object]:
        """The dotted scenario paths point `point` sets (carried by the task, or the plan's)."""
        if task is not None and task.values:
            return dict(dict(task.values)[point])
        return {path: _plain(column[point]) for path, column in self.columns.items()
                if not _missing(column[point])}

    def draw_of(self, point: int, replication: int, task: Task | None = None) -> tuple[int, int]:
        """(point, particle drawn) for a run: the particle is -1 without a posterior."""
        if self.posterior is None:
            return point, -1
        block = replication // self.draw_block
        return point, self.posterior.index(self.seed, self.stream_key(point, task), block)

    def run_values(self, point: int, particle: int, task: Task | None = None
                   ) -> dict[str, object]:
        """The values a run sets: its posterior particle's, overridden by its point's own."""
        values = self.values(point, task)
        if particle >= 0 and self.posterior is not None:
            values = {**self.posterior.particle(particle), **values}
        return values

    def stream_key(self, point: int, task: Task | None = None) -> int:
        """The stream key of point `point` (carried by the task, or the plan's)."""
        if task is not None and task.stream_keys:
            return dict(task.stream_keys)[point]
        return int(self.stream_keys[point])


def _missing(value: object) -> bool:
    """Whether a points-table cell is empty (a point that does not set that path)."""
    return value is None or (isinstance(value, float | np.floating) and np.isnan(value))


def simulate_runs(compiled: CompiledScenario, points: list[PointInputs], point_ids: np.ndarray,
                  replications: np.ndarray, streams: list[np.random.SeedSequence]) -> RunBatch:
    """Run one lockstep batch: replication i at `points[i]` with stream `streams[i]`."""
    inputs = BatchInputs.stack(compiled.structure, points)
    trajectory = AllianceModel(inputs, rng=streams).run()
    return RunBatch(point_ids, replications, inputs, trajectory,
                    batch_outcomes(trajectory, inputs))


def _finite(batch: RunBatch) -> np.ndarray:
    """`(r,)` whether every recorded value of each replication is finite."""
    trajectory = batch.trajectory
    checks = [trajectory.level, trajectory.commitment, trajectory.alignment, trajectory.nato_tie]
    return np.all([np.isfinite(c).reshape(c.shape[0], -1).all(axis=1) for c in checks], axis=0)


def select(batch: RunBatch, keep: np.ndarray) -> RunBatch:
    """The batch restricted to the replications where `keep` `(r,)` is true."""
    def cut(value: object) -> object:
        if isinstance(value, dict):
            return {k: cut(v) for k, v in value.items()}
        if isinstance(value, np.ndarray) and value.ndim and value.shape[0] == len(keep):
            return value[keep]
        return value

    trajectory = Trajectory(**{name: cut(getattr(batch.trajectory, name))
                               for name in batch.trajectory.__dataclass_fields__})
    outcomes = Outcomes(**{name: cut(getattr(batch.outcomes, name))
                           for name in batch.outcomes.__dataclass_fields__})
    return RunBatch(batch.point[keep], batch.replication[keep], batch.inputs.take(keep),
                    trajectory, outcomes)


def run_task(context: KernelContext, task: Task,
             on_batch: Callable[[RunBatch], None] | None = None) -> TaskResult:
    """Run every (point, replication) of a task; collect what the plan keeps."""
    started = time.perf_counter()
    compiled, failures = context.compiled, []
    cache: dict[tuple[int, int], PointInputs | None] = {}
    runs: list[tuple[int, int]] = []
    inputs_of: dict[tuple[int, int], PointInputs] = {}
    for segment in task.segments:
        for r in range(segment.start, segment.stop):
            key = context.draw_of(segment.point, r, task)
            if key not in cache:
                try:
                    cache[key] = compiled.point(context.run_values(segment.point, key[1], task))
                except BlocsimError as error:
                    cache[key] = None
                    failures.append(_failure(context, task, segment.point,
                                             None if key[1] < 0 else r, "point", str(error)))
            if cache[key] is not None:
                runs.append((segment.point, r))
                inputs_of[(segment.point, r)] = cache[key]
    batches: list[RunBatch] = []
    for start in range(0, len(runs), BATCH):
        chunk = runs[start:start + BATCH]
        point_ids = np.array([p for p, _ in chunk])
        replications = np.array([r for _, r in chunk])
        streams = [replication_stream(context.seed, context.stream_key(p, task), r)
                   for p, r in chunk]
        try:
            with np.errstate(all="ignore"):
                batch = simulate_runs(compiled, [inputs_of[run] for run in chunk], point_ids,
                                      replications, streams)
        except (ArithmeticError, ValueError) as error:
            failures.extend(_failure(context, task, p, r, "replication",
                                     f"{type(error).__name__}: {error}") for p, r in chunk)
            continue
        finite = _finite(batch)
        if not finite.all():
            failures.extend(_failure(context, task, int(p), int(r), "replication",
                                     "a non-finite value in the trajectory")
                            for p, r in zip(point_ids[~finite], replications[~finite],
                                            strict=True))
            batch = select(batch, finite)
        if len(batch.point):
            batches.append(batch)
            if on_batch is not None:
                on_batch(batch)
    collected = context.collector.collect(batches, task)
    return TaskResult(task.task_id, task.runs, collected, failures,
                      time.perf_counter() - started, arithmetic())


def _failure(context: KernelContext, task: Task, point: int, replication: int | None,
             kind: str, message: str) -> dict:
    """A failure record: where, with which seed, and why."""
    return {"kind": kind, "point": int(point),
            "replication": -1 if replication is None else int(replication),
            "seed": context.seed, "stream_key": context.stream_key(point, task),
            "values": {k: (v if isinstance(v, bool | int | float | str) else str(v))
                       for k, v in context.values(point, task).items()},
            "message": message}
