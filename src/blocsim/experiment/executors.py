"""Where tasks run: in this process, on a local process pool, or on a Dask cluster.

Every executor yields results as tasks finish, in any order, keeping at most a few tasks per
worker in flight so memory stays flat however long the sweep. Results never depend on the
executor: a task's output is a function of the task alone.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import logging
import multiprocessing
import os
import signal
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import TYPE_CHECKING, Any, Protocol

from blocsim.errors import BlocsimError
from blocsim.experiment.dask_connect import connect_client
from blocsim.experiment.lifecycle import children_stopped, guarded

if TYPE_CHECKING:
    import distributed

IN_FLIGHT_PER_WORKER = 2

FORKSERVER = "forkserver" in multiprocessing.get_all_start_methods()
"""Whether this platform has a forkserver (not Windows): else workers start by Dask's `spawn`."""

LOCAL_CLUSTER_CONFIG = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    **({"distributed.worker.multiprocessing-method": "forkserver"} if FORKSERVER else {}),
}
"""Dask settings for the LocalCluster blocsim starts.

Dask's nannies set `MALLOC_TRIM_THRESHOLD_=65536` in their workers' environment. Setting it turns
off glibc's adaptive mmap threshold, so every array above 128 KB is mapped and unmapped afresh: a
task of 128 runs then took about 70,000 page faults against 3,000 on a local process, and 1.5x
the CPU seconds. Unset, the allocator behaves as in any process. The worker's statistical
profiler samples the task thread every 10 ms, and every process's system monitor every 0.5 s, for a
dashboard blocsim does not start; each event loop timed itself every 20 ms to warn when it is
blocked. Together they cost the parent (scheduler and nannies) 0.7 CPU seconds on an 8,000-run
sweep of 11 s, on two cores shared with the workers; 0.45 s with these settings. Workers fork
from a server that has loaded the engine (`start_worker_server`).
"""


WORKER_PRELOAD = "blocsim.experiment.dask_worker"
"""The module a LocalCluster's workers load as they start (`dask worker --preload` for yours)."""


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

    def start(self) -> None:
        """Start the workers now if they start apart from the work (a LocalCluster's).

        A failure then shows before a results folder is written; elsewhere this does nothing.
        """
        ...

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

    def start(self) -> None:
        """Nothing to start."""

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


def limit_maths_once() -> None:
    """`single_threaded_maths` the first time a worker process asks (it costs 3 ms a call)."""
    global _MATHS_LIMITED
    if not _MATHS_LIMITED:
        single_threaded_maths()
        _MATHS_LIMITED = True


def _on_dask_worker(function: Callable[[Any, Any], Any], shared: Any, task: Any) -> Any:
    limit_maths_once()
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

    def start(self) -> None:
        """Nothing to start apart from the work: the pool forks with its shared context."""

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


def start_worker_server() -> None:
    """Start the server LocalCluster workers fork from, loading the engine now, in the background.

    Dask's nannies start each worker by `spawn` by default: a fresh interpreter that imports Dask
    and the caller's main module, then the engine when the first context arrives (about 0.8 s, on
    cores the caller is using too). A forkserver imports Dask and the engine once, from the moment
    the executor is made while the caller is still planning, and forks every worker from it.

    The forkserver is the process's (Python has one): it stays until the caller exits and serves
    the next LocalCluster too; one already running keeps its own preload (its workers then import
    the engine themselves, as before). It starts with SIGINT blocked, so a Ctrl-C during its
    imports does not print its traceback (the workers it forks block it too; blocsim stops them).
    A worker Dask restarts after a crash starts by spawn, Dask's default: slower, the same
    results, but a Ctrl-C then prints its traceback too.
    """
    from multiprocessing import forkserver, resource_tracker

    from distributed.utils import get_mp_context

    get_mp_context()  # Dask sets its own forkserver preload once; ours replaces it after
    multiprocessing.get_context("forkserver").set_forkserver_preload(["distributed",
                                                                     WORKER_PRELOAD])
    resource_tracker.ensure_running()  # first: starting it unblocks SIGINT
    with _interrupts_blocked():
        forkserver.ensure_running()


