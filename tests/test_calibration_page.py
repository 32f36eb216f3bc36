"""The calibration page: its reader, its statistics and figures show what a calibration folder
says, and its words say which parameters the record pins and where the model loses."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w

import blocsim
from blocsim.analysis.calibration.predictive import score_test_facts
from blocsim.analysis.calibration.spec import (
    CalibrationError,
    CalibrationSpec,
    file_sha256,
    load_test_facts,
)
from blocsim.api import calibrate
from blocsim.dashboards import write_dashboard
from blocsim.dashboards.calibration_aggregate import (
    LOOSE,
    MOST_PAIRS,
    PINNED,
    effective_sample_size,
    losses,
    parameter_table,
    stop_reasons,
    strongest_pairs,
    weighted_correlations,
    weighted_quantile,
    weighted_sd,
)
from blocsim.dashboards.calibration_figures import (
    facts_figure,
    generations_figure,
    pairs_figure,
    posterior_density,
    prior_posterior_figure,
    scores_figure,
)
from blocsim.dashboards.calibration_page import calibration_sections
from blocsim.dashboards.read import CALIBRATION, folder_kind, read_calibration
from blocsim.dashboards.style import small_multiples
from blocsim.errors import ResultsError
from tests.conftest import SCENARIOS

HISTORY = SCENARIOS / "history_2007.toml"
TEST_FACTS = SCENARIOS / "calibration" / "test_facts.toml"
PRIORS = {"mechanisms.balance_of_threat.weight": (4.0, 24.0),
          "mechanisms.autonomy_cost.weight": (1.0, 10.0),
          "dynamics.political_volatility": (0.2, 2.0)}
TEST_SHARES = {"H5": 0.2, "H6": 0.6, "H7": 0.97, "H8": 0.9, "H9": 0.8, "H10": 0.7}
"""The model's test probabilities: below persistence's 0.95 on H9 and the base rate's 0.5 on
H5 (it loses there), above both elsewhere."""


def spec_dict(test_facts: Path = TEST_FACTS, priors: dict = PRIORS) -> dict:
    """A calibration file's content: three parameters, the history case, two fit facts."""
    return {
        "name": "toy", "description": "three parameters on the 2007-2016 record", "seed": 7,
        "population": 200, "replications": 4, "max_generations": 6, "min_tolerance": 0.2,
        "predictive_draws": 20, "predictive_replications": 5,
        "test_facts": str(test_facts), "test_facts_sha256": file_sha256(test_facts),
        "parameters": [{"path": path, "prior": list(prior)} for path, prior in priors.items()],
        "cases": [{"name": "history", "scenario": str(HISTORY), "fit": ["2007Q1", "2016Q4"],
                   "test": ["2017Q1", "2024Q4"]}],
        "facts": [
            {"id": "H1", "case": "history", "window": "fit", "source": "data/timeline.csv",
             "statement": "QUAD dormant 2009-2016 <script>alert(1)</script>",
             "conditions": [{"kind": "mean_level", "grouping": "QUAD", "from": "2009Q1",
                             "to": "2016Q4", "below": 1.0}]},
            {"id": "H2", "case": "history", "window": "fit", "source": "data/atop.csv",
             "statement": "No grouping a formal alliance by 2016Q4",
             "conditions": [{"kind": "consolidated", "grouping": "any", "by": "2016Q4",
                             "is": False}]}]}


def posterior(particles: int = 300, seed: int = 1) -> pd.DataFrame:
    """Balance of threat pinned near 12; autonomy cost spread over its prior and tied to it
    (r > 0.5); political volatility as loose as its prior. Unequal weights."""
    rng = np.random.default_rng(seed)
    threat = rng.normal(12.0, 1.0, particles)
    autonomy = np.clip(1.0 + 5.4 * rng.uniform(size=particles) + 0.7 * (threat - 8.0), 1.0, 10.0)
    volatility = rng.uniform(0.2, 2.0, particles)
    return pd.DataFrame({"mechanisms.balance_of_threat.weight": threat,
                         "mechanisms.autonomy_cost.weight": autonomy,
                         "dynamics.political_volatility": volatility,
                         "weight": rng.uniform(0.2, 1.0, particles)})


