"""The `blocsim` command: a thin face over the Python API (`blocsim.api`)."""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

from blocsim.errors import BlocsimError, BlocsimWarning, format_message, printable
from blocsim.experiment.debris import tidy_beside
from blocsim.experiment.lifecycle import Terminated, terminate_on_sigterm
from blocsim.experiment.limits import MAX_SEARCH_RUNS, MAX_WORKERS
from blocsim.experiment.locking import folder_lock
from blocsim.experiment.preflight import can_write, check_space, os_error_message
from blocsim.experiment.store import check_writable
from blocsim.landscape.search import MAX_STARTS
from blocsim.scenario.schema import MAX_REPLICATIONS

DEFAULT_RESULTS_ROOT = Path("results")
MAX_SEED = 2**63 - 1


def _whole_number(text: str, minimum: int, maximum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if not minimum <= value <= maximum:
        raise argparse.ArgumentTypeError(f"expected a whole number from {minimum:,} to "
                                         f"{maximum:,}, found {printable(repr(text))}")
    return value


def _count(maximum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        return _whole_number(text, 1, maximum)

    parse.__name__ = "whole number"
    return parse


def _seed(text: str) -> int:
    return _whole_number(text, 0, MAX_SEED)


def _positive_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, found "
                                         f"{printable(repr(text))}")
    return value


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, found "
                                         f"{printable(repr(text))}")
    return value


def _whole_port(text: str) -> int:
    return _whole_number(text, 0, 65_535)


_replications = _count(MAX_REPLICATIONS)
_workers = _count(MAX_WORKERS)