@contextlib.contextmanager
def _interrupts_blocked() -> Iterator[None]:
    """Hold SIGINT pending in this thread while a child that inherits the mask starts (a few ms).

    The child (the forkserver, and the workers it forks) keeps SIGINT blocked, so Ctrl-C never
    reaches it; here the signal is delivered as soon as the block ends, never lost.
    """
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold back Ctrl-C until the block is done, then raise it (a second Ctrl-C raises at once).

    A LocalCluster interrupted while it starts cannot be closed (Dask reports it at exit); one
    that has started can. A result fetched by Dask's `sync` and interrupted there may print a
    traceback: its cancelling callback can run before the wait it cancels has begun (a race in
    distributed's `sync`, seen under load in a fresh clone's test run).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    interrupted: list[int] = []

    def hold(number: int, frame: object) -> None:
        interrupted.append(number)
        if len(interrupted) > 1:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupted:
        raise KeyboardInterrupt


class DaskExecutor:
    """A Dask distributed cluster: an existing scheduler or a LocalCluster on loopback.

    `address` is `tcp://host:port`, or `local` for a LocalCluster bound to 127.0.0.1, started by
    `start` (or on first use): its workers' server loads the engine from the moment the executor is
    made, while the caller plans. Tasks whose worker dies are recomputed by the scheduler; tasks
    that raise are retried. A closed executor cannot be used again.
    """

    def __init__(self, address: str, workers: int, retries: int = 3) -> None:
        try:
            import dask
            import distributed  # noqa: F401  (installed: checked here, used on first `client`)
        except ImportError:
            raise BlocsimError("--dask needs dask[distributed]: pip install "
                               "'blocsim[dask]'") from None
        self.retries = retries
        self._local = address == "local"
        self._closed = False
        self._cluster: distributed.LocalCluster | None = None
        self._client: distributed.Client | None = None
        if self._local:
            if FORKSERVER:
                with dask.config.set(LOCAL_CLUSTER_CONFIG):
                    start_worker_server()
            self.workers = workers
        else:
            self._client = connect_client(address)
            self.workers = max(1, len(self._client.scheduler_info()["workers"]))
        self.shares_filesystem = self._local
        self.description = (f"Dask {'LocalCluster' if self._local else address} "
                            f"({self.workers} workers)")

    def start(self) -> None:
        """Start the LocalCluster now (nothing for an existing scheduler, already connected)."""
        self.client  # noqa: B018

    @property
    def client(self) -> distributed.Client:
        """The cluster's client (a LocalCluster starts the first time it is asked for)."""
        if self._closed:
            raise RuntimeError("this DaskExecutor is closed")
        if self._client is None:
            import dask
            from distributed import Client, LocalCluster

            with _interrupts_deferred(), dask.config.set(LOCAL_CLUSTER_CONFIG):
                self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                             processes=True, host="127.0.0.1",
                                             dashboard_address=None, preload=[WORKER_PRELOAD],
                                             silence_logs=logging.ERROR)
                self._client = Client(self._cluster)
        return self._client

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
        for future in running:  # waits on a plain condition: Ctrl-C ends it cleanly
            with _interrupts_deferred():
                result = future.result()  # finished: only its transfer to wait for
            yield result
            future.release()
            task = next(queue, None)
            if task is not None:
                running.add(submit(task))

    def close(self) -> None:
        """Disconnect (and stop the LocalCluster if this executor started it)."""
        self._closed = True
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None


def make_executor(workers: int, dask: str | None) -> Executor:
    """The executor the command line asks for: Dask if `dask` is given, else local processes."""
    if dask:
        return DaskExecutor(dask, workers)
    return LocalExecutor(workers) if workers > 1 else InlineExecutor()
