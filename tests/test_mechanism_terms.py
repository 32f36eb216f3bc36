"""Each mechanism's term as its theory says, as pure functions of small arrays (no model)."""

from __future__ import annotations

import numpy as np
import pytest

from blocsim.mechanisms import MECHANISMS, Membership, Quarter
from blocsim.mechanisms.autonomy_cost import autonomy_cost
from blocsim.mechanisms.balance_of_threat import partner_strength, security_value
from blocsim.mechanisms.china_response import bloc_formality, wedge_targets
from blocsim.mechanisms.distrust import distrust_of_partners
from blocsim.mechanisms.entrapment_abandonment import abandonment_fear, entrapment_fear
from blocsim.mechanisms.hedging import legitimacy_deficit
from blocsim.mechanisms.hub_and_spokes import control_dilution, multilateral_rise
from blocsim.mechanisms.participation import participation_step
from blocsim.mechanisms.peer_influence import peer_pull
from blocsim.vocabulary import PRESSURE_NAMES

ONE = np.ones(1)


def quarter(n: int = 3, g: int = 1, **values) -> Quarter:
    """A one-replication quarter: n states (0 is the US, n-1 China), g groupings, all members."""
    core = np.ones((1, n, g))
    defaults = dict(
        level=np.full((1, g), 2.0), commitment=np.full((1, n, g), 0.5),
        alignment=np.zeros((1, n)), nato_tie=np.zeros((1, g)), members=core, core=core,
        observer=np.zeros((1, n, g)), involved=core, hub=0, china=n - 1, hub_led=np.ones(g),
        nato_partner=np.zeros(g), capability=np.full((1, n), 0.1),
        attributes={name: np.full((1, n), 0.5) for name in (
            "capability", "threat_china", "threat_dprk", "threat_russia", "autonomy", "hedging",
            "china_trade_dependence", "russia_defense_dependence", "us_alliance",
            "domestic_constraint")},
        felt={name: np.full((1, n), 0.5) for name in PRESSURE_NAMES},
        threat={a: np.full((1, n), 0.5) for a in ("china", "north_korea", "russia")},
        grouping_threat=np.full((1, n, g), 0.5), adversary_capability=np.full((1, g), 0.3),
        affinity=np.zeros((1, n, n)), nato_capability=np.full(1, 0.2),
        asean=np.zeros(n, bool), europe=np.zeros(n, bool), starting_level=np.full((1, g), 2.0))
    defaults.update(values)
    return Quarter(**defaults)


def params(name: str, **values):
    chosen = MECHANISMS[name].defaults(1)
    for key, value in values.items():
        setattr(chosen, key, np.full(1, float(value)))
    return chosen


# balance of threat ---------------------------------------------------------------------------

def test_partner_strength_counts_others_committed_capability_not_ones_own():
    capability = np.array([[1.0, 0.1, 0.2]])
    commitment = np.array([[[0.5], [1.0], [0.0]]])
    core = np.ones((1, 3, 1))
    strength = partner_strength(capability, commitment, core, core, 0, np.ones((1, 3)))
    assert strength[0, 0, 0] == pytest.approx(0.1)
    assert strength[0, 1, 0] == pytest.approx(0.5)


def test_a_member_that_distrusts_the_hub_counts_its_pledge_for_less():
    capability, commitment = np.array([[1.0, 0.1]]), np.array([[[1.0], [1.0]]])
    core = np.ones((1, 2, 1))
    trusting = partner_strength(capability, commitment, core, core, 0, np.array([[1.0, 0.9]]))
    doubting = partner_strength(capability, commitment, core, core, 0, np.array([[1.0, 0.3]]))
    assert doubting[0, 1, 0] < trusting[0, 1, 0]


def test_security_value_scales_with_the_level_a_dialogue_buys_little_a_treaty_much():
    threat, strength = np.full((1, 1, 3), 0.8), np.full((1, 1, 3), 0.5)
    value = security_value(threat, strength, np.full((1, 3), 0.3), np.array([[0.0, 1.0, 4.0]]),
                           ONE)
    assert value[0, 0, 0] == 0.0
    assert value[0, 0, 1] == pytest.approx(value[0, 0, 2] / 4)


