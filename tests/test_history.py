"""The historical backtest: scenarios/history_2007.toml (2007Q1-2024Q4) against the record.

The scenario starts from the baseline with the 2007 values of data/ where a public figure was
found, forms each grouping in the quarter of its first dated event in data/timeline.csv and adds
the timeline's dated events as shocks. Each fact of the record is a predicate on one replication; a
fact counts as reproduced when it holds in at least the stated share of the 200 replications.
A fact the model does not reproduce is a strict xfail that states the finding, so that it cannot
start passing unnoticed. The shares are in the README section "Validity: the record since 2007".
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
# 0.95-1.00 (README), thresholds set with room for noise but far above a majority.
# The 2007 inputs of data/ (issue 11) changed which facts hold: China's 2007 spending is 0.106 of
# the US's (SIPRI, data/milex_2007.csv) against 0.315 in 2025, and capability cannot vary within a
# run, so balance of threat is far stronger than with the 2025 ratio the scenario used to borrow.
FACTS = [
    pytest.param("aukus_below", 0.9, id="aukus_below_formal_alliance_by_2024"),
    pytest.param("ip4_rising", 0.9, id="ip4_nato_ties_rising_without_membership"),
    pytest.param("quad_no_alliance", 0.9, id="quad_institutionalizing_no_alliance_by_2024",
                 marks=not_reproduced(
        "Not reproduced (share 0.61): QUAD consolidates into a formal alliance in 37% of runs "
        "(from 2013 on, median 2020). With the 2007 capabilities of data/milex_2007.csv - China "
        "0.106 of US spending, fixed for the whole run because capability cannot vary within it - "
        "partners' capability outweighs China's and balance of threat carries all four members; "
        "with the baseline's 2025 ratio for China (0.315) the share is 1.00 (diagnostic).")),
    pytest.param("quad_dormant", 0.5, id="quad_dormant_2008_2016", marks=not_reproduced(
        "Not reproduced (share 0.00): QUAD never goes dormant - its level climbs to about 2.9 "
        "by 2012. Below level 2 a level follows the members' MEAN commitment (the weakest-link "
        "rule caps only above 2), so one member's exit (Australia 2008) cannot make it dormant; "
        "and with the baseline's 2025 threat perceptions kept for 2007 (no 2007 figure in "
        "data/) and China's 2007 capability, balance of threat keeps three of four members "
        "committed.")),
    pytest.param("quad_revived", 0.5, id="quad_revived_from_2017", marks=not_reproduced(
        "Not reproduced by a majority (share 0.38): with no dormancy there is little to revive; "
        "the 2017-2021 rise (Doklam, Galwan, the Wang Yi warnings) adds about 0.4 levels in the "
        "median run, not the 0.5 the fact asks.")),
    pytest.param("all_five", 0.5, id="all_five_facts_jointly", marks=not_reproduced(
        "Not reproduced (share 0.00): QUAD's dormancy fails in every replication.")),
    pytest.param("no_formal_alliance", 0.5, id="no_formal_alliance_by_2024", marks=not_reproduced(
        "Not reproduced (share 0.03): the US-Japan-ROK trilateral consolidates into a formal "
        "alliance by 2024 in 96% of runs (from 2011 on, nine in ten before 2017), against "
        "the record's Commitment to Consult without legal obligation (2023). The excess the "
        "baseline shows for all-ally groupings (no hub-and-spokes term, README limits), "
        "strengthened by China's low 2007 capability.")),
]


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
