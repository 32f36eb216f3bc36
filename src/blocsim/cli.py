"""The `blocsim` command: a thin face over the Python API (`blocsim.api`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from blocsim.errors import BlocsimError

DEFAULT_RESULTS_ROOT = Path("results")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, found {text}")
    return value


def _seed(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a seed of 0 or more, found {text}")
    return value


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

    validate = commands.add_parser("validate", help="check scenario files without running them")
    validate.add_argument("files", type=Path, nargs="+")
    return parser


def command_run(args: argparse.Namespace) -> int:
    """`blocsim run`: run, write the folder, print the summary."""
    from blocsim.analysis.summary import format_summary
    from blocsim.api import load, run
    from blocsim.experiment.store import check_writable

    scenario = load(args.file)
    folder = args.out or DEFAULT_RESULTS_ROOT / scenario.scenario.name
    check_writable(folder, args.overwrite)
    results = run(scenario, replications=args.replications, seed=args.seed,
                  workers=args.workers, progress=not args.quiet)
    results.save(folder, overwrite=args.overwrite)
    manifest = results.manifest
    print(f"{scenario.scenario.name}: {manifest['replications']} replications, seed "
          f"{manifest['seed']}, {manifest['timings']['wall_seconds']:.2f} s on "
          f"{manifest['workers']} worker(s)")
    print(format_summary(results.summary()))
    print(f"results: {folder}")
    return 0


def command_validate(args: argparse.Namespace) -> int:
    """`blocsim validate`: load each file; report every invalid one."""
    from blocsim.scenario.loading import load

    failures = 0
    for file in args.files:
        try:
            scenario = load(file)
        except BlocsimError as error:
            failures += 1
            print(f"error: {error}", file=sys.stderr)
        else:
            print(f"ok: {file} ({scenario.scenario.name}: {len(scenario.states)} states, "
                  f"{len(scenario.groupings)} groupings)")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `blocsim` console command."""
    args = build_parser().parse_args(argv)
    handlers = {"run": command_run, "validate": command_validate}
    try:
        return handlers[args.command](args)
    except BlocsimError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
