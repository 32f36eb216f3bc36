"""Probabilities with honest intervals, across replications."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from blocsim.vocabulary import stage_name

Z95 = 1.959963984540054


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (good near 0 and 1, unlike the Wald one)."""
    if trials == 0:
        return (0.0, 1.0)
    p = successes / trials
    denominator = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return (low, high)


def consolidation_summary(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per grouping: probability of consolidation (95% Wilson interval), peaks and blockers."""
    rows = []
    order = outcomes["grouping"].drop_duplicates().tolist()
    for grouping in order:
        runs = outcomes[outcomes["grouping"] == grouping]
        trials, hits = len(runs), int(runs["consolidated"].sum())
        low, high = wilson_interval(hits, trials)
        blockers = runs["blocker"].dropna()
        counts = blockers.value_counts()
        median_peak = float(np.median(runs["peak_level"]))
        rows.append({
            "grouping": grouping,
            "replications": trials,
            "consolidated": hits,
            "probability": hits / trials,
            "ci_low": low,
            "ci_high": high,
            "median_peak_level": median_peak,
            "median_peak_stage": stage_name(median_peak),
            "mean_final_level": float(runs["final_level"].mean()),
            "top_blocker": counts.index[0] if len(counts) else None,
            "top_blocker_share": float(counts.iloc[0] / trials) if len(counts) else 0.0,
            "mean_final_nato_tie": float(runs["final_nato_tie"].mean()),
        })
    return pd.DataFrame(rows)


def format_summary(summary: pd.DataFrame) -> str:
    """A plain-text table of the summary for the terminal."""
    header = (f"{'grouping':<12} {'P(consolidate)':>15} {'95% interval':>15}  "
              f"{'median peak stage':<24} {'most frequent blocker':<22}")
    lines = [header, "-" * len(header)]
    for row in summary.itertuples():
        blocker = (f"{row.top_blocker} ({row.top_blocker_share:.0%} of runs)"
                   if row.top_blocker else "none")
        lines.append(f"{row.grouping:<12} {row.probability:>15.3f} "
                     f"{f'[{row.ci_low:.3f}, {row.ci_high:.3f}]':>15}  "
                     f"{row.median_peak_stage:<24} {blocker:<22}")
    return "\n".join(lines)
