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

from numpy.lib.introspect import opt_func_info
from threadpoolctl import threadpool_info

from blocsim.errors import BlocsimWarning

ROUNDED_BY_THE_MACHINE = ("exp", "log", "tanh")
"""The model's float64 functions that numpy computes with code chosen for the CPU."""


@functools.cache
def arithmetic() -> str:
    """How this process rounds, e.g. `x86_64; numpy exp X86_V4, ...; BLAS openblas SkylakeX`.

    The CPU architecture, numpy's SIMD target for each of ROUNDED_BY_THE_MACHINE and the BLAS
    kernel behind matrix products. Looked up once a process (about 13 ms).
    """
    dispatched = opt_func_info(func_name="^(" + "|".join(ROUNDED_BY_THE_MACHINE) + ")$",
                               signature="float64")
    targets = ", ".join(f"{name} {dispatched.get(name, {}).get('dd', {}).get('current', '?')}"
                        for name in ROUNDED_BY_THE_MACHINE)
    return f"{platform.machine()}; numpy {targets}; BLAS {numpy_blas()}"


def numpy_blas() -> str:
    """The BLAS numpy's matrix products call and the kernel it chose for this CPU.

    numpy's own when it can be told apart (a wheel's bundled library, under numpy's folder):
    another BLAS a process happens to have loaded (SciPy's) would otherwise make two processes
    of one machine read as different.
    """
    pools = [pool for pool in threadpool_info() if pool.get("user_api") == "blas"]
    own = [pool for pool in pools if "numpy" in str(pool.get("filepath", ""))] or pools
    found = sorted({f"{pool.get('internal_api')} {pool.get('architecture', '?')}"
                    for pool in own})
    return ", ".join(found) or "?"


def warn_if_mixed(where: object, seen: list[str]) -> None:
    """Warn when the tasks of one folder ran on machines that round differently."""
    if len(seen) > 1:
        warnings.warn(BlocsimWarning(
            f"{where}: its tasks ran on machines that round differently ({' | '.join(seen)}); "
            "its tables may differ in the last bits from a run on one machine"), stacklevel=3)
