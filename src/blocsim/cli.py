"""The `blocsim` command: a thin face over the Python API (`blocsim.workflows`, `blocsim.api`).

Every command parses its arguments, calls one function of `blocsim.workflows` (whole jobs into
results folders) or `blocsim.api`, and prints what it returns; nothing else is imported.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

from blocsim import workflows as jobs
from blocsim.api import calibrate
from blocsim.errors import BlocsimError, BlocsimWarning, format_message, printable

MAX_SEED = 2**63 - 1
NO_PROGRESS = "no progress bar (there is none either when the error stream is not a terminal)"


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


_replications = _count(jobs.MAX_REPLICATIONS)
_workers = _count(jobs.MAX_WORKERS)
MAX_SEARCH_RUNS = jobs.MAX_SEARCH_RUNS
MAX_STARTS = jobs.MAX_STARTS
MAX_REPLICATIONS = jobs.MAX_REPLICATIONS


def _whole_port(text: str) -> int:
    return _whole_number(text, 0, 65_535)


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
    run.add_argument("--quiet", action="store_true", help=NO_PROGRESS)
    run.add_argument("--no-dashboard", action="store_true",
                     help="do not write dashboard.html into the results folder")
    run.add_argument("--point", action="store_true",
                     help="run every replication at the scenario's own values, not drawing them "
                          "from the calibrated posterior it names")
    run.add_argument("--no-levers", action="store_true",
                     help="skip the levers (one step of each pressure and of the blockers' key "
                          "attributes, re-run with the same seed; about levers x 200 runs)")
    run.add_argument("--lever-step", type=float, default=0.1, metavar="STEP",
                     help="the levers' step either way on the 0-1 scales (default 0.1)")

    levers = commands.add_parser("levers", help="what would change it: re-run a run folder's "
                                 "scenario with each lever moved one step (common random "
                                 "numbers), write levers.parquet and refresh its page")
    levers.add_argument("folder", type=Path, help="a run folder")
    levers.add_argument("--step", type=float, default=0.1,
                        help="the step either way on the 0-1 scales (default 0.1)")
    levers.add_argument("--replications", type=_replications, default=200,
                        help="replications per lever, paired with the run's first ones "
                             "(default 200, at most the run's)")
    levers.add_argument("--workers", type=_workers, help="local processes; default: all cores")
    levers.add_argument("--quiet", action="store_true", help=NO_PROGRESS)

    compare = commands.add_parser(
        "compare", help="run scenarios with common random numbers (or read run folders) and "
        "write a comparison page and table: each grouping's probability per scenario and its "
        "paired difference from the reference with a 95%% interval, and every input that differs",
        description="Run each scenario file with the same seed and replications (replication r "
        "of every scenario draws the same random stream, so differences are paired run by run), "
        "or read existing run folders, and write OUT/comparison.html, OUT/comparison.parquet "
        "(per scenario and grouping: probability, interval, difference from the reference and "
        "its 95%% interval) and a run folder per scenario file run.")
    compare.add_argument("items", type=Path, nargs="+", metavar="FILE_OR_FOLDER",
                         help="scenario files (run here) or run folders (two or more)")
    compare.add_argument("--reference", help="the scenario (by name) the others are read "
                         "against; default: the first")
    compare.add_argument("--replications", type=_replications,
                         help="default: the reference's own")
    compare.add_argument("--seed", type=_seed, help="default: the reference's own")
    compare.add_argument("--workers", type=_workers, help="local processes; default: all cores")
    compare.add_argument("--out", type=Path, help="comparison folder; default: "
                                                  "results/compare_<scenarios>")
    compare.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    compare.add_argument("--quiet", action="store_true", help=NO_PROGRESS)

    report = commands.add_parser("report", help="write a Markdown brief of a run folder: the "
                                 "findings in words, caveats, citations and static figures")
    report.add_argument("folder", type=Path, help="a run folder")
    report.add_argument("-o", "--output", type=Path,
                        help="Markdown file; default: <folder>/report.md (figures beside it)")

    sweep = commands.add_parser("sweep", help="run a parameter sweep (grid, Latin hypercube, "
                                              "Sobol, Morris) into a results folder")
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
    sweep.add_argument("--quiet", action="store_true", help=NO_PROGRESS)
    sweep.add_argument("--no-dashboard", action="store_true",
                       help="do not write dashboard.html into the sweep folder")

    dashboard = commands.add_parser("dashboard", help="write the HTML dashboard of a results "
                                                      "folder (opens offline in any browser)")
    dashboard.add_argument("folder", type=Path,
                           help="a run, sweep, tipping, comparison or calibration folder, or a "
                                "folder holding several run folders (a comparison page)")
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
    tip.add_argument("--point", action="store_true",
                     help="run at the scenario's own values, not drawing them from the "
                          "calibrated posterior it names")
    tip.add_argument("--quiet", action="store_true", help=NO_PROGRESS)

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
    analyze.add_argument("--quiet", action="store_true", help=NO_PROGRESS)

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
    calibrate.add_argument("--quiet", action="store_true", help=NO_PROGRESS)

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

    validate = commands.add_parser("validate", help="check scenario, sweep and landscape files "
                                   "without running them (warns when a variant changes a value "
                                   "without a new source)")
    validate.add_argument("files", type=Path, nargs="+")
    return parser


def print_warnings(source: Path | str, found: list[str]) -> None:
    """Print a file's valid-but-meaningless settings as `warning: FILE: ...` lines."""
    for text in found:
        print(f"warning: {printable(str(source))}: {printable(text)}", file=sys.stderr)


