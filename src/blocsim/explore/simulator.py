"""Re-runs for the view, in a process of their own.

The web server answers the browser on its event loop and may hold threads of its own; the runs
fork a pool of worker processes, which is safe only from a single-threaded process. So one
helper process, started once (by `spawn`) before the server, loads the scenario and runs every
variant through the Python API (`blocsim.run`), each with the same seed and replications, and
sends back only what the view shows (a `Run`). It is not a daemon (daemons may not start worker
processes); it ends when the server closes it, or when its pipe to the server breaks (the server
died).
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path

from blocsim import api
from blocsim.errors import BlocsimError, format_message
from blocsim.explore.readout import Run

Values = Mapping[str, float]
CACHED_SETTINGS = 256
"""Runs kept for settings seen before (the least recently shown go first; each is small)."""


@contextmanager
def sigint_ignored() -> Iterator[None]:
    """Within the block, SIGINT is ignored (in the main thread; elsewhere nothing changes).

    A process started here inherits the ignored signal from its first instruction, so Ctrl-C in
    the terminal, which reaches every process of the group, cannot interrupt it while it imports.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class SimulationError(BlocsimError):
    """A variant the helper process could not run (its message says why)."""


def _serve(connection: Connection, file: str, replications: int, seed: int,
           workers: int | None, point: bool = False) -> None:
    """The helper's loop: read settings, run them, send a `Run` or an error message back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle (and is
    # ignored from the start: see `sigint_ignored`)
    scenario = api.load(file)
    while True:
        try:
            values = connection.recv()
        except (EOFError, OSError):
            return
        if values is None:
            return
        try:
            variant = scenario.with_values(dict(values)) if values else scenario
            started = time.perf_counter()
            results = api.run(variant, replications=replications, seed=seed, workers=workers,
                              point=point)
            reply: Run | str = Run.of(results, time.perf_counter() - started)
        except BlocsimError as error:
            reply = format_message(error)
        try:
            connection.send(reply)
        except (BrokenPipeError, OSError):
            return


class Simulator:
    """Runs a scenario at given settings with fixed replications and seed; caches the answers.

    Attributes:
        replications: runs per setting.
        seed: root seed of every run (common random numbers across settings).
        workers: worker processes of each run (None: all cores).
        point: run at the file's own (hand-set) weights instead of drawing them from the
            posterior it names, as `blocsim run --point`.

    """

    def __init__(self, file: str | Path, replications: int, seed: int,
                 workers: int | None, point: bool = False) -> None:
        self.replications, self.seed, self.workers = replications, seed, workers
        context = multiprocessing.get_context("spawn")
        self._connection, theirs = context.Pipe()
        self._process = context.Process(target=_serve, name="blocsim-explore-runs",
                                        args=(theirs, str(file), replications, seed, workers,
                                              point))
        with sigint_ignored():
            self._process.start()
        theirs.close()
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple, Run] = OrderedDict()

    def run(self, values: Values) -> Run:
        """The run at the file's values with `values` (dotted paths) set; cached by settings.

        Raises:
            SimulationError: when the settings are invalid or the helper process has ended.

        """
        key = tuple(sorted(values.items()))
        with self._lock:
            if key not in self._cache:
                try:
                    self._connection.send(dict(values))
                    reply = self._connection.recv()
                except (EOFError, OSError):
                    raise SimulationError("the process running the simulations has ended") \
                        from None
                if isinstance(reply, str):
                    raise SimulationError(reply)
                self._cache[key] = reply
                if len(self._cache) > CACHED_SETTINGS:
                    self._cache.popitem(last=False)
            self._cache.move_to_end(key)
            return self._cache[key]

    def close(self) -> None:
        """Ask the helper process to end; stop it if it does not within a few seconds."""
        try:
            self._connection.send(None)
        except (BrokenPipeError, OSError):
            pass
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=5)
        self._connection.close()
