"""Where tasks run: in this process, on a local process pool, or on a Dask cluster.

Every executor yields results as tasks finish, in any order, keeping at most a few tasks per
worker in flight so memory stays flat however long the sweep. Results never depend on the
executor: a task's output is a function of the task alone.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol

from blocsim.errors import BlocsimError
from blocsim.experiment.dask_connect import connect_client
from blocsim.experiment.lifecycle import children_stopped, guarded

IN_FLIGHT_PER_WORKER = 2

LOCAL_CLUSTER_CONFIG = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    "distributed.worker.profile.enabled": False,
}
"""Dask settings for the LocalCluster blocsim starts.

Dask's nannies set `MALLOC_TRIM_THRESHOLD_=65536` in their workers' environment. Setting it turns
off glibc's adaptive mmap threshold, so every array above 128 KB is mapped and unmapped afresh: a
task of 128 runs then took about 70,000 page faults against 3,000 on a local process, and 1.5x
the CPU seconds. Unset, the allocator behaves as in any process. The worker's statistical
profiler samples the task thread every 10 ms for a dashboard blocsim does not start.
"""


def default_workers() -> int:
    """The machine's cores (the process pool's size when `--workers` is not given)."""
    return os.cpu_count() or 1


def pool_context() -> multiprocessing.context.BaseContext:
    """Start workers by `fork` where the platform has it, else `spawn`.

    With fork, workers start instantly and scripts or notebooks need no `__main__` guard (the
    worker function lives in this package, never in the caller's).
    """
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class Executor(Protocol):
    """Runs `function(shared, task)` for every task and yields the results as they complete."""

    workers: int
    description: str
    shares_filesystem: bool
    """Whether workers can write to the results folder themselves."""

    def run(self, function: Callable[[Any, Any], Any], shared: Any,
            tasks: Iterable[Any]) -> Iterator[Any]:
        """Yield `function(shared, task)` for every task, in completion order."""
        ...

    def close(self) -> None:
        """Release workers and connections."""
        ...


class InlineExecutor:
    """Runs tasks one after another in this process (one worker; easiest to debug)."""

    workers = 1
    description = "inline (1 worker)"
    shares_filesystem = True

    def run(self, function: Callable[[Any, Any], Any], shared: Any,
            tasks: Iterable[Any]) -> Iterator[Any]:
        """Yield `function(shared, task)` for each task in order."""
        for task in tasks:
            yield function(shared, task)

    def close(self) -> None:
        """Nothing to release."""


_SHARED: Any = None


def single_threaded_maths() -> None:
    """Keep numpy's BLAS to one thread in a worker process.

    Workers are already one per core; a BLAS that splits each state-by-state product across
    threads as well oversubscribes the cores (a 200-state batch took 8x longer under load).
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def _install_shared(shared: Any) -> None:
    global _SHARED
    single_threaded_maths()
    _SHARED = shared


_MATHS_LIMITED = False


def _on_dask_worker(function: Callable[[Any, Any], Any], shared: Any, task: Any) -> Any:
    global _MATHS_LIMITED
    if not _MATHS_LIMITED:
        single_threaded_maths()
        _MATHS_LIMITED = True
    return function(shared, task)


def _call_with_shared(function: Callable[[Any, Any], Any], task: Any) -> Any:
    return function(_SHARED, task)


class LocalExecutor:
    """A pool of local processes; the shared context is sent once to each worker.

    The parent's objects are frozen out of the garbage collector while the workers fork, so the
    workers' collections never write to the pages they inherit and those pages stay shared
    (copy-on-write): a 100,000-run sweep's peak memory otherwise grew by a copy of the inherited
    heap in every worker.

    The pool lives as long as the executor (several `run` calls with the same shared context,
    as a tipping-point search makes, reuse it); `close` stops it.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.description = f"local processes ({workers} workers)"
        self.shares_filesystem = True
        self._pool: ProcessPoolExecutor | None = None
        self._shared: Any = None

    def _pool_for(self, shared: Any) -> ProcessPoolExecutor:
        if self._pool is None or self._shared is not shared:
            self.close()
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore",
                                        message=".*use of fork\\(\\) may lead to deadlocks",
                                        category=DeprecationWarning)
                initializer, initargs = guarded(_install_shared, shared)
                gc.freeze()
                try:
                    self._pool = ProcessPoolExecutor(max_workers=self.workers,
                                                     mp_context=pool_context(),
                                                     initializer=initializer, initargs=initargs)
                    # Start every worker now, inside the filter (the pool forks lazily otherwise).
                    for _ in range(self.workers):
                        self._pool.submit(int)
                finally:
                    gc.unfreeze()
            self._shared = shared
        return self._pool

    def run(self, function: Callable[[Any, Any], Any], shared: Any,
            tasks: Iterable[Any]) -> Iterator[Any]:
        """Yield results as tasks complete, with at most two tasks per worker in flight."""
        pool = self._pool_for(shared)
        queue = iter(tasks)
        pending: set[Future] = {pool.submit(_call_with_shared, function, task)
                                for task in itertools.islice(queue, self.workers *
                                                             IN_FLIGHT_PER_WORKER)}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
                task = next(queue, None)
                if task is not None:
                    pending.add(pool.submit(_call_with_shared, function, task))

    def close(self) -> None:
        """Stop the workers, cancelling tasks not yet started.

        Workers a SIGTERM already killed are not waited for (see `children_stopped`).
        """
        if self._pool is not None:
            self._pool.shutdown(wait=not children_stopped(), cancel_futures=True)
            self._pool = None
            self._shared = None


class DaskExecutor:
    """A Dask distributed cluster: an existing scheduler or a LocalCluster on loopback.

    `address` is `tcp://host:port`, or `local` to start a LocalCluster bound to 127.0.0.1. Tasks
    whose worker dies are recomputed by the scheduler; tasks that raise are retried.
    """

    def __init__(self, address: str, workers: int, retries: int = 3) -> None:
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise BlocsimError("--dask needs dask[distributed]: pip install "
                               "'blocsim[dask]'") from None
        self.retries = retries
        self._cluster = None
        if address == "local":
            with dask.config.set(LOCAL_CLUSTER_CONFIG):
                self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                             processes=True, host="127.0.0.1",
                                             dashboard_address=None)
            self.client = Client(self._cluster)
        else:
            self.client = connect_client(address)
        self.workers = max(1, len(self.client.scheduler_info()["workers"]))
        self.shares_filesystem = self._cluster is not None
        self.description = (f"Dask {'LocalCluster' if self._cluster else address} "
                            f"({self.workers} workers)")

    def run(self, function: Callable[[Any, Any], Any], shared: Any,
            tasks: Iterable[Any]) -> Iterator[Any]:
        """Yield results as tasks complete, keeping about two tasks per worker queued."""
        from distributed import as_completed

        # A unique key per call: with hashed keys, a second run() would share the first's key
        # and lose it when the first's future is garbage-collected ("lost dependencies").
        shared_future = self.client.scatter(shared, broadcast=True, hash=False)
        queue = iter(tasks)

        def submit(task: Any) -> Future:
            return self.client.submit(_on_dask_worker, function, shared_future, task, pure=False,
                                      retries=self.retries)

        first = [submit(task) for task in itertools.islice(queue, self.workers *
                                                               IN_FLIGHT_PER_WORKER)]
        running = as_completed(first)
        for future in running:
            yield future.result()
            future.release()
            task = next(queue, None)
            if task is not None:
                running.add(submit(task))

    def close(self) -> None:
        """Disconnect (and stop the LocalCluster if this executor started it)."""
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(workers: int, dask: str | None) -> Executor:
    """The executor the command line asks for: Dask if `dask` is given, else local processes."""
    if dask:
        return DaskExecutor(dask, workers)
    return LocalExecutor(workers) if workers > 1 else InlineExecutor()
