"""Run the model at chosen values of one parameter and count consolidations.

This is the evaluator the adaptive analyses (tipping points) call, on the same executors as
sweeps.

Evaluation k (the k-th value asked for, in the order asked), replication r draws from
`SeedSequence(seed, spawn_key=(k, r))`, so a search is reproducible whatever the executor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from blocsim.experiment.executors import Executor
from blocsim.experiment.runner import simulate
from blocsim.model.inputs import compile_inputs
from blocsim.scenario.schema import Scenario

TASK_RUNS = 20
"""Replications per task: small, because a search asks for a few values at a time."""


@dataclass(frozen=True)
class EvaluationContext:
    """What workers need once: the scenario, the varied path, the grouping and the seed."""

    scenario: Scenario
    path: str
    grouping: str
    seed: int


@dataclass(frozen=True)
class EvaluationTask:
    """Replications `start..stop-1` of evaluation `index`, at `value`."""

    index: int
    value: float
    start: int
    stop: int


def count_consolidations(context: EvaluationContext, task: EvaluationTask) -> tuple[int, int]:
    """Run one task; return (evaluation index, runs in which the grouping consolidated)."""
    inputs = compile_inputs(context.scenario.with_values({context.path: float(task.value)}))
    seeds = [np.random.SeedSequence(context.seed, spawn_key=(task.index, r))
             for r in range(task.start, task.stop)]
    chunk = simulate(inputs, task.start, seeds)
    j = context.scenario.grouping_names.index(context.grouping)
    return task.index, sum(outcomes[j].consolidated for outcomes in chunk.outcomes)


class ModelEvaluator:
    """`evaluator(values, runs)` -> consolidations at each value, for a tipping-point search."""

    def __init__(self, scenario: Scenario, path: str, grouping: str, executor: Executor,
                 seed: int) -> None:
        self.context = EvaluationContext(scenario, path, grouping, seed)
        self.executor = executor
        self.evaluations = 0

    def __call__(self, values: np.ndarray, runs: int | np.ndarray) -> np.ndarray:
        """Consolidation counts at each value, out of `runs` replications (each or per value).

        The runs are cut into tasks of at most TASK_RUNS so that a round of a few values still
        keeps every worker busy.
        """
        first = self.evaluations
        self.evaluations += len(values)
        counts_asked = np.broadcast_to(np.asarray(runs), (len(values),))
        tasks = [EvaluationTask(first + k, float(value), start, min(start + TASK_RUNS, int(n)))
                 for k, (value, n) in enumerate(zip(values, counts_asked, strict=True))
                 for start in range(0, int(n), TASK_RUNS)]
        counts = np.zeros(len(values), dtype=int)
        for index, successes in self.executor.run(count_consolidations, self.context, tasks):
            counts[index - first] += successes
        return counts
