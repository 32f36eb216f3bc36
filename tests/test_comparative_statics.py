"""The baseline responds to pressures as the seeds and the theory say (seeds fixed, many runs).

Each effect is judged with a margin far outside chance (a paired t statistic on a level, bounds on
shares of 400 runs), so a test fails only when the effect is absent, not by bad luck.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from blocsim.vocabulary import INDO_PACIFIC_REGIONS

pytestmark = pytest.mark.slow
REPS = 400


def probability(results, grouping: str) -> float:
    outcomes = results.outcomes
    return float(outcomes[outcomes.grouping == grouping].consolidated.mean())


def final_commitment(results, state: str, grouping: str) -> float:
    table = results.commitments
    last = table[(table.step == table.step.max()) & (table.state == state)
                 & (table.grouping == grouping)]
    return float(last.commitment.mean())


def final_levels(results, grouping: str) -> pd.Series:
    """A grouping's institutional level in the last quarter, one value per replication."""
    levels = results.tables["levels"]
    last = levels[(levels.step == levels.step.max()) & (levels.grouping == grouping)]
    return last.set_index("replication")["level"].sort_index()


def test_china_assertiveness_raises_quads_institutional_level(cached_run):
    """At the calibrated weights QUAD almost never consolidates (README), so the pressure's effect
    is read on the level it reaches, paired by replication (common random numbers and the same
    posterior draws): a paired t statistic far outside chance."""
    base = final_levels(cached_run(replications=REPS), "QUAD")
    raised = final_levels(cached_run(replications=REPS,
                                     pressures__china_assertiveness__end=0.95), "QUAD")
    difference = raised - base
    assert difference.mean() / (difference.std() / math.sqrt(len(difference))) > 3


def test_india_tilt_drives_quad_to_near_zero_with_india_blocking(cached_run):
    tilt = cached_run("india_tilt", replications=REPS)
    assert probability(tilt, "QUAD") <= 0.01
    summary = tilt.summary().set_index("grouping").loc["QUAD"]
    assert summary.top_blocker == "IND" and summary.top_blocker_share >= 0.9


def test_india_tilt_barely_moves_aukus(cached_run):
    base, tilt = cached_run(replications=REPS), cached_run("india_tilt", replications=REPS)
    assert abs(probability(base, "AUKUS") - probability(tilt, "AUKUS")) < 0.06


def test_freeing_europes_bandwidth_raises_ip4_nato_ties_and_little_else(cached_run):
    base, freed = cached_run(replications=REPS), cached_run("europe_freed", replications=REPS)
    ties = {name: r.summary().set_index("grouping").mean_final_nato_tie
            for name, r in (("base", base), ("freed", freed))}
    assert ties["freed"]["IP4"] > 1.5 * ties["base"]["IP4"]
    for grouping in base.summary().grouping:
        assert abs(probability(base, grouping) - probability(freed, grouping)) < 0.06, grouping


def test_most_regional_states_do_not_join_a_formal_anti_china_bloc(cached_run):
    results = cached_run(replications=REPS)
    scenario_states = results.manifest["scenario"]["resolved"]["states"]
    groupings = results.manifest["scenario"]["resolved"]["groupings"]
    regional = {code for code, s in scenario_states.items()
                if s["region"] in INDO_PACIFIC_REGIONS and code not in ("CHN", "PRK")}
    outcomes = results.outcomes
    alignment = results.alignment
    aligned = alignment[(alignment.step == alignment.step.max()) & (alignment.alignment > 0.5)]
    shares = []
    for replication, runs in outcomes.groupby("replication"):
        in_bloc = {code for g in runs[runs.consolidated].grouping
                   for code in groupings[g]["members"]}
        leaning = set(aligned[aligned.replication == replication].state.astype(str))
        shares.append(len(regional & (in_bloc | leaning)) / len(regional))
    assert sum(share < 0.5 for share in shares) / len(shares) >= 0.95
