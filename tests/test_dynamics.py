"""The mechanisms as pure functions: each behaviour its theory predicts, without a model."""

from __future__ import annotations

import numpy as np
import pytest

from blocsim.model import dynamics as dyn

ONE = np.ones((1, 1))


def test_threat_equals_baseline_perception_at_neutral_assertiveness():
    base = np.array([0.0, 0.3, 0.9])
    assert np.allclose(dyn.perceived_threat(base, 0.5), base)


def test_threat_rises_with_assertiveness_but_never_past_one():
    low, high = dyn.perceived_threat(np.array([0.6]), 0.3), dyn.perceived_threat(np.array([0.6]), 1)
    assert low < 0.6 < high <= 1.0


def test_state_that_feels_no_threat_is_unmoved_by_assertiveness():
    assert dyn.perceived_threat(np.array([0.0]), 1.0)[0] == 0.0


def test_partner_strength_counts_others_committed_reliable_capability_not_ones_own():
    capability = np.array([1.0, 0.1])
    reliability = np.array([0.5, 1.0])
    commitment = np.array([[0.8], [0.6]])
    core = np.ones((2, 1))
    strength = dyn.partner_strength(capability, reliability, commitment, core, core)
    assert strength[0, 0] == pytest.approx(0.1 * 0.6)
    assert strength[1, 0] == pytest.approx(1.0 * 0.5 * 0.8)


def test_security_value_rises_with_threat_partner_strength_and_level():
    level = np.array([2.0])
    base = dyn.security_value(np.array([0.5]), 0.3 * ONE, 0.3, level, 0.5)
    assert dyn.security_value(np.array([0.8]), 0.3 * ONE, 0.3, level, 0.5) > base
    assert dyn.security_value(np.array([0.5]), 0.9 * ONE, 0.3, level, 0.5) > base
    assert dyn.security_value(np.array([0.5]), 0.3 * ONE, 0.3, np.array([4.0]), 0.5) > base


def test_autonomy_cost_is_convex_in_level_and_greatest_for_a_formal_alliance():
    levels = np.arange(5.0)
    cost = dyn.autonomy_cost(np.array([0.9]), np.array([0.3]), levels, 2.0)[0]
    steps = np.diff(cost)
    assert np.all(steps > 0) and np.all(np.diff(steps) > 0)
    assert cost.argmax() == 4


def test_autonomy_cost_is_highest_for_the_most_autonomy_minded_state():
    cost = dyn.autonomy_cost(np.array([0.2, 0.9]), np.array([0.3, 0.3]), np.array([3.0]), 2.0)
    assert cost[1, 0] > cost[0, 0]


def test_domestic_constraint_alone_also_makes_commitment_costly():
    free, bound = dyn.autonomy_cost(np.array([0.2, 0.2]), np.array([0.0, 0.75]),
                                    np.array([4.0]), 2.0)[:, 0]
    assert bound > free


def test_economic_exposure_needs_both_dependence_and_coercion():
    level = np.array([3.0])
    assert dyn.economic_exposure(np.array([0.3]), np.array([0.0]), level)[0, 0] == 0.0
    assert dyn.economic_exposure(np.array([0.0]), np.array([0.8]), level)[0, 0] == 0.0
    assert dyn.economic_exposure(np.array([0.3]), np.array([0.8]), level)[0, 0] > 0.0


def test_russia_pull_scales_with_defence_dependence_and_courtship():
    level = np.array([2.0])
    weak = dyn.russia_pull(np.array([0.4]), np.array([0.3]), level)[0, 0]
    strong = dyn.russia_pull(np.array([0.4]), np.array([0.9]), level)[0, 0]
    assert 0 < weak < strong


def test_entrapment_is_feared_most_by_the_least_threatened_in_formal_pacts():
    fear = dyn.entrapment_fear(np.array([0.9, 0.2]), 0.8, np.array([0.0, 4.0]))
    assert fear[:, 0].max() == 0.0
    assert fear[1, 1] > fear[0, 1]


def test_abandonment_rises_as_us_reliability_falls_for_threatened_allies():
    ally = dict(threat=np.array([0.8]), us_alliance=np.array([0.9]))
    assert dyn.abandonment_fear(us_reliability=0.3, **ally) > dyn.abandonment_fear(
        us_reliability=0.9, **ally)
    assert dyn.abandonment_fear(np.array([0.8]), np.array([0.0]), 0.3)[0] == 0.0


def test_peer_influence_pulls_toward_a_friend_and_away_from_a_rival():
    commitment = np.array([[0.2], [0.9], [0.9]])
    membership = np.ones((3, 1))
    friends = np.array([[0, 0.8, 0], [0.8, 0, 0], [0, 0, 0]])
    rivals = np.array([[0, 0, -0.8], [0, 0, 0], [-0.8, 0, 0]])
    assert dyn.peer_pull(commitment, friends, membership)[0, 0] > 0
    assert dyn.peer_pull(commitment, rivals, membership)[0, 0] < 0


def test_peer_influence_is_zero_without_affinity_or_outside_the_grouping():
    commitment = np.array([[0.2], [0.9]])
    assert dyn.peer_pull(commitment, np.zeros((2, 2)), np.ones((2, 1)))[0, 0] == 0.0
    outside = dyn.peer_pull(commitment, np.array([[0, 1.0], [1.0, 0]]), np.array([[0], [1]]))
    assert outside[0, 0] == 0.0


def test_legitimacy_deficit_vanishes_when_hedgers_lean_to_the_us():
    hedgers = np.array([True, True])
    hedging = np.array([0.9, 0.9])
    assert dyn.legitimacy_deficit(np.array([1.0, 1.0]), hedging, hedgers, 0.8) == 0.0
    assert dyn.legitimacy_deficit(np.array([-0.5, 0.0]), hedging, hedgers, 0.8) > 0.5


