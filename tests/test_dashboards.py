"""The run dashboard: its figures show what the tables say; the page is self-contained."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import blocsim
from blocsim.analysis.summary import wilson_interval
from blocsim.dashboards import aggregate, write_dashboard
from blocsim.dashboards.run_info import run_info
from blocsim.dashboards.run_page import run_figures
from blocsim.dashboards.trajectory_figures import MEDIAN
from blocsim.errors import ResultsError
from blocsim.vocabulary import STAGES
from tests.conftest import BASELINE, SCENARIOS


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dashboards") / "run"
    return blocsim.run(blocsim.load(BASELINE), replications=20, seed=1, workers=1).save(folder)


@pytest.fixture(scope="module")
def results(run_folder: Path) -> blocsim.Results:
    return blocsim.open_results(run_folder)


@pytest.fixture(scope="module")
def figures(results: blocsim.Results):
    return run_figures(results)


@pytest.fixture(scope="module")
def page(run_folder: Path) -> str:
    return write_dashboard(run_folder).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def shocked_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dashboards") / "taiwan"
    scenario = blocsim.load(SCENARIOS / "taiwan_crisis.toml")
    return blocsim.run(scenario, replications=8, seed=2, workers=1).save(folder)


def _bar_values(figure, trace_index: int = 0) -> dict[str, float]:
    trace = figure.data[trace_index]
    return dict(zip(trace.ids, map(float, trace.x), strict=True))


def _label(key: str) -> str:
    return key.replace("_", "–")


# --- figures equal what the tables say -------------------------------------------------------

def test_probability_bar_of_each_grouping_is_its_share_of_consolidated_runs(results, figures):
    bars = _bar_values(figures.probability)
    outcomes = results.outcomes
    for grouping in outcomes["grouping"].unique():
        expected = outcomes[outcomes.grouping == grouping].consolidated.mean()
        assert bars[grouping] == pytest.approx(expected, abs=1e-12)


def test_probability_error_bars_are_the_wilson_interval(results, figures):
    trace = figures.probability.data[0]
    outcomes = results.outcomes
    for key, p, plus, minus in zip(trace.ids, trace.x, trace.error_x.array,
                                   trace.error_x.arrayminus, strict=True):
        runs = outcomes[outcomes.grouping == key]
        low, high = wilson_interval(int(runs.consolidated.sum()), len(runs))
        assert (p - minus, p + plus) == pytest.approx((low, high), abs=1e-12)


def test_probability_bars_are_sorted_most_likely_first(figures):
    values = list(figures.probability.data[0].x)
    assert values == sorted(values, reverse=True)


def test_fan_median_is_the_median_level_of_each_grouping_and_quarter(results, figures):
    medians = [t for t in figures.levels.data if t.name == MEDIAN]
    levels = results.levels
    order = aggregate.consolidation_probabilities(results.outcomes)["grouping"].tolist()
    assert len(medians) == len(order)
    for grouping, trace in zip(order, medians, strict=True):
        expected = (levels[levels.grouping == grouping].groupby("step", observed=True)["level"]
                    .median().sort_index())
        np.testing.assert_allclose(trace.y, expected.to_numpy(), rtol=0, atol=1e-12)
        quarters = (levels[levels.grouping == grouping].drop_duplicates("step")
                    .sort_values("step")["quarter"].astype(str))
        assert list(trace.x) == quarters.tolist()


def test_fan_bands_enclose_the_median(results):
    fans = aggregate.level_fans(results.levels)
    assert (fans["q05"] <= fans["q25"]).all() and (fans["q25"] <= fans["q50"]).all()
    assert (fans["q50"] <= fans["q75"]).all() and (fans["q75"] <= fans["q95"]).all()


def test_fan_y_axis_names_the_ladder_stages(figures):
    axis = figures.levels.layout.yaxis
    assert list(axis.tickvals) == list(range(len(STAGES)))
    assert all(stage in text for stage, text in zip(STAGES, axis.ticktext, strict=True))


def test_timing_counts_only_consolidated_runs_per_quarter(results):
    timing = aggregate.consolidation_timing(results.outcomes)
    done = results.outcomes[results.outcomes.consolidated]
    assert timing["runs"].sum() == len(done)
    for row in timing.itertuples():
        matches = done[(done.grouping == row.grouping) & (done.consolidated_quarter == row.quarter)]
        assert len(matches) == row.runs


def test_timing_panel_says_so_when_no_run_consolidated(results, figures):
    summary = aggregate.timing_summary(results.outcomes)
    titles = [a.text for a in figures.timing.layout.annotations]
    for row in summary.itertuples():
        label = _label(row.grouping)
        title = next(t for t in titles if t.startswith(f"<b>{label}</b>"))
        if row.consolidated == 0:
            assert "no run consolidated" in title
        else:
            assert f"{row.consolidated:,} of {row.replications:,}" in title


def test_heatmap_cells_are_mean_commitments_on_a_zero_to_one_scale(results, figures):
    commitments = results.commitments
    heatmaps = [t for t in figures.commitments.data if t.type == "heatmap"]
    assert {t.name for t in heatmaps} == set(commitments["grouping"].astype(str))
    info = run_info(results.manifest)
    for trace in heatmaps:
        grouping = info.grouping(trace.name)
        rows = commitments[commitments.grouping == trace.name]
        first = grouping.members[0]
        expected = (rows[rows.state == first].groupby("step", observed=True)["commitment"]
                    .mean().sort_index())
        np.testing.assert_allclose(np.asarray(trace.z[0], float), expected.to_numpy(),
                                   atol=1e-12)
    coloraxis = figures.commitments.layout.coloraxis
    assert (coloraxis.cmin, coloraxis.cmax) == (0, 1)
    assert coloraxis.colorbar.title.text == "commitment"


def test_blocker_shares_sum_to_one_per_grouping(results, figures):
    shares = aggregate.blocker_shares(results.outcomes)
    np.testing.assert_allclose(shares.groupby("grouping")["share"].sum(), 1.0)
    stacked = np.sum([np.asarray(t.x, float) for t in figures.blockers.data], axis=0)
    np.testing.assert_allclose(stacked, 1.0)


def test_blocker_shares_count_each_state_and_the_consolidated_runs(results):
    outcomes = results.outcomes
    shares = aggregate.blocker_shares(outcomes).set_index(["grouping", "blocker"])["share"]
    for grouping, runs in outcomes.groupby("grouping"):
        if runs.consolidated.any():
            assert shares[(grouping, aggregate.CONSOLIDATED)] == runs.consolidated.mean()
        for state, count in runs["blocker"].dropna().value_counts().items():
            assert shares[(grouping, state)] == pytest.approx(count / len(runs))


def test_blocker_legend_offers_the_consolidated_share(figures):
    assert figures.blockers.data[0].name == aggregate.CONSOLIDATED


def test_alignment_markers_are_final_means_sorted_and_asean_marked(results, figures):
    alignment = results.alignment
    last = alignment[alignment.step == alignment.step.max()]
    means = last.groupby("state", observed=True)["alignment"].mean()
    info = run_info(results.manifest)
    names = {info.state_label(code): code for code in means.index}
    seen = {}
    for trace in figures.alignment.data:
        for y, x in zip(trace.y, trace.x, strict=True):
            seen[names[y]] = (x, trace.name)
    assert set(seen) == set(means.index)
    for code, (x, kind) in seen.items():
        assert x == pytest.approx(means[code], abs=1e-12)
        asean = results.manifest["scenario"]["resolved"]["states"][code].get("asean", False)
        assert (kind == "ASEAN member") == bool(asean)
    order = list(figures.alignment.layout.yaxis.categoryarray)
    assert [seen[names[label]][0] for label in order] == sorted(means)


def test_alignment_axis_names_both_sides(figures):
    texts = " ".join(a.text for a in figures.alignment.layout.annotations)
    assert "aligned with the US" in texts and "aligned with China" in texts


def test_pressure_lines_are_medians_across_runs(results, figures):
    pressures = results.pressures
    medians = [t for t in figures.pressures.data if t.name == "median across runs"]
    assert len(medians) == pressures["pressure"].nunique()
    first = medians[0]
    name = re.search(r"^(\w+)<br>", first.hovertemplate).group(1)
    expected = (pressures[pressures.pressure == name].groupby("step", observed=True)["value"]
                .median().sort_index())
    np.testing.assert_allclose(first.y, expected.to_numpy(), atol=1e-12)


def test_shocks_are_marked_at_their_quarter(shocked_folder):
    results = blocsim.open_results(shocked_folder)
    figure = run_figures(results).pressures
    info = run_info(results.manifest)
    assert info.shocks, "taiwan_crisis has shocks"
    lines = {shape.x0 for shape in figure.layout.shapes if shape.type == "line"}
    assert {s.step for s in info.shocks} <= lines
    labels = " ".join(a.text for a in figure.layout.annotations)
    assert all(s.name in labels for s in info.shocks)
    assert info.shocks[0].quarter == "2027Q3"


def test_aggregates_do_not_grow_with_replications(results):
    steps = results.levels["step"].nunique()
    groupings = results.levels["grouping"].nunique()
    assert len(aggregate.level_fans(results.levels)) == steps * groupings
    assert len(aggregate.final_alignment(results.alignment)) == results.alignment["state"].nunique()
    assert len(aggregate.pressure_paths(results.pressures)) <= steps * 10


# --- the page --------------------------------------------------------------------------------

def test_page_is_written_into_the_results_folder_by_default(run_folder, page):
    path = run_folder / "dashboard.html"
    assert path.is_file() and path.stat().st_size > 1_000_000
    assert not list(run_folder.glob(".dashboard.html.*"))


def test_page_can_be_written_elsewhere(run_folder, tmp_path):
    path = write_dashboard(run_folder, tmp_path / "sub" / "page.html")
    assert path == tmp_path / "sub" / "page.html" and path.is_file()


def test_page_loads_no_script_from_the_internet(page):
    sources = re.findall(r"<script[^>]*\bsrc\s*=\s*['\"]?([^'\" >]+)", page, re.IGNORECASE)
    assert not [s for s in sources if s.startswith(("http://", "https://", "//"))]
    assert not re.search(r"<link[^>]+href=['\"]?(https?:)?//", page, re.IGNORECASE)
    assert "cdn.plot.ly" not in re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.S)


def test_page_embeds_plotly_once(page):
    assert page.count("plotly.js v") >= 1
    assert len(re.findall(r"<script type=\"text/javascript\">/\*\*", page)) == 1


def test_page_header_names_the_scenario_and_the_run(results, page):
    manifest = results.manifest
    assert manifest["scenario"]["name"] in page
    assert str(manifest["seed"]) in page
    assert manifest["scenario"]["hash"][:12] in page
    assert "How to read this page" in page


def test_page_has_one_figure_per_section(page):
    sections = re.findall(r"<section\b", page)
    assert len(sections) == 8
    assert len(re.findall(r'class="plotly-graph-div"', page)) == len(sections)


def test_page_refuses_a_folder_that_is_not_a_results_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("not results")
    with pytest.raises(ResultsError, match="not a blocsim results folder"):
        write_dashboard(tmp_path)
    assert not (tmp_path / "dashboard.html").exists()


def test_page_refuses_a_missing_folder(tmp_path):
    with pytest.raises(ResultsError):
        write_dashboard(tmp_path / "nowhere")


def test_page_refuses_a_results_folder_that_is_not_a_run(run_folder, tmp_path):
    folder = tmp_path / "sweep"
    folder.mkdir()
    manifest = json.loads((run_folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "kind": "sweep",
                                                      "tables": {}}))
    with pytest.raises(ResultsError, match="sweep"):
        write_dashboard(folder)


def test_a_failed_write_leaves_the_previous_page_in_place(run_folder, monkeypatch):
    from blocsim.dashboards import page as page_module

    path = run_folder / "dashboard.html"
    before = path.read_text(encoding="utf-8") if path.exists() else None
    if before is None:
        write_dashboard(run_folder)
        before = path.read_text(encoding="utf-8")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(page_module.os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_dashboard(run_folder)
    assert path.read_text(encoding="utf-8") == before
    assert not list(run_folder.glob(".dashboard.html.*"))


def test_blocker_shares_treat_a_missing_blocker_of_an_unconsolidated_run_as_unrecorded():
    outcomes = pd.DataFrame({"grouping": ["A", "A", "A", "A"],
                             "consolidated": [True, False, False, False],
                             "blocker": [None, "IND", "IND", None]})
    shares = aggregate.blocker_shares(outcomes).set_index("blocker")["share"]
    assert shares.to_dict() == {"IND": 0.5, aggregate.CONSOLIDATED: 0.25,
                                aggregate.UNRECORDED: 0.25}