def build_parser() -> argparse.ArgumentParser:
    """The command line's grammar."""
    parser = argparse.ArgumentParser(
        prog="blocsim",
        description="Simulate whether QUAD, AUKUS, the IP4 and other groupings consolidate into "
                    "a formal military bloc.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run a scenario's replications and write a results "
                                          "folder")
    run.add_argument("file", type=Path, help="scenario file (TOML)")
    run.add_argument("--replications", type=_replications,
                     help=f"default: the scenario's own (at most {MAX_REPLICATIONS:,})")
    run.add_argument("--seed", type=_seed, help="root seed; default: the scenario's own")
    run.add_argument("--out", type=Path,
                     help="results folder; default: results/<scenario name>")
    run_where = run.add_mutually_exclusive_group()
    run_where.add_argument("--workers", type=_workers, help="local processes; default: all cores")
    run_where.add_argument("--dask", metavar="ADDRESS",
                           help="run on a Dask scheduler (tcp://host:port), or `local` for a "
                                "LocalCluster on loopback")
    run.add_argument("--overwrite", action="store_true",
                     help="replace an existing results folder")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--no-dashboard", action="store_true",
                     help="do not write dashboard.html into the results folder")

    sweep = commands.add_parser("sweep", help="run a parameter sweep (grid, Latin hypercube, "
                                              "Sobol) into a results folder")
    sweep.add_argument("file", type=Path, help="sweep file (TOML)")
    sweep.add_argument("--out", type=Path, help="results folder; default: results/<sweep name>")
    where = sweep.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_workers, help="local processes; default: all cores")
    where.add_argument("--dask", metavar="ADDRESS",
                       help="run on a Dask scheduler (tcp://host:port), or `local` for a "
                            "LocalCluster on loopback")
    sweep.add_argument("--dask-workers", type=_workers, default=None,
                       help="workers of the LocalCluster started by `--dask local` "
                            "(default: all cores)")
    sweep.add_argument("--resume", action="store_true",
                       help="finish an interrupted sweep in its folder")
    sweep.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.add_argument("--no-dashboard", action="store_true",
                       help="do not write dashboard.html into the sweep folder")

    dashboard = commands.add_parser("dashboard", help="write the HTML dashboard of a results "
                                                      "folder (opens offline in any browser)")
    dashboard.add_argument("folder", type=Path,
                           help="a run folder, a finished sweep folder, or a folder holding "
                                "several run folders (a comparison page)")
    dashboard.add_argument("-o", "--output", type=Path,
                           help="HTML file; default: <folder>/dashboard.html")

    tip = commands.add_parser("tip", help="find where a grouping's consolidation probability "
                                          "crosses a target as one parameter varies")
    tip.add_argument("file", type=Path, help="scenario file (TOML)")
    tip.add_argument("--vary", required=True, metavar="PATH",
                     help="dotted scenario path, e.g. pressures.china_assertiveness.value")
    tip.add_argument("--grouping", required=True, help="e.g. QUAD")
    tip.add_argument("--target", type=_finite, default=0.5,
                     help="probability whose crossing is sought (default 0.5)")
    tip.add_argument("--range", type=_finite, nargs=2, default=(0.0, 1.0),
                     metavar=("LOW", "HIGH"),
                     help="values of the parameter to search (default 0 1)")
    tip.add_argument("--precision", type=_positive_number, default=0.05,
                     help="stop when the 95%% interval is this narrow (default 0.05)")
    tip.add_argument("--max-runs", type=_count(MAX_SEARCH_RUNS), default=20_000,
                     help=f"most runs to spend (default 20,000; at most {MAX_SEARCH_RUNS:,})")
    tip.add_argument("--seed", type=_seed, help="root seed; default: the scenario's own")
    tip_where = tip.add_mutually_exclusive_group()
    tip_where.add_argument("--workers", type=_workers, help="local processes; default: all cores")
    tip_where.add_argument("--dask", metavar="ADDRESS", help="tcp://host:port or `local`")
    tip.add_argument("--out", type=Path, help="results folder; default: "
                                              "results/tip_<scenario>_<grouping>")
    tip.add_argument("--overwrite", action="store_true", help="replace an existing folder")

    analyze = commands.add_parser("analyze", help="sensitivity indices (sobol/morris sweeps) "
                                  "or scenario discovery with PRIM (lhs sweeps)")
    analyze.add_argument("folder", type=Path, help="a finished sweep folder")
    analyze.add_argument("--sensitivity", action="store_true",
                         help="Sobol indices or Morris effects per grouping -> "
                              "sensitivity.parquet")
    analyze.add_argument("--discover", metavar="GROUPING", action="append", default=[],
                         help="PRIM boxes where GROUPING consolidates (repeatable)")
    analyze.add_argument("--threshold", type=_finite, default=0.5,
                         help="with --discover: a point is of interest when its probability of "
                              "consolidation is at least this (default 0.5)")
    analyze.add_argument("--output", type=Path, metavar="DIR",
                         help="write the tables into DIR instead of beside the sweep (for a "
                              "read-only sweep folder)")

    summarize = commands.add_parser("summarize", help="per design point, the probability of "
                                    "consolidation with 95%% intervals (writes summary.parquet)")
    summarize.add_argument("folder", type=Path)
    summarize.add_argument("--output", type=Path, metavar="FILE",
                           help="write the table to FILE (Parquet) instead of "
                                "<folder>/summary.parquet (for a read-only sweep folder)")

    align = commands.add_parser("align", help="two-camp alignments of a set of actors by "
                                "landscape theory (Axelrod & Bennett 1993)")
    align.add_argument("file", type=Path, help="landscape file (TOML): [actors.NAME] size, "
                                               "[[propensities]] between, value")
    align.add_argument("--json", action="store_true", help="print the minima as JSON")
    align.add_argument("--starts", type=_count(MAX_STARTS), default=2000,
                       help=f"random starts of the dynamic for basins (default 2000, at most "
                            f"{MAX_STARTS:,})")
    align.add_argument("--seed", type=_seed, default=0)

    calibrate = commands.add_parser("calibrate", help="estimate the parameters on the record "
                                    "(ABC-SMC) and score the pre-registered test facts")
    calibrate.add_argument("file", type=Path, help="calibration file (TOML)")
    calibrate.add_argument("--out", type=Path, help="results folder; default: "
                                                    "results/calibration_<name>")
    calibrate_where = calibrate.add_mutually_exclusive_group()
    calibrate_where.add_argument("--workers", type=_workers,
                                 help="local processes; default: all cores")
    calibrate_where.add_argument("--dask", metavar="ADDRESS", help="tcp://host:port or `local`")
    calibrate.add_argument("--resume", action="store_true",
                           help="continue a killed calibration from its last finished generation")
    calibrate.add_argument("--overwrite", action="store_true", help="start the folder again")
    calibrate.add_argument("--quiet", action="store_true", help="no progress bar")

    explore = commands.add_parser("explore", help="a live what-if view in the browser: move "
                                  "pressures and state attributes, see the probabilities change")
    explore.add_argument("file", type=Path, help="scenario file (TOML)")
    explore.add_argument("--replications", type=_replications, default=300,
                         help="runs per setting, the same seed for every setting (default 300)")
    explore.add_argument("--seed", type=_seed, help="root seed; default: the scenario's own")
    explore.add_argument("--workers", type=_workers, help="local processes; default: all cores")
    explore.add_argument("--port", type=_whole_port, default=0,
                         help="port on 127.0.0.1 (default: a free one)")
    explore.add_argument("--no-browser", action="store_true",
                         help="print the address without opening a browser")

    validate = commands.add_parser("validate", help="check scenario files without running them")
    validate.add_argument("files", type=Path, nargs="+")
    return parser


