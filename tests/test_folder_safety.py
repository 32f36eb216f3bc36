"""Results folders are safe: one writer at a time, no orphan workers, no debris, the user's own
files kept, and a full or read-only disk met with a message (issue 14)."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from blocsim.cli import main
from blocsim.errors import BlocsimWarning, ResultsError
from blocsim.experiment.executors import InlineExecutor
from blocsim.experiment.locking import folder_lock, is_locked, lock_path
from blocsim.experiment.sweep import done_tasks, run_sweep, task_folder
from blocsim.experiment.sweepfile import load_sweep
from tests.conftest import BASELINE, LHS_SWEEP, SCENARIOS, interruptible, make_sweep
from tests.test_sweeps import assert_same_results, small_sweep, sweep_command

CLI = [sys.executable, "-m", "blocsim.cli"]


def wait_for(condition, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def long_sweep(tmp_path: Path) -> Path:
    return small_sweep(tmp_path, replications=256, steps=6, scenario_steps=40)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.communicate(timeout=60)


# --- one writer per folder ------------------------------------------------------------------

@pytest.mark.slow
def test_a_second_sweep_into_a_folder_being_written_is_refused_naming_the_writer(tmp_path):
    path = long_sweep(tmp_path)
    out = tmp_path / "out"
    first = subprocess.Popen(sweep_command(path, out, "--workers", "1"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: done_tasks(out)), "the first sweep should have started"
        for extra in ([], ["--resume"], ["--overwrite"]):
            second = subprocess.run(sweep_command(path, out, "--workers", "1", *extra),
                                    capture_output=True, text=True, timeout=120)
            assert second.returncode == 1, extra
            assert str(out) in second.stderr and f"process {first.pid}" in second.stderr
            assert "Traceback" not in second.stderr
    finally:
        stop(first)


@pytest.mark.slow
def test_a_run_into_a_folder_a_sweep_is_writing_is_refused(tmp_path):
    path = long_sweep(tmp_path)
    out = tmp_path / "out"
    sweep = subprocess.Popen(sweep_command(path, out, "--workers", "1"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: done_tasks(out))
        run = subprocess.run([*CLI, "run", str(BASELINE), "--replications", "2", "--out",
                              str(out), "--overwrite", "--quiet"],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 1 and f"process {sweep.pid}" in run.stderr
    finally:
        stop(sweep)


HOLD_LOCK = ("import sys, time\nfrom blocsim.experiment.locking import folder_lock\n"
             "with folder_lock(sys.argv[1]):\n    print('held', flush=True)\n"
             "    time.sleep(120)\n")


@pytest.mark.parametrize("command", [
    ["tip", str(BASELINE), "--vary", "states.IND.autonomy", "--grouping", "QUAD",
     "--max-runs", "40"],
    ["run", str(BASELINE), "--replications", "2", "--quiet"],
], ids=["tip", "run"])
@pytest.mark.slow
def test_tip_and_run_into_a_locked_folder_are_refused_before_any_work(tmp_path, capsys,
                                                                       command):
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(out)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        assert main([*command, "--out", str(out)]) == 1
        err = capsys.readouterr().err
        assert f"process {holder.pid}" in err and str(out) in err
        assert time.monotonic() - started < 10 and not out.exists()
    finally:
        stop(holder)


@pytest.mark.slow
def test_a_killed_writer_leaves_no_stale_lock(tmp_path):
    path = long_sweep(tmp_path)
    out = tmp_path / "out"
    first = subprocess.Popen(sweep_command(path, out, "--workers", "2"),
                             start_new_session=True)
    assert wait_for(lambda: done_tasks(out))
    assert is_locked(out)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert wait_for(lambda: not is_locked(out), 20), "the kernel should release the lock"
    with folder_lock(out):
        assert is_locked(out)


@pytest.mark.slow
def test_the_lock_is_reentrant_in_one_process_and_exclusive_across_processes(tmp_path):
    folder = tmp_path / "results"
    with folder_lock(folder):
        with folder_lock(folder):
            assert is_locked(folder)
        other = subprocess.run([sys.executable, "-c",
                                "import sys; from blocsim.experiment.locking import folder_lock\n"
                                "from blocsim.errors import ResultsError\n"
                                "try:\n    folder_lock(sys.argv[1]).__enter__()\n"
                                "except ResultsError as e:\n    print(e); sys.exit(3)",
                                str(folder)], capture_output=True, text=True, timeout=60)
        assert other.returncode == 3 and str(os.getpid()) in other.stdout
    assert not is_locked(folder) and not lock_path(folder).exists()


def test_an_unwritable_output_folder_is_refused_before_any_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ResultsError, match="cannot"):
        with folder_lock(blocker / "out"):
            pass


# --- no orphans -----------------------------------------------------------------------------

def workers_of(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def gone(processes: list[psutil.Process]) -> bool:
    return all(not p.is_running() or p.status() == psutil.STATUS_ZOMBIE for p in processes)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killing_a_sweep_takes_its_workers_down(tmp_path, sig):
    path = long_sweep(tmp_path)
    out = tmp_path / "out"
    process = subprocess.Popen(sweep_command(path, out, "--workers", "2"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: done_tasks(out) and len(workers_of(process.pid)) >= 2)
        workers = workers_of(process.pid)
        os.kill(process.pid, sig)
        _, stderr = process.communicate(timeout=60)
        assert wait_for(lambda: gone(workers), 20), "workers outlived their sweep"
        if sig == signal.SIGTERM:
            assert process.returncode == 143 and "--resume" in stderr
            assert "Traceback" not in stderr
            assert not list((out / "tasks").glob(".*.partial-*"))
    finally:
        stop(process)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killing_a_run_takes_its_workers_down(tmp_path, sig):
    process = subprocess.Popen([*CLI, "run", str(BASELINE), "--replications", "100000",
                                "--workers", "2", "--out", str(tmp_path / "out"), "--quiet"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: len(workers_of(process.pid)) >= 2)
        workers = workers_of(process.pid)
        time.sleep(0.5)
        os.kill(process.pid, sig)
        _, stderr = process.communicate(timeout=60)
        assert wait_for(lambda: gone(workers), 20), "workers outlived their run"
        if sig == signal.SIGTERM:
            assert process.returncode == 143 and "Traceback" not in stderr
        assert not (tmp_path / "out").exists()
    finally:
        stop(process)


# --- no debris ------------------------------------------------------------------------------

def interrupted_sweep(tmp_path: Path, monkeypatch, after: int = 2) -> tuple[Path, Path]:
    """A sweep stopped after `after` tasks (status running), and its file."""
    from blocsim.experiment import sweep as sweep_module

    path = small_sweep(tmp_path, replications=64, steps=3)
    monkeypatch.setattr(sweep_module, "TASK_RUNS", 32)
    real = sweep_module.run_sweep_task
    calls = {"n": 0}

    def fail_later(context, task):
        calls["n"] += 1
        if calls["n"] > after:
            raise KeyboardInterrupt
        return real(context, task)

    monkeypatch.setattr(sweep_module, "run_sweep_task", fail_later)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(load_sweep(path), tmp_path / "out", InlineExecutor())
    monkeypatch.setattr(sweep_module, "run_sweep_task", real)
    return path, tmp_path / "out"


@pytest.mark.slow
def test_staging_debris_of_a_killed_sweep_is_removed_and_reported_on_resume(tmp_path,
                                                                             monkeypatch):
    path, out = interrupted_sweep(tmp_path, monkeypatch)
    (out / "tasks" / ".000005.partial-x1").mkdir()
    (out / ".manifest.json.partial").write_text("{")
    (tmp_path / ".out.partial-y2").mkdir()
    with pytest.warns(BlocsimWarning, match="removed"):
        run_sweep(load_sweep(path), out, InlineExecutor(), resume=True)
    assert not list(out.rglob(".*.partial*")) and not (tmp_path / ".out.partial-y2").exists()


@pytest.mark.slow
def test_a_damaged_task_file_is_reported_and_run_again_on_resume(tmp_path, monkeypatch):
    path, out = interrupted_sweep(tmp_path, monkeypatch)
    damaged = task_folder(out, 1) / "outcomes.parquet"
    damaged.write_bytes(damaged.read_bytes()[:100])
    with pytest.warns(BlocsimWarning, match="task 1 .* damaged"):
        run_sweep(load_sweep(path), out, InlineExecutor(), resume=True)
    run_sweep(load_sweep(path), tmp_path / "clean", InlineExecutor())
    assert_same_results(out, tmp_path / "clean")


@pytest.mark.slow
def test_old_results_set_aside_by_a_killed_overwrite_are_reported_by_the_next_run(tmp_path,
                                                                                  capsys):
    aside = tmp_path / "out.replaced-99999"
    aside.mkdir()
    (aside / "manifest.json").write_text('{"kind": "run"}')
    code = main(["run", str(BASELINE), "--replications", "2", "--out", str(tmp_path / "out"),
                 "--quiet", "--no-dashboard"])
    assert code == 0
    assert str(aside) in capsys.readouterr().err and aside.is_dir()


# --- --overwrite replaces only what blocsim wrote -------------------------------------------

@pytest.mark.slow
def test_overwriting_a_run_keeps_the_users_own_files_and_says_so(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["run", str(BASELINE), "--replications", "2", "--out", str(out), "--quiet",
            "--no-dashboard"]
    assert main(args) == 0 and main(["report", str(out)]) == 0
    (out / "notes.md").write_text("my notes")
    (out / "figures").mkdir()
    (out / "figures" / "chart.png").write_bytes(b"png")
    capsys.readouterr()
    assert main([*args, "--overwrite", "--seed", "9"]) == 0
    assert (out / "notes.md").read_text() == "my notes"
    assert (out / "figures" / "chart.png").read_bytes() == b"png"
    kept = capsys.readouterr().err
    assert "notes.md" in kept and "report" not in kept
    assert not (out / "report.md").exists(), "the old runs' brief went with them"
    assert not list(tmp_path.glob("out.replaced-*"))


def test_overwriting_a_sweep_keeps_the_users_own_files(tmp_path):
    sweep = load_sweep(small_sweep(tmp_path))
    out = tmp_path / "out"
    run_sweep(sweep, out, InlineExecutor())
    (out / "notes.md").write_text("mine")
    (out / "report.md").write_text("my report: blocsim writes none in a sweep folder")
    assert (out / "failures.json").is_file()
    with pytest.warns(BlocsimWarning, match="notes.md, report.md") as warned:
        run_sweep(sweep, out, InlineExecutor(), overwrite=True)
    assert (out / "notes.md").read_text() == "mine"
    assert (out / "report.md").read_text().startswith("my report")
    assert not any("failures.json" in str(warning.message) for warning in warned)
    assert not list(tmp_path.glob("out.replaced-*"))


@pytest.mark.slow
def test_overwriting_a_comparison_replaces_its_runs_and_keeps_the_users_files(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["compare", str(BASELINE), str(SCENARIOS / "india_tilt.toml"), "--replications",
            "4", "--workers", "1", "--out", str(out), "--quiet"]
    assert main(args) == 0
    (out / "notes.md").write_text("mine")
    first = (out / "baseline" / "manifest.json").read_text()
    capsys.readouterr()
    assert main([*args, "--overwrite", "--seed", "9"]) == 0
    kept = capsys.readouterr().err
    assert "notes.md" in kept and "baseline" not in kept and "comparison.html" not in kept
    assert (out / "notes.md").read_text() == "mine"
    assert (out / "baseline" / "manifest.json").read_text() != first
    assert not list(tmp_path.glob("out.replaced-*"))


@pytest.mark.slow
def test_an_interrupted_sweep_overwrite_says_where_the_old_results_are(tmp_path):
    path = long_sweep(tmp_path)
    out = tmp_path / "out"
    sweep = load_sweep(path)
    (tmp_path / "q").mkdir()
    quick = small_sweep(tmp_path / "q")
    run_sweep(load_sweep(quick), out, InlineExecutor())
    before = pd.read_parquet(out / "outcomes.parquet")
    process = subprocess.Popen(sweep_command(path, out, "--workers", "1", "--overwrite"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=interruptible)
    assert wait_for(lambda: done_tasks(out))
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    aside = list(tmp_path.glob("out.replaced-*"))
    assert process.returncode == 130 and len(aside) == 1
    assert str(aside[0]) in stderr
    pd.testing.assert_frame_equal(pd.read_parquet(aside[0] / "outcomes.parquet"), before)
    run_sweep(sweep, out, InlineExecutor(), resume=True)
    assert not aside[0].exists(), "a completed replacement removes the old results"


def test_a_sweep_interrupted_before_it_started_says_nothing_was_written(tmp_path, monkeypatch,
                                                                        capsys):
    def interrupted_while_planning(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("blocsim.workflows.sweep_into", interrupted_while_planning)
    out = tmp_path / "out"
    code = main(["sweep", str(small_sweep(tmp_path)), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 130 and "before the sweep started: nothing was written" in err
    assert "--resume" not in err and not out.exists()


def test_the_resume_hint_repeats_where_the_sweep_ran(tmp_path, monkeypatch, capsys):
    def interrupted_midway(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("blocsim.workflows.sweep_into", interrupted_midway)
    monkeypatch.setattr("blocsim.workflows.sweep_started", lambda folder: True)
    monkeypatch.setattr("blocsim.workflows.replaced_folder", lambda folder: None)
    out = tmp_path / "my results"
    file = small_sweep(tmp_path)
    assert main(["sweep", str(file), "--out", str(out), "--dask", "local", "--dask-workers",
                 "2", "--quiet"]) == 130
    assert (f"blocsim sweep {file} --out '{out}' --dask local --dask-workers 2 --resume"
            in capsys.readouterr().err)
    assert main(["sweep", str(file), "--out", str(out), "--workers", "1", "--quiet"]) == 130
    assert "--workers 1 --resume" in capsys.readouterr().err
    named = small_sweep(tmp_path, name="other")
    mine = named.rename(tmp_path / "mine.toml")
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", str(mine), "--dask", "tcp://10.0.0.5:8786", "--dask-workers", "2",
                 "--quiet"]) == 130
    hint = capsys.readouterr().err
    assert f"--out {Path('results') / 'other'} --dask tcp://10.0.0.5:8786 --resume" in hint



def test_the_resume_hint_repeats_the_program_as_it_was_started(tmp_path, monkeypatch):
    from blocsim.commands import invoked_as

    script = tmp_path / ".venv" / "bin" / "blocsim"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr("sys.argv", [str(script), "sweep"])
    assert invoked_as() == [str(script)]
    monkeypatch.setattr("sys.argv", [str(tmp_path / "blocsim" / "__main__.py"), "sweep"])
    assert invoked_as()[1:] == ["-m", "blocsim"]
    monkeypatch.setenv("PATH", str(script.parent))
    script.chmod(0o755)
    monkeypatch.setattr("sys.argv", [str(script), "sweep"])
    assert invoked_as() == ["blocsim"]

# --- full and read-only disks ---------------------------------------------------------------

@pytest.mark.slow
def test_a_full_disk_mid_run_is_a_message_and_leaves_no_partial_folder(tmp_path, monkeypatch,
                                                                       capsys):
    def full(self, path, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    code = main(["run", str(BASELINE), "--replications", "2", "--out", str(tmp_path / "out"),
                 "--quiet", "--no-dashboard"])
    err = capsys.readouterr().err
    assert code == 1 and "disk is full" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_a_nearly_full_disk_is_refused_before_the_work(tmp_path, monkeypatch, capsys):
    import shutil

    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(1, 1, 1024))
    code = main(["run", str(BASELINE), "--replications", "2", "--out", str(tmp_path / "out"),
                 "--quiet", "--no-dashboard"])
    assert code == 1 and "MiB free" in capsys.readouterr().err


def in_namespace(script: str) -> subprocess.CompletedProcess:
    """Run a shell script as root of a new user and mount namespace (own mounts, none leak)."""
    return subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True,
                          text=True, timeout=300)


def namespaces_available(tmp_path: Path) -> bool:
    probe = tmp_path / "probe"
    probe.mkdir()
    try:
        done = in_namespace(f"mount -t tmpfs -o size=1m tmpfs {probe}")
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@pytest.mark.slow
def test_a_truly_full_disk_mid_run_is_a_message(tmp_path):
    if not namespaces_available(tmp_path):
        pytest.skip("needs `unshare -rm` (user and mount namespaces) to mount a tiny disk")
    disk = tmp_path / "disk"
    disk.mkdir()
    done = in_namespace(
        f"mount -t tmpfs -o size=20m tmpfs {disk} && "
        f"head -c $((7 * 512 * 1024)) /dev/zero > {disk}/filler && "
        f"exec {sys.executable} -m blocsim.cli run {BASELINE} --replications 1000 "
        f"--workers 2 --quiet --no-dashboard --out {disk}/out")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "disk is full" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_summarize_and_analyze_work_on_a_read_only_finished_sweep(tmp_path):
    if not namespaces_available(tmp_path):
        pytest.skip("needs `unshare -rm` (user and mount namespaces) for a read-only mount")
    make_sweep(tmp_path / "out", LHS_SWEEP)
    before = sorted(p.name for p in (tmp_path / "out").iterdir())
    view, elsewhere = tmp_path / "view", tmp_path / "elsewhere"
    view.mkdir()
    mount = f"mount --bind {tmp_path / 'out'} {view} && mount -o remount,bind,ro {view}"
    cli = f"{sys.executable} -m blocsim.cli"
    done = in_namespace(f"{mount} && {cli} summarize {view}; echo rc=$?; "
                        f"{cli} summarize {view} --output {elsewhere / 's.parquet'}; echo rc=$?; "
                        f"{cli} analyze {view} --discover AUKUS --threshold 0.3; echo rc=$?; "
                        f"{cli} analyze {view} --discover AUKUS --threshold 0.3 "
                        f"--output {elsewhere}; echo rc=$?")
    assert done.stdout.count("rc=0") == 4, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.count("not written") == 2 and "read-only" in done.stdout
    assert (elsewhere / "s.parquet").is_file()
    assert (elsewhere / "discovery_AUKUS_box.parquet").is_file()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == before
