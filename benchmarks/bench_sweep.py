"""Sweep benchmarks of issue 12: shapes, scale, other tools, Dask (blocsim's sweep machinery).

    make bench-sweep:        .venv/bin/python benchmarks/bench_sweep.py compare
                             [--runs 2000] [--repeats 3] [--methods lhs,one-point,mesa,ema]
    make bench-sweep-scale:  .venv/bin/python benchmarks/bench_sweep.py scale
                             [--runs 10000 100000]
    make bench-dask:         .venv/bin/python benchmarks/bench_sweep.py dask [--runs 20000]
    (part of compare):       .venv/bin/python benchmarks/bench_sweep.py profile [--runs 1024]

Every sweep is the ten pressures' end values over [0, 1] on the baseline (`harness.lhs_sweep_file`,
the shipped `pressures_lhs` axes), 1 replication per point, keeping `outcomes` and `levels`
(`harness.SWEEP_TABLES`), on 2 workers. Each measured method runs in its own child process; the
parent records the peak summed PSS of that process tree in a second run of the same child: every
time is measured with nothing reading the processes' memory (`harness.timed_then_sampled`).

- compare: the same runs as an LHS of N points x 1 replication ("lhs") and as 1 point x N
  replications ("one-point", every axis at the baseline's value), alternated `--repeats` times
  (medians compared; the last repeat runs again for memory); then `mesa.batch_run`
  (number_processes=2) and EMA Workbench's MultiprocessingEvaluator (n_processes=2) on the same N
  design points with the same model function (`batchrun_model.py`) and the same data kept; their
  final levels are checked against blocsim's. EMA runs in `benchmarks/.venv-ema` (created on first
  use with ema_workbench and this checkout; never a dependency of blocsim). Then `profile`.
- scale: the LHS at each size; peak memory of the largest against the smallest.
- dask: the LHS on a Dask LocalCluster (2 workers, loopback) and on local processes; parallel
  efficiency and where the wall time goes (cluster start, first result, last result, finishing);
  then the same LHS in one process, for the speedup efficiency.
- profile: in this process, the per-run cost of each stage of the kernel (point compile, stacking,
  model, outcomes, tables, Parquet) for the LHS against the one-point sweep.

Wall time runs from loading the sweep file (blocsim) or calling batch_run / starting EMA's pool
to the last result on disk or in memory: worker or cluster start-up included, interpreter
start-up and imports excluded. Parallel efficiency = the tasks' own seconds (simulating, building
and writing their tables, measured in the workers) / (wall x workers): it says how busy the
workers were, and reads well when every task runs slower. The speedup efficiency does not: the
wall time of the same sweep in one process / (wall x workers).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from harness import (
    HERE,
    ROOT,
    SWEEP_TABLES,
    WORKERS,
    child_command,
    folder_megabytes,
    lhs_sweep_file,
    machine,
    one_point_sweep_file,
    run_child,
    timed_then_sampled,
)

SCRIPT = Path(__file__).resolve()
DESIGN_ENV = "BLOCSIM_BENCH_DESIGN"


# ---------------------------------------------------------------------------------------------
# Children: each measured method in its own process
# ---------------------------------------------------------------------------------------------

def blocsim_child(sweep_path: Path, out: Path, dask: bool, workers: int = WORKERS) -> dict:
    """Run a sweep file into `out` on `workers` workers (1: in this process); return the timeline
    of the run."""
    from blocsim.experiment.executors import make_executor
    from blocsim.experiment.sweep import run_sweep
    from blocsim.experiment.sweepfile import load_sweep

    finished: list[float] = []
    started = time.perf_counter()
    sweep = load_sweep(sweep_path)
    executor = make_executor(workers, "local" if dask else None)
    ready = time.perf_counter()
    manifest = run_sweep(sweep, out, executor,
                         progress=lambda total, done: lambda runs: finished.append(
                             time.perf_counter()))
    ended = time.perf_counter()
    timings = manifest["timings"]
    return {"wall": ended - started, "compute": timings["compute_seconds"],
            "sweep_wall": timings["wall_seconds"], "runs": manifest["runs"],
            "tasks": manifest["tasks"], "executor_start": ready - started,
            "first_result": finished[0] - started, "last_result": finished[-1] - started,
            "finishing": ended - finished[-1], "output_mb": folder_megabytes(out)}


def mesa_child(final_path: Path) -> dict:
    """`mesa.batch_run` over the design's points (1 run each, 2 processes)."""
    import mesa
    from batchrun_model import BatchRunAllianceModel

    points = len(np.load(os.environ[DESIGN_ENV])["values"])
    started = time.perf_counter()
    rows = mesa.batch_run(BatchRunAllianceModel, {"point": range(points)},
                          number_processes=WORKERS, rng=[None], max_steps=1000,
                          data_collection_period=1, display_progress=False)
    wall = time.perf_counter() - started
    finals = {row["point"]: row["outcomes"] for row in rows if row["outcomes"] is not None}
    if len(finals) != points:
        raise SystemExit(f"batch_run finished {len(finals)} of {points} runs")
    names = list(next(iter(finals.values())))
    final = np.array([[finals[p][g]["final_level"] for g in names] for p in range(points)])
    np.save(final_path, final)
    return {"wall": wall, "runs": points, "rows": len(rows)}


