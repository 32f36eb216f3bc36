"""The run page: its figures show what the tables say; its words count its own sections; it says
who holds each grouping back, why, and what would change it; the page is self-contained."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import blocsim
from blocsim.analysis.summary import blocked_interval, consolidation_summary, wilson_interval
from blocsim.dashboards import aggregate, write_dashboard
from blocsim.dashboards.read import read_run
from blocsim.dashboards.run_figures import MEDIAN
from blocsim.dashboards.run_page import run_sections
from blocsim.dashboards.style import CHINA_SIDE, US_SIDE
from blocsim.errors import ResultsError
from blocsim.vocabulary import STAGES
from tests.conftest import BASELINE, SCENARIOS

pytestmark = pytest.mark.slow  # whole pages: each module builds runs and sweeps first


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dashboards") / "run"
    return blocsim.run(blocsim.load(BASELINE), replications=20, seed=1, workers=1).save(folder)


@pytest.fixture(scope="module")
def data(run_folder: Path):
    return read_run(run_folder)


@pytest.fixture(scope="module")
def figures(data) -> dict:
    sections, _, _ = run_sections(data)
    return {s.anchor: s.figure for s in sections}


@pytest.fixture(scope="module")
def page(run_folder: Path) -> str:
    return (run_folder / "dashboard.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def shocked_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dashboards") / "taiwan"
    scenario = blocsim.load(SCENARIOS / "taiwan_crisis.toml")
    return blocsim.run(scenario, replications=8, seed=2, workers=1).save(folder)


def _bars(figure, trace_index: int = 0) -> dict[str, float]:
    trace = figure.data[trace_index]
    return dict(zip(trace.ids, map(float, trace.x), strict=True))


# --- how likely -------------------------------------------------------------------------------

def test_probability_bar_of_each_grouping_is_its_share_of_consolidated_runs(data, figures):
    bars = _bars(figures["probability"])
    outcomes = data.outcomes
    for grouping in outcomes["grouping"].unique():
        expected = outcomes[outcomes.grouping == grouping].consolidated.mean()
        assert bars[grouping] == pytest.approx(expected, abs=1e-12)


def test_probability_error_bars_are_the_interval_that_counts_shared_draws(data, figures):
    """Runs drawing one posterior particle per block count as fewer (`blocked_interval`)."""
    assert data.stamp.draw_block  # the baseline names its posterior
    trace = figures["probability"].data[0]
    for key, p, plus, minus in zip(trace.ids, trace.x, trace.error_x.array,
                                   trace.error_x.arrayminus, strict=True):
        runs = data.outcomes[data.outcomes.grouping == key]
        low, high, _, _ = blocked_interval(runs.consolidated.to_numpy(bool),
                                           runs.replication.to_numpy() // data.stamp.draw_block,
                                           data.stamp.draw_block)
        assert (p - minus, p + plus) == pytest.approx((low, high), abs=1e-12)


def test_probability_error_bars_of_a_point_run_are_the_wilson_interval(tmp_path):
    folder = blocsim.run(blocsim.load(BASELINE), replications=12, seed=1, workers=1,
                         point=True).save(tmp_path / "point")
    point = read_run(folder)
    trace = {s.anchor: s.figure for s in run_sections(point)[0]}["probability"].data[0]
    for key, p, plus, minus in zip(trace.ids, trace.x, trace.error_x.array,
                                   trace.error_x.arrayminus, strict=True):
        runs = point.outcomes[point.outcomes.grouping == key]
        low, high = wilson_interval(int(runs.consolidated.sum()), len(runs))
        assert (p - minus, p + plus) == pytest.approx((low, high), abs=1e-12)


def test_probability_bars_are_sorted_most_likely_first(figures):
    values = list(figures["probability"].data[0].x)
    assert values == sorted(values, reverse=True)


def test_fan_median_is_the_median_level_of_each_grouping_and_quarter(data, figures):
    medians = [t for t in figures["levels"].data if t.name == MEDIAN]
    levels = data.tables["levels"]
    order = aggregate.consolidation_probabilities(data.outcomes)["grouping"].tolist()
    assert len(medians) == len(order)
    for grouping, trace in zip(order, medians, strict=True):
        expected = (levels[levels.grouping == grouping].groupby("step")["level"].median())
        np.testing.assert_allclose(trace.y, expected.to_numpy(), rtol=0, atol=1e-12)
        assert list(trace.x) == data.facts.quarters


def test_fan_y_axis_names_the_ladder_stages(figures):
    axis = figures["levels"].layout.yaxis
    assert list(axis.tickvals) == list(range(len(STAGES)))
    assert all(stage in text for stage, text in zip(STAGES, axis.ticktext, strict=True))


def test_timing_is_the_cumulative_probability_by_quarter_ending_at_p(data, figures):
    """Defect: raw counts on unequal scales; now one 0-1 scale, each line ending at its P."""
    traces = figures["timing"].data
    for trace in (t for t in traces if t.meta):
        runs = data.outcomes[data.outcomes.grouping == trace.meta]
        assert trace.y[-1] == pytest.approx(runs.consolidated.mean())
        assert list(trace.y) == sorted(trace.y)
        at = runs.consolidated_at.dropna().astype(int)
        step = len(trace.y) // 2
        assert trace.y[step] == pytest.approx((at <= step).sum() / len(runs))
    assert figures["timing"].layout.yaxis.range[0] == 0


def test_heatmap_cells_are_mean_commitments_on_a_zero_to_one_scale(data, figures):
    figure = figures["commitments"]
    assert (figure.layout.coloraxis.cmin, figure.layout.coloraxis.cmax) == (0, 1)
    commitments = data.tables["commitments"]
    trace = next(t for t in figure.data if t.name == "QUAD")
    india = list(trace.y).index("India")
    expected = commitments[(commitments.grouping == "QUAD") & (commitments.state == "IND")
                           & (commitments.step == 5)].commitment.mean()
    assert trace.z[india][5] == pytest.approx(expected)


# --- who holds it back ------------------------------------------------------------------------

def test_blocker_shares_are_of_the_stalled_runs_and_sum_to_one(data, figures):
    shares = aggregate.blocker_shares(data.outcomes)
    assert shares.groupby("grouping")["share"].sum().to_numpy() == pytest.approx(1.0)
    stalled = data.outcomes[~data.outcomes.consolidated]
    for row in shares.itertuples():
        mine = stalled[stalled.grouping == row.grouping]
        assert row.runs == (mine.blocker == row.blocker).sum()
    bars = figures["blockers"].data
    assert sum(_bars(figures["blockers"], i).get("QUAD", 0) for i in range(len(bars))) == \
        pytest.approx(1.0)


def test_summary_blocker_share_counts_only_runs_that_did_not_consolidate():
    outcomes = pd.DataFrame({
        "grouping": ["G"] * 4, "consolidated": [True, True, False, False],
        "blocker": [None, None, "IND", "IND"], "peak_level": [4.0] * 4,
        "final_level": [4.0] * 4, "final_nato_tie": [0.0] * 4,
        "in_linked_bloc": [False, True, False, False]})
    row = consolidation_summary(outcomes).iloc[0]
    assert (row.top_blocker, row.top_blocker_share, row.stalled) == ("IND", 1.0, 2)
    assert row.linked_share == 0.25


def test_terminal_summary_shows_the_nato_tie_and_the_linked_bloc(data):
    from blocsim.analysis.summary import format_summary

    text = format_summary(consolidation_summary(data.outcomes))
    assert "NATO tie" in text.splitlines()[0] and "linked" in text.splitlines()[0]
    ip4 = next(line for line in text.splitlines() if line.startswith("IP4"))
    tie = data.outcomes[data.outcomes.grouping == "IP4"].final_nato_tie.mean()
    assert f"{tie:.3f}" in ip4


# --- context ----------------------------------------------------------------------------------

def test_alignment_marks_asean_by_shape_and_colours_only_the_side(data, figures):
    final = aggregate.final_alignment(data.tables["alignment"])
    traces = [t for t in figures["alignment"].data if t.x is not None and len(t.x)
              and t.x[0] is not None]
    drawn = {y: (x, t.marker.symbol, colour) for t in traces
             for x, y, colour in zip(t.x, t.y, t.marker.color, strict=True)}
    for row in final.itertuples():
        asean = row.state in data.facts.asean
        label = data.facts.state_label(row.state) + (" ◆" if asean else "")
        x, symbol, colour = drawn[label]
        assert x == pytest.approx(row.mean)
        assert symbol == ("diamond" if asean else "circle")
        assert colour == (US_SIDE if row.mean >= 0 else CHINA_SIDE)


def test_camp_bars_span_every_state_so_china_camp_states_are_visible(data, figures):
    """Defect: states fully in China's camp were invisible at 0%, and orange meant two things."""
    us, other = figures["camps"].data
    assert (us.marker.color, other.marker.color) == (US_SIDE, CHINA_SIDE)
    shares = aggregate.camp_shares(data.tables["camps"])
    china = data.facts.state_label("CHN")
    assert dict(zip(other.y, other.x, strict=True))[china] == pytest.approx(
        1 - shares.set_index("state").loc["CHN", "share"])
    assert all(a + b == pytest.approx(1.0) for a, b in zip(us.x, other.x, strict=True))


