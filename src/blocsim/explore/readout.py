"""What the view shows per grouping: probability, blocker, level, and the change from the file.

Every re-run uses the same seed as the run at the file's own values, so replication r of both
draws the same random stream (common random numbers) and the change in a grouping's probability
is a paired difference, with the interval of every paired difference in blocsim
(`blocsim.api.paired_difference`: Bonett & Price's, widened for runs that share a posterior
draw).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from blocsim.api import paired_difference


@dataclass(frozen=True)
class Run:
    """What the view keeps of one run: its summary and who consolidated in which replication.

    Attributes:
        summary: `Results.summary()` (one row per grouping).
        consolidated: rows replications, columns groupings: whether it consolidated.
        blocked_by: rows replications, columns groupings: the state that held the grouping
            back (None where it consolidated).
        seconds: wall time of the run.
        draw_block: replications that shared one posterior draw (None: no posterior).
        weights: where the runs' calibrated weights came from, in words.

    """

    summary: pd.DataFrame
    consolidated: pd.DataFrame
    blocked_by: pd.DataFrame
    seconds: float
    draw_block: int | None = None
    weights: str = "the file's own weights"

    @classmethod
    def of(cls, results: object, seconds: float) -> Run:
        """Keep what the view needs of a `blocsim.Results`."""
        outcomes = results.outcomes.assign(grouping=results.outcomes["grouping"].astype(str))

        def wide(column: str) -> pd.DataFrame:
            return outcomes.pivot(index="replication", columns="grouping",
                                  values=column).sort_index()

        drawn = results.manifest.get("posterior")
        pinned = (drawn or {}).get("pinned") or []
        weights = (f"weights drawn from {Path(drawn['file']).name}" if drawn
                   else "the file's own weights") + (
            f" ({', '.join(pinned)} kept at the file's own)" if pinned else "")
        return cls(results.summary(), wide("consolidated").astype(bool), wide("blocker"),
                   seconds, results.draw_block, weights)

    def blocker_share(self, grouping: str, blocker: str | None) -> float:
        """The share of the runs in which `grouping` did not consolidate that `blocker` held."""
        stalled = self.blocked_by.loc[~self.consolidated[grouping], grouping]
        return float((stalled == blocker).mean()) if len(stalled) and blocker else 0.0


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
        pairs = reference.consolidated.index.intersection(current.consolidated.index)
        change = paired_difference(reference.consolidated.loc[pairs, row.grouping].to_numpy(),
                                   current.consolidated.loc[pairs, row.grouping].to_numpy(),
                                   current.draw_block, pairs.to_numpy())
        rows.append({"grouping": row.grouping, "probability": row.probability,
                     "ci_low": row.ci_low, "ci_high": row.ci_high,
                     "median_peak_level": row.median_peak_level,
                     "median_peak_stage": row.median_peak_stage,
                     "mean_final_level": row.mean_final_level, "top_blocker": row.top_blocker,
                     "blocker_share": current.blocker_share(row.grouping, row.top_blocker),
                     "reference_probability": old.probability,
                     "change": change.value, "change_low": change.low,
                     "change_high": change.high})
    return pd.DataFrame(rows)