def test_security_value_rises_with_threat_and_partner_strength():
    args = dict(adversary=np.full((1, 1), 0.3), level=np.full((1, 1), 2.0), exponent=ONE)
    weak = security_value(np.full((1, 1, 1), 0.4), np.full((1, 1, 1), 0.1), **args)
    threatened = security_value(np.full((1, 1, 1), 0.8), np.full((1, 1, 1), 0.1), **args)
    backed = security_value(np.full((1, 1, 1), 0.4), np.full((1, 1, 1), 0.9), **args)
    assert threatened > weak and backed > weak


# autonomy cost --------------------------------------------------------------------------------

def test_autonomy_cost_is_convex_in_level_and_greatest_for_a_formal_alliance():
    cost = autonomy_cost(np.array([[0.9]]), np.array([[0.0]]), np.array([[1.0, 2.0, 4.0]]),
                         2.0 * ONE)[0, 0]
    assert cost[2] - cost[1] > cost[1] - cost[0] > 0


def test_domestic_constraint_alone_also_makes_commitment_costly():
    cost = autonomy_cost(np.array([[0.0, 0.0]]), np.array([[0.0, 0.8]]), np.array([[3.0]]),
                         2.0 * ONE)
    assert cost[0, 0, 0] == 0.0 < cost[0, 1, 0]


# entrapment and abandonment -------------------------------------------------------------------

def test_entrapment_is_feared_most_by_the_least_threatened_in_formal_pacts():
    fear = entrapment_fear(np.array([[[0.9, 0.9], [0.1, 0.1]]]), np.array([[0.8, 0.8]]),
                           np.array([[0.0, 4.0]]))
    assert fear[0, :, 0].max() == 0.0
    assert fear[0, 1, 1] > fear[0, 0, 1]


def test_the_hub_does_not_fear_abandonment_by_itself():
    threat = np.full((1, 2, 1), 0.8)
    fear = abandonment_fear(threat, np.array([[1.0, 0.9]]), np.array([[0.3, 0.3]]), hub=0)
    assert fear[0, 0, 0] == 0.0 < fear[0, 1, 0]


def test_abandonment_rises_as_us_reliability_falls_for_threatened_allies():
    threat = np.full((1, 2, 1), 0.8)
    low = abandonment_fear(threat, np.array([[1.0, 0.9]]), np.array([[0.3, 0.3]]), hub=0)
    high = abandonment_fear(threat, np.array([[1.0, 0.9]]), np.array([[0.9, 0.9]]), hub=0)
    assert low[0, 1, 0] > high[0, 1, 0]


# peer influence and hedging -------------------------------------------------------------------

def test_peer_influence_pulls_toward_a_friend_and_away_from_a_rival():
    commitment = np.array([[[0.2], [0.9], [0.9]]])
    involved = np.ones((1, 3, 1))
    friends = np.array([[[0, 0.8, 0], [0.8, 0, 0], [0, 0, 0]]])
    rivals = np.array([[[0, 0, -0.8], [0, 0, 0], [-0.8, 0, 0]]])
    assert peer_pull(commitment, friends, involved)[0, 0, 0] > 0
    assert peer_pull(commitment, rivals, involved)[0, 0, 0] < 0


def test_legitimacy_deficit_vanishes_when_hedgers_lean_to_the_us():
    hedgers, hedging = np.array([True, True]), np.array([[0.9, 0.9]])
    centrality = np.full((1, 2), 0.8)
    assert legitimacy_deficit(np.array([[1.0, 1.0]]), hedging, hedgers, centrality)[0] == 0.0
    assert legitimacy_deficit(np.array([[-0.5, 0.0]]), hedging, hedgers, centrality)[0] > 0.5