def test_legitimacy_cost_grows_with_how_bloc_like_the_grouping_is():
    cost = dyn.legitimacy_cost(0.5, np.array([0.5]), np.array([1.0, 4.0]))
    assert cost[0, 1] > cost[0, 0] > 0


def test_weakest_link_holds_a_grouping_at_coordinated_however_eager_the_others():
    core = np.ones((4, 1), bool)
    eager = np.array([[0.95], [0.95], [0.95], [0.95]])
    reluctant = np.array([[0.95], [0.95], [0.95], [0.3]])
    target, binds = dyn.level_target(reluctant, core, broad_support=0.35, full_support=0.8)
    assert target[0] == pytest.approx(2.0) and binds[0]
    assert dyn.level_target(eager, core, 0.35, 0.8)[0][0] == pytest.approx(4.0)


def test_level_is_capped_by_mean_support_when_everyone_is_lukewarm():
    core = np.ones((3, 1), bool)
    target, binds = dyn.level_target(np.full((3, 1), 0.4), core, 0.35, 0.8)
    assert target[0] == pytest.approx(2.0) and not binds[0]


def test_level_follows_support_with_a_lag_and_decays_slower_than_it_grows():
    level = np.array([2.0, 2.0])
    moved = dyn.next_level(level, np.array([4.0, 0.0]), rise=0.2, fall=0.1)
    assert 2.0 < moved[0] < 4.0 and 0.0 < moved[1] < 2.0
    assert moved[0] - 2.0 > 2.0 - moved[1]


def test_china_counters_the_most_formal_us_led_grouping():
    quiet = dyn.china_response(0.5, 0.4, np.array([1.0, 1.0]), np.array([1.0, 1.0]), 0.3)
    alarmed = dyn.china_response(0.5, 0.4, np.array([4.0, 1.0]), np.array([1.0, 1.0]), 0.3)
    ignored = dyn.china_response(0.5, 0.4, np.array([4.0, 1.0]), np.array([0.0, 1.0]), 0.3)
    assert alarmed[0] > quiet[0] and alarmed[1] > quiet[1]
    assert ignored == quiet
    assert dyn.china_response(0.95, 0.95, np.array([4.0]), np.array([1.0]), 0.9) == (1.0, 1.0)


def test_russia_courts_only_its_arms_clients_harder_as_their_groupings_rise():
    courtship = dyn.russia_response(np.array([0.5, 0.5]), np.array([0.4, 0.0]),
                                    np.array([3.0]), np.ones((2, 1)), 0.3)
    assert courtship[0] > 0.5 and courtship[1] == 0.5


def test_nato_ties_are_capped_by_europes_bandwidth_when_counter_moves_act():
    args = dict(outreach=0.8, bandwidth=0.2, veto_risk=0.25, mean_commitment=np.array([1.0]),
                nato_partner=np.array([1.0]))
    assert dyn.nato_tie_target(capped=True, **args)[0] == pytest.approx(0.2 * 0.75)
    assert dyn.nato_tie_target(capped=False, **args)[0] == pytest.approx(0.8)
    assert dyn.nato_tie_target(capped=True, **{**args, "nato_partner": np.array([0.0])})[0] == 0


def test_hedging_damps_alignment_toward_neutral():
    pulls = dict(us_pull=np.array([1.0, 1.0]), china_pull=np.array([0.2, 0.2]))
    target = dyn.alignment_target(hedging=np.array([0.0, 0.9]), hedge_strength=1.0, **pulls)
    assert 0 < target[1] < target[0]


def test_political_mood_has_the_stated_long_run_spread():
    draws = np.random.default_rng(0).standard_normal((4000, 200))
    mood = dyn.political_mood(draws, persistence=0.9, volatility=0.7)
    assert mood[0].std() < 0.4 < 0.6 < mood[-1].std() < 0.8


def test_organizer_propensity_is_on_the_us_row_only():
    propensity = dyn.organizer_propensity(np.array([0.9, 0.2, 0.2]), 0, (3, 2))
    assert propensity[0, 0] > 0 and np.all(propensity[1:] == 0)


def test_revised_commitment_stays_in_the_unit_interval_and_off_for_non_members():
    commitment = np.array([[0.95, 0.1], [0.05, 0.5]])
    noise = np.array([[0.4, -0.4], [-0.4, 0.1]])
    revised = dyn.revise_commitment(commitment, np.array([[1.0, 0.0], [0.0, 1.0]]), 0.5, noise,
                                    np.array([[1, 1], [1, 0]]))
    assert revised.min() >= 0.0 and revised.max() <= 1.0 and revised[1, 1] == 0.0


def test_china_reacts_only_to_formalization_beyond_the_starting_point():
    levels, us_led = np.array([2.0]), np.array([1.0])
    start = float(dyn.bloc_formality(levels, us_led))
    assert dyn.china_response(0.6, 0.4, levels, us_led, 0.5, start) == (0.6, 0.4)
    risen = dyn.china_response(0.6, 0.4, np.array([3.5]), us_led, 0.5, start)
    assert risen[0] > 0.6 and risen[1] > 0.4


def test_russia_reacts_only_to_its_clients_groupings_rising_above_their_start():
    start = np.array([2.0])
    same = dyn.russia_response(np.array([0.5]), np.array([0.4]), start, np.ones((1, 1)), 0.3,
                               start)
    higher = dyn.russia_response(np.array([0.5]), np.array([0.4]), np.array([3.0]),
                                 np.ones((1, 1)), 0.3, start)
    assert same[0] == 0.5 and higher[0] > 0.5