def _bar(total: int, desc: str, quiet: bool, initial: int = 0):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="run", desc=desc, disable=quiet,
                smoothing=0.1, leave=False)


def command_run(args: argparse.Namespace) -> int:
    """`blocsim run`: run, compute the levers, write the folder and page, print the summary."""
    results = jobs.run_into(args.file, out=args.out, overwrite=args.overwrite,
                            replications=args.replications, seed=args.seed,
                            workers=args.workers, dask=args.dask, point=args.point,
                            with_levers=not args.no_levers, lever_step=args.lever_step,
                            dashboard=not args.no_dashboard, progress=not args.quiet)
    print_warnings(args.file, results.warnings)
    manifest = results.manifest
    drawn = manifest.get("posterior")
    print(f"{manifest['scenario']['name']}: {manifest['replications']} replications, seed "
          f"{manifest['seed']}, {manifest['timings']['wall_seconds']:.2f} s on "
          f"{manifest['workers']} worker(s)"
          + (f"; parameters drawn from {Path(drawn['file']).name} ({drawn['particles']} "
             f"particles, one draw per {drawn['draw_block']} replications)" if drawn else
             "; parameters at the scenario's own values"))
    print(jobs.format_summary(results.summary(), results.reasons()))
    folder = results.folder
    print(f"results: {folder}" + ("" if args.no_dashboard
                                  else f"  (open {folder / 'dashboard.html'} in a browser)"))
    return 0


def command_levers(args: argparse.Namespace) -> int:
    """`blocsim levers`: the levers of an existing run folder, and its page refreshed."""
    table, page = jobs.levers_into(args.folder, step=args.step, replications=args.replications,
                                   workers=args.workers, progress=not args.quiet)
    print(f"levers: {table['lever'].nunique()} levers x 2 directions, "
          f"{int(table['replications'].max())} paired runs each; written "
          f"{args.folder / 'levers.parquet'}")
    print(f"dashboard: {page}")
    return 0


def command_compare(args: argparse.Namespace) -> int:
    """`blocsim compare`: scenarios with common random numbers, read against a reference."""
    comparison = jobs.compare_into(args.items, out=args.out, overwrite=args.overwrite,
                                   reference=args.reference, replications=args.replications,
                                   seed=args.seed, workers=args.workers,
                                   progress=not args.quiet)
    table = comparison.table
    print(f"compared against {comparison.reference} "
          f"({'paired by replication' if table['paired'].all() else 'unpaired'}): "
          "P(consolidation) and mean final level (0-4), each with its difference and 95% "
          "interval")
    for row in table[table["scenario"] != comparison.reference].itertuples():
        if row.difference == row.difference:
            print(f"  {row.scenario:<24} {row.grouping:<12} P {row.probability:.3f}  "
                  f"{row.difference:+.3f} [{row.diff_low:+.3f}, {row.diff_high:+.3f}]   "
                  f"level {row.final_level:.2f}  {row.level_difference:+.3f} "
                  f"[{row.level_low:+.3f}, {row.level_high:+.3f}]")
    folder = comparison.folder
    print(f"results: {folder}  (open {folder / 'comparison.html'} in a browser)")
    return 0


