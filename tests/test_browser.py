"""The run dashboard in a real browser: every figure renders, offline, without a script error.

Drives Debian's Chromium (/usr/bin/chromium, installed by `scripts/ensure_chromium.sh`) through
Playwright's sync API; skipped with the reason when that browser is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import blocsim
from blocsim.dashboards import write_dashboard
from tests.browser_support import figures_of, marks_of, open_page
from tests.conftest import BASELINE, SCENARIOS


def _page_of(tmp_path_factory: pytest.TempPathFactory, scenario: Path, name: str) -> Path:
    folder = tmp_path_factory.mktemp("browser") / name
    results = blocsim.run(blocsim.load(scenario), replications=12, seed=3, workers=1)
    return write_dashboard(results.save(folder))


@pytest.fixture(scope="module", params=["baseline", "taiwan_crisis"])
def dashboard(request: pytest.FixtureRequest,
              tmp_path_factory: pytest.TempPathFactory) -> Path:
    scenario = BASELINE if request.param == "baseline" else SCENARIOS / f"{request.param}.toml"
    return _page_of(tmp_path_factory, scenario, request.param)


@pytest.fixture(scope="module")
def opened(browser, dashboard: Path):
    """The page opened from a file:// URL, with the errors and requests it produced."""
    page, errors, requests = open_page(browser, dashboard)
    yield page, errors, requests
    page.close()


def test_every_figure_renders_its_traces(opened):
    page, _, _ = opened
    counts = figures_of(page)
    assert len(counts) == page.evaluate("() => document.querySelectorAll('section').length")
    assert len(counts) == 8
    assert all(c["traces"] > 0 for c in counts), counts
    assert all(c["svgs"] > 0 for c in counts), counts


def test_every_figure_draws_visible_marks(opened):
    page, _, _ = opened
    drawn = marks_of(page)
    assert all(n > 0 for n in drawn), drawn


def test_no_console_or_page_errors(opened):
    _, errors, _ = opened
    assert errors == []


def test_the_page_fetches_nothing_from_the_network(opened):
    _, _, requests = opened
    assert [u for u in requests if not u.startswith(("file:", "data:", "blob:"))] == []
