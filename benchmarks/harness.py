"""What the benchmarks share: machine facts, timing, the peak memory of a process tree, sweep files.

Memory is the peak of the summed proportional set size (PSS) of a process and all its children,
sampled every 20 ms or less often, so that the sampling takes at most a tenth of one core
(psutil): pages shared between forked workers count once, not once per process as summed RSS
would.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
OUT = HERE / "out"
WORKERS = 2
SAMPLE_SECONDS = 0.02
SAMPLER_SHARE = 0.1
"""At most this share of one core goes to sampling memory. Reading a process's PSS walks its page
tables (about 4.5 ms for a 270 MB interpreter); sampled every 20 ms, a parent, a scheduler's
process, two nannies and two workers kept the sampler busy more than half of a core, and slowed
the measured work on a 2-core machine (Dask's most: it has the most processes)."""
SWEEP_TABLES = ("outcomes", "levels")
"""What the sweep benchmarks keep: `outcomes` (every sweep analysis reads it: summaries, PRIM,
Sobol) and `levels` (each grouping's quarterly level, NATO tie and suspension: the trajectories),
not the per-state quarterly tables (commitments, alignment), which a large sweep rarely needs."""


def machine() -> str:
    """One line of facts to print above any figures: date, versions, cores, current load."""
    import mesa
    import pandas

    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return (f"{date.today().isoformat()}; Python {platform.python_version()}, numpy "
            f"{np.__version__}, pandas {pandas.__version__}, Mesa {mesa.__version__}; "
            f"{os.cpu_count()} cores; load average {load} (1, 5, 15 min: an idle machine reads "
            f"near 0)")


def median_seconds(action: Callable[[], object], repeats: int) -> float:
    """Median wall time of `action()` over `repeats` calls, after one warm-up call."""
    action()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def tree_pss(process: psutil.Process) -> int:
    """Summed PSS (bytes) of a process and its children; 0 for any that has already gone."""
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_full_info().pss
        except psutil.Error:
            pass
    return total


def run_child(command: Sequence[str], cwd: Path = HERE, env: dict | None = None,
              sample_memory: bool = True) -> dict:
    """Run a benchmark child process; return the JSON of its last output line plus `peak_mb`.

    The peak is the highest summed PSS of the child and its descendants while it ran (NaN
    without `sample_memory`: a run timed with nothing reading its page tables).
    """
    process = subprocess.Popen(list(command), stdout=subprocess.PIPE, text=True, cwd=cwd,
                               env={**os.environ, **(env or {})})
    watched, peak = psutil.Process(process.pid), 0

    def sample() -> None:
        nonlocal peak
        while process.poll() is None:
            started = time.perf_counter()
            try:
                peak = max(peak, tree_pss(watched))
            except psutil.Error:
                pass
            spent = time.perf_counter() - started
            time.sleep(max(SAMPLE_SECONDS, spent * (1 - SAMPLER_SHARE) / SAMPLER_SHARE))

    sampler = threading.Thread(target=sample)
    if sample_memory:
        sampler.start()
    output, _ = process.communicate()
    if sample_memory:
        sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"benchmark child failed ({process.returncode}): {' '.join(command)}")
    result = json.loads(output.strip().splitlines()[-1])
    result["peak_mb"] = peak / 2**20 if sample_memory else float("nan")
    return result


def timed_then_sampled(command: Sequence[str], cwd: Path = HERE, env: dict | None = None,
                       between: Callable[[], None] | None = None) -> dict:
    """Run a child twice: timed with nothing reading its memory, then again for its peak.

    Reading a process's PSS walks its page tables (about 4.5 ms for a 270 MB interpreter); even
    limited to a tenth of a core, a sampler takes that from the two cores the child's workers use.
    `between` runs between the two (to clear a results folder the child refuses to overwrite).
    """
    result = run_child(command, cwd, env, sample_memory=False)
    if between is not None:
        between()
    result["peak_mb"] = run_child(command, cwd, env)["peak_mb"]
    return result


def child_command(script: Path, *arguments: object) -> list[str]:
    """This interpreter running `script` with `arguments` (as strings)."""
    return [sys.executable, str(script), *(str(a) for a in arguments)]


def base_pressure_ends() -> dict[str, float]:
    """Each pressure's value in the baseline's last quarter (where `.end` sets it)."""
    import blocsim
    from blocsim.model.pressures import exogenous_pressures
    from blocsim.vocabulary import PRESSURE_NAMES

    last = exogenous_pressures(blocsim.load(BASELINE))[-1]
    return {name: float(last[k]) for k, name in enumerate(PRESSURE_NAMES)}


def _axes(lines: Callable[[str], str]) -> str:
    from blocsim.vocabulary import PRESSURE_NAMES

    return "".join(f"\n[[axes]]\npath = \"pressures.{name}.end\"\n{lines(name)}\n"
                   for name in PRESSURE_NAMES)


def lhs_sweep_file(folder: Path, samples: int, replications: int = 1, seed: int = 1,
                   tables: Sequence[str] = SWEEP_TABLES, name: str = "bench_lhs") -> Path:
    """A Latin hypercube over the end values of all ten pressures in [0, 1] (the shipped
    `pressures_lhs` sweep's axes), `samples` points x `replications`, at the baseline's own
    weights (`point = true`: the workload `mesa.batch_run` and EMA are compared on)."""
    path = folder / f"{name}.toml"
    path.write_text(textwrap.dedent(f'''\
        name = "{name}"
        base = "{BASELINE}"
        design = "lhs"
        samples = {samples}
        replications = {replications}
        seed = {seed}
        point = true
        tables = {json.dumps(list(tables))}
    ''') + _axes(lambda _: "range = [0.0, 1.0]"))
    return path


def one_point_sweep_file(folder: Path, replications: int, seed: int = 1,
                         tables: Sequence[str] = SWEEP_TABLES, name: str = "bench_one") -> Path:
    """A one-point sweep with the same ten axes, each at the baseline's own end value."""
    ends = base_pressure_ends()
    path = folder / f"{name}.toml"
    path.write_text(textwrap.dedent(f'''\
        name = "{name}"
        base = "{BASELINE}"
        design = "grid"
        replications = {replications}
        seed = {seed}
        point = true
        tables = {json.dumps(list(tables))}
    ''') + _axes(lambda pressure: f"values = [{ends[pressure]!r}]"))
    return path


def folder_megabytes(folder: Path) -> float:
    """Bytes under a folder, in MB."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20