def test_pressure_panels_are_titled_in_words(figures):
    """Defect: panels were titled with raw identifiers such as china_assertiveness."""
    titles = [a.text for a in figures["pressures"].layout.annotations if a.yref == "paper"]
    assert "China's assertiveness" in titles and "US engagement" in titles
    assert not any("_" in title for title in titles)


def test_pressure_lines_are_medians_across_runs(data, figures):
    medians = [t for t in figures["pressures"].data if t.name == "median across runs"]
    pressures = data.tables["pressures"]
    for trace in medians:
        expected = pressures[pressures.pressure == trace.meta].groupby("step")["value"].median()
        np.testing.assert_allclose(trace.y, expected.to_numpy(), atol=1e-12)


def test_shocks_are_marked_at_their_quarter(shocked_folder):
    sections, _, _ = run_sections(read_run(shocked_folder))
    figure = next(s.figure for s in sections if s.anchor == "pressures")
    steps = {shape.x0 for shape in figure.layout.shapes if shape.line.color == "#D55E00"}
    assert 10 in steps  # 2027Q3 is step 10 from 2025Q1
    assert "2027Q3" in (shocked_folder / "dashboard.html").read_text()


# --- the words --------------------------------------------------------------------------------

def _guide(page: str) -> str:
    return re.search(r"How to read this page.</b>(.*?)</div>", page, re.S).group(1)


