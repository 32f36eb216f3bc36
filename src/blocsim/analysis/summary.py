"""Probabilities with honest intervals, across replications."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import beta, norm
from scipy.stats import t as student_t

from blocsim.vocabulary import STAGES, stage_name

Z95 = 1.959963984540054


def wilson_interval(successes: float, trials: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (good near 0 and 1, unlike the Wald one).

    Counts may be fractional: an effective number of runs (`design_effect`).
    """
    if trials == 0:
        return (0.0, 1.0)
    p = successes / trials
    denominator = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return (low, high)


def parameter_band(probability: float, spread: float) -> tuple[float, float]:
    """The central 95% of a probability across parameter draws.

    The 2.5% and 97.5% quantiles of the beta distribution with that mean and standard deviation
    (method of moments): across draws a probability is bounded and usually skewed (most draws
    give about 0, a few a lot), where mean ± 1.96 sd would clip at 0 and stop short on the long
    side (a tenth of the draws at 0.5, the rest at 0: 0 to 0.34 by the normal rule, 0 to 0.61 by
    the beta, the truth 0 to 0.5). A spread as wide as a yes-or-no outcome's gives 0 to 1.
    NaN, NaN when the spread is unknown (fewer than two draws).
    """
    if math.isnan(spread):
        return math.nan, math.nan
    if spread == 0:
        return probability, probability
    common = probability * (1 - probability) / spread ** 2 - 1
    if common <= 0:
        return 0.0, 1.0
    low, high = beta.ppf([0.025, 0.975], probability * common, (1 - probability) * common)
    return float(low), float(high)


def parameter_spread(block_shares: np.ndarray, block: int) -> float:
    """Standard deviation of a probability across parameter draws, net of binomial noise.

    `block_shares` are the shares of `block` runs at each draw. Between-draw variance minus the
    mean within-draw binomial variance, never below zero (the law of total variance); NaN with
    fewer than two draws.
    """
    if len(block_shares) < 2:
        return math.nan  # one draw says nothing about the spread across draws
    noise = float(np.mean(block_shares * (1 - block_shares))) / max(block - 1, 1)
    between = float(np.var(block_shares, ddof=1))
    return math.sqrt(max(between - noise, 0.0))


def design_effect(values: np.ndarray, blocks: np.ndarray, block: int) -> float:
    """How many times drawing parameters per block of runs inflates the variance of a mean.

    `values` holds one number per run (whether it consolidated, or a paired difference), `blocks`
    the draw each run shared. The mean's cluster-robust variance, k/(k-1) * sum over blocks of
    (sum of the block's deviations)^2 / n^2 (var(block means) / k for equal blocks, and right for
    a short last block), over the variance independent runs would give, var(values) / n: Kish's
    design effect, between 1 (the draws do not matter) and `block` (each draw decides its whole
    block). 1 where the data cannot tell: values that never vary (no run, or every run,
    consolidated), or a single block.
    """
    values = np.asarray(values, float)
    runs = len(values)
    if runs == 0 or np.ptp(values) == 0:
        return 1.0
    deviations = pd.Series(values - values.mean()).groupby(np.asarray(blocks)).sum().to_numpy()
    draws = len(deviations)
    if draws < 2:
        return 1.0
    clustered = draws / (draws - 1) * float(np.sum(deviations ** 2)) / runs ** 2
    return min(max(clustered / (float(np.var(values)) / runs), 1.0), float(block))


def draws_quantile(draws: int, carrying: int, level: float = 0.95) -> float:
    """The quantile of a `level` interval whose variance was estimated from posterior draws.

    `draws` drew the runs; `carrying` of them hold the rarer outcome (the runs that consolidated,
    or those that did not; the pairs that differ). The between-draw variance rests on those draws
    alone, so Student's t takes min(carrying, draws - 1) degrees of freedom: with few of them the
    normal quantile, or t on all the draws, covers too rarely (20 runs in 2 draws: 0.68 with the
    normal), and 2 consolidating runs in 2 of 100 draws read 0.0005-0.0073 on t(99) where none
    read 0 to 0.037; on t(2), 0.0005-0.022. The normal quantile with fewer than two draws.
    """
    if draws < 2 or carrying < 1:
        return float(norm.ppf(0.5 + level / 2))
    return float(student_t.ppf(0.5 + level / 2, min(carrying, draws - 1)))


def share_weighting(held: np.ndarray, blocks: np.ndarray, block: int, level: float = 0.95
                    ) -> tuple[float, float]:
    """(design effect, quantile) of a share of runs drawn in blocks of `block` per draw.

    Where the runs that consolidated (or those that did not) sit in fewer than two draws, the data
    cannot tell how much the draws matter: the design effect is taken at its largest, the block
    (each draw one trial), with the normal quantile, no variance having been estimated from the
    draws. Otherwise the effect is estimated from the draws (`design_effect`) and the quantile is
    Student's on the draws that carry the rarer outcome (`draws_quantile`).
    """
    held, blocks = np.asarray(held, bool), np.asarray(blocks)
    runs = len(held)
    carrying = min(len(np.unique(blocks[held])), len(np.unique(blocks[~held])))
    if runs and carrying < 2:
        return float(min(block, runs)), float(norm.ppf(0.5 + level / 2))
    return (design_effect(held, blocks, block),
            draws_quantile(len(np.unique(blocks)), carrying, level))