def command_report(args: argparse.Namespace) -> int:
    """`blocsim report`: a Markdown brief of a run folder with static figures."""
    print(f"report: {jobs.report(args.folder, args.output)}")
    return 0


def command_dashboard(args: argparse.Namespace) -> int:
    """`blocsim dashboard`: (re)write the HTML page of a results folder."""
    print(f"dashboard: {jobs.dashboard(args.folder, args.output)}")
    return 0


def resume_command(args: argparse.Namespace, folder: Path) -> str:
    """The command that finishes an interrupted sweep where it ran (the same executor)."""
    words = ["blocsim", "sweep", str(args.file), "--out", str(folder)]
    if args.dask:
        words += ["--dask", args.dask]
        if args.dask_workers and args.dask == "local":
            words += ["--dask-workers", str(args.dask_workers)]
    elif args.workers:
        words += ["--workers", str(args.workers)]
    return shlex.join([*words, "--resume"])


def command_sweep(args: argparse.Namespace) -> int:
    """`blocsim sweep`: run or resume a sweep, streaming results to its folder."""
    bars: list = []
    name = Path(args.file).stem

    def progress(total: int, done: int):
        bar = _bar(total, name, args.quiet, initial=done)
        bars.append(bar)
        return bar.update

    workers = args.dask_workers if args.dask else args.workers
    try:
        done = jobs.sweep_into(args.file, out=args.out, workers=workers, dask=args.dask,
                               resume=args.resume, overwrite=args.overwrite,
                               dashboard=not args.no_dashboard, progress=progress)
    except KeyboardInterrupt as interrupt:
        for bar in bars:
            bar.close()
        folder = jobs.sweep_folder(args.file, args.out)
        terminated = isinstance(interrupt, jobs.Terminated)
        stopped = "terminated" if terminated else "interrupted"
        if not jobs.sweep_started(folder):
            print(f"{stopped} before the sweep started: nothing was written to {folder}",
                  file=sys.stderr)
            return 143 if terminated else 130
        print(f"{stopped}: finished tasks are saved in {folder}; finish with\n"
              f"  {resume_command(args, folder)}", file=sys.stderr)
        replaced = jobs.replaced_folder(folder)
        if replaced:
            print(f"the previous results of {folder} are in {replaced} until this sweep "
                  f"completes", file=sys.stderr)
        return 143 if terminated else 130
    for bar in bars:
        bar.close()
    manifest, folder = done.manifest, done.folder
    print_warnings(args.file, manifest.get("warnings", []))
    timings = manifest["timings"]
    spec = manifest["sweep"]["spec"]
    if timings["runs_this_session"] == 0:
        print(f"{spec['name']}: already complete in {folder}; nothing to run")
        return 0
    failed = manifest.get("failures") or {}
    ran, wall = timings["runs_this_session"], f"{timings['wall_seconds']:.1f} s"
    print(f"{spec['name']}: {manifest['points']} points x {manifest['replications']} "
          f"replications = {manifest['runs']} runs on {done.executor}, "
          + (f"in {wall}" if ran == manifest["runs"] else
             f"{ran} of them in {wall} now (the others before)"))
    if failed.get("points") or failed.get("replications"):
        print(f"failed: {failed['points']} point(s), {failed['replications']} replication(s) "
              f"(recorded in {folder / 'failures.json'}):", file=sys.stderr)
        for item in failed.get("messages", []):
            print(f"  {item['count']} x {printable(item['message'])}", file=sys.stderr)
    print(f"results: {folder}  (summarize with: blocsim summarize {folder}"
          + ("" if args.no_dashboard else f"; open {folder / 'dashboard.html'}") + ")")
    return 2 if failed.get("points") or failed.get("replications") else 0


def command_summarize(args: argparse.Namespace) -> int:
    """`blocsim summarize`: probabilities per design point, printed and saved."""
    import pandas as pd

    summary, target = jobs.summarize(args.folder, args.output)
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
    low, high = args.range
    result, folder, page = jobs.tip_into(
        args.file, args.vary, args.grouping, args.target, low, high, args.precision, args.seed,
        args.workers, args.dask, args.max_runs, args.out, args.overwrite,
        progress=not args.quiet, point=args.point)
    print(f"{args.grouping}, varying {args.vary} over [{low}, {high}]:")
    print(f"  {result.status}: {result.note}")
    print(f"  target {args.target:g} {'reached' if result.reached else 'not reached'} in the "
          f"range")
    if result.status == "crosses":
        print(f"  crossing: {result.estimate:.3f} [{result.low:.3f}, {result.high:.3f}]")
    elif result.crossings:
        print(f"  crossing: somewhere between {result.bracket_low:.3g} and "
              f"{result.bracket_high:.3g}, not located")
    else:
        print("  crossing: none identified")
    print(f"  runs spent: {result.runs}; evidence: {folder}  (open {page} in a browser)")
    return 0


