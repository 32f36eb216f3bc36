"""The sweep and comparison pages in a real browser: every figure renders, offline, no errors.

Same browser and skip logic as tests/test_browser.py (Debian's Chromium through Playwright).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from blocsim.dashboards import write_dashboard
from tests.browser_support import figures_of, marks_of, open_page
from tests.conftest import GRID_SWEEP, LHS_SWEEP, make_comparison, make_sweep

FIGURES = {"grid_sweep": 3, "lhs_sweep": 3, "comparison": 2}
"""How many plotly figures each page draws."""



@pytest.fixture(scope="module", params=list(FIGURES))
def dashboard(request: pytest.FixtureRequest,
              tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    root = tmp_path_factory.mktemp("browser_sweeps")
    if request.param == "grid_sweep":
        folder = make_sweep(root / "grid", GRID_SWEEP)
    elif request.param == "lhs_sweep":
        folder = make_sweep(root / "lhs", LHS_SWEEP)
    else:
        folder = make_comparison(root / "scenarios")
    return request.param, write_dashboard(folder)


@pytest.fixture(scope="module")
def opened(browser, dashboard: tuple[str, Path]):
    """The page opened from a file:// URL, with the errors and requests it produced."""
    kind, path = dashboard
    page, errors, requests = open_page(browser, path)
    yield kind, page, errors, requests
    page.close()


def test_every_figure_renders_its_traces(opened):
    kind, page, _, _ = opened
    counts = figures_of(page)
    assert len(counts) == FIGURES[kind]
    assert all(c["traces"] > 0 for c in counts), counts
    assert all(c["svgs"] > 0 for c in counts), counts


def test_every_figure_draws_visible_marks(opened):
    _, page, _, _ = opened
    drawn = marks_of(page)
    assert all(n > 0 for n in drawn), drawn


def test_no_console_or_page_errors(opened):
    _, _, errors, _ = opened
    assert errors == []


def test_the_page_fetches_nothing_from_the_network(opened):
    _, _, _, requests = opened
    assert [u for u in requests if not u.startswith(("file:", "data:", "blob:"))] == []
