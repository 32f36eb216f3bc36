"""Differences between two scenarios' probabilities and mean levels, paired by replication.

With common random numbers, replication r of every scenario draws the same random stream, so the
two outcomes of replication r form a pair and most of the noise cancels in their difference. The
95% interval of a difference of paired proportions is the Wald interval with Bonett & Price's
(2012) pseudo-frequencies, one of the two Fagerland, Lydersen & Laake (2014) recommend: it rests
on the discordant pairs (one side consolidates, the other not), each count raised by one, so it
does not collapse to a point when every pair agrees, which common random numbers make frequent
(Newcombe's method 10, used before, gave [0, 0] there at p = 0.5, and covered 86% of the time
when a variant added successes in 1% of runs). Unpaired samples (different seeds) get Newcombe's
(1998) hybrid score interval for independent proportions.

    difference = paired_difference(reference, variant)      # boolean arrays, one per replication
    difference.value, difference.low, difference.high

Where every probability is near 0, a scenario's effect shows in how far a grouping climbs
instead: `mean_difference` compares the mean final level (Student's interval on the paired
differences, Welch's for unpaired samples; runs that share a posterior draw count as fewer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm
from scipy.stats import t as student_t

from blocsim.analysis.summary import (
    Z95,
    blocked_interval,
    design_effect,
    draws_quantile,
    share_weighting,
    wilson_interval,
)


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


def bonett_price(only_reference: int, only_variant: int, pairs: int, z: float = Z95
                 ) -> tuple[float, float]:
    """Centre and half-width of the interval of p(variant) - p(reference) from paired runs.

    Bonett & Price (2012): the Wald interval on the discordant shares, each count raised by one
    and the pairs by two (Laplace's estimates), centred on their difference.

    Args:
        only_reference: pairs in which only the reference has the event.
        only_variant: pairs in which only the variant has it.
        pairs: all pairs.
        z: the normal quantile of the interval (1.96 for 95%).

    """
    p_reference = (only_reference + 1) / (pairs + 2)
    p_variant = (only_variant + 1) / (pairs + 2)
    centre = p_variant - p_reference
    half = z * math.sqrt((p_reference + p_variant - centre ** 2) / (pairs + 2))
    return centre, half


def newcombe(reference: tuple[float, float], variant: tuple[float, float],
             phi: float = 0.0, z: float = Z95) -> tuple[float, float, float]:
    """Difference of two proportions (successes, trials) and its interval (95% by default).

    Args:
        reference: successes and trials of the reference (effective counts may be fractional).
        variant: successes and trials of the variant.
        phi: the pairs' correlation (0 for independent samples).
        z: the quantile of the two Wilson intervals it combines.

    Returns:
        (p_variant - p_reference, low, high).

    """
    p1, p2 = reference[0] / reference[1], variant[0] / variant[1]
    l1, u1 = wilson_interval(*reference, z)
    l2, u2 = wilson_interval(*variant, z)
    below = math.sqrt(max((p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2, 0))
    above = math.sqrt(max((u2 - p2) ** 2 - 2 * phi * (u2 - p2) * (p1 - l1) + (p1 - l1) ** 2, 0))
    value = p2 - p1
    return value, max(-1.0, value - below), min(1.0, value + above)


def paired_difference(reference: np.ndarray, variant: np.ndarray,
                      draw_block: int | None = None,
                      replications: np.ndarray | None = None,
                      level: float = 0.95) -> Difference:
    """The variant's probability minus the reference's, paired replication by replication.

    Args:
        reference: whether the event happened in each replication of the reference.
        variant: the same for the variant, replication r against replication r.
        draw_block: the replications drew their parameters in blocks of this many (both sides
            the same draws); the interval, made for independent pairs, is widened by the square
            root of the differences' design effect and Student's quantile for the draws. Where
            the differing pairs sit in fewer than two draws (none, or all in one), the data
            cannot tell how much the draws matter (a between-draw variance needs two draws that
            differ), and the design effect is taken at its largest, the block (each draw
            deciding all its runs): each draw counts as one pair (Bonett and Price's interval on
            the pairs divided by the block, with the normal quantile, no variance having been
            estimated from the draws), and one differing pair does not narrow the interval of
            none. Otherwise Student's quantile takes as many degrees of freedom as draws hold a
            differing pair (`draws_quantile`).
        replications: the pairs' replication numbers (0..n-1 by default), which place each pair
            in its draw's block.
        level: the interval's confidence level (0.95; higher for a family of comparisons).

    Raises:
        ValueError: if the two have different lengths or are empty.

    """
    reference, variant = np.asarray(reference, bool), np.asarray(variant, bool)
    if len(reference) != len(variant) or not len(reference):
        raise ValueError(f"paired samples need equal, non-zero lengths; found "
                         f"{len(reference)} and {len(variant)}")
    n = len(reference)
    only_reference = int(np.sum(reference & ~variant))
    only_variant = int(np.sum(~reference & variant))
    z = float(norm.ppf(0.5 + level / 2))
    centre, half = bonett_price(only_reference, only_variant, n, z)
    if draw_block:
        blocks = (np.arange(n) if replications is None else np.asarray(replications)) // draw_block
        differing = len(np.unique(blocks[reference != variant]))
        if differing >= 2:
            effect = design_effect(variant.astype(int) - reference.astype(int), blocks,
                                   draw_block)
            half *= math.sqrt(effect) * draws_quantile(len(np.unique(blocks)), differing,
                                                       level) / z
        else:
            each = min(draw_block, n)  # each draw one pair
            centre, half = bonett_price(only_reference / each, only_variant / each, n / each, z)
    return Difference((only_variant - only_reference) / n, max(-1.0, centre - half),
                      min(1.0, centre + half), reference.mean(), variant.mean(), n, True)


def unpaired_difference(reference: np.ndarray, variant: np.ndarray,
                        draw_blocks: tuple[int | None, int | None] = (None, None),
                        replications: tuple[np.ndarray | None, np.ndarray | None] = (None, None)
                        ) -> Difference:
    """The variant's probability minus the reference's, the two samples independent.

    `draw_blocks`: each side's block of replications sharing a parameter draw (None: a draw per
    run or none), `replications` each side's replication numbers (0..n-1 by default); each side
    then counts its effective number of runs.
    """
    reference, variant = np.asarray(reference, bool), np.asarray(variant, bool)
    sides = [effective_counts(sample, block, numbers) for sample, block, numbers
             in zip((reference, variant), draw_blocks, replications, strict=True)]
    value, low, high = newcombe(sides[0][:2], sides[1][:2], z=max(q for *_, q in sides))
    return Difference(value, low, high, reference.mean(), variant.mean(),
                      min(len(reference), len(variant)), False)


def mean_difference(reference: np.ndarray, variant: np.ndarray, paired: bool,
                    draw_blocks: tuple[int | None, int | None] = (None, None),
                    replications: tuple[np.ndarray | None, np.ndarray | None] = (None, None)
                    ) -> Difference:
    """The variant's mean minus the reference's (e.g. of the final level), with its 95% interval.

    Paired (replication r against replication r, equal lengths): Student's interval on the
    differences. Unpaired: Welch's. Where runs drew their parameters in blocks (`draw_blocks`,
    the reference's then the variant's; the reference's block places a pair), each variance is
    multiplied by its design effect and the quantile is Student's for the draws
    (`analysis.summary`), as for probabilities. NaN bounds with fewer than two runs a side.
    """
    reference, variant = np.asarray(reference, float), np.asarray(variant, float)
    numbers = [np.arange(len(v)) if r is None else np.asarray(r)
               for v, r in zip((reference, variant), replications, strict=True)]
    if paired:
        if len(reference) != len(variant):
            raise ValueError(f"paired samples need equal lengths; found {len(reference)} and "
                             f"{len(variant)}")
        block = draw_blocks[0] or draw_blocks[1]
        value, low, high = _mean_interval([(variant - reference, numbers[0], block)])
    else:
        value, low, high = _mean_interval([(variant, numbers[1], draw_blocks[1]),
                                           (reference, numbers[0], draw_blocks[0])])
    return Difference(value, low, high,
                      float(reference.mean()) if len(reference) else math.nan,
                      float(variant.mean()) if len(variant) else math.nan,
                      min(len(reference), len(variant)), paired)


def _mean_interval(samples: list[tuple[np.ndarray, np.ndarray, int | None]]
                   ) -> tuple[float, float, float]:
    """The first sample's mean minus the second's (if any) and the difference's 95% interval.

    Each sample: its values, its runs' replication numbers and its draw block (None: none).
    """
    means = [float(values.mean()) if len(values) else math.nan for values, _, _ in samples]
    value = means[0] - (means[1] if len(means) > 1 else 0.0)
    if any(len(values) < 2 for values, _, _ in samples):
        return value, math.nan, math.nan
    parts, freedoms = [], []
    for values, numbers, block in samples:
        blocks = numbers // block if block else numbers
        effect = design_effect(values, blocks, block) if block else 1.0
        part = float(np.var(values, ddof=1)) / len(values) * effect
        draws = len(np.unique(blocks)) if block and effect > 1.0 else len(values)
        parts.append(part)
        freedoms.append(draws - 1)
    variance = sum(parts)
    if variance == 0:
        return value, value, value
    freedom = variance ** 2 / sum(p ** 2 / f for p, f in zip(parts, freedoms, strict=True) if p)
    half = float(student_t.ppf(0.975, freedom)) * math.sqrt(variance)
    return value, value - half, value + half


def effective_counts(held: np.ndarray, draw_block: int | None,
                     replications: np.ndarray | None = None) -> tuple[float, float, float]:
    """(successes, trials) of the runs divided by their design effect, and the quantile.

    As a probability's own interval counts them (`analysis.summary.share_weighting`); the normal
    quantile and the runs as they are without draws. `replications` are the runs' numbers
    (0..n-1 by default), which place each in its draw.
    """
    held = np.asarray(held, bool)
    if not draw_block:
        return float(held.sum()), float(len(held)), Z95
    numbers = np.arange(len(held)) if replications is None else np.asarray(replications)
    effect, quantile = share_weighting(held, numbers // draw_block, draw_block)
    return float(held.sum()) / effect, len(held) / effect, quantile


def interval(held: np.ndarray, draw_block: int | None,
             replications: np.ndarray) -> tuple[float, float]:
    """A probability's 95% Monte Carlo interval.

    Wilson's, on the effective number of runs when they drew in blocks
    (`analysis.summary.blocked_interval`).
    """
    if not draw_block:
        return wilson_interval(int(held.sum()), len(held))
    low, high, _, _ = blocked_interval(held, np.asarray(replications) // draw_block, draw_block)
    return low, high


def outcome_matrix(outcomes: pd.DataFrame, value: str) -> pd.DataFrame:
    """One outcome column per replication and grouping: rows replications, columns keys."""
    table = outcomes.assign(grouping=outcomes["grouping"].astype(str))
    return table.pivot(index="replication", columns="grouping", values=value).sort_index()


def consolidation_matrix(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Whether each grouping consolidated in each replication: rows replications, columns keys."""
    return outcome_matrix(outcomes, "consolidated").astype(bool)


