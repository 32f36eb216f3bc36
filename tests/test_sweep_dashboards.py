"""The sweep and comparison pages: their figures equal the per-point and per-run tables, the base
scenario's own value is marked, the focus grouping is the reader's choice, and the pages refuse
folders they cannot draw."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import blocsim
from blocsim.analysis.summary import wilson_interval
from blocsim.dashboards import sweep_aggregate as agg
from blocsim.dashboards import write_dashboard
from blocsim.dashboards.facts import parameter
from blocsim.dashboards.read import (
    COMPARISON,
    RUN,
    SWEEP,
    folder_kind,
    read_comparison,
    read_sweep,
    run_subfolders,
)
from blocsim.dashboards.sweep_page import sweep_sections
from blocsim.errors import ResultsError
from tests.conftest import GRID_SWEEP, LHS_SWEEP, make_comparison, make_sweep

pytestmark = pytest.mark.slow  # whole pages: each module builds runs and sweeps first

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


def _sections(folder: Path):
    data = read_sweep(folder)
    sections, context = sweep_sections(data)
    return data, {s.anchor: s.figure for s in sections}, context


# --- figures equal the tables ---------------------------------------------------------------

def test_heatmap_cell_of_a_grid_point_is_that_points_probability(grid_folder):
    data, figures, _ = _sections(grid_folder)
    heat = next(t for t in figures["surfaces"].data if t.type == "heatmap" and t.name == "QUAD")
    quad = data.probabilities[data.probabilities.grouping == "QUAD"]
    point = quad.iloc[0]
    x = list(heat.x).index(f"{point[GRID_AXES[0]]:.3g}")
    y = list(heat.y).index(f"{point[GRID_AXES[1]]:.3g}")
    assert heat.z[y][x] == pytest.approx(point.probability)


def test_surface_rings_the_base_scenarios_own_cell(grid_folder):
    """You are here: the baseline has assertiveness 0.6 (nearest grid value 0.7) and India 0.9."""
    data, figures, _ = _sections(grid_folder)
    rings = [t for t in figures["surfaces"].data if t.type == "scatter"]
    assert len(rings) == len(data.order)
    assert (rings[0].x[0], rings[0].y[0]) == ("0.7", "0.9")
    assert "0.60, 0.90" in rings[0].name


def test_marginal_curves_mark_the_base_value(grid_folder):
    data, figures, _ = _sections(grid_folder)
    lines = {round(s.x0, 6) for s in figures["effects"].layout.shapes if s.line.dash == "dot"}
    assert lines == {0.6, 0.9}
    assert [a.here for a in data.axes] == pytest.approx([0.6, 0.9])


def test_effect_value_at_an_axis_value_is_the_pooled_share_of_the_runs_there(grid_folder):
    data, figures, _ = _sections(grid_folder)
    outcomes = pd.read_parquet(grid_folder / "outcomes.parquet")
    runs = outcomes.merge(data.points, on="point")
    trace = next(t for t in figures["effects"].data if t.meta == GRID_AXES[1]
                 and t.legendgroup == "QUAD")
    for x, y, plus in zip(trace.x, trace.y, trace.error_y.array, strict=True):
        mine = runs[(runs.grouping == "QUAD") & np.isclose(runs[GRID_AXES[1]], x)]
        assert y == pytest.approx(mine.consolidated.mean())
        assert y + plus == pytest.approx(wilson_interval(int(mine.consolidated.sum()),
                                                         len(mine))[1])


def test_default_focus_is_the_grouping_that_varies_most(lhs_folder):
    data, _, context = _sections(lhs_folder)
    spread = data.probabilities.groupby("grouping")["probability"].std()
    assert context["order"][0] == spread.idxmax()


def test_sampled_surface_shows_the_two_axes_that_move_the_focus_most(lhs_folder):
    _, _, context = _sections(lhs_folder)
    assert [context["choice"].x.path, context["choice"].y.path] == \
        list(context["sizes"].index[:2])


def test_surface_cells_of_a_sampled_design_pool_every_run_once(lhs_folder):
    data = read_sweep(lhs_folder)
    cells = agg.surface(data.probabilities, data.points, GRID_AXES[0], GRID_AXES[1], "lhs",
                        bins=3)
    assert (cells.groupby("grouping")["replications"].sum()
            == len(data.points) * data.stamp.replications).all()


def test_extreme_points_are_the_highest_and_lowest(lhs_folder):
    data = read_sweep(lhs_folder)
    top, bottom, _, _ = agg.extreme_points(data.probabilities, "AUKUS", 5)
    mine = data.probabilities[data.probabilities.grouping == "AUKUS"].probability
    assert top.probability.tolist()[:5] == sorted(mine, reverse=True)[:5]
    assert bottom.probability.tolist()[:5] == sorted(mine)[:5]


def test_lowest_table_lists_every_tie_rather_than_five_arbitrary_points():
    """Defect: "lowest" tables listed five arbitrary points of many tied at P = 0."""
    table = pd.DataFrame({"point": range(12), "grouping": "G",
                          "probability": [0.0] * 9 + [0.2, 0.4, 0.6],
                          "ci_low": 0.0, "ci_high": 0.3})
    top, bottom, top_ties, bottom_ties = agg.extreme_points(table, "G", 5)
    assert bottom_ties == 9 and len(bottom) == 9 and set(bottom.point) == set(range(9))
    assert top_ties == 1 and len(top) == 5


def test_focus_grouping_is_a_choice_on_the_page(grid_folder):
    page = write_dashboard(grid_folder).read_text()
    data = read_sweep(grid_folder)
    options = re.findall(r'<option value="(\d+)">', page)
    assert len(options) == len(data.order)
    assert page.count('data-focus="') == len(data.order)  # the extreme points' tables
    figures = json.loads(re.search(r"const parallelFigures = (\[.*?\]);\n", page).group(1))
    assert [f["data"][0]["name"] for f in figures] == data.order  # one plot, redrawn
    assert "FOCUS" not in page and "default: " + data.facts.label(data.order[0]) in page


def test_points_tables_put_the_probability_before_the_axes():
    """Defect: on 10-axis sweeps the P column was cut off past the axes."""
    from blocsim.dashboards.page import ENVIRONMENT

    source = ENVIRONMENT.loader.get_source(ENVIRONMENT, "sweep.html.j2")[0]
    head = re.search(r"<th>point</th>(.*?)</tr></thead>", source, re.S).group(1)
    assert head.index("P({{") < head.index("{% for a in data.axes %}")


def test_axis_labels_are_readable_words_not_dotted_paths():
    assert parameter("pressures.china_assertiveness.end").label == \
        "China's assertiveness (end of run)"
    assert parameter("pressures.us_reliability.start").label == "US reliability (start of run)"
    assert parameter("pressures.us_engagement").label == "US engagement"
    assert "." not in parameter("states.JPN.china_trade_dependence").label


def test_a_state_attribute_axis_says_what_it_stands_for():
    """Defect: the sweep page's axis table read '–' for `states.IND.autonomy`."""
    assert parameter("states.IND.autonomy").meaning.startswith("aversion to binding")


