"""Benchmark runs of the baseline: a lone replication (with its breakdown), batches, 1,000 runs.

Usage: `make bench` (or `.venv/bin/python benchmarks/bench_run.py [--replications 1000]
[--repeats 30]`). In one process, so the figures share the machine's state:

- a lone replication through the Python API, `blocsim.run(scenario, replications=1, workers=1)`
  (tables built, manifest written in memory), and bare, `AllianceModel(compile_batch(s, 1),
  rng=[stream]).run()` (median of `--repeats`);
- its breakdown, stage by stage (compile, model set-up, the quarters, outcomes, each table, the
  manifest's version look-up; the rest of `blocsim.run` is the difference), medians;
- one quarter's cost with 1, 8 and 64 replications in lockstep: what does not grow with the
  batch is per-call overhead;
- a cProfile of lone `blocsim.run` calls: the functions with the most own time (the full listing
  goes to `benchmarks/out/lone_profile.txt`);
- the cost per replication in lockstep batches of 64, and N replications through `blocsim.run`
  on 1 worker and on 2.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import time
from pathlib import Path

import numpy as np
from harness import BASELINE, OUT, machine, median_seconds

import blocsim
from blocsim.experiment.kernel import BATCH, RunBatch, simulate_runs
from blocsim.experiment.plan import replication_stream
from blocsim.experiment.store import versions
from blocsim.experiment.tables import TABLES, batch_tables
from blocsim.model import AllianceModel, BatchInputs, CompiledScenario, compile_batch
from blocsim.model.outcomes import batch_outcomes
from blocsim.scenario.schema import Scenario
from blocsim.scenario.sources import changes, origin


def lone_stages(scenario: Scenario, repeats: int) -> dict[str, float]:
    """Median seconds of each stage of one lone replication, as `blocsim.run` does them."""
    stream = replication_stream(1, 0, 0)
    seconds: dict[str, list[float]] = {}

    def note(stage: str, since: float) -> float:
        now = time.perf_counter()
        seconds.setdefault(stage, []).append(now - since)
        return now

    for _ in range(repeats + 1):
        tick = time.perf_counter()
        compiled = CompiledScenario(scenario)
        tick = note("compile (CompiledScenario)", tick)
        inputs = BatchInputs.stack(compiled.structure, [compiled.base])
        tick = note("stack the batch's inputs", tick)
        model = AllianceModel(inputs, rng=[stream])
        tick = note("model set-up (noise, opening rounds)", tick)
        while model.running:
            model.step()
        tick = note("40 quarters (step)", tick)
        trajectory = model.trajectory
        tick = note("trajectory", tick)
        outcomes = batch_outcomes(trajectory, inputs)
        tick = note("outcomes", tick)
        batch = RunBatch(np.zeros(1, int), np.zeros(1, int), inputs, trajectory, outcomes)
        for table in TABLES:
            batch_tables(batch, (table,), with_point=False)
            tick = note(f"table {table}", tick)
        changes(origin(scenario.path), scenario.raw)
        tick = note("manifest: scenario file re-read (changes)", tick)
        versions()
        note("manifest: package versions", tick)
    return {stage: statistics.median(values[1:]) for stage, values in seconds.items()}


def quarter_cost(scenario: Scenario, replications: int, repeats: int) -> float:
    """Median seconds of one quarter (`step`) with `replications` advancing in lockstep."""
    inputs = compile_batch(scenario, replications)
    streams = [replication_stream(1, 0, r) for r in range(replications)]
    times = []
    for _ in range(repeats):
        model = AllianceModel(inputs, rng=streams)
        started = time.perf_counter()
        while model.running:
            model.step()
        times.append((time.perf_counter() - started) / scenario.scenario.steps)
    return statistics.median(times)


def profile_lone(scenario: Scenario, calls: int, top: int = 15) -> str:
    """The `top` functions by own time over `calls` lone `blocsim.run` calls; full listing saved."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        blocsim.run(scenario, replications=1, workers=1)
    profiler.disable()
    OUT.mkdir(exist_ok=True)
    full = io.StringIO()
    pstats.Stats(profiler, stream=full).sort_stats("tottime").print_stats(80)
    (OUT / "lone_profile.txt").write_text(full.getvalue())
    stats = pstats.Stats(profiler).sort_stats("tottime")
    total = stats.total_tt  # type: ignore[attr-defined]
    lines = [f"cProfile of {calls} lone blocsim.run calls ({total / calls * 1e3:.1f} ms a call "
             f"profiled; {stats.total_calls / calls:,.0f} Python-level calls a "  # type: ignore
             f"run): own time by function"]
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:top]  # type: ignore
    for (filename, lineno, name), (_, ncalls, own, _cum, _) in rows:
        where = Path(filename).name if filename != "~" else ""
        lines.append(f"  {own / calls * 1e3:7.2f} ms {own / total:6.1%}  {ncalls / calls:7.0f} "
                     f"calls  {where}:{lineno}({name})" if where else
                     f"  {own / calls * 1e3:7.2f} ms {own / total:6.1%}  {ncalls / calls:7.0f} "
                     f"calls  {name}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    scenario = blocsim.load(BASELINE)
    steps = scenario.scenario.steps
    print(machine())
    print(f"baseline: {len(scenario.states)} states, {len(scenario.groupings)} groupings, "
          f"{steps} quarters")

    api = median_seconds(lambda: blocsim.run(scenario, replications=1, workers=1), args.repeats)
    stream = replication_stream(1, 0, 0)
    bare = median_seconds(lambda: AllianceModel(compile_batch(scenario, 1), rng=[stream]).run(),
                          args.repeats)
    print(f"lone replication, blocsim.run(s, replications=1, workers=1) (median of "
          f"{args.repeats}): {api * 1e3:8.2f} ms   (target < 5 ms)")
    print(f"lone replication, AllianceModel(compile_batch(s, 1), rng=[...]).run():      "
          f"{bare * 1e3:8.2f} ms")

    stages = lone_stages(scenario, args.repeats)
    print("breakdown of the lone blocsim.run (medians; the rest is the difference):")
    for stage, seconds in stages.items():
        print(f"  {stage:<40} {seconds * 1e3:8.2f} ms {seconds / api:6.1%}")
    rest = api - sum(stages.values())
    print(f"  {'rest (plan, task, tqdm, Results)':<40} {rest * 1e3:8.2f} ms {rest / api:6.1%}"
          f"{'  (below the noise of the medians)' if rest < 0 else ''}")

    print("one quarter (step), replications advancing in lockstep (medians):")
    per_quarter = {r: quarter_cost(scenario, r, max(3, args.repeats // 3)) for r in (1, 8, 64)}
    for r, seconds in per_quarter.items():
        print(f"  {r:3d} replications: {seconds * 1e6:8.0f} us a quarter, "
              f"{seconds / r * 1e6:7.1f} us per replication-quarter")
    fixed = per_quarter[1] - (per_quarter[64] - per_quarter[1]) / 63
    print(f"  fixed cost of a quarter (intercept of 1 -> 64): {fixed * 1e6:.0f} us, "
          f"{fixed / per_quarter[1]:.0%} of a lone quarter")
    print(profile_lone(scenario, max(10, args.repeats)))

    seeds = [replication_stream(1, 0, r) for r in range(BATCH)]
    compiled = CompiledScenario(scenario)
    points = [compiled.base] * BATCH
    batched = median_seconds(lambda: simulate_runs(compiled, points, np.zeros(BATCH, int),
                                                   np.arange(BATCH), seeds), 10) / BATCH
    print(f"per replication in lockstep batches of {BATCH} (model and outcomes, median of 10): "
          f"{batched * 1e3:6.2f} ms")
    walls = {}
    for workers in (1, 2):
        started = time.perf_counter()
        results = blocsim.run(scenario, replications=args.replications, seed=1, workers=workers)
        walls[workers] = time.perf_counter() - started
        print(f"{args.replications} replications, {workers} worker(s), tables included: "
              f"{walls[workers]:6.2f} s ({walls[workers] / args.replications * 1e3:.2f} ms each;"
              f" run's own wall {results.manifest['timings']['wall_seconds']:.2f} s)")
    print(f"speed-up with 2 workers: {walls[1] / walls[2]:.2f}x")


if __name__ == "__main__":
    main()