def scenario_differences(outcomes: dict[str, pd.DataFrame], reference: str,
                         paired: bool, draw_blocks: dict[str, int | None] | None = None
                         ) -> pd.DataFrame:
    """Each scenario's probability per grouping and its difference from the reference.

    Args:
        outcomes: scenario label to its outcomes table (replication, grouping, consolidated).
        reference: the label of the reference scenario.
        paired: whether replication r of every scenario drew the same random stream (same seed):
            the differences are then paired by replication.
        draw_blocks: per scenario, its block of replications sharing a posterior draw (absent or
            None: none); intervals then count the effective number of runs (`design_effect`).

    Returns:
        One row per (scenario, grouping), groupings of the reference first: scenario, grouping,
        replications, probability, ci_low, ci_high, difference, diff_low, diff_high; then the
        mean final level (0-4) and its difference from the reference with a 95% interval
        (final_level, level_difference, level_low, level_high, `mean_difference`); paired
        (NaN differences for the reference and for groupings it lacks).

    """
    blocks = draw_blocks or {}
    base = consolidation_matrix(outcomes[reference])
    base_levels = _final_levels(outcomes[reference])
    rows = []
    for label, table in outcomes.items():
        mine = consolidation_matrix(table)
        levels = _final_levels(table)
        block = blocks.get(label)
        for grouping in mine.columns:
            hits = mine[grouping].to_numpy()
            low, high = interval(hits, block, mine.index.to_numpy())
            row = {"scenario": label, "grouping": grouping, "replications": len(hits),
                   "probability": hits.mean(), "ci_low": low, "ci_high": high,
                   "difference": math.nan, "diff_low": math.nan, "diff_high": math.nan,
                   "final_level": math.nan if levels is None else levels[grouping].mean(),
                   "level_difference": math.nan,
                   "level_low": math.nan, "level_high": math.nan, "paired": paired}
            if label != reference and grouping in base.columns:
                if paired:
                    shared = base.index.intersection(mine.index)
                    found = paired_difference(base.loc[shared, grouping].to_numpy(),
                                              mine.loc[shared, grouping].to_numpy(),
                                              blocks.get(reference) or block,
                                              shared.to_numpy())
                else:
                    found = unpaired_difference(base[grouping].to_numpy(), hits,
                                                (blocks.get(reference), block),
                                                (base.index.to_numpy(), mine.index.to_numpy()))
                row.update(difference=found.value, diff_low=found.low, diff_high=found.high)
                if levels is not None and base_levels is not None:
                    row.update(_level_difference(base_levels, levels, grouping, paired,
                                                 (blocks.get(reference), block)))
            rows.append(row)
    return pd.DataFrame(rows)


def _final_levels(outcomes: pd.DataFrame) -> pd.DataFrame | None:
    """Each grouping's final level per replication (None for a table that lacks it)."""
    if "final_level" not in outcomes.columns:
        return None
    return outcome_matrix(outcomes, "final_level").astype(float)


def _level_difference(base: pd.DataFrame, mine: pd.DataFrame, grouping: str, paired: bool,
                      draw_blocks: tuple[int | None, int | None]) -> dict[str, float]:
    """A scenario's mean final level minus the reference's, paired on their shared runs."""
    if paired:
        shared = base.index.intersection(mine.index)
        found = mean_difference(base.loc[shared, grouping].to_numpy(),
                                mine.loc[shared, grouping].to_numpy(), True, draw_blocks,
                                (shared.to_numpy(), shared.to_numpy()))
    else:
        found = mean_difference(base[grouping].to_numpy(), mine[grouping].to_numpy(), False,
                                draw_blocks, (base.index.to_numpy(), mine.index.to_numpy()))
    return {"level_difference": found.value, "level_low": found.low, "level_high": found.high}