def _numbers(page: str) -> dict[str, int]:
    return {anchor: int(number) for anchor, number in
            re.findall(r'<section class="card" id="([a-z]+)">\s*<h2><span class="number">(\d+)',
                       page)}


@pytest.mark.parametrize("with_camps", [True, False])
def test_reading_guide_numbers_the_sections_the_page_has(run_folder, tmp_path, with_camps):
    """Defect: the guide numbered sections wrong when an optional section was present."""
    folder = run_folder
    if not with_camps:
        folder = tmp_path / "no_camps"
        blocsim.open_results(run_folder).save(folder)
        (folder / "camps.parquet").unlink()
        write_dashboard(folder)
    page = (folder / "dashboard.html").read_text()
    numbers, guide = _numbers(page), _guide(page)
    assert ("camps" in numbers) == with_camps
    assert f"sections\n{numbers['probability']}–{numbers['timing']}" in guide
    assert f"section {numbers['levers']}" in guide and f"section {numbers['inputs']}" in guide
    assert f"section {numbers['pressures']}" in guide
    where = (f"sections {numbers['alignment']} and {numbers['camps']}" if with_camps
             else f"section {numbers['alignment']}")
    assert where in " ".join(guide.split())
    assert sorted(numbers.values()) == list(range(1, len(numbers) + 1))