# --- comparison -----------------------------------------------------------------------------

def test_comparison_probabilities_equal_each_runs_consolidated_share(compare_folder):
    data = read_comparison(compare_folder)
    for label, run in data.runs.items():
        mine = data.table[data.table.scenario == label].set_index("grouping")
        shares = run.outcomes.groupby("grouping")["consolidated"].mean()
        for key, share in shares.items():
            assert mine.loc[key, "probability"] == pytest.approx(share)


def test_comparison_puts_the_baseline_first_and_pairs_runs_of_one_seed(compare_folder):
    data = read_comparison(compare_folder)
    assert list(data.runs)[0] == data.reference == "baseline"
    assert data.paired and data.table.paired.all()


@pytest.mark.parametrize("measure", ["PROBABILITY", "LEVEL"])
def test_comparison_forest_plots_show_the_paired_differences(compare_folder, measure):
    from blocsim.dashboards import comparison_page

    data = read_comparison(compare_folder)
    chosen = getattr(comparison_page, measure)
    figure = comparison_page.forest_figure(data, comparison_page._order(data), chosen)
    trace = next(t for t in figure.data if t.name == "india_tilt")
    table = data.table[data.table.scenario == "india_tilt"].set_index("grouping")
    assert len(trace.ids) == len(table)
    for key, x in zip(trace.ids, trace.x, strict=True):
        assert x == pytest.approx(table.loc[key, chosen.difference])


