"""One engine for every workload: a plan's tasks run on an executor through the one kernel.

`execute` yields each finished task (in completion order); `run_in_memory` gathers a plan's tables
in task order, for a run, a comparison or a lever. Sweeps stream tasks to disk instead
(`experiment.sweep`); tipping searches and calibrations collect counts or facts (their own
collectors). Whatever the executor, its workers or the order tasks finish in, the gathered tables
are identical: a task's output depends on the task alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import pandas as pd

from blocsim.experiment.executors import Executor, InlineExecutor
from blocsim.experiment.kernel import Collector, KernelContext, TaskResult, run_task
from blocsim.experiment.plan import Plan, Task
from blocsim.experiment.tables import TABLES, TableCollector, concat_tables


def execute(context: KernelContext, tasks: Iterable[Task], executor: Executor,
            progress: Callable[[int], None] | None = None) -> Iterator[TaskResult]:
    """Run tasks of a plan on an executor; yield each TaskResult as it finishes."""
    for result in executor.run(run_task, context, tasks):
        if progress is not None:
            progress(result.runs)
        yield result


@dataclass
class Gathered:
    """A plan's collected results in task order, its failures and its seconds of work."""

    collected: list[object]
    failures: list[dict] = field(default_factory=list)
    compute_seconds: float = 0.0
    arithmetic: list[str] = field(default_factory=list)
    """How the processes that ran its tasks round, each once (`experiment.arithmetic`)."""


def gather(plan: Plan, collector: Collector, executor: Executor | None = None,
           progress: Callable[[int], None] | None = None) -> Gathered:
    """Run a whole plan and keep every task's collected output, in task order."""
    executor = executor or InlineExecutor()
    context = KernelContext.of(plan, collector)
    results = sorted(execute(context, plan.tasks(), executor, progress),
                     key=lambda r: r.task_id)
    return Gathered([r.collected for r in results], [f for r in results for f in r.failures],
                    sum(r.seconds for r in results), sorted({r.arithmetic for r in results}))


def run_in_memory(plan: Plan, executor: Executor | None = None,
                  tables: tuple[str, ...] = TABLES, with_point: bool = False,
                  progress: Callable[[int], None] | None = None
                  ) -> tuple[dict[str, pd.DataFrame], Gathered]:
    """Run a plan and return its tables (joined in task order) and what was gathered."""
    gathered = gather(plan, TableCollector(tables, with_point), executor, progress)
    parts = [part for part in gathered.collected if part]
    return concat_tables(parts), gathered  # type: ignore[arg-type]
