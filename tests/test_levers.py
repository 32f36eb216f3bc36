"""Levers and paired differences: common random numbers pair a variant's replication r with the
run's replication r, and the paired interval is honest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import blocsim
from blocsim.analysis.levers import (
    Lever,
    choose_levers,
    lever_table,
    pressure_lever,
    read_levers,
    state_lever,
)
from blocsim.analysis.paired import (
    mean_difference,
    newcombe,
    paired_difference,
    scenario_differences,
    unpaired_difference,
)
from blocsim.analysis.summary import consolidation_summary
from blocsim.experiment.executors import InlineExecutor
from blocsim.experiment.posterior import Posterior
from blocsim.experiment.variants import run_variants
from tests.conftest import BASELINE


@pytest.fixture(scope="module")
def baseline() -> blocsim.Results:
    return blocsim.run(BASELINE, replications=30, seed=7, workers=1)


def test_a_variant_unchanged_reproduces_the_runs_own_outcomes(baseline):
    """Common random numbers: replication r of a variant draws replication r's stream."""
    scenario = baseline.resolved
    posterior = Posterior.read(scenario.posterior_path)
    hits, = run_variants(scenario, [{}], 30, 7, InlineExecutor(), posterior)
    own = baseline.outcomes.pivot(index="replication", columns="grouping", values="consolidated")
    np.testing.assert_array_equal(hits, own[scenario.grouping_names].to_numpy())


def test_a_pressure_lever_moves_its_whole_schedule_one_step():
    scenario = blocsim.load(BASELINE)
    up = pressure_lever(scenario, "china_assertiveness", 0.1)
    moved = scenario.with_values(up.values).pressures["china_assertiveness"]
    original = scenario.pressures["china_assertiveness"]
    assert up.after - up.before == pytest.approx(0.1)
    if original.value is not None:
        assert moved.value == pytest.approx(original.value + 0.1)
    else:
        assert (moved.start, moved.end) == pytest.approx((original.start + 0.1,
                                                          original.end + 0.1))


def test_a_lever_at_the_end_of_its_scale_is_clipped_or_skipped():
    scenario = blocsim.load(BASELINE)
    assert scenario.states["USA"].us_alliance == 1.0
    assert state_lever(scenario, "USA", "us_alliance", 0.1) is None
    down = state_lever(scenario, "USA", "us_alliance", -0.1)
    assert (down.before, down.after) == (1.0, pytest.approx(0.9))


def test_levers_are_every_pressure_and_the_blockers_key_attributes(baseline):
    levers = choose_levers(baseline.resolved, baseline.outcomes)
    names = {lever.lever for lever in levers}
    assert {"pressures.china_assertiveness", "pressures.us_engagement"} <= names
    assert "states.IND.autonomy" in names  # India blocks QUAD
    assert {lever.direction for lever in levers} == {1, -1}


@pytest.mark.slow
def test_lever_table_pairs_each_variant_with_the_run(baseline, tmp_path):
    table = blocsim.levers(baseline, replications=10, workers=1)
    folder = baseline.save(tmp_path / "run")
    assert read_levers(folder).equals(table)
    row = table[(table.lever == "states.IND.autonomy") & (table.direction == -1)
                & (table.grouping == "QUAD")].iloc[0]
    quad = baseline.outcomes[(baseline.outcomes.grouping == "QUAD")
                             & (baseline.outcomes.replication < 10)]
    assert row.reference == pytest.approx(quad.consolidated.mean())
    assert row.ci_low <= row.difference <= row.ci_high
    assert row.replications == 10 and table.attrs["step"] == 0.1


# --- paired differences -----------------------------------------------------------------------

def test_identical_samples_differ_by_zero_with_a_symmetric_interval():
    sample = np.array([True] * 3 + [False] * 47)
    found = paired_difference(sample, sample)
    assert found.value == 0 and found.low == pytest.approx(-found.high) and found.high > 0
    assert not found.clear


def test_the_paired_interval_is_narrower_than_the_unpaired_one_for_correlated_pairs():
    rng = np.random.default_rng(3)
    reference = rng.random(300) < 0.3
    variant = reference | (rng.random(300) < 0.08)
    paired, unpaired = paired_difference(reference, variant), unpaired_difference(reference,
                                                                                  variant)
    assert paired.value == pytest.approx(unpaired.value)
    assert paired.high - paired.low < 0.6 * (unpaired.high - unpaired.low)
    assert paired.clear


