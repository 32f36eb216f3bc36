"""One writer per results folder: an advisory lock the kernel releases when its holder dies.

`folder_lock(folder)` takes an exclusive `flock` on a small file beside the folder
(`.NAME.lock` in its parent, so the lock outlives the folder being renamed aside or replaced)
and writes the holder's pid into it. A second writer, in this process or another, is refused at
once with a message naming the folder and the holder's pid. The kernel drops a `flock` when the
last descriptor of it closes, so a killed process never leaves a stale lock; the lock file itself
is removed on release.

The lock is re-entrant within a process (the command line holds it around a whole `run`, and the
store takes it again to write), and it is held by the process's open file description: workers
forked while it is held share it, so the folder stays locked while any of them lives.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from blocsim.errors import ResultsError

_HELD: dict[Path, tuple[int, int]] = {}
"""Locks this process holds: lock file -> (descriptor, depth of re-entry)."""


def lock_path(folder: Path) -> Path:
    """The lock file of a results folder: `.NAME.lock` beside it."""
    folder = Path(folder).resolve()
    return folder.parent / f".{folder.name}.lock"


def _holder(path: Path) -> str:
    try:
        pid = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        pid = ""
    return f"process {pid}" if pid.isdigit() else "another process"


def _acquire(path: Path, folder: Path) -> int:
    """Open and lock `path`; return the descriptor (retrying if the file was replaced meanwhile)."""
    while True:
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise ResultsError(f"cannot write in {path.parent} (to lock {folder.name}): "
                               f"{error.strerror}; choose another --out") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(descriptor)
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise ResultsError(f"cannot lock {folder}: {error.strerror}") from None
            raise ResultsError(f"{folder} is being written by {_holder(path)} (lock "
                               f"{path.name}); wait for it to finish or stop it, then try "
                               f"again") from None
        try:
            same = os.fstat(descriptor).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return descriptor
        os.close(descriptor)  # the previous holder removed the file between our open and lock


@contextmanager
def folder_lock(folder: Path) -> Iterator[Path]:
    """Hold the exclusive write lock of `folder` for the duration of the block.

    Args:
        folder: the results folder (it need not exist yet; its parent is created).

    Yields:
        The lock file's path.

    Raises:
        ResultsError: another process (or another lock in this one) holds it, or the parent
            folder cannot be written.

    """
    path = lock_path(folder)
    if path in _HELD:
        descriptor, depth = _HELD[path]
        _HELD[path] = (descriptor, depth + 1)
        try:
            yield path
        finally:
            descriptor, depth = _HELD[path]
            _HELD[path] = (descriptor, depth - 1)
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ResultsError(f"cannot create {path.parent}: {error.strerror}; choose another "
                           f"--out") from None
    descriptor = _acquire(path, Path(folder).resolve())
    os.ftruncate(descriptor, 0)
    os.write(descriptor, f"{os.getpid()}\n".encode("ascii"))
    _HELD[path] = (descriptor, 1)
    try:
        yield path
    finally:
        del _HELD[path]
        try:
            path.unlink()
        except OSError:
            pass
        os.close(descriptor)


def is_locked(folder: Path) -> bool:
    """Whether some process holds `folder`'s write lock right now (this one included)."""
    path = lock_path(folder)
    if path in _HELD:
        return True
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(descriptor)
    return False
