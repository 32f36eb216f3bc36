"""Sweeps: designs, task plans, identical results on every executor, and no run lost or doubled
after a killed process or a killed worker."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import blocsim
from blocsim.analysis.sweeps import sweep_summary
from blocsim.errors import BlocsimWarning
from blocsim.experiment.designs import design_points
from blocsim.experiment.executors import DaskExecutor, InlineExecutor, LocalExecutor
from blocsim.experiment.plan import cut_tasks
from blocsim.experiment.store import MANIFEST, versions
from blocsim.experiment.sweep import done_tasks, run_sweep, run_sweep_task
from blocsim.experiment.sweepfile import SweepError, load_sweep
from blocsim.experiment.tables import TABLES
from tests.conftest import SCENARIOS, interruptible

SWEEPS = sorted((SCENARIOS / "sweeps").glob("*.toml"))
KEYS = {"levels": ["point", "replication", "step", "grouping"],
        "commitments": ["point", "replication", "step", "state", "grouping"],
        "alignment": ["point", "replication", "step", "state"],
        "pressures": ["point", "replication", "step", "pressure"],
        "outcomes": ["point", "replication", "grouping"],
        "camps": ["point", "replication", "state"],
        "blocker_terms": ["point", "replication", "grouping", "term"]}


def small_sweep(tmp_path: Path, replications: int = 6, steps: int = 3, name: str = "small",
                scenario_steps: int = 12) -> Path:
    base = tmp_path / "base.toml"
    base.write_text(f'extends = "{SCENARIOS / "baseline.toml"}"\n[scenario]\nname = "base"\n'
                    f"steps = {scenario_steps}\n")
    path = tmp_path / f"{name}.toml"
    path.write_text(textwrap.dedent(f'''
        name = "{name}"
        base = "base.toml"
        design = "grid"
        replications = {replications}
        seed = 3

        [[axes]]
        path = "pressures.china_assertiveness.end"
        range = [0.3, 0.9]
        steps = {steps}

        [[axes]]
        path = "states.IND.autonomy"
        values = [0.6, 0.9]
    '''))
    return path


def read_sorted(folder: Path) -> dict[str, pd.DataFrame]:
    tables = {}
    for name in TABLES:
        table = pd.read_parquet(folder / f"{name}.parquet")
        tables[name] = table.sort_values(KEYS[name]).reset_index(drop=True)
    return tables


def assert_same_results(a: Path, b: Path) -> None:
    left, right = read_sorted(a), read_sorted(b)
    for name in TABLES:
        pd.testing.assert_frame_equal(left[name], right[name], check_exact=True, obj=name)


@pytest.mark.parametrize("path", SWEEPS, ids=[p.stem for p in SWEEPS])
def test_shipped_sweep_files_validate(path):
    sweep = load_sweep(path)
    assert len(design_points(sweep.spec)) >= 8


def test_grid_visits_every_combination_of_axis_values(tmp_path):
    points = design_points(load_sweep(small_sweep(tmp_path, steps=4)).spec)
    assert len(points) == 4 * 2
    assert sorted(points["states.IND.autonomy"].unique()) == [0.6, 0.9]


def test_latin_hypercube_puts_one_point_in_every_stratum_of_every_axis():
    spec = load_sweep(SCENARIOS / "sweeps" / "pressures_lhs.toml").spec
    points = design_points(spec)
    assert len(points) == spec.samples
    for path in points:
        strata = np.floor(points[path].to_numpy() * spec.samples).astype(int)
        assert sorted(strata) == list(range(spec.samples))


def test_sobol_design_has_saltelli_size(tmp_path):
    path = small_sweep(tmp_path)
    text = path.read_text().replace('design = "grid"', 'design = "sobol"\nsamples = 8')
    text = text.replace("values = [0.6, 0.9]", "range = [0.6, 0.9]")
    path.write_text(text)
    assert len(design_points(load_sweep(path).spec)) == 8 * (2 + 2)


@pytest.mark.parametrize("points, replications, size", [(1, 1, 64), (3, 100, 64), (7, 5, 8),
                                                         (10, 64, 64)])
def test_task_plan_holds_every_run_exactly_once(points, replications, size):
    tasks = list(cut_tasks(np.full(points, replications), size))
    runs = [(s.point, r) for t in tasks for s in t.segments for r in range(s.start, s.stop)]
    assert sorted(runs) == [(p, r) for p in range(points) for r in range(replications)]
    assert all(t.runs <= size for t in tasks)
    assert [t.task_id for t in tasks] == list(range(len(tasks)))


def test_sweep_gives_identical_tables_inline_local_and_dask(tmp_path, monkeypatch):
    monkeypatch.setattr("blocsim.experiment.sweep.TASK_RUNS", 5)
    sweep = load_sweep(small_sweep(tmp_path))
    run_sweep(sweep, tmp_path / "inline", InlineExecutor())
    run_sweep(sweep, tmp_path / "local", LocalExecutor(2))
    run_sweep(sweep, tmp_path / "dask", DaskExecutor("local", 2))
    assert_same_results(tmp_path / "inline", tmp_path / "local")
    assert_same_results(tmp_path / "inline", tmp_path / "dask")


@pytest.mark.slow
def test_sweep_tables_hold_every_point_and_replication_once(tmp_path):
    sweep = load_sweep(small_sweep(tmp_path))
    manifest = run_sweep(sweep, tmp_path / "out", LocalExecutor(2))
    outcomes = pd.read_parquet(tmp_path / "out" / "outcomes.parquet")
    runs = outcomes.groupby(["point", "replication"]).size()
    assert len(runs) == manifest["runs"] == 3 * 2 * 6 and (runs == 6).all()
    points = pd.read_parquet(tmp_path / "out" / "points.parquet")
    assert list(points.columns) == ["point", "pressures.china_assertiveness.end",
                                    "states.IND.autonomy"]
    assert not (tmp_path / "out" / "tasks").exists()


def test_summarize_gives_each_points_probability_with_its_interval(tmp_path):
    sweep = load_sweep(small_sweep(tmp_path))
    run_sweep(sweep, tmp_path / "out", InlineExecutor())
    summary = sweep_summary(tmp_path / "out")
    outcomes = pd.read_parquet(tmp_path / "out" / "outcomes.parquet")
    quad = outcomes[(outcomes.point == 4) & (outcomes.grouping == "QUAD")].consolidated.mean()
    row = summary[(summary.point == 4) & (summary.grouping == "QUAD")].iloc[0]
    assert row.probability == quad and row.ci_low <= quad <= row.ci_high
    assert (tmp_path / "out" / "summary.parquet").is_file()


def test_existing_sweep_folder_is_not_overwritten_silently(tmp_path):
    from blocsim.errors import ResultsError

    sweep = load_sweep(small_sweep(tmp_path))
    run_sweep(sweep, tmp_path / "out", InlineExecutor())
    with pytest.raises(ResultsError, match="--resume"):
        run_sweep(sweep, tmp_path / "out", InlineExecutor())


def interrupt_after(monkeypatch, tasks: int) -> None:
    """Make the sweep's inline tasks stop with Ctrl-C once `tasks` of them have finished."""
    finished = []

    def run_then_stop(context, task):
        if len(finished) == tasks:
            raise KeyboardInterrupt
        finished.append(task.task_id)
        return run_sweep_task(context, task)

    monkeypatch.setattr("blocsim.experiment.sweep.run_sweep_task", run_then_stop)


