"""How the executors start their workers: what the workers inherit and what the package loads.

These are the settings behind the figures in `benchmarks/README.md` (a forked worker's heap stays
shared; a Dask worker's allocator behaves as in any process); the figures themselves are not
tests.
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys

import pytest

import blocsim
from blocsim.experiment.executors import DaskExecutor, LocalExecutor


def _frozen_objects(shared: object, task: int) -> int:
    return gc.get_freeze_count()


def _trim_threshold(shared: object, task: int) -> str | None:
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


def test_forked_workers_inherit_a_heap_frozen_out_of_their_collections():
    executor = LocalExecutor(2)
    try:
        frozen = list(executor.run(_frozen_objects, None, range(4)))
    finally:
        executor.close()
    assert all(count > 10_000 for count in frozen)


def test_the_parent_is_not_left_frozen_once_its_workers_have_started():
    executor = LocalExecutor(2)
    try:
        list(executor.run(_frozen_objects, None, range(2)))
        assert gc.get_freeze_count() == 0
    finally:
        executor.close()


def test_dask_local_cluster_workers_keep_the_default_memory_allocator():
    executor = DaskExecutor("local", 1)
    try:
        assert list(executor.run(_trim_threshold, None, range(2))) == [None, None]
    finally:
        executor.close()


def _worker_start() -> dict[str, object]:
    import psutil
    from threadpoolctl import threadpool_info

    parent = " ".join(psutil.Process(os.getppid()).cmdline())
    return {"forked by the forkserver": "multiprocessing.forkserver" in parent,
            "engine loaded": "blocsim.experiment.kernel" in sys.modules,
            "sweep loaded": "blocsim.experiment.sweep" in sys.modules,
            "maths threads": {pool["num_threads"] for pool in threadpool_info()},
            "Ctrl-C blocked": signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])}


def test_dask_local_cluster_workers_start_with_the_engine_loaded_and_one_maths_thread():
    """Workers fork from a server that has loaded the engine (`start_worker_server`): the first
    task does not pay for the imports, and a terminal's Ctrl-C does not reach them."""
    executor = DaskExecutor("local", 1)
    try:
        started = executor.client.run(_worker_start)
    finally:
        executor.close()
    assert list(started.values()) == [{"forked by the forkserver": True, "engine loaded": True,
                                       "sweep loaded": True, "maths threads": {1},
                                       "Ctrl-C blocked": True}]


def test_a_dask_local_cluster_starts_on_first_use_and_not_again_once_closed():
    executor = DaskExecutor("local", 1)
    assert executor._cluster is None and executor.workers == 1
    executor.start()
    assert len(executor.client.scheduler_info()["workers"]) == 1
    executor.close()
    executor.close()
    with pytest.raises(RuntimeError, match="closed"):
        executor.start()


def _loaded_by(modules: str, candidates: tuple[str, ...]) -> str:
    """Which of `candidates` a fresh interpreter has loaded after importing `modules`."""
    return subprocess.run(
        [sys.executable, "-c", f"import sys, {modules}; "
         f"print(sorted(m for m in {candidates!r} if m in sys.modules))"],
        capture_output=True, text=True, check=True).stdout.strip()


def test_the_engine_imports_without_the_api_behind_it():
    """A worker unpickling a task loads the engine alone, not the analyses and dashboards."""
    assert _loaded_by("blocsim.experiment.sweep, blocsim.experiment.kernel",
                      ("blocsim.api", "blocsim.dashboards", "plotly")) == "[]"


def test_the_command_entry_point_loads_the_command_line_only_when_it_runs():
    """Dask's workers import the caller's main module again; for `blocsim`, that loads nothing."""
    assert _loaded_by("blocsim.__main__",
                      ("blocsim.cli", "blocsim.api", "blocsim.experiment.kernel")) == "[]"


def test_importing_blocsim_leaves_the_callers_matplotlib_as_it_was():
    """A notebook's backend and style survive `import blocsim.workflows` (the brief's figures
    carry their own style)."""
    shown = subprocess.run(
        [sys.executable, "-c", "import matplotlib, blocsim.workflows, blocsim.dashboards.report; "
         "print(matplotlib.get_backend(), matplotlib.rcParams['font.size'], "
         "matplotlib.rcParams['axes.spines.top'])"],
        capture_output=True, text=True, check=True, env={**os.environ, "MPLBACKEND": "svg"})
    assert shown.stdout.split() == ["svg", "10.0", "True"]


def test_the_command_line_parses_before_it_loads_anything_heavy():
    """`blocsim --help` and a mistyped option answer at once (they took 2.5 s)."""
    assert _loaded_by("blocsim.cli", ("blocsim.commands", "blocsim.workflows", "numpy")) == "[]"


def test_python_dash_m_blocsim_is_the_command_line():
    shown = subprocess.run([sys.executable, "-m", "blocsim", "--help"], capture_output=True,
                           text=True, check=True)
    assert shown.stdout.startswith("usage: blocsim")


def test_the_api_names_are_there_on_first_use():
    assert blocsim.run.__module__ == "blocsim.api"
    assert set(blocsim.__all__) <= set(dir(sys.modules["blocsim.api"]))


def test_an_unknown_package_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'rum'"):
        blocsim.rum  # noqa: B018
