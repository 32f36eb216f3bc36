"""The model's rules as pure functions: threat, commitment revision, the ladder, mood, alignment."""

from __future__ import annotations

import numpy as np
import pytest

from blocsim.model import dynamics as dyn

ONE = np.ones(1)


def test_threat_equals_baseline_perception_at_neutral_assertiveness():
    base = np.array([0.2, 0.6, 0.9])
    assert np.allclose(dyn.perceived_threat(base, 0.5), base)


def test_threat_rises_with_assertiveness_but_never_past_one():
    low, high = dyn.perceived_threat(np.array([0.6]), 0.3), dyn.perceived_threat(
        np.array([0.6]), 1.0)
    assert low < 0.6 < high <= 1.0


def test_state_that_feels_no_threat_is_unmoved_by_assertiveness():
    assert dyn.perceived_threat(np.array([0.0]), 1.0)[0] == 0.0


def test_a_grouping_answers_only_the_threats_it_declares():
    threats = np.array([[[0.1, 0.9, 0.0]]])            # one state: China 0.1, North Korea 0.9
    answers = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0]])
    felt = dyn.answered_threat(threats, answers)[0, 0]
    assert felt[0] == pytest.approx(0.1)                # a China-facing format: China only
    assert felt[1] == pytest.approx(0.9)                # a DPRK-facing format
    assert felt[2] == pytest.approx(1 - 0.9 * 0.1)      # both, combined


def test_weakest_link_holds_a_grouping_at_coordinated_however_eager_the_others():
    core = np.ones((1, 4, 1))
    eager = np.full((1, 4, 1), 0.95)
    reluctant = np.array([[[0.95], [0.95], [0.95], [0.3]]])
    target, binds = dyn.level_target(reluctant, core, 0.35 * ONE, 0.8 * ONE, 2.0 * ONE)
    assert target[0, 0] == pytest.approx(2.0) and binds[0, 0]
    assert dyn.level_target(eager, core, 0.35 * ONE, 0.8 * ONE, 2.0 * ONE)[0][0, 0] == \
        pytest.approx(4.0)


def test_the_weakest_link_floor_is_where_the_cap_starts():
    reluctant = np.array([[[0.95], [0.95], [0.95], [0.3]]])
    target, _ = dyn.level_target(reluctant, np.ones((1, 4, 1)), 0.35 * ONE, 0.8 * ONE,
                                 1.0 * ONE)
    assert target[0, 0] == pytest.approx(1.0)


def test_level_is_capped_by_mean_support_when_everyone_is_lukewarm():
    target, binds = dyn.level_target(np.full((1, 3, 1), 0.4), np.ones((1, 3, 1)), 0.35 * ONE,
                                     0.8 * ONE, 2.0 * ONE)
    assert target[0, 0] == pytest.approx(2.0) and not binds[0, 0]


def test_level_follows_support_with_a_lag_and_decays_slower_than_it_grows():
    level = np.array([[2.0, 2.0]])
    moved = dyn.next_level(level, np.array([[4.0, 0.0]]), 0.2 * ONE, 0.1 * ONE)
    assert 2.0 < moved[0, 0] < 4.0 and 0.0 < moved[0, 1] < 2.0
    assert moved[0, 0] - 2.0 > 2.0 - moved[0, 1]


def test_each_replication_follows_its_own_speeds():
    level = np.array([[2.0], [2.0]])
    moved = dyn.next_level(level, np.array([[4.0], [4.0]]), np.array([0.1, 0.5]), 0.1 * ONE)
    assert moved[1, 0] > moved[0, 0]


def test_political_mood_has_the_stated_long_run_spread():
    draws = np.random.default_rng(0).standard_normal((4000, 1, 200))
    mood = dyn.political_mood(draws, 0.9 * ONE, 0.7 * ONE)
    assert mood[0].std() < 0.4 < 0.6 < mood[-1].std() < 0.8


def test_revised_commitment_stays_in_the_unit_interval_and_off_for_non_members():
    commitment = np.array([[[0.95, 0.1], [0.05, 0.5]]])
    noise = np.array([[[0.4, -0.4], [-0.4, 0.1]]])
    revised = dyn.revise_commitment(commitment, np.array([[[1.0, 0.0], [0.0, 1.0]]]),
                                    0.5 * ONE, noise, np.array([[[1, 1], [1, 0]]]))
    assert revised.min() >= 0.0 and revised.max() <= 1.0 and revised[0, 1, 1] == 0.0


def test_hedging_damps_alignment_toward_neutral():
    target = dyn.alignment_target(np.array([[1.0, 1.0]]), np.array([[0.2, 0.2]]), 2.0 * ONE,
                                  np.array([[0.0, 0.6]]))
    assert 0 < target[0, 1] < target[0, 0]


def test_a_streak_is_found_where_it_first_reaches_its_length():
    condition = np.array([[[1], [1], [0], [1], [1], [1]]], bool)
    assert dyn.first_streak_end(condition, np.array([3]))[0, 0] == 5
    assert dyn.first_streak_end(condition, np.array([4]))[0, 0] == -1
