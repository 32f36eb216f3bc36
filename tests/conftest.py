"""Shared fixtures: the shipped scenarios, a tiny scenario written to a temporary folder, and a
cache of statistical runs so each (scenario, overrides) is simulated once per test session."""

from __future__ import annotations

import shutil
import signal
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

import blocsim
from blocsim.api import Results

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
BASELINE = SCENARIOS / "baseline.toml"


def interruptible() -> None:
    """`preexec_fn` for a command a test will Ctrl-C: Ctrl-C reaches it however the suite was
    started (a shell's background job ignores SIGINT, and its children inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def copy_baseline(folder: Path) -> Path:
    """Copy the baseline into `folder` with the posterior it names, at the same relative path."""
    baseline = blocsim.load(BASELINE)
    target = folder / baseline.scenario.posterior
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(baseline.posterior_path, target)
    return Path(shutil.copy(BASELINE, folder / "baseline.toml"))

TINY = textwrap.dedent('''
    [scenario]
    name = "tiny"
    steps = 12
    replications = 4
    seed = 3

    [states.USA]
    name = "United States"
    region = "north_america"
    capability = 1.0
    threat_china = 0.7
    autonomy = 0.3
    hedging = 0.0
    china_trade_dependence = 0.11
    russia_defense_dependence = 0.0
    us_alliance = 1.0
    domestic_constraint = 0.25
    source = "test fixture"

    [states.CHN]
    name = "China"
    region = "east_asia"
    capability = 0.3
    threat_china = 0.0
    autonomy = 0.8
    hedging = 0.0
    china_trade_dependence = 0.0
    russia_defense_dependence = 0.7
    us_alliance = 0.0
    domestic_constraint = 0.1
    source = "test fixture"

    [states.RUS]
    name = "Russia"
    region = "eurasia"
    capability = 0.15
    threat_china = 0.1
    autonomy = 0.5
    hedging = 0.0
    china_trade_dependence = 0.3
    russia_defense_dependence = 0.0
    us_alliance = 0.0
    domestic_constraint = 0.1
    source = "test fixture"

    [states.JPN]
    name = "Japan"
    region = "east_asia"
    capability = 0.055
    threat_china = 0.75
    autonomy = 0.25
    hedging = 0.1
    china_trade_dependence = 0.2
    russia_defense_dependence = 0.0
    us_alliance = 0.95
    domestic_constraint = 0.75
    source = "test fixture"

    [states.IND]
    name = "India"
    region = "south_asia"
    capability = 0.086
    threat_china = 0.6
    autonomy = 0.9
    hedging = 0.6
    china_trade_dependence = 0.1
    russia_defense_dependence = 0.4
    us_alliance = 0.2
    domestic_constraint = 0.3
    source = "test fixture"

    [affinities.USA]
    JPN = 0.8
    IND = 0.3
    source = "test fixture"

    [groupings.PAIR]
    members = ["USA", "JPN"]
    initial_level = 2.0
    source = "test fixture"

    [groupings.TRIO]
    members = ["USA", "JPN", "IND"]
    initial_level = 1.0
    source = "test fixture"

    [pressures.china_assertiveness]
    start = 0.5
    end = 0.8
''')


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write TOML text to `tmp_path / name` and return the path."""

    def write(text: str, name: str = "scenario.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


@pytest.fixture
def tiny_path(write_scenario: Callable[[str, str], Path]) -> Path:
    return write_scenario(TINY, "tiny.toml")


_RUNS: dict[tuple, Results] = {}


@pytest.fixture(scope="session")
def cached_run() -> Callable[..., Results]:
    """Run a shipped scenario (with optional dotted overrides) once per session and reuse it."""

    def run(name: str = "baseline", replications: int = 300, seed: int = 11,
            **overrides: float | bool) -> Results:
        key = (name, replications, seed, tuple(sorted(overrides.items())))
        if key not in _RUNS:
            scenario = blocsim.load(SCENARIOS / f"{name}.toml")
            if overrides:
                scenario = scenario.with_values({k.replace("__", "."): v
                                                 for k, v in overrides.items()})
            _RUNS[key] = blocsim.run(scenario, replications=replications, seed=seed, workers=2)
        return _RUNS[key]

    return run


# --- small sweep and comparison folders for the sweep and comparison dashboards ---------------

GRID_SWEEP = '''
name = "tiny_grid"
description = "QUAD over China's assertiveness and India's autonomy (test fixture)"
point = true  # the hand-set weights, where every grouping varies (the machinery under test)
base = "{base}"
design = "grid"
replications = 8
seed = 5

[[axes]]
path = "pressures.china_assertiveness.end"
values = [0.4, 0.7, 1.0]

[[axes]]
path = "states.IND.autonomy"
values = [0.5, 0.7, 0.9]
'''

LHS_SWEEP = '''
name = "tiny_lhs"
description = "Three pressures sampled by a Latin hypercube (test fixture)"
point = true  # the hand-set weights, where every grouping varies (the machinery under test)
base = "{base}"
design = "lhs"
samples = 12
replications = 6
seed = 6

[[axes]]
path = "pressures.china_assertiveness.end"
range = [0.2, 1.0]

[[axes]]
path = "pressures.us_engagement.end"
range = [0.2, 1.0]

[[axes]]
path = "states.IND.autonomy"
range = [0.5, 0.95]
'''


def make_sweep(folder: Path, text: str) -> Path:
    """Write a sweep file (base = the shipped baseline) beside `folder` and run it inline there."""
    from blocsim.experiment.executors import InlineExecutor
    from blocsim.experiment.sweep import run_sweep
    from blocsim.experiment.sweepfile import load_sweep

    folder.parent.mkdir(parents=True, exist_ok=True)
    sweep_file = folder.parent / f"{folder.name}.toml"
    sweep_file.write_text(textwrap.dedent(text).format(base=BASELINE.resolve().as_posix()))
    run_sweep(load_sweep(sweep_file), folder, InlineExecutor())
    return folder


def make_comparison(folder: Path, names: tuple[str, ...] = ("baseline", "india_tilt"),
                    replications: int = 8) -> Path:
    """A folder holding one small run folder per named shipped scenario (same seed)."""
    for name in names:
        results = blocsim.run(blocsim.load(SCENARIOS / f"{name}.toml"),
                              replications=replications, seed=1, workers=1)
        results.save(folder / name)
    return folder


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright, once per session (skipped, saying why, if absent)."""
    from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, MISSING

    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is not installed in this environment")
    if not CHROMIUM.exists():
        pytest.skip(MISSING)
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def pytest_collection_modifyitems(config, items) -> None:
    """Mark the lanes: `browser` (uses the Chromium fixture), `cluster` (starts or reaches a
    Dask scheduler). The fast lane for development is `make test-fast`: neither, nor `slow`."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
        if "dask" in item.name.lower():
            item.add_marker(pytest.mark.cluster)
