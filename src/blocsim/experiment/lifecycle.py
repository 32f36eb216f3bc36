"""Worker processes never outlive the command that started them.

* `worker_initializer` runs first in every pool worker: on Linux it asks the kernel to send the
  worker SIGKILL when its parent dies (`prctl(PR_SET_PDEATHSIG)`), so a `run` or `sweep` killed
  with SIGKILL takes its workers with it; a worker whose parent died before it got that far exits.
* `terminate_on_sigterm` turns SIGTERM into a `Terminated` exception in the main thread, after
  stopping the process's worker processes, so the command unwinds as on Ctrl-C: staging folders
  are removed, the lock is released, and it says how to resume.

The death signal fires when the *thread* that forked the worker ends; pools here are started from
the caller's thread (the main thread of the command line), which lives as long as the process.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

PR_SET_PDEATHSIG = 1
"""`prctl` option (linux/prctl.h): the signal a process gets when its parent thread dies."""


class Terminated(KeyboardInterrupt):
    """SIGTERM received: unwind like an interrupt (clean up, release, report), exit 143."""


def die_with_parent(parent: int) -> bool:
    """Ask the kernel to SIGKILL this process when its parent dies; exit if it already has.

    Args:
        parent: the pid of the process that started this one (read before forking).

    Returns:
        Whether the kernel accepted the request (False where `prctl` does not exist).

    """
    accepted = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            accepted = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            accepted = False
    if os.getppid() != parent:
        os._exit(1)
    return accepted


def worker_initializer(parent: int, install: Callable[..., None] | None, *args: Any) -> None:
    """Pool initializer: tie the worker's life to `parent`, then run `install(*args)`.

    A forked worker inherits its parent's Python handler for SIGTERM (`terminate_on_sigterm`),
    which would turn the signal into an exception the pool sends back as a task's result; the
    worker restores the default, so SIGTERM ends it.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent(parent)
    if install is not None:
        install(*args)


def guarded(install: Callable[..., None] | None, *args: Any
            ) -> tuple[Callable[..., None], tuple[Any, ...]]:
    """`(initializer, initargs)` for a process pool whose workers die with this process."""
    return worker_initializer, (os.getpid(), install, *args)


_CHILDREN_STOPPED = threading.Event()


def children_stopped() -> bool:
    """Whether `stop_children` has killed this process's workers.

    A worker killed halfway through sending a result leaves a partial message in the pool's
    result pipe: a pool shut down with `wait=True`, or joined at interpreter exit, then waits
    forever. After this, nothing may wait for the pool.
    """
    return _CHILDREN_STOPPED.is_set()


def stop_children() -> None:
    """Send SIGTERM to every worker process this process started (multiprocessing children)."""
    _CHILDREN_STOPPED.set()
    for child in multiprocessing.active_children():
        try:
            child.terminate()
        except (OSError, AttributeError, ValueError):
            pass


@contextmanager
def terminate_on_sigterm() -> Iterator[None]:
    """Within the block, SIGTERM stops the workers and raises `Terminated` in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigterm(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends it at once
        stop_children()
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