def command_analyze(args: argparse.Namespace) -> int:
    """`blocsim analyze`: sensitivity indices and/or PRIM discovery, then the sweep page."""
    from tqdm.auto import tqdm

    steps = int(args.sensitivity) + len(args.discover)
    with tqdm(total=steps, unit="analysis", disable=args.quiet, leave=False) as bar:
        def step(label: str) -> None:
            bar.set_description(f"analyze: {label}")
            bar.update(1)

        done = jobs.analyze_into(args.folder, args.sensitivity, tuple(args.discover),
                                 args.threshold, args.output, step=step)
    if done.sensitivity is not None:
        print(jobs.format_sensitivity(done.sensitivity))
    for result in done.discoveries:
        print(jobs.format_discovery(result))
    if done.written_to is None:
        print(f"not written: {args.folder} is read-only (write elsewhere with --output DIR)")
    else:
        print(f"written into: {done.written_to}")
    if done.page is not None:
        print(f"dashboard: {done.page}")
    return 0


def command_align(args: argparse.Namespace) -> int:
    """`blocsim align`: local minima of the landscape energy and their basins."""
    print(jobs.align(args.file, as_json=args.json, starts=args.starts, seed=args.seed))
    return 0


def command_explore(args: argparse.Namespace) -> int:
    """`blocsim explore`: serve the what-if page until Ctrl-C."""
    from blocsim.explore import serve

    return serve(args.file, replications=args.replications, seed=args.seed,
                 workers=args.workers, port=args.port, open_browser=not args.no_browser)


def command_calibrate(args: argparse.Namespace) -> int:
    """`blocsim calibrate`: fit the posterior, report the facts and the test scores."""
    manifest = calibrate(args.file, out=args.out, workers=args.workers, dask=args.dask,
                         resume=args.resume, overwrite=args.overwrite, progress=not args.quiet)
    scores = manifest["test_scores"]
    print(f"{manifest['calibration']['name']}: {manifest['generations']} generations, final "
          f"tolerance {manifest['final_tolerance']:.3f}, "
          f"{manifest.get('effective_particles', '?')} effective particles, "
          f"{manifest['simulations']} particles "
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
    print(f"results: {manifest['folder']}  (open {manifest['dashboard']} in a browser)")
    return 0


def command_validate(args: argparse.Namespace) -> int:
    """`blocsim validate`: load each scenario, sweep, landscape or calibration file.

    A variant that changes a value without a new `source` gets a warning, not an error.
    """
    failures = 0
    for file in args.files:
        try:
            found = jobs.validate_file(file)
        except BlocsimError as error:
            failures += 1
            print(f"error: {format_message(error)}", file=sys.stderr)
        else:
            print(f"ok: {printable(str(file))} ({printable(found.description)})")
            print_warnings(file, found.warnings)
    return 1 if failures else 0


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
            "validate": command_validate, "levers": command_levers,
            "compare": command_compare, "report": command_report,
            "explore": command_explore}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `blocsim` console command."""
    args = build_parser().parse_args(argv)
    if hasattr(args, "quiet") and not sys.stderr.isatty():
        args.quiet = True  # a log or a pipe gets no carriage-return progress lines
    warnings.showwarning = show_warning
    warnings.simplefilter("always", BlocsimWarning)
    try:
        with jobs.terminate_on_sigterm():
            return HANDLERS[args.command](args)
    except BlocsimError as error:
        print(f"error: {format_message(error)}", file=sys.stderr)
        return 1
    except jobs.Terminated:
        print("terminated", file=sys.stderr)
        if jobs.children_stopped():  # the pool's thread may wait forever at exit: skip it
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(143)
        return 143
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    except OSError as error:
        print(f"error: {jobs.os_error_message(error)}", file=sys.stderr)
        return 1
    except MemoryError:
        print("error: out of memory; ask for less (fewer replications, points or starts)",
              file=sys.stderr)
        return 1
    finally:
        warnings.showwarning = _python_showwarning


if __name__ == "__main__":
    sys.exit(main())