def blocked_interval(held: np.ndarray, blocks: np.ndarray, block: int
                     ) -> tuple[float, float, float, float]:
    """The 95% Monte Carlo interval of a share of runs drawn in blocks, and the parameter spread.

    Wilson's interval on the effective number of runs (runs / design effect), with Student's
    quantile for the draws (`share_weighting`): runs that share a draw are not independent, and a
    binomial interval on all of them would be too narrow where the draw decides the outcome.
    `blocks` are the runs' draws (replication // block, from the replication numbers, so that a
    failed run leaves its block's others where they were). Returns (low, high, design effect,
    parameter spread).

    No consolidation in 200 runs of 20 draws reads 0 to 0.16 (each draw one trial), not the
    binomial 0 to 0.019, which missed the truth one time in eight when a tenth of the draws gave
    0.5 and the rest 0.
    """
    held = np.asarray(held, bool)
    blocks = np.asarray(blocks)
    shares = pd.Series(held.astype(float)).groupby(blocks).mean().to_numpy()
    runs = len(held)
    probability = float(held.mean()) if runs else 0.0
    effect, quantile = share_weighting(held, blocks, block)
    low, high = wilson_interval(probability * runs / effect, runs / effect, quantile)
    return low, high, effect, parameter_spread(shares, block)


def consolidation_summary(outcomes: pd.DataFrame, draw_block: int | None = None
                          ) -> pd.DataFrame:
    """Per grouping: probability of consolidation (95% Wilson interval), peaks, blockers, links.

    `top_blocker_share` is the blocker's share of the runs in which the grouping did *not*
    consolidate (the runs that have a blocker), `stalled` their number; `linked_share` is the
    share of all runs in which the grouping ends in a linked bloc, `mean_final_nato_tie` its
    mean NATO tie in the last quarter. With `draw_block` (a run whose blocks of that many
    replications each drew their parameters from a posterior), `parameter_low`/`_high` give the
    95% band of the probability across the posterior (its spread net of Monte Carlo noise), and
    the Monte Carlo interval `ci_low`/`ci_high` counts the runs that share a draw by their
    `design_effect` (`blocked_interval`).
    """
    rows = []
    order = outcomes["grouping"].drop_duplicates().tolist()
    for grouping in order:
        runs = outcomes[outcomes["grouping"] == grouping]
        trials, hits = len(runs), int(runs["consolidated"].sum())
        low, high = wilson_interval(hits, trials)
        counts = runs.loc[~runs["consolidated"].astype(bool), "blocker"].dropna().value_counts()
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
            "stalled": trials - hits,
            "top_blocker": counts.index[0] if len(counts) else None,
            "top_blocker_share": float(counts.iloc[0] / (trials - hits)) if len(counts) else 0.0,
            "mean_final_nato_tie": float(runs["final_nato_tie"].mean()),
            "linked_share": (float(runs["in_linked_bloc"].astype(bool).mean())
                             if "in_linked_bloc" in runs else 0.0),
        })
        if "exited" in runs:
            rows[-1].update(_first_exits(runs))
        if draw_block:
            blocks = runs["replication"].to_numpy() // draw_block
            ci_low, ci_high, effect, spread = blocked_interval(
                runs["consolidated"].to_numpy(bool), blocks, draw_block)
            low, high = parameter_band(hits / trials, spread)
            rows[-1].update(ci_low=ci_low, ci_high=ci_high, design_effect=effect,
                            parameter_sd=spread, parameter_low=low, parameter_high=high)
    return pd.DataFrame(rows)


def _first_exits(runs: pd.DataFrame) -> dict[str, object]:
    """Who left one grouping first, in how many of its runs, and when.

    The number of runs in which a member left (the first to leave, `exited`), the member that
    left first most often and in how many runs, and the first exit's earliest and latest quarter.
    """
    left = runs[runs["exited"].notna()]
    if not len(left):
        return {"exits": 0, "top_exiter": None, "top_exiter_runs": 0, "first_exit_from": None,
                "first_exit_to": None}
    counts = left["exited"].value_counts()
    steps = left["exited_at"].astype(int)
    quarters = left["exited_quarter"]
    return {"exits": len(left), "top_exiter": counts.index[0],
            "top_exiter_runs": int(counts.iloc[0]),
            "first_exit_from": quarters.iloc[int(np.argmin(steps.to_numpy()))],
            "first_exit_to": quarters.iloc[int(np.argmax(steps.to_numpy()))]}