def print_warnings(source: Path | str, found: list[str]) -> None:
    """Print a file's valid-but-meaningless settings as `warning: FILE: ...` lines."""
    for text in found:
        print(f"warning: {printable(str(source))}: {printable(text)}", file=sys.stderr)


def command_run(args: argparse.Namespace) -> int:
    """`blocsim run`: run, write the folder, print the summary."""
    from blocsim.analysis.summary import format_summary
    from blocsim.api import load, run

    scenario = load(args.file)
    print_warnings(args.file, scenario.warnings)
    out = args.out or DEFAULT_RESULTS_ROOT / scenario.scenario.name
    with folder_lock(out):
        folder = check_writable(out, args.overwrite)
        tidy_beside(folder)
        check_space(folder)
        results = run(scenario, replications=args.replications, seed=args.seed,
                      workers=args.workers, progress=not args.quiet, dask=args.dask)
        results.save(folder, overwrite=args.overwrite)
        if not args.no_dashboard:
            from blocsim.dashboards import write_dashboard

            write_dashboard(folder)
    manifest = results.manifest
    print(f"{scenario.scenario.name}: {manifest['replications']} replications, seed "
          f"{manifest['seed']}, {manifest['timings']['wall_seconds']:.2f} s on "
          f"{manifest['workers']} worker(s)")
    print(format_summary(results.summary()))
    print(f"results: {folder}" + ("" if args.no_dashboard
                                  else f"  (open {folder / 'dashboard.html'} in a browser)"))
    return 0


def command_dashboard(args: argparse.Namespace) -> int:
    """`blocsim dashboard`: (re)write the HTML page of a results folder."""
    from blocsim.dashboards import write_dashboard

    page = write_dashboard(args.folder, args.output)
    print(f"dashboard: {page}")
    return 0


def sweep_workers(args: argparse.Namespace, tasks: int) -> int:
    """Workers for a sweep: as asked (or all cores), never more than it has tasks."""
    from blocsim.experiment.executors import default_workers
    from blocsim.experiment.limits import usable_workers

    asked = (args.dask_workers if args.dask else args.workers) or default_workers()
    return usable_workers(asked, tasks)


