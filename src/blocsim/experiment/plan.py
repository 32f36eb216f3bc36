"""A plan: design points x replications of one scenario, with one seed.

Every workload (a run, a sweep, a tipping search, a comparison, a calibration) is a plan.

Seeding rule (one for every workload): replication r of a point whose stream key is k draws its
randomness from `SeedSequence(seed, spawn_key=(k, r))`. A point's stream key is its index by
default, so points are independent; with common random numbers every point uses key 0, so
replication r meets the same noise at every point (paired comparisons, levers). A run is a plan of
one point with key 0, so a one-point sweep at the base values reproduces it bit for bit.

The runs are cut into tasks by the plan alone (point order, then replication order, at most
`task_runs` runs a task), never by the executor: tables are identical whatever runs them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from blocsim.experiment.posterior import DRAW_BLOCK, Posterior
from blocsim.scenario.schema import Scenario

TASK_RUNS = 128
"""Runs per task: enough to fill two lockstep batches, few enough to balance two workers."""


def replication_stream(seed: int, stream_key: int, replication: int) -> np.random.SeedSequence:
    """The random stream of replication `replication` of a point with stream key `stream_key`."""
    return np.random.SeedSequence(seed, spawn_key=(int(stream_key), int(replication)))


@dataclass(frozen=True)
class Segment:
    """Replications `start..stop-1` of point `point`."""

    point: int
    start: int
    stop: int

    @property
    def runs(self) -> int:
        """How many runs the segment holds."""
        return self.stop - self.start


@dataclass(frozen=True)
class Task:
    """A unit of work: a few segments, at most `task_runs` runs in all.

    A plan's task finds its points' values in the plan; a task of an adaptive search (whose
    points are chosen as it goes) carries them, with their stream keys.
    """

    task_id: int
    segments: tuple[Segment, ...]
    values: tuple[tuple[int, tuple[tuple[str, object], ...]], ...] = ()
    stream_keys: tuple[tuple[int, int], ...] = ()

    @property
    def runs(self) -> int:
        """How many (point, replication) runs the task holds."""
        return sum(s.runs for s in self.segments)


def _plain(value: object) -> object:
    """A numpy scalar as the Python value a scenario file would hold."""
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


@dataclass(frozen=True)
class Plan:
    """Design points x replications of one scenario, with one root seed.

    Attributes:
        scenario: the base scenario (validated).
        points: one row per design point, one column per dotted scenario path; no columns for
            a plain run of the scenario (then one row).
        replications: replications of every point, or one count per point.
        seed: the root seed.
        stream_keys: each point's stream key (default: its index; all 0 for common random numbers).
        task_runs: runs per task.
        posterior: a posterior each block of `draw_block` replications draws its parameters
            from (on top of the point's values), or None for the scenario's own values.
        draw_block: replications sharing one posterior draw.

    """

    scenario: Scenario
    points: pd.DataFrame
    replications: int | Sequence[int]
    seed: int
    stream_keys: np.ndarray | None = None
    task_runs: int = TASK_RUNS
    posterior: Posterior | None = None
    draw_block: int = DRAW_BLOCK
    _counts: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        counts = np.broadcast_to(np.asarray(self.replications, int), (len(self.points),))
        if len(self.points) == 0:
            raise ValueError("a plan needs at least one point")
        if (counts < 0).any():
            raise ValueError("replications cannot be negative")
        object.__setattr__(self, "_counts", counts.copy())
        keys = (np.arange(len(self.points)) if self.stream_keys is None
                else np.asarray(self.stream_keys, int))
        object.__setattr__(self, "stream_keys", keys)

    @classmethod
    def single(cls, scenario: Scenario, replications: int, seed: int) -> Plan:
        """A plain run: one point (the scenario as it is), stream key 0."""
        return cls(scenario, pd.DataFrame(index=pd.RangeIndex(1, name="point")), replications,
                   seed)

    @property
    def counts(self) -> np.ndarray:
        """`(points,)` replications of each point."""
        return self._counts

    @property
    def runs(self) -> int:
        """Every (point, replication) run of the plan."""
        return int(self.counts.sum())

    def values(self, point: int) -> dict[str, object]:
        """The dotted scenario paths a point sets, each value of its column's own type."""
        return {path: _plain(self.points[path].iloc[point]) for path in self.points.columns}

    def tasks(self) -> list[Task]:
        """The runs cut into tasks of at most `task_runs`, in point then replication order."""
        return list(cut_tasks(self.counts, self.task_runs))


def cut_tasks(counts: np.ndarray, task_runs: int) -> Iterator[Task]:
    """Runs of `counts[p]` replications per point cut into tasks of at most `task_runs`."""
    segments: list[Segment] = []
    filled, task_id = 0, 0
    for point, count in enumerate(counts):
        start = 0
        while start < count:
            stop = min(int(count), start + task_runs - filled)
            segments.append(Segment(point, start, stop))
            filled += stop - start
            start = stop
            if filled == task_runs:
                yield Task(task_id, tuple(segments))
                task_id += 1
                segments, filled = [], 0
    if segments:
        yield Task(task_id, tuple(segments))


def points_frame(rows: Sequence[Mapping[str, object]]) -> pd.DataFrame:
    """A points table from per-point value dicts (index named `point`)."""
    frame = pd.DataFrame(list(rows))
    frame.index.name = "point"
    return frame