def calibration_folder(folder: Path, status: str = "complete", test_facts: Path = TEST_FACTS,
                       case_file: Path = HISTORY, priors: dict = PRIORS) -> Path:
    """A hand-made `blocsim calibrate` folder (no ABC run): manifest and the four tables."""
    folder.mkdir(parents=True)
    spec = CalibrationSpec.model_validate(spec_dict(test_facts, priors))
    posterior()[[*priors, "weight"]].to_parquet(folder / "posterior.parquet", index=False)
    generations = pd.DataFrame({"generation": [0, 1, 2], "tolerance": [0.6, 0.35, 0.3],
                                "simulations": [400, 900, 2500], "particles": [200] * 3})
    generations["acceptance_rate"] = generations.particles / generations.simulations
    generations.to_parquet(folder / "generations.parquet", index=False)
    manifest = {
        "kind": "calibration", "status": status, "created": "2026-11-28T10:00:00+00:00",
        "calibration": {"name": "toy", "file": "/calibrations/toy.toml", "hash": "ab" * 32,
                        "spec": spec.model_dump(mode="json", by_alias=True)},
        "test_facts": {"file": str(test_facts), "sha256": spec.test_facts_sha256},
        "cases": {"history": {"file": str(case_file), "hash": blocsim.load(HISTORY).hash}},
        "method": "ABC-SMC (pyabc), uniform priors", "versions": {"blocsim": "test"},
        "generations": 3, "final_tolerance": 0.3, "simulations": 3800, "runs": 15200,
        "timings": {"wall_seconds": 321.0}, "workers": 2}
    if status != "running":
        tests = load_test_facts(test_facts, spec.test_facts_sha256).facts
        facts = [(f.id, f.statement, "fit", p) for f, p in zip(spec.facts, (0.3, 0.85),
                                                                 strict=True)]
        facts += [(f.id, f.statement, "test", TEST_SHARES[f.id]) for f in tests]
        shares = pd.DataFrame([{
            "fact": fact, "case": "history", "window": window, "statement": statement,
            "probability": p, "runs": 100, "mc_low": max(0.0, p - 0.08),
            "mc_high": min(1.0, p + 0.08), "parameter_sd": 0.1,
            "parameter_low": max(0.0, p - 0.196), "parameter_high": min(1.0, p + 0.196)}
            for fact, statement, window, p in facts])
        if status == "complete":
            shares.to_parquet(folder / "facts.parquet", index=False)
            score_test_facts(shares, tests).to_parquet(folder / "test_scores.parquet",
                                                       index=False)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return calibration_folder(tmp_path_factory.mktemp("calibration") / "toy")


@pytest.fixture(scope="module")
def data(folder: Path):
    return read_calibration(folder)


@pytest.fixture(scope="module")
def table(data) -> pd.DataFrame:
    return parameter_table(data)


@pytest.fixture(scope="module")
def page(folder: Path) -> str:
    return write_dashboard(folder).read_text(encoding="utf-8")


# --- the reader -------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_calibration_folder_gets_the_calibration_page(folder, page):
    assert folder_kind(folder) == CALIBRATION
    assert (folder / "dashboard.html").is_file()
    assert "<title>blocsim calibration: toy (3 parameters, 3 generations)</title>" in page


def test_reader_names_each_parameter_in_words_with_its_prior(data):
    assert [p.path for p in data.parameters] == list(PRIORS)
    assert [(p.low, p.high) for p in data.parameters] == list(PRIORS.values())
    assert data.parameters[0].label == "balance of threat mechanism: weight"
    assert data.parameters[2].label == "dynamics: political volatility"


def test_reader_normalises_the_posterior_weights(data):
    raw = posterior()
    assert data.posterior.weights.sum() == pytest.approx(1.0)
    assert data.posterior.weights == pytest.approx(raw.weight / raw.weight.sum())


def test_hand_set_values_come_from_the_first_cases_scenario(data):
    scenario = blocsim.load(HISTORY).model_dump()
    assert data.hand_set_from == HISTORY.name
    assert data.parameters[0].hand_set == scenario["mechanisms"]["balance_of_threat"]["weight"]
    assert data.parameters[2].hand_set == scenario["dynamics"]["political_volatility"]


