"""Every page in a real browser: every figure renders, offline, without a script error, and reads
at a 1024-pixel window (no title runs over another or past its figure).

Drives Debian's Chromium (/usr/bin/chromium, installed by `scripts/ensure_chromium.sh`) through
Playwright's sync API; skipped with the reason when that browser is absent.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import blocsim
from blocsim.dashboards import write_dashboard
from tests.browser_support import (
    clipped_titles,
    figures_of,
    marks_of,
    open_page,
    overlapping_titles,
)
from tests.conftest import BASELINE, GRID_SWEEP, LHS_SWEEP, SCENARIOS, make_sweep
from tests.test_analysis_dashboards import sensitivity_table, tipping_folder, write_discovery
from tests.test_calibration_page import calibration_folder

PAGES = ("run_with_levers", "taiwan_crisis", "grid_sweep", "analysed_sweep", "comparison",
         "tipping_crosses", "tipping_never", "calibration")


def make_page(name: str, root: Path) -> Path:
    """Build one page of each kind from small runs."""
    if name == "run_with_levers":
        results = blocsim.run(BASELINE, replications=12, seed=3, workers=1)
        blocsim.levers(results, replications=12, workers=1)
        return write_dashboard(results.save(root / "run", dashboard=False))
    if name == "taiwan_crisis":
        results = blocsim.run(SCENARIOS / "taiwan_crisis.toml", replications=12, seed=3,
                              workers=1)
        return write_dashboard(results.save(root / "taiwan", dashboard=False))
    if name == "grid_sweep":
        return write_dashboard(make_sweep(root / "grid", GRID_SWEEP))
    if name == "analysed_sweep":
        folder = make_sweep(root / "lhs", LHS_SWEEP)
        sensitivity_table().to_parquet(folder / "sensitivity.parquet", index=False)
        write_discovery(folder, "QUAD")
        return write_dashboard(folder)
    if name == "comparison":
        comparison = blocsim.compare(BASELINE, SCENARIOS / "india_tilt.toml", replications=8,
                                     workers=1)
        return comparison.save(root / "compare") / "comparison.html"
    if name == "calibration":
        return write_dashboard(calibration_folder(root / "calibration"))
    status = "crosses" if name == "tipping_crosses" else "never crosses in range"
    return write_dashboard(tipping_folder(root / "tip", status))


@pytest.fixture(scope="module", params=PAGES)
def opened(request: pytest.FixtureRequest, browser, tmp_path_factory: pytest.TempPathFactory):
    """The page opened from a file:// URL at 1024 px, with its errors and requests."""
    path = make_page(request.param, tmp_path_factory.mktemp(request.param))
    page, errors, requests = open_page(browser, path)
    page.set_viewport_size({"width": 1024, "height": 900})
    page.wait_for_timeout(500)
    yield request.param, page, errors, requests
    page.close()


def test_every_figure_renders_its_traces(opened):
    _, page, _, _ = opened
    counts = figures_of(page)
    assert counts and all(c["traces"] > 0 and c["svgs"] > 0 for c in counts), counts


def test_every_figure_draws_visible_marks(opened):
    _, page, _, _ = opened
    assert all(n > 0 for n in marks_of(page)), marks_of(page)


def test_no_console_or_page_errors(opened):
    _, _, errors, _ = opened
    assert errors == []


def test_the_page_fetches_nothing_from_the_network(opened):
    _, _, _, requests = opened
    assert [u for u in requests if not u.startswith(("file:", "data:", "blob:"))] == []


def test_no_titles_overlap_at_1024_pixels(opened):
    """Defect: the heat maps' panel titles overlapped at 1024 px."""
    _, page, _, _ = opened
    assert overlapping_titles(page) == []
    assert clipped_titles(page) == []


def test_the_run_page_answers_what_would_change_it(opened):
    name, page, _, _ = opened
    if name != "run_with_levers":
        pytest.skip("only the run with levers")
    traces = page.evaluate("() => document.getElementById('figure-levers').data.length")
    assert traces >= 2
    assert "it would take" in page.inner_text(".finding") or \
        "beyond the noise" in page.inner_text(".finding")