def test_page_embeds_plotly_once_and_loads_no_script_from_elsewhere(page):
    from plotly.offline import get_plotlyjs

    assert page.count(get_plotlyjs()[:200]) == 1
    assert page.count("Plotly.newPlot") >= 8
    assert not re.search(r"<script[^>]+src=", page)


def test_page_header_names_the_scenario_and_the_run(data, page):
    assert "blocsim run</span> · baseline" in page
    assert data.facts.hash[:12] in page and "seed:</dt><dd>1<" in page
    assert "In short." in page


def test_inputs_table_lists_every_state_with_its_source(data, page):
    for code in data.facts.states:
        assert f"states.{code}" in page
    assert "SIPRI" in page  # a source text


def test_a_variants_changed_values_are_highlighted_with_their_new_source(tmp_path):
    folder = blocsim.run(blocsim.load(SCENARIOS / "india_tilt.toml"), replications=4, seed=1,
                         workers=1).save(tmp_path / "tilt")
    page = (folder / "dashboard.html").read_text()
    changed = re.search(r'id="inputs">(.*?)</section>', page, re.S).group(1)
    assert "India: autonomy: 0.9 → <span class=\"changed-value\">0.97</span>" in changed
    assert "autonomy 0.97 (baseline 0.9)" in changed


def test_a_page_without_levers_says_how_to_compute_them(run_folder, page):
    assert "blocsim levers" in re.search(r'id="levers">(.*?)</section>', page, re.S).group(1)


def test_refuses_folders_that_are_not_results(tmp_path):
    with pytest.raises(ResultsError, match="not a folder"):
        write_dashboard(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ResultsError, match="expected a run folder"):
        write_dashboard(tmp_path / "empty")


def test_a_failed_write_leaves_the_previous_page_in_place(run_folder, monkeypatch):
    before = (run_folder / "dashboard.html").read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", broken)
    with pytest.raises(OSError):
        write_dashboard(run_folder)
    assert (run_folder / "dashboard.html").read_bytes() == before
    assert not list(run_folder.glob(".dashboard.html*"))


def test_results_save_writes_the_dashboard(run_folder):
    manifest = json.loads((run_folder / "manifest.json").read_text())
    assert manifest["kind"] == "run" and (run_folder / "dashboard.html").is_file()


# --- why the blocker holds back, and who leaves (tables the model may add) ----------------------

