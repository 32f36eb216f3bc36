"""Checks made before any work: can the output be written at all, and is the disk not full.

A full or read-only disk found after an hour of simulation loses the hour; these checks find it
first. What a disk fills up with during the work is reported by `os_error_message`, which the
command line prints instead of an `OSError` traceback.
"""

from __future__ import annotations

import errno
import shutil
import tempfile
from pathlib import Path

from blocsim.errors import ResultsError, printable

MIN_FREE_BYTES = 16 * 2**20
"""Free space below which a results folder is refused before the work starts (16 MiB: a small
run's tables; larger needs are estimated by the sweep itself)."""


def existing_ancestor(path: Path) -> Path:
    """The nearest folder at or above `path` that exists."""
    path = Path(path).resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_space(path: Path, needed: int = MIN_FREE_BYTES) -> None:
    """Refuse when the disk holding `path` has less than `needed` bytes free."""
    where = existing_ancestor(path)
    try:
        free = shutil.disk_usage(where).free
    except OSError:
        return
    if free < needed:
        raise ResultsError(f"the disk holding {where} has {free / 2**20:.1f} MiB free (at least "
                           f"{needed / 2**20:.0f} MiB needed); free some space or choose another "
                           f"--out")


def check_can_write(folder: Path) -> None:
    """Refuse when nothing can be created in `folder` (read-only disk, no permission)."""
    where = existing_ancestor(folder)
    try:
        with tempfile.TemporaryFile(dir=where):
            pass
    except OSError as error:
        raise ResultsError(f"cannot write in {where}: {error.strerror}; choose another "
                           f"--out") from None


def can_write(folder: Path) -> bool:
    """Whether a file can be created in `folder` (which exists)."""
    try:
        check_can_write(folder)
    except ResultsError:
        return False
    return True


DISK_ERRORS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the disk is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EIO: "an input/output error (a failing disk?)",
}


def os_error_message(error: OSError) -> str:
    """A one-line message for an operating-system error met while reading or writing files."""
    what = DISK_ERRORS.get(error.errno or -1, error.strerror or str(error))
    where = error.filename or ""
    text = f"{what}" + (f" at {where}" if where else "") + f" ({printable(str(error))})"
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        text += ("; nothing half-written is left under a results name: free some space and run "
                 "again (a sweep keeps its finished tasks: add --resume)")
    return text

