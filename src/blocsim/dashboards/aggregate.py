"""Reductions of the result tables to the few numbers each dashboard figure draws.

Every function takes a result table (one row per replication and quarter, or per replication and
grouping) and returns a small frame whose size does not grow with the number of replications, so
the page stays small however long the run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from blocsim.analysis.summary import consolidation_summary

FAN_QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Quantiles of a fan chart: the 90% band, the 50% band and the median."""

CONSOLIDATED = "no blocker: consolidated"
"""The blocker label of runs in which the grouping consolidated."""

UNRECORDED = "no blocker recorded"
"""The blocker label of runs that neither consolidated nor name a blocker."""


def _column(quantile: float) -> str:
    return f"q{round(quantile * 100):02d}"


def _quantiles(table: pd.DataFrame, keys: list[str], value: str,
               quantiles: tuple[float, ...]) -> pd.DataFrame:
    """Quantiles of `value` per `keys`, one column per quantile (`q05`, `q50`, ...)."""
    grouped = table.groupby(keys, observed=True, sort=True)[value]
    frame = grouped.quantile(list(quantiles)).unstack(-1)
    frame.columns = [_column(q) for q in frame.columns]
    return frame.reset_index()


def _with_quarters(frame: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Add the `quarter` label of each `step`, as the table has it."""
    labels = (table[["step", "quarter"]].drop_duplicates("step")
              .assign(quarter=lambda t: t["quarter"].astype(str)))
    return frame.merge(labels, on="step", how="left")


def consolidation_probabilities(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Probability of consolidation per grouping with its 95% Wilson interval, most likely first.

    Args:
        outcomes: the outcomes table (one row per replication and grouping).

    Returns:
        `consolidation_summary` (grouping, replications, consolidated, probability, ci_low,
        ci_high, ...), sorted by probability, then by upper bound, highest first; ties keep the
        scenario's order.

    """
    summary = consolidation_summary(outcomes)
    return (summary.sort_values(["probability", "ci_high"], ascending=False, kind="stable")
            .reset_index(drop=True))


def level_fans(levels: pd.DataFrame,
               quantiles: tuple[float, ...] = FAN_QUANTILES) -> pd.DataFrame:
    """Quantiles of each grouping's institutional level per quarter, across replications.

    Args:
        levels: the levels table.
        quantiles: the quantiles to compute.

    Returns:
        One row per (grouping, step): grouping, step, quarter and one column per quantile
        (`q05`, `q25`, `q50`, `q75`, `q95` by default).

    """
    frame = _quantiles(levels, ["grouping", "step"], "level", quantiles)
    frame["grouping"] = frame["grouping"].astype(str)
    return _with_quarters(frame, levels)


def consolidation_timing(outcomes: pd.DataFrame) -> pd.DataFrame:
    """How many runs consolidated each grouping in each quarter (consolidated runs only).

    Args:
        outcomes: the outcomes table.

    Returns:
        One row per (grouping, quarter) with at least one consolidation: grouping, step,
        quarter, runs; sorted by grouping and step.

    """
    done = outcomes[outcomes["consolidated"].astype(bool)]
    counts = (done.groupby(["grouping", "consolidated_at", "consolidated_quarter"], sort=True)
              .size().rename("runs").reset_index()
              .rename(columns={"consolidated_at": "step", "consolidated_quarter": "quarter"}))
    counts["grouping"] = counts["grouping"].astype(str)
    counts["step"] = counts["step"].astype(int)
    return counts[["grouping", "step", "quarter", "runs"]]


def mean_commitments(commitments: pd.DataFrame) -> pd.DataFrame:
    """Mean commitment of each involved state to each grouping per quarter, across replications.

    Args:
        commitments: the commitments table.

    Returns:
        One row per (grouping, state, step): grouping, state, step, quarter, commitment.

    """
    frame = (commitments.groupby(["grouping", "state", "step"], observed=True, sort=True)
             ["commitment"].mean().reset_index())
    frame["grouping"] = frame["grouping"].astype(str)
    frame["state"] = frame["state"].astype(str)
    return _with_quarters(frame, commitments)


def blocker_shares(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Share of runs in which each state blocked each grouping, consolidations included.

    A run in which the grouping consolidated counts as `CONSOLIDATED`, so the shares of a
    grouping sum to 1.

    Args:
        outcomes: the outcomes table.

    Returns:
        One row per (grouping, blocker): grouping, blocker (ISO3 code, `CONSOLIDATED` or
        `UNRECORDED`), runs, share.

    """
    consolidated = outcomes["consolidated"].astype(bool).to_numpy()
    blocker = outcomes["blocker"].astype(object).to_numpy()
    label = np.where(consolidated, CONSOLIDATED,
                     np.where(pd.isna(blocker), UNRECORDED, blocker))
    frame = pd.DataFrame({"grouping": outcomes["grouping"].astype(str).to_numpy(),
                          "blocker": label})
    counts = frame.groupby(["grouping", "blocker"], sort=False).size().rename("runs")
    counts = counts.reset_index()
    totals = counts.groupby("grouping")["runs"].transform("sum")
    counts["share"] = counts["runs"] / totals
    return counts.sort_values(["grouping", "runs"], ascending=[True, False],
                              kind="stable").reset_index(drop=True)


def final_alignment(alignment: pd.DataFrame, low: float = 0.05,
                    high: float = 0.95) -> pd.DataFrame:
    """Each state's alignment in the last quarter: mean and interval across replications.

    Args:
        alignment: the alignment table.
        low: the lower quantile of the interval.
        high: the upper quantile of the interval.

    Returns:
        One row per state: state, mean, low, high; sorted by mean, most China-aligned first.

    """
    last = alignment[alignment["step"] == alignment["step"].max()]
    grouped = last.groupby("state", observed=True)["alignment"]
    frame = pd.DataFrame({"mean": grouped.mean(), "low": grouped.quantile(low),
                          "high": grouped.quantile(high)}).reset_index()
    frame["state"] = frame["state"].astype(str)
    return frame.sort_values(["mean", "state"], kind="stable").reset_index(drop=True)


def pressure_paths(pressures: pd.DataFrame) -> pd.DataFrame:
    """Median and 90% band of each pressure per quarter, across replications.

    Args:
        pressures: the pressures table (pressures as they acted, counter-moves included).

    Returns:
        One row per (pressure, step): pressure, step, quarter, q05, q50, q95.

    """
    frame = _quantiles(pressures, ["pressure", "step"], "value", (0.05, 0.5, 0.95))
    frame["pressure"] = frame["pressure"].astype(str)
    return _with_quarters(frame, pressures)


def timing_summary(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per grouping: how many runs consolidated it and the median quarter at which they did.

    Args:
        outcomes: the outcomes table.

    Returns:
        One row per grouping (the table's order): grouping, replications, consolidated and
        median_step (the lower median of `consolidated_at` over consolidated runs; missing
        when none consolidated).

    """
    rows = []
    for grouping, runs in outcomes.groupby("grouping", sort=False, observed=True):
        done = runs.loc[runs["consolidated"].astype(bool), "consolidated_at"].dropna()
        median = (int(np.quantile(done.astype(int), 0.5, method="lower"))
                  if len(done) else pd.NA)
        rows.append({"grouping": str(grouping), "replications": len(runs),
                     "consolidated": len(done), "median_step": median})
    return pd.DataFrame(rows)


def camp_shares(camps: pd.DataFrame) -> pd.DataFrame:
    """Each state's share of runs ending in the US's camp (landscape theory, final quarter).

    Args:
        camps: the camps table (replication, state, with_us).

    Returns:
        One row per state: state, share (0-1), runs; sorted by share, China's camp first.

    """
    grouped = camps.groupby("state", observed=True)["with_us"]
    frame = pd.DataFrame({"share": grouped.mean(), "runs": grouped.size()}).reset_index()
    frame["state"] = frame["state"].astype(str)
    return frame.sort_values(["share", "state"], kind="stable").reset_index(drop=True)
