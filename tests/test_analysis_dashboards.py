"""The analysis sections of the sweep page and the tipping page show what their files say."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import blocsim
from blocsim.analysis.discovery import read_discoveries
from blocsim.analysis.sensitivity import read_sensitivity
from blocsim.analysis.summary import wilson_interval
from blocsim.analysis.tipping import pooled_shares
from blocsim.dashboards import write_dashboard
from blocsim.dashboards.analysis_figures import discovery_figure, sensitivity_figure
from blocsim.dashboards.analysis_sections import analysis_sections
from blocsim.dashboards.read import TIPPING, folder_kind, read_sweep
from blocsim.dashboards.read import read_tipping_folder as read_tipping
from blocsim.dashboards.tipping_page import share_figure
from blocsim.errors import ResultsError
from blocsim.experiment.store import write_results
from tests.conftest import BASELINE, LHS_SWEEP, make_sweep

AXES = ["pressures.china_assertiveness.end", "pressures.us_engagement.end",
        "states.IND.autonomy"]
NOTE = "no variation: P(consolidation) is 0 at every point, so no parameter matters"


def sensitivity_table() -> pd.DataFrame:
    """A hand-made Sobol table: QUAD and AUKUS vary, IP4's probability never does."""
    rng = np.random.default_rng(1)
    rows = []
    for grouping in ("QUAD", "AUKUS", "IP4"):
        for outcome in ("probability", "mean_peak_level"):
            for parameter in AXES:
                noted = grouping == "IP4" and outcome == "probability"
                st, s1 = (math.nan, math.nan) if noted else (rng.uniform(0.1, 0.9),
                                                              rng.uniform(0, 0.1))
                rows.append({"method": "sobol", "grouping": grouping, "outcome": outcome,
                             "parameter": parameter, "S1": s1, "S1_conf": 0.05, "ST": st,
                             "ST_conf": 0.1, "note": NOTE if noted else ""})
    return pd.DataFrame(rows)


