"""Run variants of one scenario with common random numbers and record who consolidated.

Variants are design points of one plan whose points all use stream key 0: replication r of every
variant draws the stream replication r of `blocsim.run(scenario, seed=seed)` draws (and, with a
posterior, the same parameter draw), so a variant's replication r pairs with the run's own: the
same domestic-political moods and noise, only the changed values differ. One plan runs them all
through the one kernel, mixing variants in lockstep batches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from blocsim.experiment.engine import gather
from blocsim.experiment.executors import Executor
from blocsim.experiment.kernel import RunBatch
from blocsim.experiment.plan import Plan, Task, points_frame
from blocsim.experiment.posterior import DRAW_BLOCK, Posterior
from blocsim.scenario.schema import Scenario


@dataclass(frozen=True)
class ConsolidationRows:
    """Collects, per run, its point, replication and which groupings consolidated."""

    def collect(self, batches: list[RunBatch], task: Task) -> tuple[np.ndarray, ...]:
        """(points, replications, consolidated `(runs, g)`) of the task's runs."""
        if not batches:
            return np.zeros(0, int), np.zeros(0, int), np.zeros((0, 0), bool)
        return (np.concatenate([b.point for b in batches]),
                np.concatenate([b.replication for b in batches]),
                np.concatenate([b.outcomes.consolidated for b in batches]))


def run_variants(base: Scenario, variants: list[Mapping[str, object]], replications: int,
                 seed: int, executor: Executor | None = None,
                 posterior: Posterior | None = None, draw_block: int = DRAW_BLOCK,
                 progress: Callable[[int], None] | None = None) -> list[np.ndarray]:
    """Who consolidated in replications 0..replications-1 of each variant of `base`.

    Args:
        base: the scenario the variants change.
        variants: per variant, the dotted scenario paths it sets (an empty dict is the base).
        replications: replications per variant.
        seed: the root seed shared by every variant (common random numbers).
        executor: where the tasks run (inline by default).
        posterior: the posterior the base run drew from, if any (the variants draw the same).
        draw_block: replications sharing one posterior draw, as in the base run.
        progress: called with the number of runs each finished task made.

    Returns:
        Per variant, a boolean (replications, groupings) array, columns in `base`'s
        `grouping_names` order. A variant whose values are invalid raises nothing: its rows stay
        False and the failure is in the plan's failures (see `experiment.engine.gather`).

    """
    points = points_frame([dict(v) for v in variants]) if variants else points_frame([{}])
    plan = Plan(base, points, replications, seed, stream_keys=np.zeros(len(points), int),
                posterior=posterior, draw_block=draw_block)
    gathered = gather(plan, ConsolidationRows(), executor, progress)
    found = [np.zeros((replications, len(base.groupings)), bool) for _ in variants]
    for points_of, runs, hits in gathered.collected:
        for point, replication, row in zip(points_of, runs, hits, strict=True):
            found[point][replication] = row
    return found