def test_hand_set_values_are_left_out_when_the_case_file_has_changed(tmp_path):
    changed = tmp_path / "history_2007.toml"
    changed.write_text(f'extends = "{HISTORY}"\n[dynamics]\npolitical_volatility = 1.5\n')
    data = read_calibration(calibration_folder(tmp_path / "c", case_file=changed))
    assert all(p.hand_set is None for p in data.parameters)
    figure = prior_posterior_figure(data, parameter_table(data))
    assert not [t for t in figure.data if (t.name or "").startswith("hand-set")]


def test_test_facts_sources_and_reasons_are_read_from_the_pinned_file(data):
    assert data.test_facts is not None and data.test_note == ""
    assert data.sources["H1"] == "data/timeline.csv"
    assert data.sources["H5"].startswith("data/timeline.csv 2017-11-12")


@pytest.mark.slow
def test_a_changed_test_facts_file_is_not_trusted_and_the_page_says_so(tmp_path):
    copy = tmp_path / "test_facts.toml"
    shutil.copy(TEST_FACTS, copy)
    folder = calibration_folder(tmp_path / "c", test_facts=copy)
    copy.write_text(copy.read_text() + "\n# edited after the calibration\n")
    data = read_calibration(folder)
    assert data.test_facts is None and "has changed" in data.test_note
    assert "has changed since the calibration" in write_dashboard(folder).read_text()


def test_load_test_facts_refuses_a_file_whose_hash_differs(tmp_path):
    copy = tmp_path / "test_facts.toml"
    copy.write_text(TEST_FACTS.read_text() + "\n")
    with pytest.raises(CalibrationError, match="pre-registered"):
        load_test_facts(copy, file_sha256(TEST_FACTS))


def test_a_calibration_still_fitting_is_refused_with_how_to_resume(tmp_path):
    folder = calibration_folder(tmp_path / "c", status="running")
    with pytest.raises(ResultsError, match="--resume"):
        write_dashboard(folder)


@pytest.mark.slow
def test_a_fitted_calibration_without_its_report_gets_a_page_that_says_so(tmp_path):
    folder = calibration_folder(tmp_path / "c", status="fitted")
    data = read_calibration(folder)
    assert data.facts is None and data.scores is None
    sections, _ = calibration_sections(data)
    assert [s.anchor for s in sections] == ["parameters", "pinned", "pairs", "run"]
    assert "are not written yet" in write_dashboard(folder).read_text()


def test_a_calibration_of_one_parameter_has_no_pairs_to_show(tmp_path):
    one = dict(list(PRIORS.items())[:1])
    data = read_calibration(calibration_folder(tmp_path / "c", priors=one))
    sections, _ = calibration_sections(data)
    assert [s.anchor for s in sections] == ["parameters", "pinned", "facts", "scores", "run"]


def test_a_posterior_missing_a_parameter_is_refused(tmp_path):
    folder = calibration_folder(tmp_path / "c")
    posterior().drop(columns="dynamics.political_volatility").to_parquet(
        folder / "posterior.parquet", index=False)
    with pytest.raises(ResultsError, match="dynamics.political_volatility"):
        read_calibration(folder)


# --- weighted statistics ----------------------------------------------------------------------

def test_integer_weights_give_the_statistics_of_the_repeated_sample():
    values, weights = np.array([1.0, 2.0, 4.0, 7.0]), np.array([1, 3, 2, 1])
    repeated = np.repeat(values, weights)
    assert weighted_sd(values, weights) == pytest.approx(repeated.std())
    correlations = weighted_correlations(
        pd.DataFrame({"a": values, "b": values**2, "c": -values}), weights)
    r = dict(zip(zip(correlations.a, correlations.b, strict=True), correlations.r, strict=True))
    assert r[("a", "b")] == pytest.approx(np.corrcoef(repeated, repeated**2)[0, 1])
    assert r[("a", "c")] == pytest.approx(-1.0)


def test_weighted_quantiles_are_those_of_the_repeated_sample():
    values, weights = np.array([5.0, 1.0, 3.0, 9.0, 7.0]), np.array([1, 1, 10, 1, 3])
    assert weighted_quantile(values, np.ones(5), 0.5) == 5.0
    repeated = np.sort(np.repeat(values, weights))
    for q in (0.05, 0.5, 0.8, 0.95):
        assert weighted_quantile(values, weights, q) == repeated[int(np.ceil(q * 16)) - 1]


def test_effective_sample_size_counts_equal_particles_and_shrinks_with_unequal_weights():
    assert effective_sample_size(np.ones(40)) == pytest.approx(40)
    assert effective_sample_size(np.array([1.0, 0.0, 0.0])) == pytest.approx(1)


