"""Every mechanism of the registry is switchable, and switching it off changes the results the way
its theory says. One registry (blocsim.vocabulary.MECHANISMS) lists them for validation, model,
docs and these tests."""

from __future__ import annotations

import numpy as np
import pytest

from blocsim.model import AllianceModel
from blocsim.scenario import load
from blocsim.scenario.schema import Mechanisms
from blocsim.vocabulary import MECHANISM_NAMES, MECHANISMS
from tests.conftest import BASELINE

REPS = 300
OFF = "mechanisms__{}__enabled"


def test_registry_schema_and_model_name_the_same_mechanisms():
    assert set(Mechanisms.model_fields) == set(MECHANISM_NAMES)
    model = AllianceModel(load(BASELINE), rng=0)
    model.step()
    terms = set(model.utility_terms) - {"domestic_politics", "organizer"}
    assert terms | {"counter_moves"} == set(MECHANISM_NAMES)
    assert all(m.theory and m.effect for m in MECHANISMS)


@pytest.mark.parametrize("name", [n for n in MECHANISM_NAMES if n != "counter_moves"])
def test_switching_a_mechanism_off_removes_its_term(name):
    scenario = load(BASELINE).with_values({f"mechanisms.{name}.enabled": False})
    model = AllianceModel(scenario, rng=0)
    model.step()
    assert name not in model.utility_terms


def mean_final(results, table: str, value: str, **where: str) -> float:
    frame = results.tables[table]
    frame = frame[frame.step == frame.step.max()]
    for column, wanted in where.items():
        frame = frame[frame[column] == wanted]
    return float(frame[value].mean())


def mean_final_level(results, grouping: str) -> float:
    return mean_final(results, "levels", "level", grouping=grouping)


@pytest.fixture(scope="module")
def base(cached_run):
    return cached_run(replications=REPS)


@pytest.mark.slow
def test_without_balance_of_threat_groupings_lose_their_reason_to_rise(cached_run, base):
    off = cached_run(replications=REPS, **{OFF.format("balance_of_threat"): False})
    for grouping in ("QUAD", "AUKUS", "US_JPN_ROK"):
        assert mean_final_level(off, grouping) < mean_final_level(base, grouping) - 0.3


@pytest.mark.slow
def test_without_autonomy_cost_india_commits_more_to_quad(cached_run, base):
    off = cached_run(replications=REPS, **{OFF.format("autonomy_cost"): False})
    assert (mean_final(off, "commitments", "commitment", state="IND", grouping="QUAD")
            > mean_final(base, "commitments", "commitment", state="IND", grouping="QUAD") + 0.1)
    assert off.summary().set_index("grouping").probability["QUAD"] > base.summary().set_index(
        "grouping").probability["QUAD"]


@pytest.mark.slow
def test_without_economic_exposure_china_dependent_australia_commits_more(cached_run, base):
    off = cached_run(replications=REPS, **{OFF.format("economic_exposure"): False})
    for grouping in ("QUAD", "AUKUS"):
        assert (mean_final(off, "commitments", "commitment", state="AUS", grouping=grouping)
                > mean_final(base, "commitments", "commitment", state="AUS", grouping=grouping))


@pytest.mark.slow
def test_without_russias_pull_india_commits_more_to_quad(cached_run, base):
    off = cached_run(replications=REPS, **{OFF.format("russia_pull"): False})
    assert (mean_final(off, "commitments", "commitment", state="IND", grouping="QUAD")
            > mean_final(base, "commitments", "commitment", state="IND", grouping="QUAD") + 0.03)
    assert (mean_final(off, "commitments", "commitment", state="JPN", grouping="QUAD")
            == pytest.approx(mean_final(base, "commitments", "commitment", state="JPN",
                                        grouping="QUAD"), abs=0.05))


def crisis_window_commitment(results, state: str, grouping: str) -> float:
    """Mean commitment over the Taiwan crisis quarters (2027Q3 to 2029Q2)."""
    table = results.commitments
    window = table[table.step.between(10, 17) & (table.state == state)
                   & (table.grouping == grouping)]
    return float(window.commitment.mean())


@pytest.mark.slow
def test_without_entrapment_fear_a_taiwan_crisis_no_longer_deters_the_least_threatened(
        cached_run, base):
    switch = {OFF.format("entrapment_abandonment"): False}
    effect = {}
    for label, overrides in (("on", {}), ("off", switch)):
        crisis = cached_run("taiwan_crisis", replications=REPS, **overrides)
        calm = cached_run(replications=REPS, **overrides)
        effect[label] = (crisis_window_commitment(crisis, "NZL", "PBP")
                         - crisis_window_commitment(calm, "NZL", "PBP"))
    assert effect["on"] < effect["off"] - 0.02


@pytest.mark.slow
def test_without_peer_influence_members_commitments_spread_further_apart(cached_run, base):
    off = cached_run(replications=REPS, **{OFF.format("peer_influence"): False})

    def spread(results) -> float:
        table = results.commitments
        last = table[(table.step == table.step.max()) & (table.grouping == "QUAD")
                     & table.state.isin(["USA", "JPN", "IND", "AUS"])]
        return float(last.groupby("replication").commitment.std().mean())

    assert spread(off) > spread(base)


@pytest.mark.slow
def test_without_counter_moves_china_does_not_react_and_nato_ties_are_uncapped(cached_run, base):
    off = cached_run(replications=REPS, **{OFF.format("counter_moves"): False})
    pressures = off.pressures
    acting = pressures[pressures.pressure == "china_assertiveness"].value
    scheduled = base.manifest["scenario"]["resolved"]["pressures"]["china_assertiveness"]
    assert np.allclose(acting, scheduled.get("value", scheduled.get("start")))
    on_pressure = base.pressures
    assert on_pressure[on_pressure.pressure == "china_assertiveness"].value.max() > acting.max()
    assert (off.summary().set_index("grouping").mean_final_nato_tie["IP4"]
            > base.summary().set_index("grouping").mean_final_nato_tie["IP4"])


@pytest.mark.slow
def test_without_hedging_asean_states_leave_the_middle_and_blocs_pay_no_legitimacy_cost(
        cached_run, base):
    off = cached_run(replications=REPS, **{OFF.format("hedging"): False})
    asean = [c for c, s in base.manifest["scenario"]["resolved"]["states"].items()
             if s.get("asean")]

    def distance_from_neutral(results) -> float:
        table = results.alignment
        last = table[(table.step == table.step.max()) & table.state.isin(asean)]
        return float(last.alignment.abs().mean())

    assert distance_from_neutral(off) > distance_from_neutral(base)
    assert mean_final_level(off, "QUAD") > mean_final_level(base, "QUAD")