def write_discovery(folder: Path, grouping: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hand-made PRIM files: six peels, a paste, a box restricting two axes (one weak)."""
    steps = 6
    trajectory = pd.DataFrame({
        "step": [*range(steps), steps - 2], "phase": ["peel"] * steps + ["paste"],
        "coverage": [1.0, 0.98, 0.95, 0.9, 0.8, 0.7, 0.85],
        "density": [0.3, 0.35, 0.42, 0.5, 0.62, 0.7, 0.6],
        "mass": [1.0, 0.9, 0.8, 0.7, 0.5, 0.4, 0.55], "points": [12, 11, 10, 8, 6, 5, 7],
        "of_interest": [4, 4, 4, 4, 3, 3, 3], "n_restricted": [0, 1, 1, 2, 2, 2, 2],
        "chosen": [False] * steps + [True]})
    box = pd.DataFrame({
        "axis": AXES, "low": [0.55, 0.2, 0.5], "high": [1.0, 0.73, 0.95],
        "data_low": [0.2, 0.2, 0.5], "data_high": [1.0, 1.0, 0.95],
        "restricted": [True, True, False], "qp": [0.01, 0.2, math.nan]})
    trajectory.attrs = {"threshold": 0.25}
    trajectory.to_parquet(folder / f"discovery_{grouping}_trajectory.parquet", index=False)
    box.to_parquet(folder / f"discovery_{grouping}_box.parquet", index=False)
    return trajectory, box


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = make_sweep(tmp_path_factory.mktemp("analysed") / "lhs", LHS_SWEEP)
    sensitivity_table().to_parquet(folder / "sensitivity.parquet", index=False)
    write_discovery(folder, "QUAD")
    return folder


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sweep(tmp_path_factory.mktemp("plain") / "lhs", LHS_SWEEP)


def _figure_inputs(folder: Path):
    return read_sweep(folder), ["QUAD", "AUKUS", "IP4", "US_JPN_ROK", "PBP", "SQUAD"]


# --- sensitivity ----------------------------------------------------------------------------

@pytest.mark.slow
def test_st_bar_lengths_equal_the_sensitivity_file(analysed):
    table = read_sensitivity(analysed)
    info, order = _figure_inputs(analysed)
    figure = sensitivity_figure(table, info, order)
    checked = 0
    for trace in figure.data:
        meta = trace.meta
        if meta["index"] != "ST":
            continue
        mine = table[(table.grouping == meta["grouping"]) & (table.outcome == meta["outcome"])]
        expected = mine.set_index("parameter")["ST"]
        conf = mine.set_index("parameter")["ST_conf"]
        for (path, value, _half), length, err in zip(trace.customdata, trace.x,
                                                    trace.error_x.array, strict=True):
            assert length == pytest.approx(expected[path])
            assert value == pytest.approx(expected[path])
            assert err == pytest.approx(conf[path])
            checked += 1
    # QUAD and AUKUS for both outcomes, IP4 for the peak level only: 5 panels x 3 parameters
    assert checked == 15


def test_bars_are_sorted_by_influence_with_human_labels(analysed):
    table = read_sensitivity(analysed)
    info, order = _figure_inputs(analysed)
    figure = sensitivity_figure(table, info, order)
    quad = next(t for t in figure.data if t.meta == {"grouping": "QUAD", "outcome":
                                                     "probability", "index": "ST"})
    assert list(quad.x) == sorted(quad.x)  # ascending up the axis: most influential on top
    assert "India: autonomy" in quad.y
    assert not any("." in label for label in quad.y)


@pytest.mark.slow
def test_a_grouping_with_a_note_gets_the_note_not_bars(analysed):
    table = read_sensitivity(analysed)
    info, order = _figure_inputs(analysed)
    figure = sensitivity_figure(table, info, order)
    bars = [t for t in figure.data if t.visible is not False and t.type == "bar"]
    assert not any(t.meta["grouping"] == "IP4" for t in bars)
    assert any(NOTE.split(",")[0] in (a.text or "").replace("<br>", " ")
               for a in figure.layout.annotations)
    page = write_dashboard(analysed).read_text()
    assert NOTE in re.search(r'id="sensitivity">(.*?)</section>', page, re.S).group(1)


def test_every_panel_with_a_note_has_a_trace_so_plotly_draws_its_subplot(analysed):
    table = read_sensitivity(analysed)
    info, order = _figure_inputs(analysed)
    figure = sensitivity_figure(table, info, order)
    notes = {a.xref.split()[0] for a in figure.layout.annotations if a.xref != "paper"}
    placed = {t.xaxis for t in figure.data if t.meta["outcome"] == "probability"}
    assert notes and notes <= placed


def test_the_outcome_toggle_shows_the_peak_level_bars(analysed):
    table = read_sensitivity(analysed)
    info, order = _figure_inputs(analysed)
    figure = sensitivity_figure(table, info, order)
    buttons = figure.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == ["outcome: P(consolidation)",
                                          "outcome: mean peak level"]
    visible = buttons[1].args[0]["visible"]
    assert visible == [t.meta["outcome"] == "mean_peak_level" for t in figure.data]


# --- discovery ------------------------------------------------------------------------------

def test_tradeoff_points_equal_the_trajectory_file(analysed):
    info, order = _figure_inputs(analysed)
    found = read_discoveries(analysed)
    trajectory = pd.read_parquet(analysed / "discovery_QUAD_trajectory.parquet")
    figure = discovery_figure(found, info, order)
    curve = next(t for t in figure.data if t.name.startswith("peeling trajectory"))
    peel = trajectory[trajectory.phase == "peel"]
    assert list(curve.x) == pytest.approx(peel.coverage.tolist())
    assert list(curve.y) == pytest.approx(peel.density.tolist())
    chosen = next(t for t in figure.data if t.name == "chosen box")
    row = trajectory[trajectory.chosen].iloc[0]
    assert (chosen.x[0], chosen.y[0]) == pytest.approx((row.coverage, row.density))
    assert any("chosen box" in (a.text or "") for a in figure.layout.annotations)


def test_box_segments_equal_the_box_file_and_weak_axes_are_marked(analysed):
    info, order = _figure_inputs(analysed)
    figure = discovery_figure(read_discoveries(analysed), info, order)
    box = pd.read_parquet(analysed / "discovery_QUAD_box.parquet").set_index("axis")
    drawn = {}
    for trace in figure.data:
        if trace.name in ("box limits (quasi-p < 0.05)",
                          "weak box limits (quasi-p ≥ 0.05: may be noise)"):
            xs = [x for x in trace.x if x is not None]
            for axis, (low, high) in zip(trace.meta["axes"], zip(xs[::2], xs[1::2],
                                                                    strict=True), strict=True):
                drawn[axis] = (low, high, trace.name.startswith("weak"))
    restricted = box[box.restricted]
    assert set(drawn) == set(restricted.index)
    for axis, row in restricted.iterrows():
        assert drawn[axis][:2] == pytest.approx((row.low, row.high))
        assert drawn[axis][2] == (row.qp >= 0.05)
    labels = [t for t in figure.data if t.name == "weak box limits (quasi-p ≥ 0.05: may be "
              "noise)"][0].y
    assert any(label and label.endswith("(weak)") for label in labels)


@pytest.mark.slow
def test_discovery_table_lists_coverage_density_mass_points(analysed):
    page = write_dashboard(analysed).read_text()
    notes = re.search(r'id="discovery">(.*?)</section>', page, re.S).group(1)
    for text in ("0.85", "0.60", "0.55", "7 (3 of interest)", "P ≥ 0.25"):
        assert text in notes


@pytest.mark.slow
def test_sections_appear_only_when_their_files_exist(analysed, plain, tmp_path):
    info, order = _figure_inputs(plain)
    assert analysis_sections(info, order) == []
    page = write_dashboard(analysed, tmp_path / "page.html").read_text()
    assert 'id="sensitivity"' in page and 'id="discovery"' in page
    plain_page = write_dashboard(plain, tmp_path / "plain.html").read_text()
    assert 'id="sensitivity"' not in plain_page and 'id="discovery"' not in plain_page


def test_a_box_that_restricts_no_axis_says_so_in_its_own_panel(analysed, tmp_path):
    """Defect: with no trace in the box panel plotly did not draw it, and its note landed on
    the trade-off curve beside it."""
    _, box = write_discovery(tmp_path, "QUAD")
    box.assign(restricted=False).to_parquet(tmp_path / "discovery_QUAD_box.parquet",
                                            index=False)
    info, order = _figure_inputs(analysed)
    figure = discovery_figure(read_discoveries(tmp_path), info, order)
    note = next(a for a in figure.layout.annotations if (a.text or "").startswith("No axis"))
    panel = note.xref.split()[0]
    assert panel != "x" and any(t.xaxis == panel for t in figure.data)


def test_box_file_indexed_by_axis_is_read_too(tmp_path):
    _, box = write_discovery(tmp_path, "AUKUS")
    box.set_index("axis").to_parquet(tmp_path / "discovery_AUKUS_box.parquet")
    found = read_discoveries(tmp_path)["AUKUS"]
    assert found.limits["axis"].tolist() == AXES
    assert found.threshold == 0.25


# --- tipping --------------------------------------------------------------------------------

def tipping_folder(folder: Path, status: str) -> Path:
    """A hand-written `blocsim tip` folder: crossing at 0.4 on a falling curve, or none."""
    rows = [(0.0, 20, 18, 0), (0.25, 20, 14, 0), (0.5, 20, 7, 0), (0.75, 20, 2, 0),
            (1.0, 20, 0, 0), (0.4, 40, 21, 1), (0.25, 20, 12, 1), (0.55, 20, 8, 1)]
    if status != "crosses":
        rows = [(v, 20, 0, 0) for v in (0.0, 0.25, 0.5, 0.75, 1.0)]
    evaluations = pd.DataFrame(rows, columns=["value", "runs", "successes", "round"])
    crosses = status == "crosses"
    result = pd.DataFrame([{
        "status": status, "target": 0.5, "estimate": 0.41 if crosses else math.nan,
        "ci_low": 0.37 if crosses else math.nan, "ci_high": 0.45 if crosses else math.nan,
        "runs": int(evaluations.runs.sum()),
        "note": "P crosses 0.5 at 0.410" if crosses else
        "P stays below 0.5 across the range (highest upper 95% bound 0.161)",
        "slope": -6.0 if crosses else math.nan, "intercept": 2.46 if crosses else math.nan,
        "scenario": "baseline", "vary": "states.IND.autonomy", "grouping": "QUAD",
        "low": 0.0, "high": 1.0}])
    manifest = {"kind": "tipping", "scenario": {"name": "baseline", "file": str(BASELINE),
                                                "hash": "x",
                                                "resolved": blocsim.load(BASELINE).raw},
                "vary": "states.IND.autonomy", "grouping": "QUAD", "target": 0.5,
                "range": [0.0, 1.0], "precision": 0.1, "created": "2025-01-01T00:00:00+00:00",
                "versions": {"blocsim": "test"}}
    return write_results(folder, {"tipping": result, "evaluations": evaluations}, manifest)


@pytest.fixture(params=["crosses", "never crosses in range"])
def tipping(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return tipping_folder(tmp_path / "tip", request.param)


def test_observed_shares_equal_pooled_successes_over_runs(tipping):
    data = read_tipping(tipping)
    figure = share_figure(data)
    observed = next(t for t in figure.data if t.name.startswith("observed share"))
    evaluations = pd.read_parquet(tipping / "evaluations.parquet")
    pooled = evaluations.groupby("value")[["runs", "successes"]].sum().sort_index()
    assert list(observed.x) == pytest.approx(pooled.index.tolist())
    assert list(observed.y) == pytest.approx((pooled.successes / pooled.runs).tolist())
    assert list(observed.marker.size) == pooled.runs.tolist()
    high = [wilson_interval(int(s), int(n))[1] for s, n in zip(pooled.successes, pooled.runs,
                                                                strict=True)]
    assert list(observed.y + observed.error_y.array) == pytest.approx(high)
    assert pooled_shares(evaluations)["runs"].sum() == evaluations.runs.sum()


def test_fitted_curve_only_when_the_curve_crosses(tipping):
    data = read_tipping(tipping)
    figure = share_figure(data)
    names = [t.name for t in figure.data]
    has_curve = "fitted logistic curve" in names
    assert has_curve == (data.result.status == "crosses")
    assert any(n.startswith("target P = 0.5") for n in names)
    if has_curve:
        curve = next(t for t in figure.data if t.name == "fitted logistic curve")
        assert curve.y[0] == pytest.approx(1 / (1 + math.exp(-2.46)))
        assert any(n.startswith("estimate 0.410") for n in names)
        assert any(n.startswith("95% interval of the crossing") for n in names)
    else:
        assert not any(n.startswith(("estimate", "95% interval")) for n in names)


def test_tipping_page_is_dispatched_and_states_the_verdict(tipping):
    assert folder_kind(tipping) == TIPPING
    page = write_dashboard(tipping)
    assert page == tipping / "dashboard.html"
    text = page.read_text()
    assert "India: autonomy" in text and "states.IND.autonomy" in text
    if read_tipping(tipping).result.status == "crosses":
        assert "Tipping point found." in text and "0.410" in text
        # you are here: India's autonomy is 0.90 in the baseline
        assert "India: autonomy would have to fall from\n0.90 (this scenario) to 0.41" in text
    else:
        assert "No tipping point in this range." in text
        assert "never crosses 0.5" in text and "tops out at about 0.000" in text


def test_tipping_chart_marks_the_scenarios_own_value(tipping):
    figure = share_figure(read_tipping(tipping))
    here = [s for s in figure.layout.shapes if s.line.dash == "dot"]
    assert [s.x0 for s in here] == [pytest.approx(0.9)]
    assert any("this scenario: 0.90" in (a.text or "") for a in figure.layout.annotations)


def test_never_crosses_reports_the_searchs_peak_when_recorded(tmp_path):
    folder = tipping_folder(tmp_path / "tip", "never crosses in range")
    table = pd.read_parquet(folder / "tipping.parquet").assign(peak_value=0.25,
                                                               peak_probability=0.12)
    table.to_parquet(folder / "tipping.parquet", index=False)
    text = write_dashboard(folder).read_text()
    assert "tops out at about 0.120 (at\nIndia: autonomy = 0.25)" in text


def test_a_non_tipping_folder_is_refused(tmp_path):
    folder = tipping_folder(tmp_path / "tip", "crosses")
    manifest = (folder / "manifest.json").read_text().replace('"tipping"', '"weird"', 1)
    (folder / "manifest.json").write_text(manifest)
    with pytest.raises(ResultsError):
        read_tipping(folder)


def test_a_pages_stamp_says_where_the_runs_weights_came_from():
    from blocsim.dashboards.read import Stamp

    drawn = {"posterior": {"file": "/x/record_posterior.parquet", "particles": 150,
                           "draw_block": 1}}
    assert Stamp.of(drawn).weights == "drawn from record_posterior.parquet (150 particles; " \
                                      "a draw per run)"
    assert "a draw per 10 runs" in Stamp.of({"posterior": {**drawn["posterior"],
                                                            "draw_block": 10}}).weights
    assert Stamp.of({"posterior": None}).weights == "the scenario's own"


@pytest.mark.slow
def test_a_run_pages_intervals_count_the_runs_that_share_a_draw_as_the_summary_does(tmp_path):
    from blocsim.dashboards.read import Stamp, read_run
    from blocsim.dashboards.run_page import run_sections

    engaged = blocsim.load(BASELINE).with_values({"pressures.us_engagement.start": 1.0,
                                                  "pressures.us_engagement.end": 1.0})
    results = blocsim.run(engaged, replications=60, seed=2, workers=1)
    results.save(tmp_path / "run")
    _, page, _ = run_sections(read_run(tmp_path / "run"))
    shown = page.set_index("grouping")[["ci_low", "ci_high"]]
    summary = results.summary().set_index("grouping")
    pd.testing.assert_frame_equal(shown.sort_index(), summary[["ci_low", "ci_high"]].sort_index())
    assert (summary.design_effect > 1).any()  # the draws matter here: the check has teeth
    assert Stamp.of({"posterior": None}).draw_block is None