def test_a_sweep_resumed_on_a_machine_that_rounds_differently_says_so(tmp_path, monkeypatch):
    """Each task keeps how it was rounded, so an interrupted session's tasks count too."""
    sweep, out = load_sweep(small_sweep(tmp_path)), tmp_path / "out"
    monkeypatch.setattr("blocsim.experiment.sweep.TASK_RUNS", 6)
    monkeypatch.setattr("blocsim.experiment.kernel.arithmetic", lambda: "machine A")
    interrupt_after(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(sweep, out, InlineExecutor())
    monkeypatch.undo()
    monkeypatch.setattr("blocsim.experiment.sweep.TASK_RUNS", 6)
    monkeypatch.setattr("blocsim.experiment.kernel.arithmetic", lambda: "machine B")
    with pytest.warns(BlocsimWarning, match="round differently"):
        finished = run_sweep(sweep, out, InlineExecutor(), resume=True)
    assert finished["arithmetic_of_tasks"] == ["machine A", "machine B"]


def test_a_sweep_resumed_with_other_package_versions_says_so(tmp_path):
    sweep, out = load_sweep(small_sweep(tmp_path)), tmp_path / "out"
    run_sweep(sweep, out, InlineExecutor())
    manifest = json.loads((out / MANIFEST).read_text())
    before = {**manifest["versions"], "numpy": "1.26.4"}
    del before["arithmetic"]  # a folder written before the arithmetic was recorded
    manifest.update(status="running", versions=before)
    (out / MANIFEST).write_text(json.dumps(manifest))
    with pytest.warns(BlocsimWarning, match="numpy 1.26.4 ->") as warned:
        finished = run_sweep(sweep, out, InlineExecutor(), resume=True)
    assert finished["resumed_with"] == [{"numpy": ["1.26.4", versions()["numpy"]]}]
    assert not any("arithmetic" in str(w.message) for w in warned), "not recorded is not changed"
    assert finished["arithmetic_of_tasks"] == [versions()["arithmetic"]]


def test_a_sweep_whose_tasks_ran_on_unlike_machines_says_so(tmp_path, monkeypatch):
    """On a Dask cluster each task rounds as its worker does; the folder lists every way."""
    machines = ["aarch64; numpy exp ASIMD, log ASIMD, tanh ASIMD; BLAS openblas NEOVERSEN1",
                "x86_64; numpy exp X86_V4, log X86_V4, tanh X86_V4; BLAS openblas SkylakeX"]
    turns = itertools.cycle(machines)
    monkeypatch.setattr("blocsim.experiment.kernel.arithmetic", lambda: next(turns))
    monkeypatch.setattr("blocsim.experiment.sweep.TASK_RUNS", 6)
    with pytest.warns(BlocsimWarning, match="round differently"):
        manifest = run_sweep(load_sweep(small_sweep(tmp_path)), tmp_path / "out",
                             InlineExecutor())
    assert manifest["tasks"] > 1 and manifest["arithmetic_of_tasks"] == machines


def test_resume_refuses_a_folder_of_another_sweep(tmp_path):
    from blocsim.errors import ResultsError

    run_sweep(load_sweep(small_sweep(tmp_path)), tmp_path / "out", InlineExecutor())
    other = load_sweep(small_sweep(tmp_path, replications=7, name="other"))
    with pytest.raises(ResultsError, match="different sweep"):
        run_sweep(other, tmp_path / "out", InlineExecutor(), resume=True)


def sweep_command(path: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "blocsim.cli", "sweep", str(path), "--out", str(out),
            "--quiet", *extra]


@pytest.mark.slow
def test_resume_after_sigkill_loses_and_duplicates_no_run(tmp_path):
    path = small_sweep(tmp_path, replications=256, steps=6, scenario_steps=40)
    out = tmp_path / "killed"
    process = subprocess.Popen(sweep_command(path, out, "--workers", "2"),
                               start_new_session=True)
    deadline = time.monotonic() + 60
    while len(done_tasks(out)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = done_tasks(out)
    assert 0 < len(finished) < 12, "the kill should land mid-sweep"
    resumed = subprocess.run(sweep_command(path, out, "--workers", "2", "--resume"),
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    clean = subprocess.run(sweep_command(path, tmp_path / "clean", "--workers", "1"),
                           capture_output=True, text=True)
    assert clean.returncode == 0, clean.stderr
    assert_same_results(out, tmp_path / "clean")
    outcomes = pd.read_parquet(out / "outcomes.parquet")
    assert (outcomes.groupby(["point", "replication", "grouping"]).size() == 1).all()


@pytest.mark.slow
def test_interrupt_saves_finished_tasks_and_says_how_to_resume(tmp_path):
    path = small_sweep(tmp_path, replications=256, steps=6, scenario_steps=40)
    out = tmp_path / "interrupted"
    process = subprocess.Popen(sweep_command(path, out, "--workers", "1"),
                               stderr=subprocess.PIPE, text=True, preexec_fn=interruptible)
    deadline = time.monotonic() + 60
    while not done_tasks(out) and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "--resume" in stderr and "Traceback" not in stderr
    assert subprocess.run(sweep_command(path, out, "--resume")).returncode == 0


def test_a_dask_local_cluster_that_cannot_start_leaves_no_results_folder(tmp_path,
                                                                          monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("Nanny failed to start worker process")

    monkeypatch.setattr("distributed.LocalCluster", refuse)
    with pytest.raises(RuntimeError, match="Nanny failed"):
        run_sweep(load_sweep(small_sweep(tmp_path)), tmp_path / "out", DaskExecutor("local", 2))
    assert not (tmp_path / "out").exists()


def test_ctrl_c_on_a_dask_local_sweep_prints_only_how_to_resume(tmp_path):
    """Ctrl-C reaches the whole process group, the LocalCluster's workers included."""
    path = small_sweep(tmp_path, replications=256, steps=6, scenario_steps=40)
    out = tmp_path / "interrupted"
    process = subprocess.Popen(sweep_command(path, out, "--dask", "local"),
                               stderr=subprocess.PIPE, text=True, preexec_fn=interruptible,
                               start_new_session=True)
    deadline = time.monotonic() + 60
    while not done_tasks(out) and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "--dask local --resume" in stderr
    assert "Traceback" not in stderr and "WARNING" not in stderr, stderr


def test_a_dask_worker_killed_mid_sweep_still_yields_complete_results(tmp_path, monkeypatch):
    monkeypatch.setattr("blocsim.experiment.sweep.TASK_RUNS", 64)
    path = small_sweep(tmp_path, replications=64, steps=6, scenario_steps=40)
    sweep = load_sweep(path)
    executor = DaskExecutor("local", 2)
    client = executor.client
    victim, pid = sorted(client.run(os.getpid).items())[0]
    killed = threading.Event()

    def kill_when_busy() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if client.processing().get(victim) and done_tasks(tmp_path / "dask"):
                os.kill(pid, signal.SIGKILL)
                killed.set()
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_when_busy, daemon=True)
    killer.start()
    run_sweep(sweep, tmp_path / "dask", executor)
    killer.join(timeout=5)
    assert killed.is_set(), "a worker should have been killed while it held a task"
    run_sweep(sweep, tmp_path / "inline", InlineExecutor())
    assert_same_results(tmp_path / "dask", tmp_path / "inline")


def sweep_error(tmp_path: Path, text: str) -> SweepError:
    small_sweep(tmp_path)
    path = tmp_path / "bad.toml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(SweepError) as caught:
        load_sweep(path)
    return caught.value


HEADER = 'name = "bad"\nbase = "base.toml"\nreplications = 2\n'


def test_axis_path_that_does_not_exist_is_named_with_a_suggestion(tmp_path):
    error = sweep_error(tmp_path, HEADER + '[[axes]]\npath = "states.IND.autonmy"\n'
                                           'values = [0.5]\n')
    assert error.key_path == "axes[0].path" and error.suggestion == "autonomy"


def test_axis_naming_an_unknown_state_is_refused(tmp_path):
    error = sweep_error(tmp_path, HEADER + '[[axes]]\npath = "states.XYZ.autonomy"\n'
                                           'values = [0.5]\n')
    assert error.key_path == "axes[0].path" and "XYZ" in str(error)


def test_axis_value_out_of_the_parameters_range_is_refused(tmp_path):
    error = sweep_error(tmp_path, HEADER + '[[axes]]\npath = "states.IND.autonomy"\n'
                                           'range = [0.5, 1.5]\nsteps = 3\n')
    assert error.key_path == "axes[0].range" and "1.5" in str(error)


def test_grid_range_without_steps_is_refused(tmp_path):
    error = sweep_error(tmp_path, HEADER + '[[axes]]\npath = "states.IND.autonomy"\n'
                                           'range = [0.5, 0.9]\n')
    assert "steps" in str(error)


def test_unknown_design_and_unknown_key_are_named(tmp_path):
    error = sweep_error(tmp_path, HEADER + 'design = "random"\n[[axes]]\n'
                                           'path = "states.IND.autonomy"\nvalues = [0.5]\n')
    assert error.key_path == "design"
    error = sweep_error(tmp_path, HEADER.replace("replications", "replicatons") +
                        '[[axes]]\npath = "states.IND.autonomy"\nvalues = [0.5]\n')
    assert error.suggestion == "replications"


def test_missing_base_scenario_is_named(tmp_path):
    error = sweep_error(tmp_path, 'name = "bad"\nbase = "nowhere.toml"\n[[axes]]\n'
                                  'path = "states.IND.autonomy"\nvalues = [0.5]\n')
    assert error.key_path == "base"


@pytest.mark.slow
def test_sweep_command_reports_a_bad_file_without_traceback(tmp_path):
    small_sweep(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text(HEADER + '[[axes]]\npath = "states.IND.autonomy"\nvalues = [2.0]\n')
    done = subprocess.run([sys.executable, "-m", "blocsim.cli", "sweep", str(bad)],
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert "bad.toml: axes[0].values" in done.stderr and "Traceback" not in done.stderr


def test_an_existing_dask_scheduler_gets_the_same_results_with_tables_sent_back(tmp_path):
    from distributed import LocalCluster

    sweep = load_sweep(small_sweep(tmp_path))
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        executor = DaskExecutor(cluster.scheduler_address, workers=2)
        assert not executor.shares_filesystem
        run_sweep(sweep, tmp_path / "remote", executor)
    run_sweep(sweep, tmp_path / "inline", InlineExecutor())
    assert_same_results(tmp_path / "remote", tmp_path / "inline")


def test_unreachable_dask_scheduler_is_a_clear_error(tmp_path):
    from blocsim.errors import BlocsimError

    with pytest.raises(BlocsimError, match="cannot reach the Dask scheduler"):
        DaskExecutor("tcp://127.0.0.1:9", workers=1)


def test_resuming_a_finished_sweep_runs_nothing_and_keeps_it_complete(tmp_path):
    sweep = load_sweep(small_sweep(tmp_path))
    run_sweep(sweep, tmp_path / "out", InlineExecutor())
    again = run_sweep(sweep, tmp_path / "out", InlineExecutor(), resume=True)
    assert again["timings"]["runs_this_session"] == 0 and again["status"] == "complete"
    assert sweep_summary(tmp_path / "out") is not None


def test_a_failed_overwrite_keeps_the_previous_sweep(tmp_path, monkeypatch):
    sweep = load_sweep(small_sweep(tmp_path))
    run_sweep(sweep, tmp_path / "out", InlineExecutor())
    before = pd.read_parquet(tmp_path / "out" / "outcomes.parquet")

    def fail(*args, **kwargs):
        raise RuntimeError("worker lost")

    monkeypatch.setattr("blocsim.experiment.sweep.run_sweep_task", fail)
    with pytest.raises(RuntimeError):
        run_sweep(sweep, tmp_path / "out", InlineExecutor(), overwrite=True)
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("out.replaced-")]
    assert len(kept) == 1
    pd.testing.assert_frame_equal(pd.read_parquet(kept[0] / "outcomes.parquet"), before)


def test_the_same_axis_twice_is_refused(tmp_path):
    axis = '[[axes]]\npath = "states.IND.autonomy"\nvalues = [{}]\n'
    error = sweep_error(tmp_path, HEADER + axis.format(0.5) + axis.format(0.6))
    assert "states.IND.autonomy" in str(error) and "once" in str(error)


def test_a_damaged_manifest_is_a_clear_error(tmp_path):
    from blocsim.errors import ResultsError

    sweep = load_sweep(small_sweep(tmp_path))
    run_sweep(sweep, tmp_path / "out", InlineExecutor())
    (tmp_path / "out" / "manifest.json").write_text('{"kind": "swe')
    with pytest.raises(ResultsError, match="cannot be read"):
        sweep_summary(tmp_path / "out")


def failing_sweep(tmp_path: Path) -> Path:
    base = tmp_path / "base.toml"
    base.write_text(f'extends = "{SCENARIOS / "baseline.toml"}"\n[scenario]\nname = "base"\n'
                    "steps = 8\n")
    path = tmp_path / "failing.toml"
    path.write_text(textwrap.dedent('''
        name = "failing"
        base = "base.toml"
        design = "grid"
        replications = 3
        seed = 5

        [[axes]]
        path = "dynamics.broad_support"
        values = [0.3, 0.7]

        [[axes]]
        path = "dynamics.full_support"
        values = [0.5, 0.9]

        [[axes]]
        path = "dynamics.consolidation_quarters"
        values = [2, 4]

        [[axes]]
        path = "pressures.china_assertiveness.end"
        values = [0.5, 0.75]
    '''))
    return path


def test_a_point_invalid_together_is_recorded_and_the_sweep_goes_on(tmp_path):
    manifest = run_sweep(load_sweep(failing_sweep(tmp_path)), tmp_path / "out",
                         InlineExecutor())
    failures = json.loads((tmp_path / "out" / "failures.json").read_text())
    failed = {f["point"] for f in failures}
    points = pd.read_parquet(tmp_path / "out" / "points.parquet")
    invalid = (points["dynamics.broad_support"] == 0.7) & (points["dynamics.full_support"] == 0.5)
    assert failed == set(points.point[invalid])
    assert all("broad_support" in f["message"] and f["seed"] == 5 for f in failures)
    assert manifest["failures"]["points"] == len(failed) == 4
    outcomes = pd.read_parquet(tmp_path / "out" / "outcomes.parquet")
    assert set(outcomes.point) == set(points.point) - failed


def test_an_integer_axis_and_a_float_axis_mix(tmp_path):
    manifest = run_sweep(load_sweep(failing_sweep(tmp_path)), tmp_path / "out",
                         InlineExecutor())
    assert manifest["tables"]["outcomes"] > 0


@pytest.mark.slow
def test_the_sweep_command_says_how_many_points_failed_and_exits_2(tmp_path):
    done = subprocess.run([sys.executable, "-m", "blocsim.cli", "sweep",
                           str(failing_sweep(tmp_path)), "--out", str(tmp_path / "out"),
                           "--workers", "1", "--quiet", "--no-dashboard"],
                          capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert "failed: 4 point(s)" in done.stderr and "broad_support" in done.stderr


@pytest.mark.slow
def test_a_one_point_sweep_at_the_base_values_reproduces_the_run(tmp_path):
    """Bit for bit at the scenario's own weights (`point`): the same noise streams. Under a
    posterior a sweep draws a particle per run where `run` draws one per 10 (for its parameter
    band), so there the two differ by design; the manifests say which."""
    base = tmp_path / "base.toml"
    base.write_text(f'extends = "{SCENARIOS / "baseline.toml"}"\n[scenario]\nname = "base"\n'
                    "steps = 10\n")
    value = blocsim.load(base).pressures["china_assertiveness"].start
    path = tmp_path / "one.toml"
    path.write_text(textwrap.dedent(f'''
        name = "one"
        base = "base.toml"
        replications = 40
        seed = 11
        point = true
        [[axes]]
        path = "pressures.china_assertiveness.start"
        values = [{value}]
    '''))
    run_sweep(load_sweep(path), tmp_path / "sweep", LocalExecutor(2))
    ran = blocsim.run(base, replications=40, seed=11, workers=2, point=True)
    manifest = json.loads((tmp_path / "sweep" / "manifest.json").read_text())
    assert manifest["posterior"] is None and ran.manifest["posterior"] is None
    for name, table in ran.tables.items():
        swept = pd.read_parquet(tmp_path / "sweep" / f"{name}.parquet").drop(columns="point")
        keys = [k for k in KEYS[name] if k != "point"]
        pd.testing.assert_frame_equal(
            swept.sort_values(keys).reset_index(drop=True),
            table.sort_values(keys).reset_index(drop=True), check_exact=True,
            check_categorical=False, obj=name)


@pytest.mark.slow
def test_a_sweep_on_a_base_with_a_posterior_draws_a_particle_per_run(tmp_path):
    path = tmp_path / "one.toml"
    path.write_text(textwrap.dedent(f'''
        name = "one"
        base = "{SCENARIOS / "baseline.toml"}"
        replications = 20
        seed = 11
        [[axes]]
        path = "pressures.china_assertiveness.start"
        values = [0.6]
    '''))
    run_sweep(load_sweep(path), tmp_path / "sweep", InlineExecutor())
    drawn = json.loads((tmp_path / "sweep" / "manifest.json").read_text())["posterior"]
    assert drawn["draw_block"] == 1 and drawn["file"].endswith("record_posterior.parquet")
