"""Run the model at chosen values of one parameter and count consolidations (tipping searches).

An adaptive search grows its plan as it goes: evaluation k (the k-th value asked for, in the order
asked) is a design point with stream key k, so replication r of it draws from
`SeedSequence(seed, spawn_key=(k, r))` (the one seeding rule) and a search is reproducible
whatever the executor; with a posterior, each run draws its own particle, from stream key k
too. Its tasks carry their points' values; the kernel is the one every workload runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from blocsim.experiment.executors import Executor
from blocsim.experiment.kernel import KernelContext, RunBatch, run_task
from blocsim.experiment.plan import Segment, Task
from blocsim.experiment.posterior import SEARCH_DRAW_BLOCK, Posterior
from blocsim.model.inputs import CompiledScenario
from blocsim.scenario.schema import Scenario

TASK_RUNS = 20
"""Replications per task: small, because a search asks for a few values at a time."""


@dataclass(frozen=True)
class ConsolidationCounter:
    """Collects, per point, how many runs there were and in how many a grouping consolidated."""

    grouping: int

    def collect(self, batches: list[RunBatch], task: Task) -> dict[int, tuple[int, int]]:
        """Point -> (runs, consolidations)."""
        counts: dict[int, tuple[int, int]] = {}
        for batch in batches:
            hits = batch.outcomes.consolidated[:, self.grouping]
            for point in np.unique(batch.point):
                mine = batch.point == point
                runs, found = counts.get(int(point), (0, 0))
                counts[int(point)] = (runs + int(mine.sum()), found + int(hits[mine].sum()))
        return counts


class ModelEvaluator:
    """`evaluator(values, runs)` -> consolidations at each value, for a tipping-point search."""

    def __init__(self, scenario: Scenario, path: str, grouping: str, executor: Executor,
                 seed: int, posterior: Posterior | None = None) -> None:
        self.path = path
        self.context = KernelContext(CompiledScenario(scenario), {}, np.zeros(0, int), seed,
                                     ConsolidationCounter(scenario.grouping_names.index(grouping)),
                                     posterior, SEARCH_DRAW_BLOCK)
        self.executor = executor
        self.evaluations = 0
        self.failures: list[dict] = []

    def __call__(self, values: np.ndarray, runs: int | np.ndarray) -> np.ndarray:
        """Consolidation counts at each value, out of `runs` replications (each or per value).

        The runs are cut into tasks of at most TASK_RUNS so that a round of a few values still
        keeps every worker busy.
        """
        first = self.evaluations
        self.evaluations += len(values)
        asked = np.broadcast_to(np.asarray(runs), (len(values),))
        tasks = []
        for k, (value, n) in enumerate(zip(values, asked, strict=True)):
            point = first + k
            carried = ((point, ((self.path, float(value)),)),)
            for start in range(0, int(n), TASK_RUNS):
                segment = Segment(point, start, min(start + TASK_RUNS, int(n)))
                tasks.append(Task(len(tasks), (segment,), carried, ((point, point),)))
        counts = np.zeros(len(values), dtype=int)
        for result in self.executor.run(run_task, self.context, tasks):
            self.failures.extend(result.failures)
            for point, (_, found) in result.collected.items():
                counts[point - first] += found
        return counts
