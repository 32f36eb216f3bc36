"""How a machine rounds the model's arithmetic: what bit-identity between two machines hangs on.

numpy computes float64 `exp`, `log` and `tanh` with code chosen for the CPU (a SIMD target), and
matrix products go through the BLAS kernel chosen for it; none of these is correctly rounded. On
one machine a replication rounds alike in any batch, so tables are bit-identical whatever the
executor; between machines that differ here they may differ in the last bits (README,
"Reproducibility"). Each task records the arithmetic it ran with, so a folder says where its
numbers were computed.
"""

from __future__ import annotations

import functools
import platform
import warnings
from pathlib import Path

import numpy
from numpy.lib.introspect import opt_func_info
from threadpoolctl import threadpool_info

from blocsim.errors import BlocsimWarning

ROUNDED_BY_THE_MACHINE = ("exp", "log", "tanh")
"""The model's float64 functions that numpy computes with code chosen for the CPU."""


@functools.cache
def arithmetic() -> str:
    """How this process rounds (`x86_64; numpy exp X86_V4, ...; BLAS ...; C library ...`).

    The CPU architecture, numpy's SIMD target for each of ROUNDED_BY_THE_MACHINE, the BLAS kernel
    behind matrix products, and the C library whose `exp` and `log` numpy calls where it has no
    SIMD code of its own for them (below AVX-512 on x86). Looked up once a process (about 13 ms);
    `?` for what cannot be told.
    """
    return (f"{platform.machine() or '?'}; numpy {_numpy_targets()}; BLAS {numpy_blas()}; "
            f"C library {_c_library()}")


def _numpy_targets() -> str:
    try:
        dispatched = opt_func_info(func_name="^(" + "|".join(ROUNDED_BY_THE_MACHINE) + ")$",
                                   signature="float64")
    except Exception:  # an introspection numpy may change: never fail a task for a record
        dispatched = {}
    return ", ".join(f"{name} {dispatched.get(name, {}).get('dd', {}).get('current', '?')}"
                     for name in ROUNDED_BY_THE_MACHINE)


def numpy_blas() -> str:
    """The BLAS numpy's matrix products call and the kernel it chose for this CPU.

    numpy's own where it can be told apart (a wheel's bundled library: in `numpy.libs` beside the
    package on Linux and Windows, in `numpy/.dylibs` on macOS). Another BLAS a process happens to
    have loaded (SciPy's) would otherwise make two processes of one machine read as different.
    """
    try:
        pools = [pool for pool in threadpool_info() if pool.get("user_api") == "blas"]
    except Exception:
        return "?"
    package = Path(numpy.__file__).resolve().parent
    bundled = (package, package / ".dylibs", package.parent / "numpy.libs")
    own = [pool for pool in pools
           if Path(str(pool.get("filepath", ""))).resolve().parent in bundled] or pools
    found = sorted({f"{pool.get('internal_api')} {pool.get('architecture', '?')}"
                    for pool in own})
    return ", ".join(found) or "?"


def _c_library() -> str:
    name, version = platform.libc_ver()
    if name:
        return f"{name} {version}"
    release = platform.mac_ver()[0]
    return f"macOS {release}" if release else "?"


def warn_if_mixed(where: object, seen: list[str]) -> None:
    """Warn when the tasks of one folder ran on machines that round differently."""
    if len(seen) > 1:
        warnings.warn(BlocsimWarning(
            f"{where}: its tasks ran on machines that round differently ({' | '.join(seen)}); "
            "its tables may differ in the last bits from a run on one machine"), stacklevel=3)
