"""Differences between two scenarios' probabilities, paired by replication.

With common random numbers, replication r of every scenario draws the same random stream, so the
two outcomes of replication r form a pair and most of the noise cancels in their difference. The
95% interval of a difference of paired proportions is Newcombe's (1998) method 10: it combines
the two Wilson intervals with the pairs' correlation (phi), stays inside [-1, 1] and does not
collapse to a point when every pair agrees. Unpaired samples (different seeds) get the same
formula with phi = 0 (Newcombe's hybrid score interval for independent proportions).

    difference = paired_difference(reference, variant)      # boolean arrays, one per replication
    difference.value, difference.low, difference.high
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from blocsim.analysis.summary import wilson_interval


@dataclass(frozen=True)
class Difference:
    """A variant's probability minus the reference's, with its 95% interval.

    Attributes:
        value: p(variant) - p(reference).
        low: the interval's lower bound.
        high: the interval's upper bound.
        reference: p(reference).
        variant: p(variant).
        runs: replications behind each probability (pairs, when paired).
        paired: whether the interval uses the pairing (common random numbers).

    """

    value: float
    low: float
    high: float
    reference: float
    variant: float
    runs: int
    paired: bool

    @property
    def clear(self) -> bool:
        """Whether the interval excludes zero (the difference is not noise at 95%)."""
        return self.low > 0 or self.high < 0


def _phi(reference: np.ndarray, variant: np.ndarray) -> float:
    """The correlation of two binary samples (0 when either is constant)."""
    a = int(np.sum(reference & variant))
    b = int(np.sum(reference & ~variant))
    c = int(np.sum(~reference & variant))
    d = len(reference) - a - b - c
    denominator = (a + b) * (c + d) * (a + c) * (b + d)
    return (a * d - b * c) / math.sqrt(denominator) if denominator else 0.0


def newcombe(reference: tuple[int, int], variant: tuple[int, int],
             phi: float = 0.0) -> tuple[float, float, float]:
    """Difference of two proportions (successes, trials) and its 95% interval.

    Args:
        reference: successes and trials of the reference.
        variant: successes and trials of the variant.
        phi: the pairs' correlation (0 for independent samples).

    Returns:
        (p_variant - p_reference, low, high).

    """
    p1, p2 = reference[0] / reference[1], variant[0] / variant[1]
    l1, u1 = wilson_interval(*reference)
    l2, u2 = wilson_interval(*variant)
    below = math.sqrt(max((p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2, 0))
    above = math.sqrt(max((u2 - p2) ** 2 - 2 * phi * (u2 - p2) * (p1 - l1) + (p1 - l1) ** 2, 0))
    value = p2 - p1
    return value, max(-1.0, value - below), min(1.0, value + above)


def paired_difference(reference: np.ndarray, variant: np.ndarray) -> Difference:
    """The variant's probability minus the reference's, paired replication by replication.

    Args:
        reference: whether the event happened in each replication of the reference.
        variant: the same for the variant, replication r against replication r.

    Raises:
        ValueError: if the two have different lengths or are empty.

    """
    reference, variant = np.asarray(reference, bool), np.asarray(variant, bool)
    if len(reference) != len(variant) or not len(reference):
        raise ValueError(f"paired samples need equal, non-zero lengths; found "
                         f"{len(reference)} and {len(variant)}")
    n = len(reference)
    value, low, high = newcombe((int(reference.sum()), n), (int(variant.sum()), n),
                                _phi(reference, variant))
    return Difference(value, low, high, reference.mean(), variant.mean(), n, True)


def unpaired_difference(reference: np.ndarray, variant: np.ndarray) -> Difference:
    """The variant's probability minus the reference's, the two samples independent."""
    reference, variant = np.asarray(reference, bool), np.asarray(variant, bool)
    value, low, high = newcombe((int(reference.sum()), len(reference)),
                                (int(variant.sum()), len(variant)))
    return Difference(value, low, high, reference.mean(), variant.mean(),
                      min(len(reference), len(variant)), False)


def consolidation_matrix(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Whether each grouping consolidated in each replication: rows replications, columns keys."""
    table = outcomes.assign(grouping=outcomes["grouping"].astype(str))
    return (table.pivot(index="replication", columns="grouping", values="consolidated")
            .astype(bool).sort_index())


def scenario_differences(outcomes: dict[str, pd.DataFrame], reference: str,
                         paired: bool) -> pd.DataFrame:
    """Each scenario's probability per grouping and its difference from the reference.

    Args:
        outcomes: scenario label to its outcomes table (replication, grouping, consolidated).
        reference: the label of the reference scenario.
        paired: whether replication r of every scenario drew the same random stream (same seed):
            the differences are then paired by replication.

    Returns:
        One row per (scenario, grouping), groupings of the reference first: scenario, grouping,
        replications, probability, ci_low, ci_high, difference, diff_low, diff_high, paired
        (NaN differences for the reference and for groupings it lacks).

    """
    base = consolidation_matrix(outcomes[reference])
    rows = []
    for label, table in outcomes.items():
        mine = consolidation_matrix(table)
        for grouping in mine.columns:
            hits = mine[grouping].to_numpy()
            low, high = wilson_interval(int(hits.sum()), len(hits))
            row = {"scenario": label, "grouping": grouping, "replications": len(hits),
                   "probability": hits.mean(), "ci_low": low, "ci_high": high,
                   "difference": math.nan, "diff_low": math.nan, "diff_high": math.nan,
                   "paired": paired}
            if label != reference and grouping in base.columns:
                if paired:
                    shared = base.index.intersection(mine.index)
                    found = paired_difference(base.loc[shared, grouping].to_numpy(),
                                              mine.loc[shared, grouping].to_numpy())
                else:
                    found = unpaired_difference(base[grouping].to_numpy(), hits)
                row.update(difference=found.value, diff_low=found.low, diff_high=found.high)
            rows.append(row)
    return pd.DataFrame(rows)