def test_with_no_correlation_the_interval_is_newcombes_for_independent_samples():
    """Newcombe (1998), Stat Med 17:873, table II, method 10: 56/70 - 48/80 and 9/10 - 3/10."""
    value, low, high = newcombe((56, 70), (48, 80))
    assert value == pytest.approx(0.6 - 0.8)
    assert (low, high) == pytest.approx((-0.3339, -0.0524), abs=5e-4)
    assert newcombe((9, 10), (3, 10))[1:] == pytest.approx((-0.8090, -0.1705), abs=5e-4)


def pairs(both: int, only_reference: int, only_variant: int, neither: int
          ) -> tuple[np.ndarray, np.ndarray]:
    """Paired binary samples with the given cell counts."""
    reference = [True] * (both + only_reference) + [False] * (only_variant + neither)
    variant = ([True] * both + [False] * only_reference + [True] * only_variant
               + [False] * neither)
    return np.array(reference), np.array(variant)


def test_the_paired_interval_is_bonett_and_prices():
    """Bentur et al. (2009) as in Fagerland, Lydersen & Laake (2014): 1, 1, 7, 12 pairs; the
    Laplace estimates 2/23 and 8/23 centre the Wald interval of the difference."""
    found = paired_difference(*pairs(1, 1, 7, 12))
    assert found.value == pytest.approx(6 / 21)
    assert (found.low, found.high) == pytest.approx((0.0134, 0.5084), abs=5e-4)


def test_pairs_that_all_agree_leave_an_interval_not_a_point():
    half = pairs(50, 0, 0, 50)
    found = paired_difference(*half)
    assert found.value == 0 and found.high == pytest.approx(-found.low) and found.high > 0.02
    drawn = paired_difference(*half, draw_block=10)
    assert drawn.high > 3 * found.high  # the draws could hide an effect no pair shows


def test_one_differing_pair_under_draws_does_not_narrow_the_interval_of_none():
    """Review: with one pair differing the design effect, estimated from one draw, read about 1
    and the interval shrank from ±0.046 to -0.013..+0.023."""
    reference = np.zeros(200, bool)
    variant = reference.copy()
    variant[3] = True
    none = paired_difference(reference, reference, draw_block=10)
    one = paired_difference(reference, variant, draw_block=10)
    assert one.high - one.low >= none.high - none.low


def test_a_variant_that_adds_rare_successes_is_covered_about_95_percent_of_the_time():
    """Newcombe's method 10 covered 86% here: the samples without a discordant pair (13%)
    collapsed its interval to a point at p = 0.5."""
    rng = np.random.default_rng(7)
    covered, trials = 0, 1000
    for _ in range(trials):
        reference = rng.random(200) < 0.5
        variant = reference | (rng.random(200) < 0.01)
        found = paired_difference(reference, variant)
        covered += found.low <= 0.005 <= found.high
    assert covered / trials >= 0.93


def test_a_wider_level_gives_a_wider_interval():
    sample = pairs(20, 3, 12, 65)
    assert (paired_difference(*sample, level=0.999).high
            > paired_difference(*sample).high)


def test_the_paired_interval_covers_the_true_difference_about_95_percent_of_the_time():
    rng = np.random.default_rng(11)
    covered, trials = 0, 1000
    for _ in range(trials):
        shared = rng.random(120)
        reference = shared < 0.2
        variant = (shared < 0.26) ^ (rng.random(120) < 0.03)
        found = paired_difference(reference, variant)
        truth = 0.06 + 0.03 * (1 - 0.26) - 0.03 * 0.26
        covered += found.low <= truth <= found.high
    assert 0.92 <= covered / trials <= 0.99


def draws_deciding_the_effect(rng: np.random.Generator, blocks: int = 20, block: int = 10
                              ) -> tuple[np.ndarray, np.ndarray]:
    """Pairs whose blocks of `block` runs share a parameter draw: half the draws give P 0.05 and
    no effect, half P 0.5 and an effect of +0.2 (the true difference is 0.1)."""
    theta = np.repeat(rng.choice([0.05, 0.5], blocks), block)
    shared = rng.random(blocks * block)
    return shared < theta, shared < theta + np.where(theta > 0.1, 0.2, 0.0)


def test_pairs_drawn_in_blocks_get_an_interval_that_covers_about_95_percent_of_the_time():
    rng = np.random.default_rng(5)
    covered, naive, trials = 0, 0, 600
    for _ in range(trials):
        reference, variant = draws_deciding_the_effect(rng)
        found = paired_difference(reference, variant, draw_block=10)
        covered += found.low <= 0.1 <= found.high
        as_if_independent = paired_difference(reference, variant)
        naive += as_if_independent.low <= 0.1 <= as_if_independent.high
    assert 0.91 <= covered / trials <= 0.99
    assert naive / trials < 0.88  # why the blocks must be counted


