"""Reductions of a run's tables to the few numbers each figure draws.

Each takes a result table (one row per replication and quarter, or per replication and grouping)
and returns a small frame whose size does not grow with the number of replications, so the page
stays small however long the run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from blocsim.analysis.summary import consolidation_summary

FAN_QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Quantiles of a fan chart: the 90% band, the 50% band and the median."""

UNRECORDED = "no blocker recorded"
"""The blocker label of runs that neither consolidated nor name a blocker."""


def _quantiles(table: pd.DataFrame, keys: list[str], value: str,
               quantiles: tuple[float, ...]) -> pd.DataFrame:
    """Quantiles of `value` per `keys`, one column per quantile (`q05`, `q50`, ...)."""
    frame = (table.groupby(keys, observed=True, sort=True)[value]
             .quantile(list(quantiles)).unstack(-1))
    frame.columns = [f"q{round(q * 100):02d}" for q in frame.columns]
    return frame.reset_index()


def consolidation_probabilities(outcomes: pd.DataFrame, draw_block: int | None = None
                                ) -> pd.DataFrame:
    """`consolidation_summary`, most likely first (then by upper bound; ties keep file order)."""
    return (consolidation_summary(outcomes, draw_block)
            .sort_values(["probability", "ci_high"], ascending=False, kind="stable")
            .reset_index(drop=True))


def level_fans(levels: pd.DataFrame,
               quantiles: tuple[float, ...] = FAN_QUANTILES) -> pd.DataFrame:
    """Quantiles of each grouping's level per quarter: grouping, step, q05 ... q95."""
    return _quantiles(levels, ["grouping", "step"], "level", quantiles)


def cumulative_consolidation(outcomes: pd.DataFrame, steps: int) -> pd.DataFrame:
    """Share of all runs that have consolidated each grouping by each quarter.

    Returns:
        One row per (grouping, step): grouping, step, share (0-1, ending at P(consolidation)),
        runs (consolidated by then).

    """
    rows = []
    for grouping, runs in outcomes.groupby("grouping", sort=False, observed=True):
        at = runs["consolidated_at"].dropna().astype(int).to_numpy()
        counts = np.searchsorted(np.sort(at), np.arange(steps), side="right")
        rows.append(pd.DataFrame({"grouping": str(grouping), "step": np.arange(steps),
                                  "share": counts / len(runs), "runs": counts}))
    return pd.concat(rows, ignore_index=True)


def mean_commitments(commitments: pd.DataFrame) -> pd.DataFrame:
    """Mean commitment per grouping, state and quarter: grouping, state, step, commitment."""
    return (commitments.groupby(["grouping", "state", "step"], observed=True, sort=True)
            ["commitment"].mean().reset_index())


def blocker_shares(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Share of the stalled runs (those that did not consolidate) each state blocked.

    Returns:
        One row per (grouping, blocker): grouping, blocker (a state code or `UNRECORDED`), runs,
        share (of the grouping's stalled runs; shares of a grouping sum to 1).

    """
    stalled = outcomes[~outcomes["consolidated"].astype(bool)]
    frame = pd.DataFrame({"grouping": stalled["grouping"].astype(str).to_numpy(),
                          "blocker": stalled["blocker"].astype(object).fillna(UNRECORDED)
                          .to_numpy()})
    counts = frame.groupby(["grouping", "blocker"], sort=False).size().rename("runs")
    counts = counts.reset_index()
    counts["share"] = counts["runs"] / counts.groupby("grouping")["runs"].transform("sum")
    return counts.sort_values(["grouping", "runs"], ascending=[True, False],
                              kind="stable").reset_index(drop=True)


def blocker_terms(terms: pd.DataFrame) -> pd.DataFrame:
    """Each grouping's most frequent blocker and its mean utility terms (logit units).

    Args:
        terms: the `blocker_terms` table (replication, grouping, state, term, value).

    Returns:
        One row per (grouping, term) for the state that blocked the grouping in most runs:
        grouping, state, runs (replications it blocked), term, value (mean over those runs).

    """
    runs = terms.groupby(["grouping", "state"])["replication"].nunique().rename("runs")
    top = runs.reset_index().sort_values(["grouping", "runs"], ascending=[True, False],
                                         kind="stable").drop_duplicates("grouping")
    mine = terms.merge(top, on=["grouping", "state"])
    return (mine.groupby(["grouping", "state", "runs", "term"], sort=False)["value"].mean()
            .reset_index())


def suspensions(outcomes: pd.DataFrame, levels: pd.DataFrame) -> pd.DataFrame:
    """Per grouping that any member left: how often, who most, when, and how often relaunched.

    Returns:
        One row per grouping with an exit: grouping, exits (runs), share, leaver (most frequent
        state), leaver_runs, median_exit (step), relaunched (runs), suspended (mean share of
        quarters suspended).

    """
    exited = outcomes[outcomes["exited"].notna()]
    rows = []
    for grouping, runs in exited.groupby("grouping", sort=False, observed=True):
        leavers = runs["exited"].astype(str).value_counts()
        mine = levels[levels["grouping"] == str(grouping)]
        rows.append({"grouping": str(grouping), "exits": len(runs),
                     "share": len(runs) / (outcomes["grouping"] == grouping).sum(),
                     "leaver": leavers.index[0], "leaver_runs": int(leavers.iloc[0]),
                     "median_exit": int(runs["exited_at"].astype(int).median()),
                     "relaunched": int(runs["relaunched_at"].notna().sum()),
                     "suspended": float(mine["suspended"].mean()) if len(mine) else 0.0})
    return pd.DataFrame(rows)


def final_alignment(alignment: pd.DataFrame) -> pd.DataFrame:
    """Each state's final alignment: state, mean, low (5%), high (95%); China-aligned first."""
    last = alignment[alignment["step"] == alignment["step"].max()]
    grouped = last.groupby("state", observed=True)["alignment"]
    frame = pd.DataFrame({"mean": grouped.mean(), "low": grouped.quantile(0.05),
                          "high": grouped.quantile(0.95)}).reset_index()
    return frame.sort_values(["mean", "state"], kind="stable").reset_index(drop=True)


def pressure_paths(pressures: pd.DataFrame) -> pd.DataFrame:
    """Median and 90% band of each pressure per quarter: pressure, step, q05, q50, q95."""
    return _quantiles(pressures, ["pressure", "step"], "value", (0.05, 0.5, 0.95))


def camp_shares(camps: pd.DataFrame) -> pd.DataFrame:
    """Each state's share of runs in the US's camp: state, share, runs; China's camp first."""
    grouped = camps.groupby("state", observed=True)["with_us"]
    frame = pd.DataFrame({"share": grouped.mean(), "runs": grouped.size()}).reset_index()
    return frame.sort_values(["share", "state"], kind="stable").reset_index(drop=True)


def lever_effects(levers: pd.DataFrame, top: int = 8) -> pd.DataFrame:
    """Per grouping, the `top` levers that move its probability most (either direction).

    Returns:
        Rows of the lever table, per grouping the levers ranked by their largest absolute
        difference (both directions kept), with a `rank` column (0 = strongest).

    """
    strength = levers.assign(size=levers["difference"].abs())
    best = strength.groupby(["grouping", "lever"], sort=False)["size"].max().rename("best")
    ranked = best.reset_index().sort_values(["grouping", "best", "lever"],
                                            ascending=[True, False, True], kind="stable")
    ranked["rank"] = ranked.groupby("grouping").cumcount()
    kept = ranked[ranked["rank"] < top]
    return levers.merge(kept[["grouping", "lever", "rank"]], on=["grouping", "lever"])
