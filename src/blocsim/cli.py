"""The `blocsim` command line: its grammar, and the errors every command may end with.

Each command is a function of `blocsim.commands`, which calls the Python API (`blocsim.workflows`,
`blocsim.api`) and prints what it returns. This module loads it only once the arguments have
parsed, so `--help` and a mistyped option answer at once instead of after the engine, the
analyses and the dashboards have loaded (2.5 s).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from blocsim.errors import (
    BlocsimError,
    BlocsimWarning,
    format_message,
    print_warnings,
    printable,
)
from blocsim.limits import MAX_REPLICATIONS, MAX_SEARCH_RUNS, MAX_STARTS, MAX_WORKERS

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


_replications = _count(MAX_REPLICATIONS)
_workers = _count(MAX_WORKERS)


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
        "(per scenario and grouping: probability and mean final level, each with its "
        "difference from the reference and its 95% interval) and a run folder per scenario "
        "file run.")
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
    explore.add_argument("--point", action="store_true",
                         help="run at the file's own (hand-set) weights instead of drawing them "
                              "from the posterior it names, as `blocsim run --point`")

    validate = commands.add_parser("validate", help="check scenario, sweep and landscape files "
                                   "without running them (warns when a variant changes a value "
                                   "without a new source)")
    validate.add_argument("files", type=Path, nargs="+")
    return parser


def show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: object = None, line: str | None = None) -> None:
    """Print blocsim's warnings as `warning: ...` lines; others as Python does."""
    if issubclass(category, BlocsimWarning):
        print(f"warning: {format_message(str(message))}", file=sys.stderr)
    else:
        _python_showwarning(message, category, filename, lineno, file, line)


_python_showwarning = warnings.showwarning


def validate_files(args: argparse.Namespace) -> int:
    """`blocsim validate`: load each scenario, sweep, landscape or calibration file.

    A variant that changes a value without a new `source` gets a warning, not an error. Only
    what each file's kind needs is loaded (`blocsim.validation`), not the other commands' engine.
    """
    from blocsim.validation import validate_file

    failures = 0
    for file in args.files:
        try:
            found = validate_file(file)
        except BlocsimError as error:
            failures += 1
            print(f"error: {format_message(error)}", file=sys.stderr)
        else:
            print(f"ok: {printable(str(file))} ({printable(found.description)})")
            print_warnings(file, found.warnings)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `blocsim` console command."""
    args = build_parser().parse_args(argv)
    if args.command == "analyze" and not (args.sensitivity or args.discover):
        print("error: say what to analyze: --sensitivity and/or --discover GROUPING",
              file=sys.stderr)
        return 2
    if args.command == "validate":
        return guarded(validate_files, args, None)
    if hasattr(args, "quiet") and not sys.stderr.isatty():
        args.quiet = True  # a log or a pipe gets no carriage-return progress lines
    try:
        from blocsim import commands  # loaded once the arguments parse: see the docstring
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return guarded(commands.HANDLERS[args.command], args, commands.jobs)


def guarded(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace,
            jobs: ModuleType | None) -> int:
    """Run a command's handler, turning what stops it into a message and an exit code.

    `jobs` (`blocsim.workflows`) brings the SIGTERM handling and the folder-writing errors of the
    commands that run work; `validate` runs without it (and without loading the engine).
    """
    warnings.showwarning = show_warning
    warnings.simplefilter("always", BlocsimWarning)
    terminated = jobs.Terminated if jobs is not None else ()
    try:
        with jobs.terminate_on_sigterm() if jobs is not None else contextlib.nullcontext():
            return handler(args)
    except BlocsimError as error:
        print(f"error: {format_message(error)}", file=sys.stderr)
        return 1
    except terminated:
        print("terminated", file=sys.stderr)
        if jobs is not None and jobs.children_stopped():  # the pool's thread may wait forever
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
        message = jobs.os_error_message(error) if jobs is not None else printable(str(error))
        print(f"error: {message}", file=sys.stderr)
        return 1
    except MemoryError:
        print("error: out of memory; ask for less (fewer replications, points or starts)",
              file=sys.stderr)
        return 1
    finally:
        warnings.showwarning = _python_showwarning


if __name__ == "__main__":
    sys.exit(main())
