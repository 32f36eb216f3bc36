"""The historical backtest: scenarios/history_2007.toml (2007Q1-2024Q4) against the record.

The scenario starts from the baseline with the 2007 values of data/ where a public figure was
found, forms each grouping in the quarter of its first dated event in data/timeline.csv and adds
the timeline's dated events as shocks. Each fact of the record is a predicate on one replication; a
fact counts as reproduced when it holds in at least the stated share of the 200 replications.
A fact the model does not reproduce is a strict xfail that states the finding, so that it cannot
start passing unnoticed. The shares are in the README ("The record since 2007: the history case").
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest

import blocsim
from blocsim.calendar import step_of

ROOT = Path(__file__).resolve().parent.parent
HISTORY = ROOT / "scenarios" / "history_2007.toml"
TIMELINE = ROOT / "data" / "timeline.csv"
REPLICATIONS = 200

# grouping -> (timeline `grouping` column, words of the `event` that dates its formation)
FORMATION_EVENTS = {
    "QUAD": ("QUAD", "First quadrilateral meeting of officials"),
    "AUKUS": ("AUKUS", "AUKUS announced"),
    "IP4": ("IP4/NATO", "participate in a NATO summit for the first time"),
    "PBP": ("PBP", "Partners in the Blue Pacific launched"),
    "SQUAD": ("Squad", "First meeting of Australia, Japan, Philippines, US defence ministers"),
}


@pytest.fixture(scope="module")
def history() -> blocsim.Scenario:
    return blocsim.load(HISTORY)


@pytest.fixture(scope="module")
def facts(history) -> pd.DataFrame:
    """One row per replication, one boolean column per fact of the record."""
    results = blocsim.run(history, replications=REPLICATIONS, seed=history.scenario.seed,
                          workers=2)
    return fact_table(results)


def fact_table(results) -> pd.DataFrame:
    """Evaluate every fact on every replication of a history run.

    - quad_dormant: QUAD dormant 2008-2016 - its mean level over 2009Q1-2016Q4 is below 1.0
      (consultative dialogue at most; the record has no Quad meeting between Australia's
      withdrawal, 2008-02-05, and the revival, 2017-11-12).
    - quad_revived: QUAD revived from 2017 - its 2021Q4 level is at least 0.5 above its 2016Q4
      level and at least 1.5 (officials 2017-11-12, ministers 2019-09-26, leaders 2021).
    - quad_no_alliance: institutionalizing but no formal alliance by 2024 - not consolidated by
      2024Q4 and its 2024Q4 level between 1.5 and 3.5 (000: a "bifurcation point").
    - aukus_below: AUKUS a defence-technology pact below a formal alliance - not consolidated by
      2024Q4 and its 2024Q4 level below 3.5 (000 para 6: "not even a remote analogy" of NATO).
    - ip4_rising: IP4-NATO ties rising without membership - NATO tie higher in 2024Q4 than in
      2022Q3, the IP4 not consolidated and not part of a linked ("Asian NATO") bloc.
    - all_five: the five facts above in the same replication.
    - no_formal_alliance: none of the six groupings consolidated by 2024Q4 (the record: the only
      trilateral pledge, Camp David 2023-08-18, "explicitly creates no legal obligations",
      facts sec. 3). Not one of the issue's five; it tests the US-Japan-ROK trilateral.
    """
    levels = results.levels
    level = levels.pivot_table(index="replication", columns=["grouping", "quarter"],
                               values="level")
    tie = levels.pivot_table(index="replication", columns=["grouping", "quarter"],
                             values="nato_tie")
    outcomes = results.outcomes.set_index(["replication", "grouping"])
    consolidated = outcomes["consolidated"].unstack().astype(bool)
    linked = outcomes["in_linked_bloc"].unstack().astype(bool)
    quad = level["QUAD"]
    dormant_years = [q for q in quad.columns if "2009Q1" <= q <= "2016Q4"]
    table = pd.DataFrame(index=level.index)
    table["quad_dormant"] = quad[dormant_years].mean(axis=1) < 1.0
    table["quad_revived"] = (quad["2021Q4"] >= quad["2016Q4"] + 0.5) & (quad["2021Q4"] >= 1.5)
    table["quad_no_alliance"] = ~consolidated["QUAD"] & quad["2024Q4"].between(1.5, 3.5)
    table["aukus_below"] = ~consolidated["AUKUS"] & (level["AUKUS"]["2024Q4"] < 3.5)
    ip4_tie = tie["IP4"]
    table["ip4_rising"] = ((ip4_tie["2024Q4"] > ip4_tie["2022Q3"]) & ~consolidated["IP4"]
                           & ~linked["IP4"])
    table["all_five"] = table[["quad_dormant", "quad_revived", "quad_no_alliance",
                               "aukus_below", "ip4_rising"]].all(axis=1)
    table["no_formal_alliance"] = ~consolidated.any(axis=1)
    return table


def not_reproduced(reason: str):
    return pytest.mark.xfail(strict=True, reason=reason)


# fact -> least share of replications in which it must hold. Reproduced facts: observed shares
# 0.995-1.00 at 200 replications, thresholds set with room for noise but far above a majority.
# The history extends the baseline, so its runs draw the calibrated weights from the record
# posterior (scenarios/calibration/record_posterior.parquet). QUAD's dormancy and "nothing
# consolidated by 2016" were fit facts of that calibration (in sample); the 2017-2024 facts were
# its pre-registered test facts (out of sample), and the calibrated model loses on the revival
# (README, "What the calibration found").
FACTS = [
    pytest.param("aukus_below", 0.9, id="aukus_below_formal_alliance_by_2024"),
    pytest.param("ip4_rising", 0.9, id="ip4_nato_ties_rising_without_membership"),
    pytest.param("quad_dormant", 0.9, id="quad_dormant_2008_2016"),
    pytest.param("no_formal_alliance", 0.9, id="no_formal_alliance_by_2024"),
    pytest.param("quad_no_alliance", 0.5, id="quad_institutionalizing_no_alliance_by_2024",
                 marks=not_reproduced(
        "Not reproduced (share 0.00): no QUAD alliance, but no institutionalizing either - its "
        "level stays near 0.7 (consultative dialogue) from 2014 to 2024, below the 1.5 the fact "
        "asks. The posterior that makes QUAD go dormant (low baseline propensity, high exit "
        "threshold) keeps it there; with the hand-set weights (--point) the share is 0.80 and "
        "the dormancy fails instead.")),
    pytest.param("quad_revived", 0.5, id="quad_revived_from_2017", marks=not_reproduced(
        "Not reproduced (share 0.00): the revival of 2017-2021 does not happen. The record's "
        "dormancy and revival pull one axis of the model in opposite directions (prior draws "
        "with both: 0 of 400, benchmarks/record_diagnostics.py); the threat perceptions are "
        "the 2025 values throughout (no dated series in data/), so nothing in the inputs "
        "rises enough from 2017 to lift a dormant QUAD.")),
    pytest.param("all_five", 0.5, id="all_five_facts_jointly", marks=not_reproduced(
        "Not reproduced (share 0.00): the revival fails in every replication.")),
]


@pytest.mark.slow
@pytest.mark.parametrize(("fact", "least_share"), FACTS)
def test_fact_of_the_record_holds_in_most_replications(facts, fact, least_share):
    share = float(facts[fact].mean())
    assert share >= least_share, f"{fact}: holds in {share:.3f} of replications"


def test_history_file_validates_and_runs_2007_to_2024(history):
    meta = history.scenario
    assert (meta.start, meta.steps, meta.replications) == ("2007Q1", 72, REPLICATIONS)
    assert step_of(meta.start, "2024Q4") == meta.steps - 1
    assert all(g.formed is not None for name, g in history.groupings.items()
               if name != "US_JPN_ROK")


def quarter_of(date: str) -> str:
    year, month = date.split("-")[:2]
    return f"{year}Q{(int(month) - 1) // 3 + 1}"


def timeline_rows() -> list[dict[str, str]]:
    with TIMELINE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_formation_quarter_is_the_quarter_of_its_dated_event(history):
    rows = timeline_rows()
    for grouping, (label, words) in FORMATION_EVENTS.items():
        matches = [r for r in rows if r["grouping"] == label and words in r["event"]]
        assert len(matches) == 1, f"{grouping}: {len(matches)} timeline rows match {words!r}"
        assert history.groupings[grouping].formed == quarter_of(matches[0]["date"]), grouping


def test_every_shock_falls_in_the_quarter_of_the_timeline_event_it_cites(history):
    dates = {r["date"] for r in timeline_rows()}
    assert history.shocks, "the history has no shocks"
    for shock in history.shocks:
        cited = re.search(r"TL (\d{4}-\d{2}(?:-\d{2})?)", shock.source)
        assert cited, f"{shock.name}: its source cites no timeline date (TL YYYY-MM-DD)"
        assert cited.group(1) in dates, f"{shock.name}: {cited.group(1)} is not in timeline.csv"
        assert shock.at == quarter_of(cited.group(1)), shock.name