TERM_WORDS = {"balance_of_threat": "threat", "autonomy_cost": "autonomy",
              "economic_exposure": "trade with China", "russia_pull": "Russia's pull",
              "entrapment_abandonment": "entrapment/abandonment",
              "peer_influence": "peers", "hedging": "regional legitimacy",
              "hub_and_spokes": "hub and spokes", "distrust": "distrust",
              "china_response": "China's wedge", "organizer": "US leadership",
              "domestic_politics": "domestic politics",
              "baseline_propensity": "baseline propensity"}
"""Short words for the utility terms in the terminal's one-line reasons."""


def blocker_reasons(summary: pd.DataFrame, blocker_terms: pd.DataFrame | None,
                    terms_shown: int = 3) -> dict[str, str]:
    """Per grouping, why its most frequent blocker holds back, in words.

    "IND: threat +1.2 against autonomy -1.5, Russia's pull -0.7": the blocker's mean utility
    terms (logit units) over the runs it blocked, the largest pull toward committing against
    the largest terms holding it back.
    """
    if blocker_terms is None or blocker_terms.empty:
        return {}
    found = {}
    for row in summary.itertuples():
        if not row.top_blocker:
            continue
        mine = blocker_terms[(blocker_terms["grouping"].astype(str) == row.grouping)
                             & (blocker_terms["state"].astype(str) == row.top_blocker)]
        if mine.empty:
            continue
        means = mine.groupby(mine["term"].astype(str))["value"].mean()
        pulls = means[means > 0.05].sort_values(ascending=False).head(1)
        holds = means[means < -0.05].sort_values().head(terms_shown)
        words = [f"{TERM_WORDS.get(k, k)} {v:+.1f}" for k, v in pulls.items()]
        against = [f"{TERM_WORDS.get(k, k)} {v:+.1f}" for k, v in holds.items()]
        found[row.grouping] = (f"{row.top_blocker}: " + ", ".join(words)
                               + (" against " if words and against else "")
                               + ", ".join(against))
    return found


def format_summary(summary: pd.DataFrame, reasons: dict[str, str] | None = None) -> str:
    """A plain-text table of the summary for the terminal.

    The blocker's share is of the runs in which the grouping stalled (did not consolidate); the
    last two columns are the mean final NATO tie and the share of runs ending in a linked bloc.
    """
    drawn = "parameter_low" in summary
    stage = max(len(name) for name in STAGES)
    header = (f"{'grouping':<12} {'P(consolidate)':>15} {'95% Monte Carlo':>16}  "
              + (f"{'95% parameters':>15}  " if drawn else "")
              + f"{'median peak stage':<{stage}} {'most frequent blocker':<24} {'NATO tie':>8} "
              f"{'linked':>7}")
    lines = [header, "-" * len(header)]
    for row in summary.itertuples():
        blocker = (f"{row.top_blocker} ({row.top_blocker_share:.0%} of stalled)"
                   if row.top_blocker else "none")
        spread = ("" if not drawn else "one draw" if math.isnan(row.parameter_low) else
                  f"[{row.parameter_low:.3f}, {row.parameter_high:.3f}]"
                  if row.parameter_high - row.parameter_low >= 0.0005 else "no spread")
        band = f"{spread:>15}  " if drawn else ""
        lines.append(f"{row.grouping:<12} {row.probability:>15.3f} "
                     f"{f'[{row.ci_low:.3f}, {row.ci_high:.3f}]':>16}  {band}"
                     f"{row.median_peak_stage:<{stage}} {blocker:<24} "
                     f"{row.mean_final_nato_tie:>8.3f} {row.linked_share:>7.3f}")
    if drawn:
        lines.append("Monte Carlo: the interval from the number of runs, those sharing a draw "
                     "counted as fewer where the draw decides (each draw as one run where the "
                     "runs that consolidated, or those that did not, sit in fewer than two "
                     "draws); parameters: the spread of the probability across the calibrated "
                     "posterior's draws (\"no spread\": no more than Monte Carlo noise)")
    if "exits" in summary and summary["exits"].any():
        lines.append("first member to leave (a member leaves when its utility stays below the "
                     "exit threshold for `patience` quarters; mechanisms/participation.py):")
        lines.extend(
            f"  {row.grouping:<12} a member left in {row.exits} of {row.replications} runs; "
            f"{row.top_exiter} first in {row.top_exiter_runs} "
            f"({row.top_exiter_runs / row.replications:.0%} of runs); first exits "
            + (f"in {row.first_exit_from}" if row.first_exit_from == row.first_exit_to else
               f"from {row.first_exit_from} to {row.first_exit_to}")
            for row in summary.itertuples() if row.exits)
    if reasons:
        lines.append("why the blocker holds back (its mean utility terms, logit units, in the "
                     "runs it blocked):")
        lines.extend(f"  {grouping:<12} {text}" for grouping, text in reasons.items())
    return "\n".join(lines)