def test_choosing_the_focus_grouping_shows_its_points(opened):
    name, page, errors, _ = opened
    if name != "grid_sweep":
        pytest.skip("only the sweep page")
    shown = "() => Array.from(document.querySelectorAll('[data-focus]')).filter(e => !e.hidden)" \
            ".map(e => e.dataset.focus)"
    title = "() => document.getElementById('figure-parallel').layout.title.text"
    first = page.evaluate(title)
    assert set(page.evaluate(shown)) == {"0"}
    page.select_option("#focus", "2")
    assert set(page.evaluate(shown)) == {"2"}
    assert page.evaluate(title) != first  # the one plot redrawn for the chosen grouping
    assert errors == []


def test_the_sweep_page_holds_one_parallel_coordinates_plot(opened):
    """Defect: one per grouping took three WebGL contexts each; past about sixteen a browser
    drops the oldest, and the default grouping's plot was drawn blank."""
    name, page, _, _ = opened
    if name != "grid_sweep":
        pytest.skip("only the sweep page")
    plots = "() => document.querySelectorAll('.js-plotly-plot .parcoords').length"
    assert page.evaluate(plots) == 1


def test_the_outcome_buttons_switch_the_sensitivity_bars(opened):
    name, page, errors, _ = opened
    if name != "analysed_sweep":
        pytest.skip("only the sweep page has sensitivity bars")
    visible = """() => document.getElementById('figure-sensitivity').data
        .filter(t => t.visible !== false).map(t => t.meta.outcome)"""
    assert set(page.evaluate(visible)) == {"probability"}
    page.click("#figure-sensitivity .updatemenu-button >> nth=1")
    page.wait_for_timeout(300)
    assert set(page.evaluate(visible)) == {"mean_peak_level"}
    assert errors == []


def test_the_calibration_page_draws_every_section_and_fits_its_tables(opened):
    name, page, _, _ = opened
    if name != "calibration":
        pytest.skip("only the calibration page")
    assert [f["id"] for f in figures_of(page)] == [
        "figure-parameters", "figure-pinned", "figure-pairs", "figure-facts", "figure-scores",
        "figure-run"]
    bars = page.evaluate("""() => document.getElementById('figure-parameters').data
        .filter(t => t.type === 'bar').length""")
    assert bars == 3
    assert "It loses on H5, H9" in page.inner_text(".finding")
    widths = page.evaluate("""() => Array.from(document.querySelectorAll('.scroll'))
        .map(e => e.scrollWidth - e.clientWidth)""")
    assert widths and max(widths) <= 0


TEN_AXES = '''
name = "ten_axes"
base = "{base}"
design = "lhs"
samples = 8
replications = 2
seed = 4
''' + "".join(textwrap.dedent(f'''
[[axes]]
path = "pressures.{name}.end"
range = [0.2, 0.9]
''') for name in ("china_assertiveness", "china_coercion", "us_engagement", "us_reliability",
                  "russia_courtship", "nato_outreach", "europe_bandwidth", "dprk_provocation",
                  "asean_centrality")) + '''
[[axes]]
path = "groupings.US_JPN_ROK.initial_level"
range = [3.5, 4.0]
'''
"""The tenth axis lets the trilateral consolidate in some runs: a focus grouping that never does
has no points table to show (every point ties)."""


def test_points_tables_of_a_ten_axis_sweep_show_their_probability(browser, tmp_path):
    """Defect: on 10-axis sweeps the points tables cut off their P column."""
    path = write_dashboard(make_sweep(tmp_path / "ten", TEN_AXES))
    page, errors, _ = open_page(browser, path)
    page.set_viewport_size({"width": 1024, "height": 900})
    page.wait_for_timeout(300)
    right = page.evaluate("""() => Array.from(document.querySelectorAll('#extremes th'))
        .filter(th => th.textContent.startsWith('P(') && th.offsetParent !== null)
        .map(th => th.getBoundingClientRect().right)""")
    assert right and max(right) <= 1024
    assert errors == []
    page.close()
