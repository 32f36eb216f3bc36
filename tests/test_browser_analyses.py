"""The analysis pages in a real browser: a sweep page with sensitivity and discovery sections, and
both kinds of tipping page (a crossing, none in range); every figure renders, offline, no errors.

Same browser and skip logic as tests/test_browser.py (Debian's Chromium through Playwright).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from blocsim.dashboards import write_dashboard
from tests.browser_support import figures_of, marks_of, open_page
from tests.conftest import LHS_SWEEP, make_sweep
from tests.test_analysis_dashboards import sensitivity_table, tipping_folder, write_discovery

FIGURES = {"analysed_sweep": 5, "tipping_crosses": 2, "tipping_never": 2}
"""How many plotly figures each page draws (the sweep's three plus sensitivity and discovery)."""



@pytest.fixture(scope="module", params=list(FIGURES))
def dashboard(request: pytest.FixtureRequest,
              tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    root = tmp_path_factory.mktemp("browser_analyses")
    if request.param == "analysed_sweep":
        folder = make_sweep(root / "lhs", LHS_SWEEP)
        sensitivity_table().to_parquet(folder / "sensitivity.parquet", index=False)
        write_discovery(folder, "QUAD")
    elif request.param == "tipping_crosses":
        folder = tipping_folder(root / "tip", "crosses")
    else:
        folder = tipping_folder(root / "tip", "never crosses in range")
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


def test_the_outcome_buttons_switch_the_sensitivity_bars(opened):
    kind, page, errors, _ = opened
    if kind != "analysed_sweep":
        pytest.skip("only the sweep page has sensitivity bars")
    visible = """() => document.getElementById('figure-sensitivity').data
        .filter(t => t.visible !== false).map(t => t.meta.outcome)"""
    assert set(page.evaluate(visible)) == {"probability"}
    page.click("#figure-sensitivity .updatemenu-button >> nth=1")
    page.wait_for_timeout(300)
    assert set(page.evaluate(visible)) == {"mean_peak_level"}
    assert errors == []


def test_no_console_or_page_errors(opened):
    _, _, errors, _ = opened
    assert errors == []


def test_the_page_fetches_nothing_from_the_network(opened):
    _, _, _, requests = opened
    assert [u for u in requests if not u.startswith(("file:", "data:", "blob:"))] == []
