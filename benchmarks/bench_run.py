"""Benchmark `blocsim run` on the baseline: one replication, and 1,000 on the machine's cores.

Usage: `make bench` (or `.venv/bin/python benchmarks/bench_run.py [--replications N]`).

Reports, in one process so the figures share the machine's state:
- the median wall time of one 40-quarter replication run alone (a model of one replication);
- the median cost per replication when replications advance in lockstep batches (as runs do);
- the wall time of N replications through `blocsim.run` with 1 worker and with all cores,
  and the ratio between them (the parallel speed-up on this machine).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

import blocsim
from blocsim.experiment.runner import BATCH, simulate
from blocsim.model import AllianceModel, compile_inputs

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"


def median_seconds(action, repeats: int) -> float:
    """Median wall time of `action()` over `repeats` calls (after one warm-up call)."""
    action()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=1000)
    args = parser.parse_args()
    scenario = blocsim.load(BASELINE)
    inputs = compile_inputs(scenario)
    seeds = np.random.SeedSequence(1).spawn(BATCH)
    steps = scenario.scenario.steps

    single = median_seconds(lambda: AllianceModel(inputs, rng=seeds[0]).run(), 30)
    batched = median_seconds(lambda: simulate(inputs, 0, seeds), 10) / BATCH
    print(f"baseline: {len(scenario.states)} states, {len(scenario.groupings)} groupings, "
          f"{steps} quarters")
    print(f"one replication run alone (median of 30):       {single * 1e3:8.2f} ms")
    print(f"per replication in lockstep batches of {BATCH}:     {batched * 1e3:8.2f} ms")

    cores = os.cpu_count() or 1
    walls = {}
    for workers in sorted({1, cores}):
        started = time.perf_counter()
        results = blocsim.run(scenario, replications=args.replications, seed=1, workers=workers)
        walls[workers] = time.perf_counter() - started
        print(f"{args.replications} replications, {workers} worker(s), tables included: "
              f"{walls[workers]:6.2f} s ({walls[workers] / args.replications * 1e3:.2f} ms each;"
              f" simulation {results.manifest['timings']['wall_seconds']:.2f} s)")
    if cores > 1:
        print(f"speed-up with {cores} workers: {walls[1] / walls[cores]:.2f}x")


if __name__ == "__main__":
    main()
