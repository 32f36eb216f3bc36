"""Benchmark one sweep through blocsim (2 local workers), blocsim on a Dask LocalCluster
(2 workers) and `mesa.batch_run` (number_processes=2), on the same model and the same runs.

Usage: `make bench-sweep` (or `.venv/bin/python benchmarks/bench_sweep.py [--points 20]
[--replications 100]`). Each method runs in its own subprocess; the parent samples the memory of
that process and all its children every 20 ms (psutil) and reports the peak of the sum of their
proportional set sizes (PSS: pages shared between forked workers are counted once, not per
process, as summed RSS would).
Wall time runs from loading the sweep (blocsim) or calling batch_run to the last result on disk or
in memory: pool or cluster start-up included, interpreter start-up and imports excluded, alike for
all three. Parallel efficiency = sum of single-run times / (wall time x workers), where single-run
times are measured inside the workers (blocsim: each task's seconds of simulating, building and
writing its tables; batch_run: a serial batch_run of the same model over a tenth of the runs,
scaled).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import psutil

HERE = Path(__file__).resolve().parent
WORKERS = 2


def sweep_file(folder: Path, points: int, replications: int) -> Path:
    steps = points // 2
    path = folder / "bench.toml"
    path.write_text(textwrap.dedent(f'''
        name = "bench"
        base = "{HERE.parent / 'scenarios' / 'baseline.toml'}"
        design = "grid"
        replications = {replications}
        seed = 1

        [[axes]]
        path = "pressures.china_assertiveness.end"
        range = [0.3, 1.0]
        steps = {steps}

        [[axes]]
        path = "states.IND.autonomy"
        values = [0.6, 0.9]
    '''))
    return path


def grid(points: int) -> tuple[list[float], list[float]]:
    return [float(v) for v in np.linspace(0.3, 1.0, points // 2)], [0.6, 0.9]


def child(method: str, points: int, replications: int, folder: Path) -> dict:
    """Run one method in this (child) process; return its timings."""
    if method in ("blocsim-local", "blocsim-dask"):
        from blocsim.experiment.executors import make_executor
        from blocsim.experiment.sweep import run_sweep
        from blocsim.experiment.sweepfile import load_sweep

        started = time.perf_counter()
        sweep = load_sweep(sweep_file(folder, points, replications))
        executor = make_executor(WORKERS, "local" if method == "blocsim-dask" else None)
        manifest = run_sweep(sweep, folder / method, executor)
        compute = manifest["timings"]["compute_seconds"]
    else:
        import mesa
        from batchrun_model import BatchRunAllianceModel

        started = time.perf_counter()
        ends, autonomies = grid(points)
        rngs = [np.random.SeedSequence(1, spawn_key=(r,)) for r in range(replications)]
        params = {"assertiveness_end": ends, "india_autonomy": autonomies}
        rows = mesa.batch_run(BatchRunAllianceModel, params, number_processes=WORKERS,
                              rng=rngs, max_steps=1000, data_collection_period=1,
                              display_progress=False)
        assert len({(r["RunId"]) for r in rows}) == points * replications
        serial_started = time.perf_counter()
        mesa.batch_run(BatchRunAllianceModel, params, number_processes=1,
                       rng=rngs[: max(1, replications // 10)], data_collection_period=1,
                       display_progress=False)
        compute = (time.perf_counter() - serial_started) * replications / max(1, replications
                                                                               // 10)
        return {"wall": serial_started - started, "compute": compute}
    return {"wall": time.perf_counter() - started, "compute": compute}


def measure(method: str, points: int, replications: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, __file__, "--child", method, "--points", str(points),
                   "--replications", str(replications), "--folder", folder]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=HERE)
        peak = 0
        watched = psutil.Process(process.pid)

        def sample() -> None:
            nonlocal peak
            while process.poll() is None:
                try:
                    tree = [watched, *watched.children(recursive=True)]
                    peak = max(peak, sum(p.memory_full_info().pss for p in tree))
                except psutil.Error:
                    pass
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        output, _ = process.communicate()
        sampler.join()
        if process.returncode != 0:
            raise SystemExit(f"{method} failed")
        result = json.loads(output.strip().splitlines()[-1])
        result["peak_mb"] = peak / 2**20
        return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--replications", type=int, default=100)
    parser.add_argument("--child")
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.points, args.replications, args.folder)))
        return
    runs = args.points * args.replications
    print(f"sweep: {args.points} points x {args.replications} replications = {runs} runs of the "
          f"40-quarter baseline, {WORKERS} workers each")
    print(f"{'method':<16} {'wall s':>8} {'runs/s':>8} {'peak MB':>8} {'efficiency':>10}")
    results = {}
    for method in ("blocsim-local", "blocsim-dask", "mesa-batch_run"):
        result = measure(method, args.points, args.replications)
        results[method] = result
        efficiency = result["compute"] / (result["wall"] * WORKERS)
        print(f"{method:<16} {result['wall']:8.2f} {runs / result['wall']:8.0f} "
              f"{result['peak_mb']:8.0f} {efficiency:10.2f}")
    base = results["mesa-batch_run"]
    for method in ("blocsim-local", "blocsim-dask"):
        print(f"{method}: {base['wall'] / results[method]['wall']:.1f}x batch_run's throughput, "
              f"{results[method]['peak_mb'] / base['peak_mb']:.2f}x its peak memory")


if __name__ == "__main__":
    main()
