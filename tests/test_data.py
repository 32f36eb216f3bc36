"""The record in data/: documented, cited by path, and the one source of the dated inputs.

The scenarios' 2007 figures and the historical cases' capabilities and memberships must be the
figures of data/, so that a change to either shows here; nothing outside the repository is read.
"""

from __future__ import annotations

import csv
import re
import tomllib

import pytest

import blocsim
from blocsim.calendar import quarter_label
from tests.conftest import ROOT, SCENARIOS

DATA = ROOT / "data"
HISTORY = SCENARIOS / "history_2007.toml"
CASES = sorted((SCENARIOS / "cases").glob("*.toml"))
ALL_SCENARIO_FILES = sorted(SCENARIOS.rglob("*.toml"))


def rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_data_file_is_documented_in_the_readme_and_every_documented_file_exists():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_0-9]+\.(?:csv|md))`", readme))
    present = {p.name for p in DATA.iterdir() if p.name != "README.md"}
    assert present <= documented, f"undocumented in data/README.md: {sorted(present - documented)}"
    assert documented <= present, f"documented but missing: {sorted(documented - present)}"


@pytest.mark.parametrize("path", ALL_SCENARIO_FILES, ids=lambda p: str(p.relative_to(SCENARIOS)))
def test_scenario_files_cite_data_files_that_exist_and_nothing_outside_the_repository(path):
    text = path.read_text(encoding="utf-8")
    for relative in re.findall(r"(?:\.\./)+[\w./-]+", text):
        target = (path.parent / relative).resolve()
        assert target.is_relative_to(ROOT), f"{path.name} points outside the repository: {relative}"
    assert not re.search(r"(?<![\w/])facts/", text), f"{path.name} cites facts/ instead of data/"
    for cited in set(re.findall(r"data/([A-Za-z_0-9]+\.(?:csv|md))", text)):
        assert (DATA / cited).is_file(), f"{path.name} cites data/{cited}, which does not exist"


def test_history_capabilities_are_sipri_2007_ratios_or_the_baseline_where_none_was_found():
    history = blocsim.load(HISTORY)
    baseline = blocsim.load(SCENARIOS / "baseline.toml")
    for row in rows("milex_2007.csv"):
        code = row["iso3"]
        expected = (float(row["capability_2007"]) if row["capability_2007"]
                    else baseline.states[code].capability)
        assert history.states[code].capability == pytest.approx(expected), code


def test_yearly_sipri_ratios_are_milex_over_us_milex_and_agree_with_the_2007_file():
    first = {r["iso3"]: r for r in rows("milex_2007.csv")}
    for row in rows("milex_2007_2024.csv"):
        if not row["milex_usd_m_const2024"]:
            assert not row["capability"], (row["iso3"], row["year"])
            continue
        key = (row["iso3"], row["year"])
        ratio = float(row["milex_usd_m_const2024"]) / float(row["us_milex_usd_m_const2024"])
        assert float(row["capability"]) == pytest.approx(round(ratio, 3)), key
        if row["year"] == "2007":
            assert row["milex_usd_m_const2024"] == first[row["iso3"]]["milex_2007_usd_m_const2024"]
            assert row["capability"] == first[row["iso3"]]["capability_2007"]


def test_history_capability_paths_are_the_yearly_sipri_ratios_at_each_first_quarter():
    history = blocsim.load(HISTORY)
    expected: dict[str, list[tuple[str, float]]] = {}
    for row in rows("milex_2007_2024.csv"):
        if row["capability"] and row["iso3"] != "USA":
            point = (f"{row['year']}Q1", float(row["capability"]))
            expected.setdefault(row["iso3"], []).append(point)
    for code, state in history.states.items():
        assert state.paths.get("capability") == expected.get(code), code
    assert "capability" not in history.states["USA"].paths  # the reference: 1.0 every year
    assert set(expected) == set(history.states) - {"USA", "PRK"}  # SIPRI prints '...' for PRK


def test_history_china_trade_shares_are_the_2007_shares_of_data():
    history = blocsim.load(HISTORY)
    baseline = blocsim.load(SCENARIOS / "baseline.toml")
    shares = {r["iso3"]: float(r["china_trade_share_2007"]) for r in rows("trade_china_2007.csv")}
    for code, state in history.states.items():
        if code == "CHN":
            assert state.china_trade_dependence == 0.0
        elif code == "PRK":  # recorded but not used: see data/README.md, caveats
            assert state.china_trade_dependence == baseline.states[code].china_trade_dependence
        else:
            assert state.china_trade_dependence == pytest.approx(round(shares[code], 3)), code


def test_history_india_russian_arms_share_is_the_sipri_window_centred_on_2007():
    share = {r["period"]: float(r["russia_share_of_india_arms_imports"])
             for r in rows("arms_india_russia.csv")}
    assert blocsim.load(HISTORY).states["IND"].russia_defense_dependence == share["2005-2009"]


def test_history_us_engagement_is_a_constant_not_a_schedule_dated_by_the_record():
    schedule = blocsim.load(HISTORY).pressures["us_engagement"]
    assert schedule.value is not None and schedule.points is None


def nmc_ratio(code: str, year: int) -> float:
    (row,) = [r for r in rows("nmc_capabilities.csv")
              if r["iso3"] == code and int(r["year"]) == year]
    return float(row["capability_milex_ratio"])


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_case_capabilities_are_the_nmc_ratios_of_its_start_year_even_above_one(path):
    case = blocsim.load(path)
    year = int(case.scenario.start[:4])
    for code, state in case.states.items():
        assert state.capability == pytest.approx(nmc_ratio(code, year)), code


def test_yearly_nmc_ratios_are_milex_over_us_milex_and_agree_with_the_first_nmc_file():
    first = {(r["iso3"], r["year"]): r for r in rows("nmc_capabilities.csv")}
    for row in rows("nmc_milex_cases.csv"):
        key = (row["iso3"], row["year"])
        if not row["milex_usd_k_current"]:
            assert not row["capability_milex_ratio"], key
            continue
        ratio = int(row["milex_usd_k_current"]) / int(row["us_milex_same_year_usd_k"])
        assert float(row["capability_milex_ratio"]) == pytest.approx(round(ratio, 3)), key
        if key in first:
            assert row["milex_usd_k_current"] == first[key]["milex_usd_k_current"], key
            assert row["us_milex_same_year_usd_k"] == first[key]["us_milex_same_year_usd_k"], key


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_case_capability_paths_are_the_yearly_nmc_ratios_at_each_first_quarter(path):
    case = blocsim.load(path)
    expected: dict[str, list[tuple[str, float]]] = {}
    for row in rows("nmc_milex_cases.csv"):
        if row["case"] == path.stem and row["capability_milex_ratio"] and row["iso3"] != "USA":
            expected.setdefault(row["iso3"], []).append(
                (f"{row['year']}Q1", float(row["capability_milex_ratio"])))
    meta = case.scenario
    first, last = int(meta.start[:4]), int(quarter_label(meta.start, meta.steps - 1)[:4])
    for code, state in case.states.items():
        assert state.paths.get("capability") == expected.get(code), code
    years = {int(q[:4]) for points in expected.values() for q, _ in points}
    assert years == set(range(first, last + 1))


# case file -> (ATOP alliance id, month of signature as ATOP codes it)
ATOP_PACTS = {"seato_1954": ("3260", "1954-09"), "anzus_1984": ("3215", "1951-09")}


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_case_members_are_the_pact_members_of_atop_at_signature(path):
    atop_id, signed = ATOP_PACTS[path.stem]
    members = {r["member"] for r in rows("atop_asia_pacific.csv")
               if r["atopid"] == atop_id and r["entered"] == signed}
    (grouping,) = blocsim.load(path).groupings.values()
    assert set(grouping.members) == members


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_case_file_validates_names_itself_and_sources_every_state_and_pressure(path):
    case = blocsim.load(path)
    assert case.scenario.name == path.stem
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    for code, state in raw["states"].items():
        assert str(state.get("source", "")).strip(), f"{path.name}: states.{code}"
    for name, schedule in raw["pressures"].items():
        assert str(schedule.get("source", "")).strip(), f"{path.name}: pressures.{name}"


def test_seato_case_spans_signature_to_dissolution_quarterly():
    meta = blocsim.load(SCENARIOS / "cases" / "seato_1954.toml").scenario
    assert (meta.start, meta.steps) == ("1954Q3", 92)  # 1954Q3 .. 1977Q2


def test_anzus_case_enters_the_lange_election_as_a_domestic_constraint_shock_and_the_exit_nowhere():
    case = blocsim.load(SCENARIOS / "cases" / "anzus_1984.toml")
    (shock,) = case.shocks
    assert (shock.at, shock.targets, shock.attribute) == ("1984Q3", ["NZL"], "domestic_constraint")
    assert case.states["NZL"].us_alliance > 0.5  # the suspension is the fact, not an input


def test_history_groupings_answer_the_adversaries_the_baseline_gives_them():
    history = tomllib.loads(HISTORY.read_text(encoding="utf-8"))["groupings"]
    baseline = blocsim.load(SCENARIOS / "baseline.toml").groupings
    for name, grouping in history.items():
        assert grouping["adversaries"] == baseline[name].adversaries, name  # set in the file itself


def test_cases_answer_china_and_the_ussr_for_seato_and_the_ussr_alone_for_anzus():
    seato = blocsim.load(SCENARIOS / "cases" / "seato_1954.toml")
    anzus = blocsim.load(SCENARIOS / "cases" / "anzus_1984.toml")
    assert seato.groupings["SEATO"].adversaries == ["china", "russia"]
    assert anzus.groupings["ANZUS"].adversaries == ["russia"]
    assert seato.poles.russia == anzus.poles.russia == "RUS"  # the USSR, under its successor's code


def test_history_japan_korea_shocks_move_the_pair_once_per_dated_event_one_size_per_kind():
    events = {r["date"] for r in rows("timeline.csv") if r["grouping"] == "Japan-ROK"}
    shocks = [s for s in blocsim.load(HISTORY).shocks if s.attribute == "affinity"]
    cited = {re.search(r"TL (\d{4}-\d{2}-\d{2})", s.source).group(1) for s in shocks}
    assert cited == events and len(shocks) == len(events) == 6
    assert all(sorted(s.targets) == ["JPN", "KOR"] for s in shocks)
    disputes = {(s.magnitude, s.decay_quarters) for s in shocks if s.magnitude < 0}
    rapprochement = {(s.magnitude, s.decay_quarters) for s in shocks if s.magnitude > 0}
    assert len(disputes) == len(rapprochement) == 1  # one magnitude per kind of event


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_case_runs_to_its_last_quarter(path):
    case = blocsim.load(path)
    results = blocsim.run(case, replications=4, seed=1, workers=1)
    assert results.levels["step"].max() == case.scenario.steps - 1
