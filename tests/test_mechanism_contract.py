"""The contract every mechanism of the registry meets (as every Axelrod strategy meets TestPlayer).

Each mechanism declares its theory, its parameters (range, meaning, source or "calibrated") and
what switching it off does. Every one of them must: appear in the scenario schema with its switch
and parameters; compute finite terms within its declared bound on any valid input; have no dead
knob (each parameter changes some output of a run); and, switched off, move the measure its
theory names in the direction it names.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blocsim.mechanisms import (
    MECHANISM_NAMES,
    MECHANISMS,
    REGISTRY,
    Mechanism,
    Membership,
    Params,
    Quarter,
)
from blocsim.model import AllianceModel, compile_batch
from blocsim.model.inputs import BatchInputs, CompiledScenario
from blocsim.scenario import load
from blocsim.scenario.schema import Mechanisms
from blocsim.vocabulary import PRESSURE_NAMES
from tests.conftest import BASELINE
from tests.mechanism_contract import measure, run_batch

NAMES = list(MECHANISM_NAMES)


def test_the_schema_has_one_table_per_registered_mechanism():
    assert list(Mechanisms.model_fields) == NAMES


def test_a_model_step_computes_every_utility_mechanisms_term():
    model = AllianceModel(load(BASELINE), rng=[0, 1])
    model.step()
    utility = {m.name for m in REGISTRY if type(m).utility is not Mechanism.utility}
    assert utility and utility <= set(model.utility_terms)


@pytest.mark.parametrize("name", NAMES)
def test_declares_its_theory_parameters_and_ablation(name):
    mechanism = MECHANISMS[name]
    assert mechanism.title and mechanism.theory and mechanism.citation and mechanism.effect
    assert mechanism.ablation.direction in (-1, 1) and mechanism.ablation.why
    for parameter in mechanism.parameters:
        assert parameter.low <= parameter.default <= parameter.high, parameter.name
        assert parameter.meaning and parameter.source, parameter.name
    table = getattr(Mechanisms(), name)
    assert table.enabled is True
    assert {p.name for p in mechanism.parameters} | {"enabled", "source"} == set(
        type(table).model_fields)
    assert table.source == ""  # a file says why it sets them; the declared sources stand else


@pytest.mark.parametrize("name", NAMES)
def test_switching_it_off_removes_its_utility_term(name):
    scenario = load(BASELINE).with_values({f"mechanisms.{name}.enabled": False})
    model = AllianceModel(scenario, rng=[0])
    model.step()
    assert name not in model.utility_terms


def random_quarter(draw, r: int, n: int, g: int) -> Quarter:
    """A quarter of random valid arrays (levels, commitments, memberships, pressures...)."""
    def array(shape: tuple[int, ...], low: float = 0.0, high: float = 1.0) -> np.ndarray:
        values = draw(st.lists(st.floats(low, high), min_size=int(np.prod(shape)),
                               max_size=int(np.prod(shape))))
        return np.array(values).reshape(shape)

    core = (array((1, n, g)) > 0.4).astype(float)
    observer = ((array((1, n, g)) > 0.8) & (core == 0)).astype(float)
    exited = (array((r, n, g)) > 0.9) & (core > 0)
    taking_part = core * ~exited
    affinity = array((1, n, n), -1.0, 1.0)
    affinity = (affinity + np.swapaxes(affinity, -1, -2)) / 2
    affinity[:, np.arange(n), np.arange(n)] = 0.0
    attributes = {name: array((r, n)) for name in (
        "capability", "threat_china", "threat_dprk", "threat_russia", "autonomy", "hedging",
        "china_trade_dependence", "russia_defense_dependence", "us_alliance",
        "domestic_constraint")}
    return Quarter(
        level=array((r, g), 0.0, 4.0), commitment=array((r, n, g)) * np.maximum(core, observer),
        alignment=array((r, n), -1.0, 1.0), nato_tie=array((r, g)), members=core,
        core=taking_part, observer=observer, involved=np.maximum(taking_part, observer), hub=0,
        china=n - 1, hub_led=core[0, 0].copy(), nato_partner=(array((g,)) > 0.5).astype(float),
        capability=attributes["capability"], attributes=attributes,
        felt={name: array((r, n)) for name in PRESSURE_NAMES},
        threat={a: array((r, n)) for a in ("china", "north_korea", "russia")},
        grouping_threat=array((r, n, g)), adversary_capability=array((1, g)),
        affinity=affinity, nato_capability=array((1,)), asean=array((n,)) > 0.5,
        europe=array((n,)) > 0.7, starting_level=array((1, g), 0.0, 4.0))


def random_params(draw, mechanism, r: int) -> Params:
    values = {"enabled": np.ones(r)}
    for parameter in mechanism.parameters:
        if parameter.integer:
            value = draw(st.integers(int(parameter.low), int(parameter.high)))
        else:
            low = parameter.low + (1e-6 if parameter.exclusive_low else 0.0)
            value = draw(st.floats(low, parameter.high))
        values[parameter.name] = np.full(r, float(value))
    return Params(values)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_its_hooks_give_finite_bounded_values_on_any_valid_input(name, data):
    mechanism = MECHANISMS[name]
    r = 2
    n = data.draw(st.integers(3, 6))
    g = data.draw(st.integers(1, 4))
    quarter = random_quarter(data.draw, r, n, g)
    params = random_params(data.draw, mechanism, r)
    term = mechanism.utility(quarter, params)
    if term is not None:
        assert term.shape == (r, n, g)
        assert np.isfinite(term).all()
        assert (np.abs(term) <= mechanism.bound(params)[:, None, None] + 1e-9).all()
    for pressure, value in mechanism.adjust_pressures(quarter, params).items():
        assert pressure in PRESSURE_NAMES
        assert np.isfinite(value).all() and (value >= 0).all() and (value <= 1).all()
    offer = np.full((r, g), 0.8)
    capped = mechanism.nato_offer(quarter, params, offer)
    assert (capped <= offer + 1e-12).all() and (capped >= 0).all()
    damping = mechanism.alignment_damping(quarter, params)
    if damping is not None:
        assert ((damping >= 0) & (damping <= 1)).all()
    membership = Membership.everyone_in((r, n, g))
    after = mechanism.participation(quarter, params, np.full((r, n, g), -5.0), membership)
    assert not (after.exited & (quarter.members == 0)).any()


def contract_scenario(name: str):
    """The baseline with the overrides under which the mechanism's theory says it acts."""
    scenario = load(BASELINE).with_values(dict(MECHANISMS[name].ablation.overrides))
    return scenario.with_values({"scenario.steps": 24})