@pytest.fixture(scope="module")
def extended(run_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run folder with a hand-made `blocker_terms` table and exit/relaunch columns."""
    folder = tmp_path_factory.mktemp("extended") / "run"
    results = blocsim.open_results(run_folder)
    stalled = results.outcomes[~results.outcomes.consolidated.astype(bool)]
    rows = []
    for row in stalled.itertuples():
        for term, value in (("balance_of_threat", 1.5), ("autonomy_cost", -2.0 - row.replication
                                                         / 100), ("russia_pull", -0.5)):
            rows.append({"replication": row.replication, "grouping": row.grouping,
                         "state": row.blocker, "term": term, "value": value})
    terms = pd.DataFrame(rows).astype({"replication": "int32", "grouping": "category",
                                       "state": "category", "term": "category"})
    outcomes = results.outcomes.copy()
    quad = outcomes.grouping == "QUAD"
    outcomes["exited"] = np.where(quad & (outcomes.replication < 5), "AUS", None)
    outcomes["exited_at"] = pd.array(np.where(quad & (outcomes.replication < 5), 12, None),
                                     dtype="Int16")
    outcomes["relaunched_at"] = pd.array(np.where(quad & (outcomes.replication < 2), 30, None),
                                         dtype="Int16")
    levels = results.levels.copy()
    levels["suspended"] = ((levels.grouping == "QUAD") & (levels.replication < 5)
                           & (levels.step.between(12, 29)))
    tables = {**results.tables, "outcomes": outcomes, "levels": levels, "blocker_terms": terms}
    blocsim.Results(tables, results.manifest).save(folder)
    return folder


def test_blocker_terms_chart_shows_the_main_blockers_mean_terms(extended):
    data = read_run(extended)
    sections, _, _ = run_sections(data)
    figure = next(s.figure for s in sections if s.anchor == "terms")
    quad = next(t for t in figure.data if t.meta == "QUAD")
    terms = dict(zip(quad.y, quad.x, strict=True))
    blocked = data.tables["blocker_terms"]
    top = blocked[blocked.grouping == "QUAD"].groupby("state", observed=True).replication \
        .nunique().idxmax()
    mine = blocked[(blocked.grouping == "QUAD") & (blocked.term == "autonomy_cost")
                   & (blocked.state == top)]
    assert terms["autonomy cost"] == pytest.approx(mine.value.mean())
    assert terms["balance of threat"] == pytest.approx(1.5)


def test_the_finding_names_the_blockers_reason(extended):
    page = (extended / "dashboard.html").read_text()
    quad = re.search(r"<li><b>QUAD: Quadrilateral Security Dialogue</b>(.*?)</li>", page,
                     re.S).group(1)
    assert "India holds it back" in quad and "autonomy cost −2" in quad
    assert "against balance of threat +1.5" in quad


def test_suspensions_are_shown_when_members_leave(extended):
    data = read_run(extended)
    table = aggregate.suspensions(data.outcomes, data.tables["levels"])
    quad = table.set_index("grouping").loc["QUAD"]
    assert (quad.exits, quad.leaver, quad.median_exit, quad.relaunched) == (5, "AUS", 12, 2)
    page = (extended / "dashboard.html").read_text()
    assert 'id="suspended"' in page and "Australia (5 runs)" in page


def test_pages_without_those_tables_skip_their_sections(run_folder, tmp_path):
    results = blocsim.open_results(run_folder)
    results.tables.pop("blocker_terms")
    results.tables["levels"] = results.levels.drop(columns="suspended")
    results.tables["outcomes"] = results.outcomes.drop(
        columns=["exited", "exited_at", "exited_quarter", "relaunched_at", "relaunched_quarter",
                 "suspended_quarters"])
    older = results.save(tmp_path / "older")
    page = (older / "dashboard.html").read_text(encoding="utf-8")
    assert 'id="terms"' not in page and 'id="suspended"' not in page


def test_the_headline_sentence_counts_the_runs_and_the_draws_behind_its_interval(page):
    """Walkthrough: '(P = 0.000, 95% interval 0.000-0.161)' did not say it was 0 of 200 runs in
    20 draws, nor the spread across the posterior the terminal prints."""
    text = re.sub(r"\s+", " ", re.sub("<[^>]+>", " ", page))
    assert re.search(r"P = [0-9.]+: \d+ of 20 runs in 2 posterior draws; 95% interval", text)


def test_a_pact_that_starts_as_a_formal_alliance_is_asked_whether_it_holds_together(tmp_path):
    """Walkthrough: ANZUS, a treaty at level 4, 'does not become ... a formal alliance'."""
    folder = blocsim.run(blocsim.load(SCENARIOS / "cases" / "anzus_1984.toml"), replications=8,
                         seed=1, workers=1).save(tmp_path / "anzus")
    text = re.sub(r"\s+", " ", re.sub("<[^>]+>", " ", (folder / "dashboard.html").read_text()))
    assert re.search(r"ANZUS (does not hold together, in any run, as|[a-z ,]*holds together"
                     r"[a-z ,]* as) a formal alliance by 1987Q4", text)


@pytest.mark.parametrize(("low", "high", "band"), [(0.0, 1.0, (0.0, 1.0)), (0.2, 0.2, None),
                                                    (float("nan"), float("nan"), None)])
def test_the_headline_names_the_spread_across_the_posterior_only_where_there_is_one(low, high,
                                                                                   band):
    from blocsim.dashboards.run_page import Finding

    row = pd.Series({"parameter_low": low, "parameter_high": high})
    assert Finding(row, "", "", None, None, None).parameter_band == band
