"""Nothing the user writes can hurt them (issue 14): safe keys, escaped terminal output, errors
that survive pickling, bounded reading and work, and warnings for valid but meaningless inputs."""

from __future__ import annotations

import importlib
import inspect
import os
import pickle
import pkgutil
import socket
import textwrap
import threading
import time

import numpy as np
import pytest

import blocsim
from blocsim.cli import main
from blocsim.errors import BlocsimError, ScenarioError, format_message
from blocsim.experiment.sweepfile import SweepError, load_sweep
from blocsim.landscape.input import LandscapeError, load_landscape
from blocsim.landscape.search import analyse
from blocsim.scenario.loading import MAX_EXTENDS, load
from tests.conftest import BASELINE, SCENARIOS, TINY
from tests.test_sweeps import small_sweep

EXTENDS = f'extends = "{BASELINE}"\n'


def scenario_error(write_scenario, text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        load(write_scenario(EXTENDS + textwrap.dedent(text)))
    return caught.value


# --- keys restricted to safe patterns -------------------------------------------------------

@pytest.mark.parametrize("key", ["<script>alert(1)</script>", "a b", "1QUAD", "x\u202eevil",
                                 "Q" * 65, "QUAD\u001b[31m"])
def test_a_grouping_key_outside_the_safe_pattern_is_refused_with_its_key_path(write_scenario,
                                                                              key):
    error = scenario_error(write_scenario, f'''
        [groupings.{toml_key(key)}]
        members = ["USA", "JPN"]
        initial_level = 1.0
        source = "x"
    ''')
    assert error.key_path.startswith("groupings.") and "letters, digits" in error.expected


def toml_key(key: str) -> str:
    """A TOML basic string holding `key`, every character outside printable ASCII escaped."""
    return '"' + "".join(c if " " <= c <= "~" and c not in '"\\' else f"\\u{ord(c):04x}"
                         for c in key) + '"'


@pytest.mark.parametrize("text", [
    '[states."usa"]\nname = "x"\n',
    '[affinities.USA]\n"<b>" = 0.5\n',
    '[poles]\nus = "<script>"\n',
    '[groupings.QUAD]\nobservers = ["<img src=x>"]\n',
    '[[shocks]]\nname = "x"\nat = "2026Q1"\npressure = "china_coercion"\nmagnitude = 0.1\n'
    'targets = ["a\\u001b"]\n',
])
def test_state_codes_wherever_they_appear_must_be_iso3(write_scenario, text):
    error = scenario_error(write_scenario, text)
    assert "ISO3" in error.expected or "three capital" in error.expected


def test_a_shock_name_with_control_characters_is_refused(write_scenario):
    error = scenario_error(write_scenario, '''
        [[shocks]]
        name = "clash\\u001b[2J"
        at = "2026Q1"
        pressure = "china_coercion"
        magnitude = 0.1
    ''')
    assert error.key_path == "shocks[0].name" and "control" in error.expected


def test_landscape_actor_names_and_sweep_axis_paths_are_restricted(tmp_path):
    landscape = tmp_path / "l.toml"
    landscape.write_text('[actors."<svg onload=x>"]\nsize = 1.0\n[actors.B]\nsize = 1.0\n')
    with pytest.raises(LandscapeError, match="letters, digits"):
        load_landscape(landscape)
    small_sweep(tmp_path)
    sweep = tmp_path / "bad.toml"
    sweep.write_text('name = "bad"\nbase = "base.toml"\n[[axes]]\npath = "states.<b>.autonomy"\n'
                     'values = [0.5]\n')
    with pytest.raises(SweepError) as caught:
        load_sweep(sweep)
    assert caught.value.key_path == "axes[0].path"


@pytest.mark.parametrize("path", ["mechanisms.hedging.source", "states.IND.source",
                                  "groupings.QUAD.name"])
def test_a_sweep_axis_on_a_table_s_source_or_name_is_refused_as_no_parameter(tmp_path, path):
    small_sweep(tmp_path)
    sweep = tmp_path / "bad.toml"
    sweep.write_text(f'name = "bad"\nbase = "base.toml"\n[[axes]]\npath = "{path}"\n'
                     'values = [0.1, 0.2]\n')
    with pytest.raises(SweepError) as caught:
        load_sweep(sweep)
    assert caught.value.key_path == "axes[0].path" and "describes its table" in str(caught.value)


def test_shipped_scenarios_landscapes_and_sweeps_still_load():
    for path in SCENARIOS.glob("*.toml"):
        load(path)
    for path in (SCENARIOS / "landscape").glob("*.toml"):
        load_landscape(path)
    for path in (SCENARIOS / "sweeps").glob("*.toml"):
        load_sweep(path)


# --- terminal escape codes are never printed raw --------------------------------------------

def test_escape_codes_in_keys_and_values_are_shown_escaped_by_the_command_line(write_scenario,
                                                                              capsys):
    path = write_scenario(EXTENDS + '[groupings."A\\u001b[31mRED"]\nmembers = ["USA", "JPN"]\n'
                                    'initial_level = 1.0\nsource = "x\\u001b]0;title\\u0007"\n')
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b[31m" in err


def test_the_error_formatter_escapes_controls_but_keeps_lines():
    text = format_message(BlocsimError("a\x1b[2Jb\rc\u202ed\n\tnext"))
    assert text == "a\\x1b[2Jb\\rc\\u202ed\n\tnext"


def test_a_hostile_file_name_is_printed_escaped(tmp_path, capsys):
    path = tmp_path / "evil\x1b[31m.toml"
    path.write_text("not toml =")
    assert main(["validate", str(path)]) == 1
    assert "\x1b" not in capsys.readouterr().err


# --- every error type survives pickling -----------------------------------------------------

def all_error_types() -> list[type[BlocsimError]]:
    for module in pkgutil.walk_packages(blocsim.__path__, "blocsim."):
        importlib.import_module(module.name)
    found, todo = [], [BlocsimError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted(found, key=lambda c: c.__qualname__)


def example(cls: type[BlocsimError]) -> BlocsimError:
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    arguments = [f"{p.name}-value" for p in parameters
                 if p.default is inspect.Parameter.empty and p.kind in
                 (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return cls(*(arguments or ["a message"]))


@pytest.mark.parametrize("cls", all_error_types(), ids=lambda c: c.__qualname__)
def test_every_error_type_survives_pickling(cls):
    error = example(cls)
    error.args = (error.args[0] + "\n  ... and 2 more problem(s)",)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is cls and str(again) == str(error)
    assert again.__dict__ == error.__dict__


def test_the_error_types_found_include_every_input_error():
    names = {cls.__name__ for cls in all_error_types()}
    assert {"BlocsimError", "InputError", "ScenarioError", "SweepError", "LandscapeError",
            "ResultsError"} <= names


@pytest.mark.filterwarnings("ignore:.*fork:DeprecationWarning")
def test_a_scenario_error_raised_in_a_worker_reaches_the_caller_intact(write_scenario):
    from concurrent.futures import ProcessPoolExecutor

    path = write_scenario("[scenario]\nname = 3\n")
    with ProcessPoolExecutor(1) as pool:
        with pytest.raises(ScenarioError) as caught:
            pool.submit(load, path).result()
    assert caught.value.key_path == "scenario.name" and caught.value.file == path.resolve()


# --- reading is bounded ---------------------------------------------------------------------

@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_a_device_is_refused_without_reading_it(device):
    started = time.monotonic()
    with pytest.raises(ScenarioError, match="device"):
        load(device)
    assert time.monotonic() - started < 5


def test_a_folder_and_a_fifo_are_refused(tmp_path):
    import os

    with pytest.raises(ScenarioError, match="folder"):
        load(tmp_path)
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    with pytest.raises(ScenarioError, match="pipe"):
        load(fifo)


def test_a_huge_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.toml"
    with path.open("wb") as stream:
        stream.truncate(64 * 2**20)
    with pytest.raises(ScenarioError, match="at most"):
        load(path)


@pytest.mark.parametrize("text", ["a = " + "[" * 50_000 + "]" * 50_000,
                                  "a = " + "{b = " * 2_000 + "1" + "}" * 2_000,
                                  "x." * 3_000 + "y = 1"])
def test_deeply_nested_files_get_a_clear_error(tmp_path, text):
    path = tmp_path / "deep.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match="nested"):
        load(path)


def test_a_2000_deep_extends_chain_is_a_clear_error(tmp_path):
    for i in range(2000):
        (tmp_path / f"c{i}.toml").write_text(f'extends = "c{i + 1}.toml"\n')
    (tmp_path / "c2000.toml").write_text(TINY)
    with pytest.raises(ScenarioError, match=f"at most {MAX_EXTENDS} files"):
        load(tmp_path / "c0.toml")


def test_a_chain_within_the_limit_still_resolves(tmp_path):
    (tmp_path / "c5.toml").write_text(TINY)
    for i in range(5):
        (tmp_path / f"c{i}.toml").write_text(f'extends = "c{i + 1}.toml"\n[scenario]\n'
                                             f'steps = {10 + i}\n')
    assert load(tmp_path / "c0.toml").scenario.steps == 10


def test_validate_dev_zero_exits_with_a_message(capsys):
    assert main(["validate", "/dev/zero"]) == 1
    assert "device" in capsys.readouterr().err


# --- landscape files --------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "value"), [("size", "1e200"), ("size", "1e-200"),
                                            ("value", "1e300"), ("value", "-1e300")])
def test_overflowing_sizes_and_propensities_are_refused(tmp_path, key, value):
    path = tmp_path / "l.toml"
    size = value if key == "size" else "1.0"
    propensity = value if key == "value" else "1.0"
    path.write_text(f'[actors.A]\nsize = {size}\n[actors.B]\nsize = 1.0\n'
                    f'[[propensities]]\nbetween = ["A", "B"]\nvalue = {propensity}\n')
    with pytest.raises(LandscapeError) as caught:
        load_landscape(path)
    assert caught.value.key_path in ("actors.A.size", "propensities[0].value")


def test_align_refuses_more_starts_than_it_can_hold(capsys):
    landscape = SCENARIOS / "landscape" / "syria_2016.toml"
    with pytest.raises(SystemExit):
        main(["align", str(landscape), "--starts", str(10**9)])
    assert "100,000" in capsys.readouterr().err


def test_align_refuses_a_system_too_large_to_finish(tmp_path, capsys):
    path = tmp_path / "many.toml"
    path.write_text("".join(f"[actors.A{i}]\nsize = 1.0\n" for i in range(10_000)))
    started = time.monotonic()
    assert main(["align", str(path)]) == 1
    assert "at most 2,000" in capsys.readouterr().err and time.monotonic() - started < 30


def test_align_refuses_starts_beyond_its_work_bound_for_many_actors():
    with pytest.raises(BlocsimError, match="--starts"):
        analyse(np.ones(1500), np.zeros((1500, 1500)), starts=2000)


def test_align_refuses_a_system_with_almost_every_alignment_a_minimum():
    with pytest.raises(BlocsimError, match="local minima"):
        analyse(np.ones(20), np.zeros((20, 20)))


def test_basins_are_right_beyond_64_actors():
    """64 actors who all want to be together, and two more who only want to be apart: two
    mirror-image minima (65 with the 64, or 66 with the 64) of equal energy and, by the symmetry
    that swaps actors 65 and 66, equal basins."""
    n = 66
    propensity = np.zeros((n, n))
    propensity[:64, :64] = 1.0
    np.fill_diagonal(propensity, 0.0)
    propensity[64, 65] = propensity[65, 64] = -1.0
    landscape = analyse(np.ones(n), propensity, starts=4000, seed=3)
    assert len(landscape.minima) == 2
    ends = {m.sigma[64:] for m in landscape.minima}
    assert ends == {(1, -1), (-1, 1)}
    for minimum in landscape.minima:
        assert minimum.basin == pytest.approx(0.5, abs=0.04)  # 5 standard errors at 4,000 starts
        assert minimum.energy == pytest.approx(-2.0)


# --- counts on the command line are bounded as in files -------------------------------------

@pytest.mark.parametrize("argv", [
    ["run", str(BASELINE), "--replications", "100001"],
    ["run", str(BASELINE), "--workers", "100000"],
    ["sweep", "x.toml", "--dask-workers", "1000"],
    ["tip", str(BASELINE), "--vary", "states.IND.autonomy", "--grouping", "QUAD",
     "--max-runs", "100000000000"],
    ["tip", str(BASELINE), "--vary", "states.IND.autonomy", "--grouping", "QUAD",
     "--precision", "0"],
    ["tip", str(BASELINE), "--vary", "states.IND.autonomy", "--grouping", "QUAD",
     "--precision", "-0.1"],
    ["tip", str(BASELINE), "--vary", "states.IND.autonomy", "--grouping", "QUAD",
     "--precision", "nan"],
    ["tip", str(BASELINE), "--vary", "states.IND.autonomy", "--grouping", "QUAD",
     "--range", "0", "inf"],
    ["run", str(BASELINE), "--seed", str(2**64)],
])
def test_out_of_bounds_options_are_refused_with_a_message(argv, capsys):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert "expected" in capsys.readouterr().err


def test_a_precision_finer_than_the_range_can_use_is_refused(capsys):
    code = main(["tip", str(BASELINE), "--vary", "states.IND.autonomy", "--grouping", "QUAD",
                 "--precision", "1e-12"])
    assert code == 1 and "--precision" in capsys.readouterr().err


def test_the_api_refuses_replications_beyond_the_files_limit():
    with pytest.raises(BlocsimError, match="replications"):
        blocsim.run(BASELINE, replications=10**9)


def test_no_more_workers_than_tasks_or_cores_and_a_warning_when_cores_cut_the_request():
    from blocsim.errors import BlocsimWarning
    from blocsim.experiment.limits import usable_workers

    assert usable_workers(8, tasks=3, cores=16) == 3
    with pytest.warns(BlocsimWarning, match="4 core"):
        assert usable_workers(8, tasks=100, cores=4) == 4
    with pytest.raises(BlocsimError, match="workers"):
        usable_workers(10_000, tasks=100, cores=4)


def test_no_more_workers_are_started_than_the_run_has_chunks():
    results = blocsim.run(BASELINE, replications=16, seed=1, workers=64)
    assert results.manifest["workers"] == min(2, os.cpu_count() or 1)


def test_a_sweep_design_too_large_is_refused_in_the_file(tmp_path):
    small_sweep(tmp_path)
    path = tmp_path / "huge.toml"
    path.write_text('name = "huge"\nbase = "base.toml"\nreplications = 10\n'
                    + "".join(f'[[axes]]\npath = "states.{code}.autonomy"\nrange = [0.1, 0.9]\n'
                              f'steps = 1000\n' for code in ("IND", "JPN", "AUS")))
    with pytest.raises(SweepError, match="at most 1,000,000 points"):
        load_sweep(path)


# --- Dask: bad addresses and silent schedulers ----------------------------------------------

@pytest.mark.parametrize("address", ["foo", "tcp://host", "tcp://h:99999", "inproc://x",
                                     "tcp://h:1\x1b[2J", ""])
def test_a_bad_dask_address_is_a_message(address):
    from blocsim.experiment.dask_connect import parse_scheduler_address

    with pytest.raises(BlocsimError, match="--dask") as caught:
        parse_scheduler_address(address)
    assert "\x1b" not in format_message(caught.value)


@pytest.mark.slow
def test_a_scheduler_that_accepts_but_never_answers_is_given_up_on():
    from blocsim.experiment.dask_connect import connect_client

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    started = time.monotonic()
    try:
        with pytest.raises(BlocsimError, match="has not answered"):
            connect_client(f"tcp://127.0.0.1:{server.getsockname()[1]}", seconds=1.0)
    finally:
        server.close()
    assert time.monotonic() - started < 10


@pytest.mark.slow
def test_the_sweep_command_gives_up_on_a_silent_scheduler_with_a_message(tmp_path, monkeypatch,
                                                                        capsys):
    monkeypatch.setattr("blocsim.experiment.dask_connect.CONNECT_SECONDS", 1.0)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    path = small_sweep(tmp_path)
    try:
        code = main(["sweep", str(path), "--out", str(tmp_path / "out"), "--dask",
                     f"tcp://127.0.0.1:{server.getsockname()[1]}"])
    finally:
        server.close()
    err = capsys.readouterr().err
    assert code == 1 and "not answered" in err and "Traceback" not in err


# --- valid but meaningless inputs get a warning ---------------------------------------------

def test_poles_that_are_the_same_state_are_warned_about(write_scenario):
    scenario = load(write_scenario(EXTENDS + '[poles]\nchina = "USA"\n'))
    assert any("poles.us and poles.china" in w for w in scenario.warnings)


def test_two_values_for_one_quarter_in_points_are_warned_about(write_scenario):
    scenario = load(write_scenario(EXTENDS + '[pressures.china_coercion]\n'
                                             'points = [["2026Q1", 0.2], [4, 0.8]]\n'))
    assert any("2026Q1" in w and "0.2, 0.8" in w for w in scenario.warnings)


def test_a_shock_with_no_targets_is_warned_about(write_scenario):
    scenario = load(write_scenario(EXTENDS + '[[shocks]]\nname = "nothing"\nat = "2026Q1"\n'
                                             'pressure = "china_coercion"\nmagnitude = 0.3\n'
                                             'targets = []\n'))
    assert any("no targets" in w for w in scenario.warnings)


def test_consolidation_longer_than_the_run_is_warned_about(write_scenario):
    scenario = load(write_scenario(EXTENDS + "[scenario]\nsteps = 6\n"
                                             "[dynamics]\nconsolidation_quarters = 8\n"))
    assert any("no grouping can consolidate" in w for w in scenario.warnings)


def test_the_shipped_scenarios_have_no_warnings():
    assert {p.name: load(p).warnings for p in SCENARIOS.glob("*.toml")} == \
        {p.name: [] for p in SCENARIOS.glob("*.toml")}


@pytest.mark.parametrize("path", ["scenario.seed", "scenario.replications"])
def test_a_sweep_axis_that_cannot_act_is_warned_about(tmp_path, path):
    small_sweep(tmp_path)
    sweep = tmp_path / "inert.toml"
    sweep.write_text(f'name = "inert"\nbase = "base.toml"\n[[axes]]\npath = "{path}"\n'
                     f'values = [1, 2]\n')
    assert any(path in w and "cannot act" in w for w in load_sweep(sweep).warnings)


@pytest.mark.slow
def test_warnings_are_printed_by_validate_and_run_and_kept_in_the_manifest(write_scenario,
                                                                          tmp_path, capsys):
    path = write_scenario(EXTENDS + '[poles]\nrussia = "CHN"\n')
    assert main(["validate", str(path)]) == 0
    assert "warning:" in capsys.readouterr().err
    assert main(["run", str(path), "--replications", "2", "--out", str(tmp_path / "out"),
                 "--quiet", "--no-dashboard"]) == 0
    assert "poles.china and poles.russia" in capsys.readouterr().err
    assert blocsim.open_results(tmp_path / "out").warnings == load(path).warnings