def test_hedging_pulls_hedgers_alignment_to_neutral_more_with_asean_centrality():
    hedging = MECHANISMS["hedging"]
    attributes = {**quarter().attributes, "hedging": np.array([[0.9, 0.9, 0.9]])}
    low = hedging.alignment_damping(quarter(attributes=attributes), params("hedging"))
    felt = {**quarter().felt, "asean_centrality": np.full((1, 3), 1.0)}
    high = hedging.alignment_damping(quarter(attributes=attributes, felt=felt),
                                     params("hedging"))
    assert (high > low).all()


# hub and spokes -------------------------------------------------------------------------------

def test_the_hub_loses_control_only_in_a_pledge_of_more_than_two():
    dilution = control_dilution(np.array([[[1, 1, 1], [1, 1, 1], [0, 1, 1], [0, 0, 1]]]))
    assert dilution[0, 0, 0] == 0.0 < dilution[0, 0, 1] < dilution[0, 0, 2]


def test_the_multilateral_substitute_starts_above_institutionalized():
    rise = multilateral_rise(np.array([[2.5, 3.0, 3.5, 4.0]]), 3.0 * ONE)[0, 0]
    assert list(rise) == [0.0, 0.0, 0.5, 1.0]


def test_hub_and_spokes_costs_the_hub_and_treaty_allies_nothing_below_onset():
    mechanism = MECHANISMS["hub_and_spokes"]
    below = mechanism.utility(quarter(level=np.full((1, 1), 2.5)), params("hub_and_spokes"))
    above = mechanism.utility(quarter(level=np.full((1, 1), 4.0)), params("hub_and_spokes"))
    assert (below == 0).all()
    assert above[0, 0, 0] < 0 and above[0, 1, 0] < 0


def test_a_spoke_without_a_us_treaty_pays_no_substitution_cost():
    attributes = {**quarter().attributes, "us_alliance": np.array([[1.0, 0.0, 0.9]])}
    term = MECHANISMS["hub_and_spokes"].utility(
        quarter(level=np.full((1, 1), 4.0), attributes=attributes), params("hub_and_spokes"))
    assert term[0, 1, 0] == 0.0 > term[0, 2, 0]


# distrust -------------------------------------------------------------------------------------

def test_distrust_costs_more_the_more_binding_the_grouping():
    affinity = np.array([[[0, -0.6, 0], [-0.6, 0, 0], [0, 0, 0]]])
    mechanism = MECHANISMS["distrust"]
    low = mechanism.utility(quarter(affinity=affinity, level=np.full((1, 1), 1.0)),
                            params("distrust"))
    high = mechanism.utility(quarter(affinity=affinity, level=np.full((1, 1), 4.0)),
                             params("distrust"))
    assert high[0, 0, 0] < low[0, 0, 0] < 0
    assert high[0, 2, 0] == 0.0


def test_liked_partners_cost_nothing():
    affinity = np.array([[[0, 0.6], [0.6, 0]]])
    assert (distrust_of_partners(affinity, np.ones((1, 2, 1))) == 0).all()


# China's counter-moves ------------------------------------------------------------------------

def test_china_counters_only_formalization_beyond_the_starting_point():
    mechanism = MECHANISMS["china_response"]
    same = mechanism.adjust_pressures(quarter(), params("china_response"))
    risen = mechanism.adjust_pressures(quarter(level=np.full((1, 1), 4.0)),
                                       params("china_response"))
    assert np.allclose(same["china_assertiveness"], 0.5)
    assert (risen["china_assertiveness"] > 0.5).all() and (risen["china_coercion"] > 0.5).all()


@pytest.mark.parametrize("provocation, raises", [(1.0, "china_assertiveness"),
                                                 (0.0, "china_coercion")])
def test_the_provocation_share_decides_between_provoking_and_deterring(provocation, raises):
    moved = MECHANISMS["china_response"].adjust_pressures(
        quarter(level=np.full((1, 1), 4.0)), params("china_response", provocation=provocation))
    other = ({"china_assertiveness", "china_coercion"} - {raises}).pop()
    assert (moved[raises] > 0.5).all() and np.allclose(moved[other], 0.5)