def test_reading_a_comparison_computes_the_level_differences_from_its_runs(compare_folder):
    """The table is computed from the runs' outcomes on reading, not taken from the file."""
    data = read_comparison(compare_folder)
    row = data.table.set_index(["scenario", "grouping"]).loc[("india_tilt", "QUAD")]
    assert row.level_low <= row.level_difference <= row.level_high


def test_comparison_page_lists_each_changed_value_with_both_sources(compare_folder):
    page = write_dashboard(compare_folder).read_text()
    assert compare_folder / "comparison.html" == write_dashboard(compare_folder)
    inputs = re.search(r'id="inputs">(.*?)</section>', page, re.S).group(1)
    assert "states.IND.autonomy" in inputs and ">0.97<" in inputs
    assert "autonomy 0.9: highest of all" in inputs and "autonomy 0.97 (baseline 0.9)" in inputs


def test_folder_kind_tells_runs_sweeps_and_comparisons_apart(grid_folder, compare_folder):
    assert folder_kind(grid_folder) == SWEEP
    assert folder_kind(compare_folder) == COMPARISON
    assert all(folder_kind(f) == RUN for f in run_subfolders(compare_folder))


def test_an_empty_folder_is_refused_naming_what_was_expected(tmp_path):
    with pytest.raises(ResultsError, match="expected a run folder"):
        folder_kind(tmp_path)


def test_a_folder_with_a_single_run_is_not_a_comparison(compare_folder, tmp_path):
    single = tmp_path / "single"
    single.mkdir()
    (single / "baseline").symlink_to(compare_folder / "baseline")
    with pytest.raises(ResultsError, match="only one run folder"):
        folder_kind(single)


def test_an_unfinished_sweep_is_refused(grid_folder, tmp_path):
    copy = tmp_path / "unfinished"
    copy.mkdir()
    manifest = json.loads((grid_folder / "manifest.json").read_text())
    manifest["status"] = "running"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ResultsError, match="unfinished"):
        write_dashboard(copy)


def test_a_manifest_of_another_kind_is_refused(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"kind": "weird"}))
    with pytest.raises(ResultsError, match="'weird'"):
        write_dashboard(tmp_path)


@pytest.mark.parametrize(("highest", "top"), [(0.0, 0.05), (0.12, 0.15), (0.15, 0.15),
                                              (0.5, 0.5), (0.51, 1.0), (1.0, 1.0)])
def test_a_probability_below_one_half_is_coloured_on_a_scale_to_its_highest_value(highest, top):
    from blocsim.dashboards.sweep_figures import probability_scale_top

    assert probability_scale_top(highest) == pytest.approx(top)


def test_a_grouping_whose_probability_never_varies_gets_a_sentence_not_two_tables(grid_folder):
    """Defect: a grouping that never consolidates listed every point twice, all tied at 0."""
    data = read_sweep(grid_folder)
    span = data.probabilities.groupby("grouping")["probability"].agg(["min", "max"])
    constant = span[span["min"] == span["max"]].index
    assert len(constant) and len(data.points) > 5  # the check has a grouping to speak of
    html = write_dashboard(grid_folder).read_text(encoding="utf-8")
    assert html.count("design points: no point favours it more than another") == len(constant)


def test_a_comparison_says_what_the_reference_drew_for_a_weight_the_variant_kept(tmp_path):
    """The comparison read 'baseline 4.5' for a weight the baseline's runs drew from the
    posterior (weighted median about 4.7), not the file's hand-set 4.5."""
    from tests.conftest import copy_baseline

    base = copy_baseline(tmp_path / "files")
    variant = base.parent / "free.toml"
    variant.write_text('extends = "baseline.toml"\n[mechanisms.autonomy_cost]\nweight = 0.0\n'
                       'source = "Counterfactual: autonomy costs nothing."\n')
    for path in (base, variant):
        blocsim.run(path, replications=2, seed=1, workers=1).save(tmp_path / "cmp" / path.stem)
    [change] = read_comparison(tmp_path / "cmp").parameters["free"]
    assert change.old == 4.5 and change.old_drawn.startswith("drawn from the posterior")
