"""Properties that hold for any valid input: commitments in [0, 1], levels in [0, 4]."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blocsim.mechanisms import MECHANISMS
from blocsim.model import AllianceModel
from blocsim.model import dynamics as dyn
from blocsim.scenario import load
from blocsim.vocabulary import PRESSURE_NAMES
from tests.conftest import BASELINE

BASE = load(BASELINE).with_values({"scenario.steps": 16})
share = st.floats(0.0, 1.0)
STATE_KEYS = ("threat_china", "autonomy", "hedging", "china_trade_dependence",
              "russia_defense_dependence", "us_alliance", "domestic_constraint")


@st.composite
def perturbed_scenarios(draw):
    values: dict[str, object] = {}
    for code in draw(st.lists(st.sampled_from(BASE.state_codes), max_size=6, unique=True)):
        for key in draw(st.lists(st.sampled_from(STATE_KEYS), min_size=1, unique=True)):
            values[f"states.{code}.{key}"] = draw(share)
    for name in draw(st.lists(st.sampled_from(PRESSURE_NAMES), max_size=5, unique=True)):
        values[f"pressures.{name}.start"] = draw(share)
        values[f"pressures.{name}.end"] = draw(share)
    for name in draw(st.lists(st.sampled_from(list(MECHANISMS)), max_size=4, unique=True)):
        values[f"mechanisms.{name}.enabled"] = draw(st.booleans())
        for parameter in MECHANISMS[name].parameters:
            if draw(st.booleans()):
                values[f"mechanisms.{name}.{parameter.name}"] = (
                    draw(st.integers(int(parameter.low), int(parameter.high)))
                    if parameter.integer else draw(st.floats(parameter.low, parameter.high)))
    values["dynamics.noise"] = draw(st.floats(0.0, 0.5))
    values["dynamics.political_volatility"] = draw(st.floats(0.0, 5.0))
    for name in draw(st.lists(st.sampled_from(BASE.grouping_names), max_size=3, unique=True)):
        values[f"groupings.{name}.initial_level"] = draw(st.floats(0.0, 4.0))
    return BASE.with_values(values)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=perturbed_scenarios(), seed=st.integers(0, 2**32 - 1))
def test_any_valid_scenario_keeps_commitments_levels_and_alignment_in_range(scenario, seed):
    trajectory = AllianceModel(scenario, rng=seed).run()
    assert np.isfinite(trajectory.commitment).all()
    assert trajectory.commitment.min() >= 0.0 and trajectory.commitment.max() <= 1.0
    assert trajectory.level.min() >= 0.0 and trajectory.level.max() <= 4.0
    assert np.abs(trajectory.alignment).max() <= 1.0
    assert trajectory.nato_tie.min() >= 0.0 and trajectory.nato_tie.max() <= 1.0


@settings(max_examples=200, deadline=None)
@given(level=st.lists(st.floats(0.0, 4.0), min_size=1, max_size=6),
       target=st.floats(-10.0, 10.0), rise=st.floats(0.001, 1.0), fall=st.floats(0.001, 1.0))
def test_next_level_stays_on_the_ladder(level, target, rise, fall):
    levels = np.array([level])
    moved = dyn.next_level(levels, np.full_like(levels, target), np.array([rise]),
                           np.array([fall]))
    assert moved.min() >= 0.0 and moved.max() <= 4.0


@settings(max_examples=200, deadline=None)
@given(commitment=st.floats(0.0, 1.0), target=st.floats(0.0, 1.0),
       adjustment=st.floats(0.001, 1.0), shock=st.floats(-5.0, 5.0))
def test_revised_commitment_stays_in_the_unit_interval(commitment, target, adjustment, shock):
    revised = dyn.revise_commitment(np.array([[[commitment]]]), np.array([[[target]]]),
                                    np.array([adjustment]), np.array([[[shock]]]),
                                    np.ones((1, 1, 1)))
    assert 0.0 <= revised[0, 0, 0] <= 1.0


@settings(max_examples=200, deadline=None)
@given(commitments=st.lists(st.floats(0.0, 1.0), min_size=2, max_size=6),
       broad=st.floats(0.0, 0.6), gap=st.floats(0.05, 0.4), floor=st.floats(0.0, 4.0))
def test_level_target_never_exceeds_what_the_weakest_member_allows(commitments, broad, gap,
                                                                    floor):
    column = np.array(commitments)[None, :, None]
    full = min(broad + gap, 1.0)
    target, _ = dyn.level_target(column, np.ones_like(column), np.array([broad]),
                                 np.array([full]), np.array([floor]))
    weakest = column.min()
    cap = floor + (4.0 - floor) * min(max((weakest - broad) / (full - broad), 0.0), 1.0)
    assert 0.0 <= target[0, 0] <= cap + 1e-12
    assert target[0, 0] <= 4.0 * min(column.mean() / full, 1.0) + 1e-12
