"""The `blocsim` commands: each parses nothing, calls the Python API and prints what it returns.

`blocsim.cli` parses the arguments and hands them to one of these (`HANDLERS`); they call one
function of `blocsim.workflows` (whole jobs into results folders) or `blocsim.api`, and nothing
else is imported.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
from pathlib import Path

from blocsim import workflows as jobs
from blocsim.api import calibrate
from blocsim.errors import print_warnings, printable


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
    if drawn and drawn.get("pinned"):
        print(f"kept at the file's own values, not drawn: {', '.join(drawn['pinned'])}")
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
                  f"level {row.final_level:.2f}  {row.level_difference:+.2f} "
                  f"[{row.level_low:+.2f}, {row.level_high:+.2f}]")
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


def invoked_as() -> list[str]:
    """How the user started blocsim, to repeat in a hint.

    `blocsim` where that is on the PATH, else the script as typed (`.venv/bin/blocsim`), or
    `python -m blocsim`.
    """
    program = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path("blocsim")
    if program.name == "__main__.py":
        return [sys.executable, "-m", "blocsim"]
    if program.name != "blocsim":
        return ["blocsim"]  # called from Python (tests, a notebook): the console script's name
    on_path = shutil.which("blocsim")
    if on_path is not None and program.exists() and Path(on_path).resolve() == program.resolve():
        return ["blocsim"]
    return [str(program)]


def resume_command(args: argparse.Namespace, folder: Path) -> str:
    """The command that finishes an interrupted sweep where it ran (the same executor)."""
    words = [*invoked_as(), "sweep", str(args.file), "--out", str(folder)]
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
    summarize = shlex.join([*invoked_as(), "summarize", str(folder)])
    print(f"results: {folder}  (summarize with: {summarize}"
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
        print(f"  crossing: {result.estimate:.3f} [{result.low:.3f}, {result.high:.3f}] "
              f"(nominal 95%; the search stops once it is narrow, so it covers about 83% of "
              f"the time)")
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
                 workers=args.workers, port=args.port, open_browser=not args.no_browser,
                 point=args.point)


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


HANDLERS = {"run": command_run, "sweep": command_sweep, "summarize": command_summarize,
            "dashboard": command_dashboard, "tip": command_tip, "analyze": command_analyze,
            "align": command_align, "calibrate": command_calibrate,
            "levers": command_levers,
            "compare": command_compare, "report": command_report,
            "explore": command_explore}
