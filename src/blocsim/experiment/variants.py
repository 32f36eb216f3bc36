"""Run variants of one scenario with common random numbers and record who consolidated.

Replication r of every variant draws `SeedSequence(seed).spawn(replications)[r]`, the stream
replication r of `blocsim.run(scenario, seed=seed)` draws, so a variant's replication r pairs with
the run's own replication r: the same domestic-political moods and noise, only the changed value
differs. All variants share one executor (one process pool), so many small variants cost little
more than their runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from blocsim.experiment.executors import Executor
from blocsim.experiment.runner import replication_seeds, simulate
from blocsim.model.inputs import ModelInputs, compile_inputs
from blocsim.scenario.schema import Scenario

TASK_RUNS = 50
"""Replications per task: enough to amortize a task, few enough to keep both cores busy."""


@dataclass(frozen=True)
class VariantTask:
    """Replications `start..stop-1` of variant `variant`."""

    variant: int
    start: int
    stop: int


@dataclass(frozen=True)
class VariantContext:
    """What workers need once: every variant's compiled inputs and the root seed."""

    inputs: tuple[ModelInputs, ...]
    seed: int
    replications: int


def consolidations(context: VariantContext, task: VariantTask) -> tuple[VariantTask, np.ndarray]:
    """Run one task; return it with a (replications, groupings) array of who consolidated."""
    seeds = replication_seeds(context.seed, context.replications)[task.start:task.stop]
    chunk = simulate(context.inputs[task.variant], task.start, seeds)
    return task, np.array([[o.consolidated for o in outcomes] for outcomes in chunk.outcomes])


def run_variants(variants: list[Scenario], replications: int, seed: int, executor: Executor,
                 progress: Callable[[int], None] | None = None) -> list[np.ndarray]:
    """Who consolidated in replications 0..replications-1 of each variant.

    Args:
        variants: the scenarios to run (their groupings in their own order).
        replications: replications per variant.
        seed: the root seed shared by every variant (common random numbers).
        executor: where the tasks run.
        progress: called with the number of runs each finished task made.

    Returns:
        Per variant, a boolean (replications, groupings) array, columns in the variant's
        `grouping_names` order.

    """
    context = VariantContext(tuple(compile_inputs(s) for s in variants), seed, replications)
    tasks = [VariantTask(v, start, min(start + TASK_RUNS, replications))
             for v in range(len(variants)) for start in range(0, replications, TASK_RUNS)]
    found = [np.zeros((replications, len(s.groupings)), bool) for s in variants]
    for task, hits in executor.run(consolidations, context, tasks):
        found[task.variant][task.start:task.stop] = hits
        if progress is not None:
            progress(task.stop - task.start)
    return found