# ---------------------------------------------------------------------------------------------
# The parent: measures, prints
# ---------------------------------------------------------------------------------------------

def measure_blocsim(sweep_path: Path, out: Path, dask: bool = False,
                    memory: bool = True, workers: int = WORKERS) -> dict:
    """One blocsim sweep in a child process, timed unsampled; with `memory`, run again for its
    peak memory (the second run's results are left in `out`)."""
    command = child_command(SCRIPT, "child", "blocsim", "--sweep", sweep_path, "--out", out,
                            "--workers", workers)
    command = [*command, *(["--dask"] if dask else [])]
    if not memory:
        return run_child(command, sample_memory=False)
    return timed_then_sampled(command, between=lambda: remove(out))


def remove(folder: Path) -> None:
    """Delete a results folder (a sweep refuses to write over one)."""
    subprocess.run(["rm", "-rf", str(folder)], check=True)


def final_levels(folder: Path) -> np.ndarray:
    """`(points, groupings)` final level of each point's replication 0 in a sweep folder."""
    levels = pd.read_parquet(folder / "levels.parquet",
                             columns=["point", "replication", "step", "grouping", "level"])
    last = levels[(levels["step"] == levels["step"].max()) & (levels["replication"] == 0)]
    return last.pivot(index="point", columns="grouping", values="level").to_numpy()


def ema_python() -> Path:
    """The EMA venv's interpreter, with ema_workbench and this checkout of blocsim installed."""
    from bench_prim_ema import ema_python as ema_only

    python = ema_only()
    found = subprocess.run([str(python), "-c", "import blocsim"], capture_output=True)
    if found.returncode != 0:
        print(f"installing this checkout of blocsim into {python.parent.parent} (once)...",
              flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-e", str(ROOT)],
                       check=True)
    return python


def line(label: str, result: dict, runs: int) -> str:
    """One row of a results table."""
    efficiency = (result["compute"] / (result["wall"] * WORKERS) if "compute" in result
                  else float("nan"))
    peak = "-" if np.isnan(result["peak_mb"]) else f"{result['peak_mb']:.0f}"
    return (f"{label:<34} {result['wall']:8.2f} {runs / result['wall']:8.0f} "
            f"{peak:>8} {efficiency:10.2f}")


HEADER = f"{'method (2 workers)':<34} {'wall s':>8} {'runs/s':>8} {'peak MB':>8} {'efficiency':>10}"


