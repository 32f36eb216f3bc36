"""What the view shows per grouping: probability, blocker, level, and the change from the file.

Every re-run uses the same seed as the run at the file's own values, so replication r of both
draws the same random stream (common random numbers) and the change in a grouping's probability
is a paired difference. Its 95% interval is Newcombe's (1998) method 10: the two Wilson intervals
(the summary's `ci_low`, `ci_high`) combined with the pairs' correlation phi.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Run:
    """What the view keeps of one run: its summary and who consolidated in which replication.

    Attributes:
        summary: `Results.summary()` (one row per grouping).
        consolidated: rows replications, columns groupings: whether it consolidated.
        blocked_by: rows replications, columns groupings: the state that held the grouping
            back (None where it consolidated).
        seconds: wall time of the run.

    """

    summary: pd.DataFrame
    consolidated: pd.DataFrame
    blocked_by: pd.DataFrame
    seconds: float

    @classmethod
    def of(cls, results: object, seconds: float) -> Run:
        """Keep what the view needs of a `blocsim.Results`."""
        outcomes = results.outcomes.assign(grouping=results.outcomes["grouping"].astype(str))

        def wide(column: str) -> pd.DataFrame:
            return outcomes.pivot(index="replication", columns="grouping",
                                  values=column).sort_index()

        return cls(results.summary(), wide("consolidated").astype(bool), wide("blocker"),
                   seconds)

    def blocker_share(self, grouping: str, blocker: str | None) -> float:
        """The share of the runs in which `grouping` did not consolidate that `blocker` held."""
        stalled = self.blocked_by.loc[~self.consolidated[grouping], grouping]
        return float((stalled == blocker).mean()) if len(stalled) and blocker else 0.0


def correlation(first: np.ndarray, second: np.ndarray) -> float:
    """Phi, the correlation of two paired binary samples (0 when either is constant)."""
    a = int(np.sum(first & second))
    b = int(np.sum(first & ~second))
    c = int(np.sum(~first & second))
    d = len(first) - a - b - c
    denominator = (a + b) * (c + d) * (a + c) * (b + d)
    return (a * d - b * c) / math.sqrt(denominator) if denominator else 0.0


def paired_change(reference: tuple[float, float, float], current: tuple[float, float, float],
                  phi: float) -> tuple[float, float, float]:
    """Current minus reference probability, with Newcombe's method-10 95% interval.

    Args:
        reference: (probability, Wilson low, Wilson high) at the file's own values.
        current: the same at the current settings.
        phi: the correlation of the paired outcomes.

    Returns:
        (change, low, high), the interval inside [-1, 1].

    """
    p1, l1, u1 = reference
    p2, l2, u2 = current
    below = math.sqrt(max((p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2, 0))
    above = math.sqrt(max((u2 - p2) ** 2 - 2 * phi * (u2 - p2) * (p1 - l1) + (p1 - l1) ** 2, 0))
    change = p2 - p1
    return change, max(-1.0, change - below), min(1.0, change + above)


def readout(reference: Run, current: Run) -> pd.DataFrame:
    """Per grouping: what the current settings give, and the paired change from the file's.

    Returns:
        One row per grouping in the file's order: grouping, probability, ci_low, ci_high,
        median_peak_level, median_peak_stage, mean_final_level, top_blocker, blocker_share (of
        the runs in which the grouping did not consolidate), reference_probability, change,
        change_low, change_high.

    """
    rows = []
    before = reference.summary.set_index("grouping")
    for row in current.summary.itertuples(index=False):
        old = before.loc[row.grouping]
        phi = correlation(reference.consolidated[row.grouping].to_numpy(),
                          current.consolidated[row.grouping].to_numpy())
        change, low, high = paired_change((old.probability, old.ci_low, old.ci_high),
                                          (row.probability, row.ci_low, row.ci_high), phi)
        rows.append({"grouping": row.grouping, "probability": row.probability,
                     "ci_low": row.ci_low, "ci_high": row.ci_high,
                     "median_peak_level": row.median_peak_level,
                     "median_peak_stage": row.median_peak_stage,
                     "mean_final_level": row.mean_final_level, "top_blocker": row.top_blocker,
                     "blocker_share": current.blocker_share(row.grouping, row.top_blocker),
                     "reference_probability": old.probability,
                     "change": change, "change_low": low, "change_high": high})
    return pd.DataFrame(rows)
