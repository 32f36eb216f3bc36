"""The sweep and comparison dashboards: their figures show what the tables say."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blocsim.analysis.summary import wilson_interval
from blocsim.analysis.sweeps import point_probabilities
from blocsim.dashboards import sweep_aggregate as agg
from blocsim.dashboards import write_dashboard
from blocsim.dashboards.comparison_aggregate import read_runs
from blocsim.dashboards.comparison_page import compare, comparison_figures, seed_note
from blocsim.dashboards.folders import COMPARISON, RUN, SWEEP, folder_kind, run_subfolders
from blocsim.dashboards.labels import axis_label
from blocsim.dashboards.sweep_figures import cell_label
from blocsim.dashboards.sweep_page import read_sweep, sweep_figures
from blocsim.errors import ResultsError
from tests.conftest import GRID_SWEEP, LHS_SWEEP, make_comparison, make_sweep

GRID_AXES = ["pressures.china_assertiveness.end", "states.IND.autonomy"]


@pytest.fixture(scope="module")
def grid_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sweep(tmp_path_factory.mktemp("sweeps") / "grid", GRID_SWEEP)


@pytest.fixture(scope="module")
def lhs_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sweep(tmp_path_factory.mktemp("sweeps") / "lhs", LHS_SWEEP)


@pytest.fixture(scope="module")
def compare_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_comparison(tmp_path_factory.mktemp("compare") / "scenarios")


def _runs(folder: Path) -> pd.DataFrame:
    """Every run's outcome joined to its point's axis values."""
    outcomes = pd.read_parquet(folder / "outcomes.parquet",
                               columns=["point", "grouping", "consolidated", "peak_level"])
    outcomes["grouping"] = outcomes["grouping"].astype(str)
    return outcomes.merge(pd.read_parquet(folder / "points.parquet"), on="point")


def _effect_traces(figure, path: str) -> dict[str, object]:
    return {t.legendgroup: t for t in figure.data if t.meta == path}


# --- the sweep page's figures equal what the tables say -------------------------------------

def test_heatmap_cell_of_a_grid_point_is_that_points_probability(grid_folder):
    data = read_sweep(grid_folder)
    figures = sweep_figures(data)
    outcomes = pd.read_parquet(grid_folder / "outcomes.parquet",
                               columns=["point", "grouping", "consolidated", "peak_level"])
    expected = point_probabilities(outcomes, pd.read_parquet(grid_folder / "points.parquet"))
    heatmaps = {t.name: t for t in figures.surface.data if t.type == "heatmap"}
    assert set(heatmaps) == set(expected["grouping"].astype(str))
    for row in expected.itertuples(index=False):
        trace = heatmaps[str(row.grouping)]
        x_value, y_value = row[1], row[2]  # the two axis columns, in the design's order
        col = list(trace.x).index(cell_label(x_value, x_value, x_value))
        line = list(trace.y).index(cell_label(y_value, y_value, y_value))
        assert trace.z[line][col] == pytest.approx(row.probability, abs=1e-12)


def test_grid_of_two_axes_draws_its_own_axes_across_and_up(grid_folder):
    figures = sweep_figures(read_sweep(grid_folder))
    assert (figures.choice.x.path, figures.choice.y.path) == tuple(GRID_AXES)
    titles = {axis.title.text for axis in (figures.surface.layout[k] for k in
                                           figures.surface.layout if k.startswith(("xaxis",
                                                                                   "yaxis")))}
    assert "China's assertiveness (end of run)" in titles
    assert "India: autonomy" in titles


def test_surface_colour_scale_is_fixed_from_zero_to_one(grid_folder, lhs_folder):
    for folder in (grid_folder, lhs_folder):
        coloraxis = sweep_figures(read_sweep(folder)).surface.layout.coloraxis
        assert (coloraxis.cmin, coloraxis.cmax) == (0, 1)
        assert coloraxis.colorbar.title.text == "P(consolidation)"


def test_effect_value_at_an_axis_value_is_the_pooled_share_of_the_runs_there(grid_folder):
    runs = _runs(grid_folder)
    effects = sweep_figures(read_sweep(grid_folder)).effects
    for path in GRID_AXES:
        traces = _effect_traces(effects, path)
        for grouping, trace in traces.items():
            for x, y, plus, minus in zip(trace.x, trace.y, trace.error_y.array,
                                         trace.error_y.arrayminus, strict=True):
                there = runs[(runs["grouping"] == grouping) & np.isclose(runs[path], x)]
                assert y == pytest.approx(there["consolidated"].mean(), abs=1e-12)
                low, high = wilson_interval(int(there["consolidated"].sum()), len(there))
                assert (y - minus, y + plus) == pytest.approx((low, high), abs=1e-12)


def test_effect_bins_of_a_sampled_axis_pool_the_runs_of_their_points(lhs_folder):
    runs = _runs(lhs_folder)
    data = read_sweep(lhs_folder)
    effects = agg.axis_effects(data.probabilities, data.points, [a.path for a in data.info.axes],
                               "lhs", bins=4)
    for path in (a.path for a in data.info.axes):
        mine = effects[(effects["axis"] == path) & (effects["grouping"] == "QUAD")]
        assert len(mine) == 4
        for row in mine.itertuples():
            inside = runs[(runs["grouping"] == "QUAD") & (runs[path] >= row.low)
                          & (runs[path] <= row.high)]
            assert row.replications == len(inside)
            assert row.probability == pytest.approx(inside["consolidated"].mean(), abs=1e-12)


def test_parallel_coordinates_have_one_dimension_per_axis_plus_the_outcome(grid_folder,
                                                                           lhs_folder):
    for folder in (grid_folder, lhs_folder):
        data = read_sweep(folder)
        parcoords = sweep_figures(data).parallel.data[0]
        assert parcoords.type == "parcoords"
        labels = [d.label for d in parcoords.dimensions]
        assert len(labels) == len(data.info.axes) + 1
        assert labels[:-1] == [a.name.short for a in data.info.axes]
        assert "QUAD" in labels[-1]


def test_parallel_coordinates_end_each_line_at_the_points_quad_probability(lhs_folder):
    data = read_sweep(lhs_folder)
    parcoords = sweep_figures(data).parallel.data[0]
    quad = (data.probabilities[data.probabilities["grouping"] == "QUAD"]
            .set_index("point")["probability"])
    assert list(parcoords.dimensions[-1].values) == pytest.approx(quad.to_numpy())
    assert list(parcoords.line.color) == pytest.approx(quad.to_numpy())


def test_sampled_surface_shows_the_two_axes_that_move_quad_most(lhs_folder):
    data = read_sweep(lhs_folder)
    figures = sweep_figures(data)
    top_two = list(figures.effect_sizes.index[:2])
    assert [figures.choice.x.path, figures.choice.y.path] == top_two
    assert "largest effect on QUAD" in figures.choice.reason


def test_surface_cells_of_a_sampled_design_pool_every_run_once(lhs_folder):
    data = read_sweep(lhs_folder)
    cells = agg.surface(data.probabilities, data.points, GRID_AXES[0], GRID_AXES[1], "lhs",
                        bins=3)
    assert cells["x_bin"].nunique() == 3
    per_grouping = cells.groupby("grouping")["replications"].sum()
    assert (per_grouping == data.info.runs).all()


def test_extreme_points_are_the_highest_and_lowest_quad_probabilities(lhs_folder):
    data = read_sweep(lhs_folder)
    top, bottom = agg.extreme_points(data.probabilities, "QUAD", 5)
    quad = data.probabilities[data.probabilities["grouping"] == "QUAD"]["probability"]
    assert top["probability"].tolist() == sorted(quad, reverse=True)[:5]
    assert bottom["probability"].tolist() == sorted(quad)[:5]


def test_a_discrete_axis_is_binned_value_by_value():
    values = pd.Series([0.5, 0.7, 0.5, 0.9], index=pd.RangeIndex(4, name="point"))
    bins = agg.axis_bins(values, agg.is_discrete(values, "grid"))
    assert bins["x"].tolist() == [0.5, 0.7, 0.5, 0.9]
    assert bins["bin"].tolist() == [0, 1, 0, 2]


# --- readable labels ---------------------------------------------------------------------------

def test_axis_labels_are_readable_words_not_dotted_paths():
    names = {"IND": "India"}
    assert axis_label("pressures.china_assertiveness.end", names).label == \
        "China's assertiveness (end of run)"
    assert axis_label("states.IND.autonomy", names).label == "India: autonomy"
    assert axis_label("pressures.us_reliability.start").label == "US reliability (start of run)"
    assert "." not in axis_label("states.JPN.china_trade_dependence", {"JPN": "Japan"}).label


def test_pressure_axes_carry_the_vocabularys_meaning():
    from blocsim.vocabulary import PRESSURES

    meaning = next(p.meaning for p in PRESSURES if p.name == "taiwan_tension")
    assert axis_label("pressures.taiwan_tension.end").meaning == meaning


# --- the sweep page ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sweep_page(grid_folder: Path) -> str:
    return write_dashboard(grid_folder).read_text(encoding="utf-8")


def test_sweep_page_is_written_into_the_sweep_folder(grid_folder, sweep_page):
    assert (grid_folder / "dashboard.html").is_file()


def test_sweep_page_header_names_the_sweep_design_axes_and_hash(grid_folder, sweep_page):
    manifest = json.loads((grid_folder / "manifest.json").read_text())
    assert "tiny_grid" in sweep_page
    assert manifest["sweep"]["hash"][:12] in sweep_page
    assert "How to read this page" in sweep_page
    assert "China&#x27;s assertiveness (end of run)" in sweep_page
    assert "India: autonomy" in sweep_page
    assert str(manifest["seed"]) in sweep_page


def test_sweep_page_embeds_plotly_once_and_fetches_nothing(sweep_page):
    assert len(re.findall(r"<script type=\"text/javascript\">/\*\*", sweep_page)) == 1
    assert not re.findall(r"<script[^>]*\bsrc\s*=", sweep_page, re.IGNORECASE)
    assert len(re.findall(r'class="plotly-graph-div"', sweep_page)) == 3


def test_sweep_page_lists_the_top_and_bottom_points(sweep_page):
    assert "Highest P(QUAD consolidates)" in sweep_page
    assert "Lowest P(QUAD consolidates)" in sweep_page


# --- the comparison page ----------------------------------------------------------------------

def test_comparison_bars_equal_each_runs_consolidated_share(compare_folder):
    comparison = compare(read_runs(run_subfolders(compare_folder)))
    probability, _ = comparison_figures(comparison)
    assert [t.name for t in probability.data] == comparison.labels
    for trace, run in zip(probability.data, comparison.runs, strict=True):
        outcomes = pd.read_parquet(run.folder / "outcomes.parquet")
        for key, value in zip(trace.ids, trace.x, strict=True):
            expected = outcomes[outcomes["grouping"] == key]["consolidated"].mean()
            assert value == pytest.approx(expected, abs=1e-12)


def test_comparison_lines_are_each_scenarios_median_level(compare_folder):
    comparison = compare(read_runs(run_subfolders(compare_folder)))
    _, levels = comparison_figures(comparison)
    trace = next(t for t in levels.data if t.meta == "QUAD" and t.name == "india_tilt")
    table = pd.read_parquet(compare_folder / "india_tilt" / "levels.parquet")
    quad = table[table["grouping"] == "QUAD"].groupby("step")["level"].median()
    assert list(trace.y) == pytest.approx(quad.to_numpy())


def test_comparison_puts_the_baseline_first_and_notes_the_shared_seed(compare_folder):
    runs = read_runs(run_subfolders(compare_folder))
    assert runs[0].label == "baseline"
    assert "same seed" in seed_note(runs)


def test_comparison_page_is_written_as_comparison_html(compare_folder):
    page = write_dashboard(compare_folder)
    assert page == compare_folder / "comparison.html"
    text = page.read_text(encoding="utf-8")
    assert "india_tilt" in text and "common random numbers" in text
    assert len(re.findall(r'class="plotly-graph-div"', text)) == 2


# --- which folder is which, and wrong folders ------------------------------------------------

def test_folder_kind_tells_runs_sweeps_and_comparisons_apart(grid_folder, compare_folder):
    assert folder_kind(grid_folder) == SWEEP
    assert folder_kind(compare_folder / "baseline") == RUN
    assert folder_kind(compare_folder) == COMPARISON


def test_an_empty_folder_is_refused_naming_what_was_expected(tmp_path):
    with pytest.raises(ResultsError, match="two or more run folders"):
        write_dashboard(tmp_path)


def test_a_folder_with_a_single_run_is_not_a_comparison(compare_folder, tmp_path):
    import shutil

    shutil.copytree(compare_folder / "baseline", tmp_path / "baseline")
    with pytest.raises(ResultsError, match="only one run folder"):
        write_dashboard(tmp_path)
    assert not (tmp_path / "comparison.html").exists()


def test_an_unfinished_sweep_is_refused(grid_folder, tmp_path):
    folder = tmp_path / "unfinished"
    folder.mkdir()
    manifest = json.loads((grid_folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    with pytest.raises(ResultsError, match="unfinished sweep"):
        write_dashboard(folder)


def test_a_manifest_of_another_kind_is_refused(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"kind": "landscape"}))
    with pytest.raises(ResultsError, match="expected a run folder"):
        write_dashboard(tmp_path)