def test_the_wedge_is_aimed_at_the_member_closest_to_leaving():
    commitment = np.array([[[0.2], [0.6], [0.3]]])
    targets = wedge_targets(commitment, np.ones((1, 3, 1)), hub=0, hub_led=np.ones(1))
    assert targets[0, :, 0].tolist() == [0.0, 0.0, 1.0]


def test_formality_registers_alliances_far_more_than_dialogues():
    formality = bloc_formality(np.array([[1.0], [4.0]]), np.ones(1))
    assert formality[0] == pytest.approx(1 / 16) and formality[1] == 1.0


# Russia's counter-moves and Europe's cap ------------------------------------------------------

def test_russia_courts_only_its_arms_clients_harder_as_their_groupings_rise():
    attributes = {**quarter().attributes,
                  "russia_defense_dependence": np.array([[0.0, 0.4, 0.0]])}
    moved = MECHANISMS["russia_response"].adjust_pressures(
        quarter(attributes=attributes, level=np.full((1, 1), 3.5)), params("russia_response"))
    assert moved["russia_courtship"][0, 1] > 0.5 == moved["russia_courtship"][0, 0]


def test_natos_offer_is_capped_by_europes_bandwidth_and_the_veto():
    felt = {**quarter().felt, "europe_bandwidth": np.full((1, 3), 0.2)}
    offer = MECHANISMS["europe_cap"].nato_offer(quarter(felt=felt, europe=np.array(
        [False, True, False])), params("europe_cap", veto_risk=0.25), np.full((1, 1), 0.8))
    assert offer[0, 0] == pytest.approx(0.2 * 0.75)


# participation --------------------------------------------------------------------------------

def test_a_member_leaves_only_after_its_patience_runs_out():
    core = np.ones((1, 1, 1))
    state = Membership.everyone_in((1, 1, 1))
    for _ in range(3):
        state = participation_step(state, core, np.full((1, 1, 1), -3.0), -2.0 * ONE, ONE * 0,
                                   3 * ONE)
    assert state.exited[0, 0, 0]


def test_a_passing_dip_does_not_make_a_member_leave():
    core = np.ones((1, 1, 1))
    state = Membership.everyone_in((1, 1, 1))
    for utility in (-3.0, -3.0, 0.5, -3.0, -3.0):
        state = participation_step(state, core, np.full((1, 1, 1), utility), -2.0 * ONE,
                                   0 * ONE, 3 * ONE)
    assert not state.exited[0, 0, 0]


def test_coming_back_needs_more_than_not_wanting_to_leave():
    core = np.ones((1, 1, 1))
    state = Membership(np.ones((1, 1, 1), bool), np.zeros((1, 1, 1), np.int16),
                       np.zeros((1, 1, 1), np.int16))
    for _ in range(4):
        state = participation_step(state, core, np.full((1, 1, 1), -1.0), -2.0 * ONE,
                                   0.5 * ONE, 2 * ONE)
    assert state.exited[0, 0, 0]
    for _ in range(2):
        state = participation_step(state, core, np.full((1, 1, 1), 1.0), -2.0 * ONE,
                                   0.5 * ONE, 2 * ONE)
    assert not state.exited[0, 0, 0]


def test_observers_never_leave_for_they_never_joined():
    state = participation_step(Membership.everyone_in((1, 1, 1)), np.zeros((1, 1, 1)),
                               np.full((1, 1, 1), -9.0), -2.0 * ONE, 0 * ONE, 1 * ONE)
    assert not state.exited.any()


# the organizer --------------------------------------------------------------------------------

def test_the_organizers_propensity_is_on_the_hubs_row_only():
    felt = {**quarter().felt, "us_engagement": np.array([[0.9, 0.9, 0.9]])}
    term = MECHANISMS["organizer"].utility(quarter(felt=felt), params("organizer"))
    assert term[0, 0, 0] > 0 and (term[0, 1:] == 0).all()