def test_the_sd_ratio_is_posterior_sd_over_the_uniform_priors(data, table):
    first = table.iloc[0]
    values = data.posterior.values[first.path].to_numpy()
    assert first.prior_sd == pytest.approx(20.0 / np.sqrt(12))
    assert first.ratio == pytest.approx(weighted_sd(values, data.posterior.weights)
                                        / first.prior_sd)


def test_a_narrow_posterior_is_pinned_and_one_as_wide_as_its_prior_is_loose(table):
    verdicts = dict(zip(table.path, table.verdict, strict=True))
    assert verdicts["mechanisms.balance_of_threat.weight"] == "pinned"
    assert verdicts["dynamics.political_volatility"] == "loose"
    assert table.set_index("verdict").loc["pinned", "ratio"] < PINNED
    assert table.set_index("verdict").loc["loose", "ratio"] > LOOSE


def test_strongest_pairs_are_the_most_correlated_at_least_two_at_most_four():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(500, 6)), columns=list("abcdef"))
    frame["b"] = frame["a"] + 0.3 * frame["b"]
    weights = np.ones(500)
    pairs = strongest_pairs(weighted_correlations(frame, weights))
    assert len(pairs) == 2 and (pairs.a.iloc[0], pairs.b.iloc[0]) == ("a", "b")
    for column in "cdef":
        frame[column] = frame["a"] + 0.1 * frame[column]
    assert len(strongest_pairs(weighted_correlations(frame, weights))) == MOST_PAIRS


def test_losses_list_each_score_and_benchmark_that_beats_the_model(data):
    found = {(loss.fact, loss.score, loss.benchmark) for loss in losses(data.scores)}
    assert found == {("H5", "brier", "the ATOP base rate"), ("H5", "log", "the ATOP base rate"),
                     ("H9", "brier", "the 2016 state persisting"),
                     ("H9", "log", "the 2016 state persisting"),
                     ("H9", "brier", "the ATOP base rate"), ("H9", "log", "the ATOP base rate")}


@pytest.mark.parametrize(("tolerances", "accepted", "reasons"), [
    ([0.6, 0.35, 0.3], 200, []),
    ([0.6, 0.35, 0.15], 200, ["min_tolerance"]),
    ([0.6, 0.35, 0.348], 200, ["min_tolerance_change"]),
    ([0.6, 0.35, 0.3], 5, ["min_acceptance"]),
    ([0.9, 0.8, 0.7, 0.6, 0.5, 0.4], 200, ["max_generations"])])
def test_stop_reasons_name_the_rules_that_held_at_the_last_generation(data, tolerances,
                                                                      accepted, reasons):
    generations = pd.DataFrame({"generation": range(len(tolerances)), "tolerance": tolerances,
                                "simulations": 1000, "particles": accepted})
    generations["acceptance_rate"] = generations.particles / generations.simulations
    assert stop_reasons(replace(data, generations=generations)) == reasons


# --- figures ----------------------------------------------------------------------------------

def test_the_prior_band_is_one_over_its_range_and_the_posterior_a_density(data, table):
    figure = prior_posterior_figure(data, table)
    priors = [t for t in figure.data if t.name == "prior (uniform)"]
    bars = [t for t in figure.data if t.type == "bar"]
    assert len(priors) == len(bars) == len(PRIORS)
    for prior, bar, (low, high) in zip(priors, bars, PRIORS.values(), strict=True):
        assert max(prior.y) == pytest.approx(1 / (high - low))
        assert sum(bar.y) * (high - low) / len(bar.y) == pytest.approx(1.0)


def test_the_posterior_histogram_counts_each_particle_by_its_weight():
    centres, density = posterior_density(np.array([0.1, 0.9]), np.array([3.0, 1.0]), 0, 1, 2)
    assert list(centres) == pytest.approx([0.25, 0.75])
    assert list(density) == pytest.approx([1.5, 0.5])


def test_each_panel_is_titled_with_its_parameter_in_words_and_verdict(data, table):
    figure = prior_posterior_figure(data, table)
    titles = [a.text for a in figure.layout.annotations][:len(PRIORS)]
    assert titles[0].startswith("balance of threat mechanism: weight<br>pinned")