def compare(runs: int, repeats: int, methods: list[str], profile_runs: int) -> None:
    """Items 1 and 3: the LHS against one point, then against batch_run and EMA."""
    from batchrun_model import save_design

    from blocsim.experiment.designs import design_points
    from blocsim.experiment.sweepfile import load_sweep

    print(machine())
    print(f"{runs} runs of the 40-quarter baseline, 1 replication per point unless said, tables "
          f"{list(SWEEP_TABLES)}")
    floor = run_child(child_command(SCRIPT, "child", "imports"))["peak_mb"]
    print(f"(one interpreter that has imported blocsim's engine, what a sweep needs: {floor:.0f} "
          f"MB PSS)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        lhs = lhs_sweep_file(folder, runs)
        one = one_point_sweep_file(folder, runs)
        spec = load_sweep(lhs).spec
        design = folder / "design.npz"
        save_design(design, design_points(spec), spec.seed)
        shapes: dict[str, list[dict]] = {"lhs": [], "one-point": []}
        blocsim_final = None
        print(HEADER)
        for repeat in range(repeats):
            for shape, path in (("lhs", lhs), ("one-point", one)):
                if shape not in methods:
                    continue
                out = folder / f"{shape}-{repeat}"
                last = repeat == repeats - 1
                result = measure_blocsim(path, out, memory=last)
                shapes[shape].append(result)
                label = (f"blocsim, {runs} points x 1" if shape == "lhs"
                         else f"blocsim, 1 point x {runs}")
                print(line(f"{label} (#{repeat + 1})", result, runs), flush=True)
                if shape == "lhs" and blocsim_final is None:
                    blocsim_final = final_levels(out)
                remove(out)
        if shapes["lhs"] and shapes["one-point"]:
            lhs_wall = statistics.median(r["wall"] for r in shapes["lhs"])
            one_wall = statistics.median(r["wall"] for r in shapes["one-point"])
            print(f"LHS / one point (median walls {lhs_wall:.2f} s / {one_wall:.2f} s): "
                  f"{lhs_wall / one_wall:.2f}x (target <= 1.3x)")
        others = {}
        env = {DESIGN_ENV: str(design)}
        if "mesa" in methods:
            others["mesa"] = timed_then_sampled(child_command(
                SCRIPT, "child", "mesa", "--final", folder / "mesa.npy"), env=env)
            print(line("mesa.batch_run, number_processes=2", others["mesa"], runs), flush=True)
        if "ema" in methods:
            command = [str(ema_python()), "-W", "ignore", str(HERE / "ema_sweep_worker.py"),
                       str(design), str(folder / "ema.npy"), str(WORKERS)]
            others["ema"] = timed_then_sampled(command, env={**env, "TQDM_DISABLE": "1"})
            print(line("EMA MultiprocessingEvaluator(2)", others["ema"], runs), flush=True)
        for name, result in others.items():
            if shapes["lhs"]:
                wall = statistics.median(r["wall"] for r in shapes["lhs"])
                peak = shapes["lhs"][-1]["peak_mb"]
                print(f"blocsim LHS vs {name}: {result['wall'] / wall:.1f}x its "
                      f"throughput, {peak / result['peak_mb']:.2f}x its peak "
                      f"memory (targets vs batch_run: >= 10x, <= 0.10x)")
            if blocsim_final is not None:
                theirs = np.load(folder / f"{name}.npy")
                same = theirs.shape == blocsim_final.shape and np.array_equal(theirs,
                                                                              blocsim_final)
                print(f"  {name}'s final levels equal blocsim's on every point: {same}")
    if profile_runs:
        profile(profile_runs)


def scale(sizes: list[int]) -> None:
    """Item 2: the LHS at each size; memory of the largest against the smallest."""
    print(machine())
    print(f"LHS of the ten pressures' end values, 1 replication per point, tables "
          f"{list(SWEEP_TABLES)}")
    print(f"{HEADER} {'output MB':>10}")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for runs in sizes:
            folder = Path(tmp) / str(runs)
            folder.mkdir()
            result = measure_blocsim(lhs_sweep_file(folder, runs), folder / "out")
            results[runs] = result
            print(f"{line(f'blocsim local, {runs} runs', result, runs)} "
                  f"{result['output_mb']:10.0f}", flush=True)
            subprocess.run(["rm", "-rf", str(folder)], check=True)
    small, large = min(sizes), max(sizes)
    print(f"peak memory {large} runs / {small} runs: "
          f"{results[large]['peak_mb'] / results[small]['peak_mb']:.2f}x (target <= 1.2x); "
          f"{large} runs in {results[large]['wall']:.0f} s (target < 180 s)")


def dask(runs: int, rounds: int = 3) -> None:
    """Item 4: Dask LocalCluster against local processes and one process, and where the time goes.

    The three run in interleaved rounds (one process, Dask, local processes; then again), each
    timed with nothing sampling its memory, and the speedup efficiency (one process's wall /
    (wall x 2)) is read from each round's own three runs: this machine's speed drifts by 10-15%
    over minutes, which the one-process run once took alone. Medians over the rounds are reported
    beside each round. Then each executor runs once more for its peak memory
    (`harness.timed_then_sampled`'s reason: sampled while timed, Dask's tasks once took 1.3x their
    unsampled seconds).
    """
    print(machine())
    print(f"LHS of {runs} runs, 1 replication per point, tables {list(SWEEP_TABLES)}; "
          f"{rounds} interleaved rounds")
    executors = (("blocsim, Dask LocalCluster", True), ("blocsim, local processes", False))
    timed: dict[str, list[dict]] = {label: [] for label, _ in executors}
    serial_walls: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        sweep = lhs_sweep_file(Path(tmp), runs)
        for round_ in range(rounds):
            serial = measure_blocsim(sweep, Path(tmp) / "serial", memory=False, workers=1)
            remove(Path(tmp) / "serial")
            serial_walls.append(serial["wall"])
            efficiencies = []
            for label, use_dask in executors:
                out = Path(tmp) / ("dask" if use_dask else "local")
                result = measure_blocsim(sweep, out, use_dask, memory=False)
                remove(out)
                timed[label].append(result)
                efficiencies.append(f"{label} {result['wall']:.2f} s, speedup efficiency "
                                    f"{serial['wall'] / (result['wall'] * WORKERS):.2f}")
            print(f"round {round_ + 1}: one process {serial['wall']:.2f} s; "
                  + "; ".join(efficiencies), flush=True)
        results = {}
        for label, use_dask in executors:
            out = Path(tmp) / ("dask" if use_dask else "local")
            peak = run_child(child_command(SCRIPT, "child", "blocsim", "--sweep", sweep, "--out",
                                           out, "--workers", WORKERS,
                                           *(["--dask"] if use_dask else [])))["peak_mb"]
            remove(out)
            median_round = sorted(timed[label], key=lambda r: r["wall"])[rounds // 2]
            results[label] = {**median_round, "peak_mb": peak}
    print(HEADER)
    for label, result in results.items():
        print(line(label, result, runs) + "   (median round; peak from a separate run)")
    serial_median = statistics.median(serial_walls)
    print(f"one process (no workers), median of {rounds}: {serial_median:.2f} s "
          f"(rounds: {', '.join(f'{w:.2f}' for w in serial_walls)})")
    for label in results:
        per_round = [w / (r["wall"] * WORKERS) for w, r in zip(serial_walls, timed[label],
                                                               strict=True)]
        print(f"speedup efficiency, {label}: median {statistics.median(per_round):.2f} "
              f"(rounds: {', '.join(f'{e:.2f}' for e in per_round)})")
    imports = run_child(child_command(SCRIPT, "child", "imports"), sample_memory=False)["wall"]
    print(f"fixed costs outside the tasks: a fresh interpreter imports blocsim's engine in "
          f"{imports:.2f} s "
          f"(a LocalCluster's forkserver does it once, from the moment the executor is made, "
          f"and forks the workers from it; forked local workers inherit it); the "
          f"sweep's context (compiled scenario, design) pickles to {context_megabytes(runs):.2f} "
          f"MB (scattered to every Dask worker)")
    print("where the wall time goes (seconds from loading the sweep file):")
    for label, r in results.items():
        idle = r["wall"] * WORKERS - r["compute"]
        print(f"  {label}: executor ready {r['executor_start']:.2f}; first task back "
              f"{r['first_result']:.2f}; last task back {r['last_result']:.2f}; finishing "
              f"(moving parts, manifest, closing workers) {r['finishing']:.2f}; wall "
              f"{r['wall']:.2f}; tasks {r['tasks']}, their own seconds {r['compute']:.1f}; "
              f"worker-seconds not in a task {idle:.1f} ({idle / r['tasks'] * 1e3:.0f} ms a "
              f"task); efficiency within run_sweep "
              f"{r['compute'] / (r['sweep_wall'] * WORKERS):.2f}")


def context_megabytes(runs: int) -> float:
    """The size of what every worker of an LHS sweep of `runs` points receives (cloudpickled,
    as Dask sends it)."""
    import cloudpickle

    from blocsim.experiment.designs import design_points
    from blocsim.experiment.kernel import KernelContext
    from blocsim.experiment.sweep import SweepContext, sweep_plan
    from blocsim.experiment.sweepfile import load_sweep
    from blocsim.experiment.tables import TableCollector

    with tempfile.TemporaryDirectory() as tmp:
        sweep = load_sweep(lhs_sweep_file(Path(tmp), runs))
    plan = sweep_plan(sweep, design_points(sweep.spec))
    context = SweepContext(KernelContext.of(plan, TableCollector(SWEEP_TABLES, True)), tmp)
    return len(cloudpickle.dumps(context)) / 2**20


# ---------------------------------------------------------------------------------------------
# Profile: where a run's cost goes, per stage of the kernel
# ---------------------------------------------------------------------------------------------

def profile(runs: int) -> None:
    """Per-run seconds of each kernel stage, an LHS of `runs` points against one point."""
    from blocsim.experiment.designs import design_points
    from blocsim.experiment.kernel import BATCH, RunBatch
    from blocsim.experiment.plan import TASK_RUNS, replication_stream
    from blocsim.experiment.sweepfile import load_sweep
    from blocsim.experiment.tables import batch_tables, concat_tables
    from blocsim.model import AllianceModel, BatchInputs, CompiledScenario
    from blocsim.model.outcomes import batch_outcomes

    with tempfile.TemporaryDirectory() as tmp:
        sweep = load_sweep(lhs_sweep_file(Path(tmp), runs))
        points = design_points(sweep.spec)
        base = one_point_sweep_file(Path(tmp), runs)
        one_values = {a.path: a.values[0] for a in load_sweep(base).spec.axes}
        compiled = CompiledScenario(sweep.base)
        shapes = {"lhs": [{p: float(v) for p, v in row.items()}
                          for row in points.to_dict("records")],
                  "one-point": [one_values] * runs}
        stages = ("point compile", "stacking", "model set-up", "quarters", "outcomes", "tables",
                  "parquet")
        spent = {shape: dict.fromkeys(stages, 0.0) for shape in shapes}
        for shape, values in shapes.items():
            clock = spent[shape]
            for task_start in range(0, runs, TASK_RUNS):
                tick = time.perf_counter()
                # The kernel compiles each distinct point of a task once.
                cache: dict[int, object] = {}
                inputs = []
                for k in range(task_start, min(runs, task_start + TASK_RUNS)):
                    key = k if shape == "lhs" else 0
                    if key not in cache:
                        cache[key] = compiled.point(values[k])
                    inputs.append(cache[key])
                clock["point compile"] += time.perf_counter() - tick
                parts = []
                for start in range(0, len(inputs), BATCH):
                    chunk = range(task_start + start, task_start + min(start + BATCH,
                                                                       len(inputs)))
                    tick = time.perf_counter()
                    batch_inputs = BatchInputs.stack(compiled.structure,
                                                     inputs[start:start + BATCH])
                    streams = [replication_stream(1, k if shape == "lhs" else 0,
                                                  0 if shape == "lhs" else k) for k in chunk]
                    tock = time.perf_counter()
                    clock["stacking"] += tock - tick
                    model = AllianceModel(batch_inputs, rng=streams)
                    tick = time.perf_counter()
                    clock["model set-up"] += tick - tock
                    trajectory = model.run()
                    tock = time.perf_counter()
                    clock["quarters"] += tock - tick
                    tick = tock
                    outcomes = batch_outcomes(trajectory, batch_inputs)
                    tock = time.perf_counter()
                    clock["outcomes"] += tock - tick
                    ids = np.array(list(chunk))
                    batch = RunBatch(ids if shape == "lhs" else np.zeros_like(ids),
                                     ids if shape == "one-point" else np.zeros_like(ids),
                                     batch_inputs, trajectory, outcomes)
                    parts.append(batch_tables(batch, SWEEP_TABLES, with_point=True))
                    clock["tables"] += time.perf_counter() - tock
                tick = time.perf_counter()
                tables = concat_tables(parts)
                clock["tables"] += time.perf_counter() - tick
                tick = time.perf_counter()
                for name, table in tables.items():
                    table.to_parquet(Path(tmp) / f"{shape}-{task_start}-{name}.parquet",
                                     index=False)
                clock["parquet"] += time.perf_counter() - tick
    print(f"per-run cost of each kernel stage, one process, {runs} runs (ms a run):")
    print(f"{'stage':<16} {'LHS':>8} {'one point':>10} {'difference':>11}")
    for stage in stages:
        a, b = spent["lhs"][stage] / runs * 1e3, spent["one-point"][stage] / runs * 1e3
        print(f"{stage:<16} {a:8.3f} {b:10.3f} {a - b:+11.3f}")
    total_a = sum(spent["lhs"].values()) / runs * 1e3
    total_b = sum(spent["one-point"].values()) / runs * 1e3
    print(f"{'total':<16} {total_a:8.3f} {total_b:10.3f} {total_a - total_b:+11.3f}  "
          f"(ratio {total_a / total_b:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    c = commands.add_parser("compare")
    c.add_argument("--runs", type=int, default=2000)
    c.add_argument("--repeats", type=int, default=3)
    c.add_argument("--methods", default="lhs,one-point,mesa,ema")
    c.add_argument("--profile-runs", type=int, default=1024)
    s = commands.add_parser("scale")
    s.add_argument("--runs", type=int, nargs="+", default=[10_000, 100_000])
    d = commands.add_parser("dask")
    d.add_argument("--runs", type=int, default=20_000)
    d.add_argument("--rounds", type=int, default=3)
    p = commands.add_parser("profile")
    p.add_argument("--runs", type=int, default=1024)
    k = commands.add_parser("child")
    k.add_argument("method", choices=["blocsim", "mesa", "imports"])
    k.add_argument("--sweep", type=Path)
    k.add_argument("--out", type=Path)
    k.add_argument("--dask", action="store_true")
    k.add_argument("--final", type=Path)
    k.add_argument("--workers", type=int, default=WORKERS)
    args = parser.parse_args()
    if args.command == "child":
        if args.method == "imports":
            started = time.perf_counter()
            import blocsim.experiment.executors  # noqa: F401
            import blocsim.experiment.sweep  # noqa: F401
            import blocsim.experiment.sweepfile  # noqa: F401

            result = {"wall": time.perf_counter() - started}
        elif args.method == "blocsim":
            result = blocsim_child(args.sweep, args.out, args.dask, args.workers)
        else:
            result = mesa_child(args.final)
        print(json.dumps(result))
    elif args.command == "compare":
        compare(args.runs, args.repeats, args.methods.split(","), args.profile_runs)
    elif args.command == "scale":
        scale(args.runs)
    elif args.command == "dask":
        dask(args.runs, args.rounds)
    else:
        profile(args.runs)


if __name__ == "__main__":
    main()
