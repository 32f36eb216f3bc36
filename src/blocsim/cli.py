"""The `blocsim` command: a thin face over the Python API (`blocsim.api`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from blocsim.errors import BlocsimError
from blocsim.experiment.store import check_writable

DEFAULT_RESULTS_ROOT = Path("results")


def _whole_number(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least {minimum}, "
                                         f"found {text!r}")
    return value


def _positive(text: str) -> int:
    return _whole_number(text, 1)


def _seed(text: str) -> int:
    return _whole_number(text, 0)


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
    run.add_argument("--replications", type=_positive, help="default: the scenario's own")
    run.add_argument("--seed", type=_seed, help="root seed; default: the scenario's own")
    run.add_argument("--out", type=Path,
                     help="results folder; default: results/<scenario name>")
    run.add_argument("--workers", type=_positive, help="local processes; default: all cores")
    run.add_argument("--overwrite", action="store_true",
                     help="replace an existing results folder")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--no-dashboard", action="store_true",
                     help="do not write dashboard.html into the results folder")
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
    levers.add_argument("--replications", type=_positive, default=200,
                        help="replications per lever, paired with the run's first ones "
                             "(default 200, at most the run's)")
    levers.add_argument("--workers", type=_positive, help="local processes; default: all cores")
    levers.add_argument("--quiet", action="store_true", help="no progress bar")

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
    compare.add_argument("--replications", type=_positive,
                         help="default: the reference's own")
    compare.add_argument("--seed", type=_seed, help="default: the reference's own")
    compare.add_argument("--workers", type=_positive, help="local processes; default: all cores")
    compare.add_argument("--out", type=Path, help="comparison folder; default: "
                                                  "results/compare_<scenarios>")
    compare.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    compare.add_argument("--quiet", action="store_true", help="no progress bar")

    report = commands.add_parser("report", help="write a Markdown brief of a run folder: the "
                                 "findings in words, caveats, citations and static figures")
    report.add_argument("folder", type=Path, help="a run folder")
    report.add_argument("-o", "--output", type=Path,
                        help="Markdown file; default: <folder>/report.md (figures beside it)")

    sweep = commands.add_parser("sweep", help="run a parameter sweep (grid, Latin hypercube, "
                                              "Sobol) into a results folder")
    sweep.add_argument("file", type=Path, help="sweep file (TOML)")
    sweep.add_argument("--out", type=Path, help="results folder; default: results/<sweep name>")
    where = sweep.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive, help="local processes; default: all cores")
    where.add_argument("--dask", metavar="ADDRESS",
                       help="run on a Dask scheduler (tcp://host:port), or `local` for a "
                            "LocalCluster on loopback")
    sweep.add_argument("--dask-workers", type=_positive, default=None,
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
                           help="a run, sweep, tipping or comparison folder, or a folder "
                                "holding several run folders (a comparison page)")
    dashboard.add_argument("-o", "--output", type=Path,
                           help="HTML file; default: <folder>/dashboard.html")

    tip = commands.add_parser("tip", help="find where a grouping's consolidation probability "
                                          "crosses a target as one parameter varies")
    tip.add_argument("file", type=Path, help="scenario file (TOML)")
    tip.add_argument("--vary", required=True, metavar="PATH",
                     help="dotted scenario path, e.g. pressures.china_assertiveness.value")
    tip.add_argument("--grouping", required=True, help="e.g. QUAD")
    tip.add_argument("--target", type=float, default=0.5,
                     help="probability whose crossing is sought (default 0.5)")
    tip.add_argument("--range", type=float, nargs=2, default=(0.0, 1.0), metavar=("LOW", "HIGH"),
                     help="values of the parameter to search (default 0 1)")
    tip.add_argument("--precision", type=float, default=0.05,
                     help="stop when the 95%% interval is this narrow (default 0.05)")
    tip.add_argument("--max-runs", type=_positive, default=20_000)
    tip.add_argument("--seed", type=_seed, help="root seed; default: the scenario's own")
    tip_where = tip.add_mutually_exclusive_group()
    tip_where.add_argument("--workers", type=_positive, help="local processes; default: all cores")
    tip_where.add_argument("--dask", metavar="ADDRESS", help="tcp://host:port or `local`")
    tip.add_argument("--out", type=Path, help="results folder; default: "
                                              "results/tip_<scenario>_<grouping>")
    tip.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    tip.add_argument("--quiet", action="store_true", help="no progress bar")

    analyze = commands.add_parser("analyze", help="sensitivity indices (sobol/morris sweeps) "
                                  "or scenario discovery with PRIM (lhs sweeps)")
    analyze.add_argument("folder", type=Path, help="a finished sweep folder")
    analyze.add_argument("--sensitivity", action="store_true",
                         help="Sobol indices or Morris effects per grouping -> "
                              "sensitivity.parquet")
    analyze.add_argument("--discover", metavar="GROUPING", action="append", default=[],
                         help="PRIM boxes where GROUPING consolidates (repeatable)")
    analyze.add_argument("--threshold", type=float, default=0.5,
                         help="with --discover: a point is of interest when its probability of "
                              "consolidation is at least this (default 0.5)")
    analyze.add_argument("--quiet", action="store_true", help="no progress bar")

    summarize = commands.add_parser("summarize", help="per design point, the probability of "
                                    "consolidation with 95%% intervals (writes summary.parquet)")
    summarize.add_argument("folder", type=Path)

    align = commands.add_parser("align", help="two-camp alignments of a set of actors by "
                                "landscape theory (Axelrod & Bennett 1993)")
    align.add_argument("file", type=Path, help="landscape file (TOML): [actors.NAME] size, "
                                               "[[propensities]] between, value")
    align.add_argument("--json", action="store_true", help="print the minima as JSON")
    align.add_argument("--starts", type=_positive, default=2000,
                       help="random starts of the dynamic for basins (default 2000)")
    align.add_argument("--seed", type=_seed, default=0)

    validate = commands.add_parser("validate", help="check scenario, sweep and landscape files "
                                   "without running them (warns when a variant changes a value "
                                   "without a new source)")
    validate.add_argument("files", type=Path, nargs="+")
    return parser


def command_run(args: argparse.Namespace) -> int:
    """`blocsim run`: run, compute the levers, write the folder and page, print the summary."""
    from blocsim.analysis.summary import format_summary
    from blocsim.api import levers, load, run

    scenario = load(args.file)
    folder = check_writable(args.out or DEFAULT_RESULTS_ROOT / scenario.scenario.name,
                            args.overwrite)
    results = run(scenario, replications=args.replications, seed=args.seed,
                  workers=args.workers, progress=not args.quiet)
    if not args.no_levers:
        levers(results, step=args.lever_step, workers=args.workers, progress=not args.quiet)
    results.save(folder, overwrite=args.overwrite, dashboard=not args.no_dashboard)
    manifest = results.manifest
    print(f"{scenario.scenario.name}: {manifest['replications']} replications, seed "
          f"{manifest['seed']}, {manifest['timings']['wall_seconds']:.2f} s on "
          f"{manifest['workers']} worker(s)")
    print(format_summary(results.summary()))
    print(f"results: {folder}" + ("" if args.no_dashboard
                                  else f"  (open {folder / 'dashboard.html'} in a browser)"))
    return 0


def command_levers(args: argparse.Namespace) -> int:
    """`blocsim levers`: the levers of an existing run folder, and its page refreshed."""
    from blocsim.api import levers, open_results
    from blocsim.dashboards import write_dashboard

    results = open_results(args.folder)
    table = levers(results, step=args.step, replications=args.replications,
                   workers=args.workers, progress=not args.quiet)
    print(f"levers: {table['lever'].nunique()} levers x 2 directions, "
          f"{int(table['replications'].max())} paired runs each; written "
          f"{args.folder / 'levers.parquet'}")
    print(f"dashboard: {write_dashboard(args.folder)}")
    return 0


def command_compare(args: argparse.Namespace) -> int:
    """`blocsim compare`: scenarios with common random numbers, read against a reference."""
    from blocsim.api import compare

    if len(args.items) < 2:
        raise BlocsimError("compare needs two or more scenario files or run folders")
    names = "_".join(item.stem if item.suffix == ".toml" else item.name for item in args.items)
    folder = check_writable(args.out or DEFAULT_RESULTS_ROOT / f"compare_{names}"[:120],
                            args.overwrite)
    comparison = compare(*args.items, reference=args.reference,
                         replications=args.replications, seed=args.seed,
                         workers=args.workers, progress=not args.quiet)
    comparison.save(folder, overwrite=args.overwrite)
    table = comparison.table
    print(f"compared against {comparison.reference} "
          f"({'paired by replication' if table['paired'].all() else 'unpaired'}):")
    for row in table[table["scenario"] != comparison.reference].itertuples():
        if row.difference == row.difference:
            print(f"  {row.scenario:<24} {row.grouping:<12} P {row.probability:.3f}  "
                  f"{row.difference:+.3f} [{row.diff_low:+.3f}, {row.diff_high:+.3f}]")
    print(f"results: {folder}  (open {folder / 'comparison.html'} in a browser)")
    return 0


def command_report(args: argparse.Namespace) -> int:
    """`blocsim report`: a Markdown brief of a run folder with static figures."""
    from blocsim.dashboards.report import write_report

    print(f"report: {write_report(args.folder, args.output)}")
    return 0


def command_dashboard(args: argparse.Namespace) -> int:
    """`blocsim dashboard`: (re)write the HTML page of a results folder."""
    from blocsim.dashboards import write_dashboard

    page = write_dashboard(args.folder, args.output)
    print(f"dashboard: {page}")
    return 0


def command_sweep(args: argparse.Namespace) -> int:
    """`blocsim sweep`: run or resume a sweep, streaming results to its folder."""
    from tqdm.auto import tqdm

    from blocsim.experiment.executors import make_executor
    from blocsim.experiment.runner import default_workers
    from blocsim.experiment.sweep import run_sweep
    from blocsim.experiment.sweepfile import load_sweep

    sweep = load_sweep(args.file)
    folder = args.out or DEFAULT_RESULTS_ROOT / sweep.spec.name
    workers = (args.dask_workers if args.dask else args.workers) or default_workers()
    executor = make_executor(workers, args.dask)
    bars: list = []

    def progress(total: int, done: int):
        bar = tqdm(total=total, initial=done, unit="run", desc=sweep.spec.name,
                   disable=args.quiet, smoothing=0.1)
        bars.append(bar)
        return bar.update

    try:
        manifest = run_sweep(sweep, folder, executor, resume=args.resume,
                             overwrite=args.overwrite, progress=progress)
    except KeyboardInterrupt:
        for bar in bars:
            bar.close()
        print(f"interrupted: finished tasks are saved in {folder}; finish with\n"
              f"  blocsim sweep {args.file} --out {folder} --resume", file=sys.stderr)
        return 130
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


def command_summarize(args: argparse.Namespace) -> int:
    """`blocsim summarize`: probabilities per design point, printed and saved."""
    import pandas as pd

    from blocsim.experiment.sweep import sweep_summary

    summary = sweep_summary(args.folder)
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
    print(f"written: {args.folder / 'summary.parquet'} ({len(summary)} rows)")
    return 0


def command_tip(args: argparse.Namespace) -> int:
    """`blocsim tip`: adaptive search for a tipping point; prints it and saves the evidence."""
    from datetime import UTC, datetime

    from blocsim.api import load, tipping_point
    from blocsim.experiment.store import versions, write_results

    scenario = load(args.file)
    if not 0.0 < args.target < 1.0:
        raise BlocsimError(f"--target must lie strictly between 0 and 1, found {args.target}")
    low, high = args.range
    if not low < high:
        raise BlocsimError(f"--range needs LOW < HIGH, found {low} {high}")
    folder = check_writable(args.out or DEFAULT_RESULTS_ROOT /
                            f"tip_{scenario.scenario.name}_{args.grouping}", args.overwrite)
    result = tipping_point(scenario, args.vary, args.grouping, args.target, low, high,
                           args.precision, args.seed, args.workers, args.dask, args.max_runs,
                           progress=not args.quiet)
    manifest = {"kind": "tipping", "scenario": {"name": scenario.scenario.name,
                                                "file": str(scenario.path),
                                                "hash": scenario.hash,
                                                "resolved": scenario.raw},
                "vary": args.vary, "grouping": args.grouping, "target": args.target,
                "range": [low, high], "precision": args.precision,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "versions": versions()}
    write_results(folder, {"tipping": result.table(), "evaluations": result.evaluations},
                  manifest, overwrite=args.overwrite)
    from blocsim.dashboards import write_dashboard

    page = write_dashboard(folder)
    print(f"{args.grouping} in {scenario.scenario.name}, varying {args.vary} over "
          f"[{low}, {high}]:")
    print(f"  {result.status}: {result.note}")
    print(f"  runs spent: {result.runs}; evidence: {folder}  (open {page} in a browser)")
    return 0


def command_analyze(args: argparse.Namespace) -> int:
    """`blocsim analyze`: sensitivity indices and/or PRIM discovery, then the sweep page."""
    from tqdm.auto import tqdm

    from blocsim.analysis.discovery import discover, format_discovery
    from blocsim.analysis.sensitivity import analyze_sensitivity, format_sensitivity
    from blocsim.dashboards import write_dashboard

    if not args.sensitivity and not args.discover:
        raise BlocsimError("say what to analyze: --sensitivity and/or --discover GROUPING")
    tasks = [("sensitivity", "")] * args.sensitivity + [("discover", g) for g in args.discover]
    with tqdm(tasks, unit="analysis", disable=args.quiet, leave=False) as bar:
        for kind, grouping in bar:
            bar.set_description(f"analyze: {kind} {grouping}".strip())
            if kind == "sensitivity":
                bar.write(format_sensitivity(analyze_sensitivity(args.folder)))
                bar.write(f"written: {args.folder / 'sensitivity.parquet'}")
            else:
                bar.write(format_discovery(discover(args.folder, grouping,
                                                    threshold=args.threshold)))
    print(f"dashboard: {write_dashboard(args.folder)}")
    return 0


def command_align(args: argparse.Namespace) -> int:
    """`blocsim align`: local minima of the landscape energy and their basins."""
    from blocsim.landscape.command import align_command

    print(align_command(args.file, as_json=args.json, starts=args.starts, seed=args.seed))
    return 0


def file_kind(path: Path) -> str:
    """`sweep` (has `base` and `axes`), `landscape` (has `actors`) or `scenario`."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return "scenario"  # the scenario loader says what is wrong, naming the file
    if "axes" in data and "base" in data:
        return "sweep"
    return "landscape" if "actors" in data else "scenario"