def command_sweep(args: argparse.Namespace) -> int:
    """`blocsim sweep`: run or resume a sweep, streaming results to its folder."""
    from tqdm.auto import tqdm

    from blocsim.experiment.executors import make_executor
    from blocsim.experiment.sweep import TASK_RUNS, run_sweep
    from blocsim.experiment.sweepfile import load_sweep

    sweep = load_sweep(args.file)
    print_warnings(args.file, sweep.warnings)
    folder = args.out or DEFAULT_RESULTS_ROOT / sweep.spec.name
    tasks = -(-sweep.spec.point_count * sweep.spec.replications // TASK_RUNS)
    bars: list = []

    def progress(total: int, done: int):
        bar = tqdm(total=total, initial=done, unit="run", desc=sweep.spec.name,
                   disable=args.quiet, smoothing=0.1)
        bars.append(bar)
        return bar.update

    with folder_lock(folder):
        executor = make_executor(sweep_workers(args, tasks), args.dask)
        try:
            manifest = run_sweep(sweep, folder, executor, resume=args.resume,
                                 overwrite=args.overwrite, progress=progress)
        except KeyboardInterrupt as interrupt:
            for bar in bars:
                bar.close()
            print(f"{'terminated' if isinstance(interrupt, Terminated) else 'interrupted'}: "
                  f"finished tasks are saved in {folder}; finish with\n"
                  f"  blocsim sweep {args.file} --out {folder} --resume", file=sys.stderr)
            replaced = _replaced_folder(folder)
            if replaced:
                print(f"the previous results of {folder} are in {replaced} until this sweep "
                      f"completes", file=sys.stderr)
            return 143 if isinstance(interrupt, Terminated) else 130
        for bar in bars:
            bar.close()
        if not args.no_dashboard:
            from blocsim.dashboards import write_dashboard

            write_dashboard(folder)
    timings = manifest["timings"]
    if timings["runs_this_session"] == 0:
        print(f"{sweep.spec.name}: already complete in {folder}; nothing to run")
        return 0
    print(f"{sweep.spec.name}: {manifest['points']} points x {manifest['replications']} "
          f"replications = {manifest['runs']} runs on {executor.description}; "
          f"{timings['runs_this_session']} run now in {timings['wall_seconds']:.1f} s")
    print(f"results: {folder}  (summarize with: blocsim summarize {folder}"
          + ("" if args.no_dashboard else f"; open {folder / 'dashboard.html'}") + ")")
    return 0


def _replaced_folder(folder: Path) -> str | None:
    """Where an interrupted `--overwrite` of a sweep keeps the previous results, if anywhere."""
    from blocsim.experiment.store import read_manifest

    try:
        replaces = read_manifest(folder).get("replaces")
    except BlocsimError:
        return None
    return replaces if isinstance(replaces, str) else None


def output_for(folder: Path, output: Path | None, default_name: str) -> Path | None:
    """Where a command that reads a folder writes its table.

    `output` if given, else beside the data when that folder can be written, else None (print
    only: a read-only folder).
    """
    if output is not None:
        return Path(output)
    return Path(folder) / default_name if can_write(Path(folder)) else None


def command_summarize(args: argparse.Namespace) -> int:
    """`blocsim summarize`: probabilities per design point, printed and saved."""
    import pandas as pd

    from blocsim.analysis.sweeps import sweep_summary

    target = output_for(args.folder, args.output, "summary.parquet")
    summary = sweep_summary(args.folder, output=target, write=target is not None)
    axes = [c for c in summary.columns if "." in c]
    table = summary.assign(cell=[f"{p:.2f} [{lo:.2f}, {hi:.2f}]" for p, lo, hi in
                                 zip(summary.probability, summary.ci_low, summary.ci_high,
                                     strict=True)])
    wide = table.pivot_table(index=["point", *axes], columns="grouping", values="cell",
                             aggfunc="first", sort=False)
    with pd.option_context("display.max_rows", 60, "display.width", 200,
                           "display.max_columns", 20):
        print("P(consolidation) [95% interval] per design point")
        print(wide.to_string(max_rows=60))
    if target is None:
        print(f"not written: {args.folder} is read-only (write the table elsewhere with "
              f"--output FILE)")
    else:
        print(f"written: {target} ({len(summary)} rows)")
    return 0


def command_tip(args: argparse.Namespace) -> int:
    """`blocsim tip`: adaptive search for a tipping point; prints it and saves the evidence."""
    from datetime import UTC, datetime

    from blocsim.api import load, tipping_point
    from blocsim.experiment.store import versions, write_results

    scenario = load(args.file)
    print_warnings(args.file, scenario.warnings)
    if not 0.0 < args.target < 1.0:
        raise BlocsimError(f"--target must lie strictly between 0 and 1, found {args.target}")
    low, high = args.range
    if not low < high:
        raise BlocsimError(f"--range needs LOW < HIGH, found {low} {high}")
    if (high - low) / args.precision > MAX_PRECISION_STEPS:
        raise BlocsimError(f"--precision {args.precision:g} is finer than 1/"
                           f"{MAX_PRECISION_STEPS:,} of the range [{low:g}, {high:g}]; ask for "
                           f"at least {(high - low) / MAX_PRECISION_STEPS:g}")
    out = args.out or DEFAULT_RESULTS_ROOT / f"tip_{scenario.scenario.name}_{args.grouping}"
    with folder_lock(out):
        folder = check_writable(out, args.overwrite)
        check_space(folder)
        result = tipping_point(scenario, args.vary, args.grouping, args.target, low, high,
                               args.precision, args.seed, args.workers, args.dask,
                               args.max_runs)
        manifest = {"kind": "tipping", "scenario": {"name": scenario.scenario.name,
                                                    "file": str(scenario.path),
                                                    "hash": scenario.hash},
                    "vary": args.vary, "grouping": args.grouping, "target": args.target,
                    "range": [low, high], "precision": args.precision,
                    "created": datetime.now(UTC).isoformat(timespec="seconds"),
                    "versions": versions()}
        write_results(folder, {"tipping": result.table(), "evaluations": result.evaluations},
                      manifest, overwrite=args.overwrite)
    print(f"{args.grouping} in {scenario.scenario.name}, varying {args.vary} over "
          f"[{low}, {high}]:")
    print(f"  {result.status}: {result.note}")
    print(f"  peak: P = {result.peak_probability:.3f} [{result.peak_low:.3f}, "
          f"{result.peak_high:.3f}] at {result.peak_value:.3g}; target {args.target:g} "
          f"{'reached' if result.reached else 'not reached'} in the range")
    if result.status == "crosses":
        print(f"  crossing: {result.estimate:.3f} [{result.low:.3f}, {result.high:.3f}]")
    elif result.crossings:
        print(f"  crossing: somewhere between {result.bracket_low:.3g} and "
              f"{result.bracket_high:.3g}, not located")
    else:
        print("  crossing: none identified")
    print(f"  runs spent: {result.runs}; evidence: {folder}")
    return 0


MAX_PRECISION_STEPS = 100_000
"""A tipping-point precision finer than this share of the range is refused."""


def command_analyze(args: argparse.Namespace) -> int:
    """`blocsim analyze`: sensitivity indices and/or PRIM scenario discovery on a sweep."""
    if not args.sensitivity and not args.discover:
        raise BlocsimError("say what to analyze: --sensitivity and/or --discover GROUPING")
    if args.output is not None:
        args.output.mkdir(parents=True, exist_ok=True)
    where = output_for(args.folder, args.output, "")
    if args.sensitivity:
        from blocsim.analysis.sensitivity import analyze_sensitivity, format_sensitivity

        table = analyze_sensitivity(args.folder, output=where, write=where is not None)
        print(format_sensitivity(table))
        print(f"written: {where / 'sensitivity.parquet'}" if where else
              f"not written: {args.folder} is read-only (write elsewhere with --output DIR)")
    for grouping in args.discover:
        from blocsim.analysis.discovery import discover, format_discovery

        result = discover(args.folder, grouping, threshold=args.threshold, write=False)
        print(format_discovery(result))
        if where is not None:
            result.save(where)
        else:
            print(f"not written: {args.folder} is read-only (write elsewhere with --output DIR)")
    return 0


def command_align(args: argparse.Namespace) -> int:
    """`blocsim align`: local minima of the landscape energy and their basins."""
    from blocsim.landscape.command import align_command

    print(align_command(args.file, as_json=args.json, starts=args.starts, seed=args.seed))
    return 0


def command_validate(args: argparse.Namespace) -> int:
    """`blocsim validate`: load each file; report every invalid one and every warning."""
    from blocsim.scenario.loading import load

    failures = 0
    for file in args.files:
        try:
            scenario = load(file)
        except BlocsimError as error:
            failures += 1
            print(f"error: {format_message(error)}", file=sys.stderr)
        else:
            print(f"ok: {printable(str(file))} ({scenario.scenario.name}: "
                  f"{len(scenario.states)} states, {len(scenario.groupings)} groupings)")
            print_warnings(file, scenario.warnings)
    return 1 if failures else 0


def command_explore(args: argparse.Namespace) -> int:
    """`blocsim explore`: serve the what-if page until Ctrl-C."""
    from blocsim.explore import serve

    return serve(args.file, replications=args.replications, seed=args.seed,
                 workers=args.workers, port=args.port, open_browser=not args.no_browser)


def command_calibrate(args: argparse.Namespace) -> int:
    """`blocsim calibrate`: fit the posterior, report the facts and the test scores."""
    from blocsim.api import calibrate

    manifest = calibrate(args.file, out=args.out, workers=args.workers, dask=args.dask,
                         resume=args.resume, overwrite=args.overwrite, progress=not args.quiet)
    scores = manifest["test_scores"]
    print(f"{manifest['calibration']['name']}: {manifest['generations']} generations, final "
          f"tolerance {manifest['final_tolerance']:.3f}, {manifest['simulations']} particles "
          f"simulated ({manifest['runs']} runs) in {manifest['timings']['wall_seconds']:.0f} s")
    print("fit facts (share of posterior predictive runs):  " + ", ".join(
        f"{k} {v:.2f}" for k, v in manifest["fit_shares"].items()))
    print("test facts (pre-registered, never fitted):       " + ", ".join(
        f"{k} {v:.2f}" for k, v in manifest["test_shares"].items()))
    print("mean Brier / log score on the test facts: " + "; ".join(
        f"{who} {scores[who]['brier']:.3f} / {scores[who]['log']:.3f}"
        for who in ("model", "persistence", "base_rate")))
    losses = scores["model_loses_on"]
    print("the model loses on: " + (", ".join(f"{x['fact']} (to {x['to']})" for x in losses)
                                    if losses else "no test fact"))
    print(f"results: {manifest['folder']}")
    return 0


def show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: object = None, line: str | None = None) -> None:
    """Print blocsim's warnings as `warning: ...` lines; others as Python does."""
    if issubclass(category, BlocsimWarning):
        print(f"warning: {format_message(str(message))}", file=sys.stderr)
    else:
        _python_showwarning(message, category, filename, lineno, file, line)


_python_showwarning = warnings.showwarning
HANDLERS = {"run": command_run, "sweep": command_sweep, "summarize": command_summarize,
            "dashboard": command_dashboard, "tip": command_tip, "analyze": command_analyze,
            "align": command_align, "calibrate": command_calibrate,
            "explore": command_explore, "validate": command_validate}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `blocsim` console command."""
    args = build_parser().parse_args(argv)
    warnings.showwarning = show_warning
    warnings.simplefilter("always", BlocsimWarning)
    try:
        with terminate_on_sigterm():
            return HANDLERS[args.command](args)
    except BlocsimError as error:
        print(f"error: {format_message(error)}", file=sys.stderr)
        return 1
    except Terminated:
        print("terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    except OSError as error:
        print(f"error: {os_error_message(error)}", file=sys.stderr)
        return 1
    except MemoryError:
        print("error: out of memory; ask for less (fewer replications, points or starts)",
              file=sys.stderr)
        return 1
    finally:
        warnings.showwarning = _python_showwarning


if __name__ == "__main__":
    sys.exit(main())