def test_pairs_are_drawn_with_marker_area_by_weight(data):
    paths = [p.path for p in data.parameters]
    pairs = strongest_pairs(weighted_correlations(data.posterior.values[paths],
                                                  data.posterior.weights))
    figure = pairs_figure(data, pairs)
    assert len(figure.data) == len(pairs) >= 2
    first = figure.data[0]
    assert first.name == "mechanisms.balance_of_threat.weight × mechanisms.autonomy_cost.weight"
    heaviest = int(np.argmax(data.posterior.weights))
    assert first.marker.size[heaviest] == max(first.marker.size)


def test_facts_show_each_probability_with_its_monte_carlo_interval(data):
    figure = facts_figure(data.facts)
    dots = {t.name.split(":")[0]: t for t in figure.data if t.type == "scatter"}
    fit = data.facts[data.facts.window == "fit"]
    assert list(dots["fit facts"].x) == pytest.approx(fit.probability.tolist())
    assert list(dots["fit facts"].error_x.array) == pytest.approx(
        (fit.mc_high - fit.probability).tolist())
    assert list(figure.layout.yaxis.categoryarray)[-1] == "H1 (history, fit)"


def test_scores_show_the_model_and_both_benchmarks_on_both_scores(data):
    figure = scores_figure(data.scores)
    assert len(figure.data) == 6
    for trace in figure.data:
        score = "brier" if trace.xaxis == "x" else "log"
        assert list(trace.x) == pytest.approx(data.scores[f"{trace.meta}_{score}"].tolist())


def test_generations_show_tolerance_and_acceptance_by_generation(data):
    figure = generations_figure(data)
    lines = {t.name: t for t in figure.data}
    assert list(lines["tolerance"].y) == [0.6, 0.35, 0.3]
    assert list(lines["acceptance rate"].y) == pytest.approx([0.5, 200 / 900, 0.08])


def test_small_multiples_break_a_title_where_it_says_br():
    figure, _ = small_multiples(["first line<br>second line", "other"], 100)
    assert figure.layout.annotations[0].text == "first line<br>second line"


# --- the page's words -------------------------------------------------------------------------

def test_the_finding_names_the_pinned_and_loose_parameters(page):
    finding = page[page.index('<div class="finding">'):page.index("</div>",
                                                                 page.index('class="finding"'))]
    assert "pins <b>1 of 3</b> parameters (<i>balance of threat mechanism: weight</i>)" in finding
    assert "<i>dynamics: political volatility</i>" in finding


def test_the_page_says_plainly_where_the_model_loses(page):
    assert "It loses on H5, H9" in page
    assert ("<b>H5</b> (QUAD revived from 2017" in page
            and "loses to <b>the ATOP base rate</b> (Brier 0.640 against 0.250" in page)


def test_the_page_counts_the_facts_it_reproduces(page):
    assert "reproduces <b>1 of 2 fit facts</b>" in page
    assert "and <b>5 of 6 pre-registered test facts</b>" in page


def test_the_page_names_the_pre_registered_file_and_its_hash(page):
    assert str(TEST_FACTS) in page and file_sha256(TEST_FACTS) in page
    assert "The file on this machine still has that hash." in page


def test_strings_from_the_files_are_escaped(page):
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_page_embeds_plotly_once_and_loads_no_script_from_elsewhere(page):
    from plotly.offline import get_plotlyjs

    assert page.count(get_plotlyjs()[:200]) == 1
    assert page.count("Plotly.newPlot") == 6
    assert not re.search(r"<script[^>]+src=", page)


# --- the command writes it --------------------------------------------------------------------

@pytest.mark.slow
def test_calibrate_writes_the_page_at_the_end(tmp_path):
    spec = spec_dict()
    spec.update(population=10, replications=1, max_generations=1, predictive_draws=10,
                predictive_replications=1)
    file = tmp_path / "toy.toml"
    file.write_bytes(tomli_w.dumps(spec).encode())
    manifest = calibrate(file, out=tmp_path / "cal", workers=1)
    page = Path(manifest["dashboard"])
    assert page == tmp_path / "cal" / "dashboard.html"
    text = page.read_text()
    assert "blocsim calibration</span> · toy" in text
    for anchor in ("parameters", "pinned", "pairs", "facts", "scores", "run"):
        assert f'id="figure-{anchor}"' in text