def levels_drawn_in_blocks(rng: np.random.Generator, blocks: int = 20, block: int = 10
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Final levels in blocks of `block` runs sharing a parameter draw: the draw moves both
    scenarios' levels and the effect (+0.1 on average), each run adds its own noise."""
    draw = np.repeat(rng.normal(1.0, 0.6, blocks), block)
    effect = np.repeat(rng.normal(0.1, 0.15, blocks), block)
    reference = draw + rng.normal(0, 0.3, blocks * block)
    return reference, reference + effect + rng.normal(0, 0.05, blocks * block)


def test_a_paired_level_difference_drawn_in_blocks_covers_about_95_percent_of_the_time():
    rng = np.random.default_rng(7)
    covered, naive, unpaired_width, paired_width, trials = 0, 0, 0.0, 0.0, 600
    for _ in range(trials):
        reference, variant = levels_drawn_in_blocks(rng)
        found = mean_difference(reference, variant, True, (10, 10))
        covered += found.low <= 0.1 <= found.high
        as_if_independent = mean_difference(reference, variant, True)
        naive += as_if_independent.low <= 0.1 <= as_if_independent.high
        apart = mean_difference(reference, variant, False, (10, 10))
        paired_width += found.high - found.low
        unpaired_width += apart.high - apart.low
    assert 0.92 <= covered / trials <= 0.98
    assert naive / trials < 0.85  # why the blocks must be counted
    assert paired_width < 0.5 * unpaired_width  # why common random numbers pay


def test_scenario_differences_compare_mean_final_levels_run_by_run():
    base = pd.DataFrame({"replication": [0, 1, 2, 3], "grouping": "G",
                         "consolidated": False, "final_level": [1.0, 2.0, 1.5, 0.5]})
    other = base.assign(final_level=base.final_level - [0.2, 0.3, 0.2, 0.3])
    table = scenario_differences({"a": base, "b": other}, "a", paired=True).set_index("scenario")
    assert table.loc["b", "final_level"] == pytest.approx(1.0)
    assert table.loc["b", "level_difference"] == pytest.approx(-0.25)
    assert table.loc["b", "level_low"] < -0.25 < table.loc["b", "level_high"] < 0
    assert np.isnan(table.loc["a", "level_difference"])


def test_scenario_differences_pair_replication_by_replication():
    base = pd.DataFrame({"replication": [0, 1, 2, 3], "grouping": "G",
                         "consolidated": [True, False, False, True]})
    other = base.assign(consolidated=[True, True, False, True])
    table = scenario_differences({"a": base, "b": other}, "a", paired=True)
    row = table[table.scenario == "b"].iloc[0]
    assert row.difference == pytest.approx(0.25) and bool(row.paired)
    assert np.isnan(table[table.scenario == "a"].difference.iloc[0])


def test_levers_refuse_a_posterior_that_changed_since_the_run(tmp_path):
    """The manifest pins the posterior's bytes; pairing against other particles would lie."""
    results = blocsim.run(BASELINE, replications=10, seed=3, workers=1)
    assert results.manifest["posterior"]["sha256"]
    results.manifest["posterior"]["sha256"] = "0" * 64
    with pytest.raises(blocsim.api.ResultsError, match="has changed since the run"):
        blocsim.levers(results, replications=10, workers=1)


def test_a_comparison_places_runs_in_their_draws_even_when_some_runs_failed():
    held = np.repeat([True, False] * 5, 10)
    reference = pd.DataFrame({"replication": np.arange(100), "grouping": "G",
                              "consolidated": held}).iloc[5:]  # replications 0-4 failed
    table = scenario_differences({"a": reference, "b": reference}, "a", paired=True,
                                 draw_blocks={"a": 10, "b": 10})
    row = table[table.scenario == "a"].iloc[0]
    summary = consolidation_summary(reference.assign(
        peak_level=2.0, final_level=2.0, blocker=None, final_nato_tie=0.0), 10).iloc[0]
    assert summary.design_effect == 10.0
    assert (row.ci_low, row.ci_high) == pytest.approx((summary.ci_low, summary.ci_high))


def test_levers_pair_replications_by_number_when_the_run_lost_one():
    reference = pd.DataFrame({"replication": np.repeat(np.arange(20), 1), "grouping": "G",
                              "consolidated": np.arange(20) % 2 == 0}).drop(index=3)
    lever = Lever("pressures.us_engagement", 1, 0.5, 0.6, {"pressures.us_engagement.end": 0.6})
    variant = (np.arange(20) % 2 == 0).reshape(-1, 1)
    table = lever_table([lever], reference, [variant], ["G"], draw_block=10)
    row = table.iloc[0]
    assert row.replications == 19 and row.difference == 0.0