def validate_file(path: Path) -> str:
    """Load one file of any kind; return what it holds in words (raises on an invalid file)."""
    kind = file_kind(path)
    if kind == "sweep":
        from blocsim.experiment.sweepfile import load_sweep

        sweep = load_sweep(path)
        return (f"sweep {sweep.spec.name}: {sweep.spec.design}, {len(sweep.spec.axes)} axes on "
                f"{sweep.base.scenario.name}")
    if kind == "landscape":
        from blocsim.landscape import load_landscape

        return f"landscape: {len(load_landscape(path).names)} actors"
    from blocsim.scenario.loading import load
    from blocsim.scenario.sources import unsourced_changes

    scenario = load(path)
    for change in unsourced_changes(path):
        table = change.path.rpartition(".")[0] if "." in change.path else change.path
        print(f"warning: {path}: {change.path} changes {change.old!r} -> {change.new!r} "
              f"without a new source (set {table}.source: the inherited one was written for "
              f"the old value)", file=sys.stderr)
    return (f"{scenario.scenario.name}: {len(scenario.states)} states, "
            f"{len(scenario.groupings)} groupings")


def command_validate(args: argparse.Namespace) -> int:
    """`blocsim validate`: load each scenario, sweep or landscape file; report invalid ones.

    A variant that changes a value without a new `source` gets a warning, not an error.
    """
    failures = 0
    for file in args.files:
        try:
            print(f"ok: {file} ({validate_file(file)})")
        except BlocsimError as error:
            failures += 1
            print(f"error: {error}", file=sys.stderr)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `blocsim` console command."""
    args = build_parser().parse_args(argv)
    handlers = {"run": command_run, "sweep": command_sweep, "summarize": command_summarize,
                "dashboard": command_dashboard, "tip": command_tip, "analyze": command_analyze,
                "align": command_align, "validate": command_validate, "levers": command_levers,
                "compare": command_compare, "report": command_report}
    try:
        return handlers[args.command](args)
    except BlocsimError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