def trajectories_differ(a, b) -> bool:
    return any(not np.array_equal(getattr(a, field), getattr(b, field))
               for field in ("level", "commitment", "alignment", "nato_tie", "pressure",
                             "suspended"))


PARAMETERS = [(m.name, p.name) for m in REGISTRY for p in m.parameters]


@pytest.mark.parametrize(("name", "parameter"), PARAMETERS,
                         ids=[f"{m}.{p}" for m, p in PARAMETERS])
def test_every_parameter_changes_some_output(name, parameter):
    declared = MECHANISMS[name].parameter(parameter)
    scenario = contract_scenario(name)
    low, high = declared.low, declared.high
    if declared.exclusive_low:
        low = low + (high - low) * 0.01
    values = [int(low), int(high)] if declared.integer else [low, high]
    runs = [run_batch(scenario.with_values({f"mechanisms.{name}.{parameter}": v}), 8)
            for v in values]
    assert trajectories_differ(*runs), f"{name}.{parameter} is a dead knob"


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_switching_it_off_moves_what_its_theory_says(name):
    ablation = MECHANISMS[name].ablation
    scenario = load(BASELINE).with_values(dict(ablation.overrides))
    on = measure(ablation.measure, scenario, run_batch(scenario, 128))
    off_scenario = scenario.with_values({f"mechanisms.{name}.enabled": False})
    off = measure(ablation.measure, off_scenario, run_batch(off_scenario, 128))
    assert np.sign(off - on) == ablation.direction, (
        f"{name} off: {ablation.measure} {on:.4f} -> {off:.4f} ({ablation.why})")


def test_a_batch_mixes_design_points_without_changing_any_replication():
    scenario = load(BASELINE).with_values({"scenario.steps": 12})
    compiled = CompiledScenario(scenario)
    other = compiled.point({"mechanisms.balance_of_threat.weight": 20.0,
                            "states.IND.autonomy": 0.5})
    streams = np.random.SeedSequence(3).spawn(4)
    mixed = AllianceModel(BatchInputs.stack(compiled.structure, [compiled.base, other,
                                                                 compiled.base, other]),
                          rng=list(streams)).run()
    alone = AllianceModel(compile_batch(scenario, 1), rng=[streams[2]]).run()
    assert np.array_equal(mixed.level[2], alone.level[0])
    assert np.array_equal(mixed.commitment[2], alone.commitment[0])
    varied = AllianceModel(compile_batch(scenario.with_values(
        {"mechanisms.balance_of_threat.weight": 20.0, "states.IND.autonomy": 0.5}), 1),
        rng=[streams[1]]).run()
    assert np.array_equal(mixed.level[1], varied.level[0])


def test_the_readme_table_lists_every_registered_mechanism():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    table = readme[readme.index("| mechanism (`[mechanisms.NAME]`)"):]
    table = table[:table.index("\n\n")]
    listed = {line.split("`")[1] for line in table.splitlines()[2:]}
    assert listed == set(MECHANISM_NAMES)
