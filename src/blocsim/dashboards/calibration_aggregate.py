"""What a calibration's page computes from its folder.

Weighted posterior summaries, which parameters the record pins, the strongest posterior
correlations, where the model loses to the benchmarks and why the fit stopped. Every posterior
statistic is weighted by the particles' importance weights (ABC-SMC's), so it describes the
posterior, not the proposal the particles were drawn from.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from blocsim.dashboards.read import CalibrationData, Estimated

PINNED = 0.5
"""Posterior sd below this share of the uniform prior's sd: the record pins the parameter (its
posterior is at most half as wide as the prior; a presentation rule, not a result)."""
LOOSE = 0.8
"""Posterior sd above this share of the prior's: the record leaves the parameter loose (a uniform
posterior over any 80% of the prior's range still has a ratio of 0.8)."""
EDGE = 0.15
"""A weighted posterior mean within this share of the prior's range from a bound: the posterior
is piled against that bound, and the prior may be too narrow there."""
CREDIBLE = (0.05, 0.95)
"""The quantiles of the posterior's central 90% interval."""
MOST_PAIRS, LEAST_PAIRS, WEAK_CORRELATION = 4, 2, 0.3
"""Pairs shown: those with |r| of at least WEAK_CORRELATION, at most MOST_PAIRS, at least
LEAST_PAIRS (the strongest, however weak, so the reader sees how little trades off)."""
REPRODUCED = 0.5
"""A fact is reproduced when it holds in at least half the posterior predictive runs (the
pre-registered pass rule of `scenarios/calibration/test_facts.toml`)."""
BENCHMARKS = {"persistence": "the 2016 state persisting", "base_rate": "the ATOP base rate"}
"""The two naive forecasters of the test report, by their column prefix."""


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    """The weighted mean (weights need not sum to one)."""
    return float(np.average(values, weights=weights))


def weighted_sd(values: np.ndarray, weights: np.ndarray) -> float:
    """The weighted standard deviation of the weighted sample (no small-sample correction)."""
    mean = weighted_mean(values, weights)
    return float(np.sqrt(np.average((values - mean) ** 2, weights=weights)))


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The q-quantile of a weighted sample (the inverse of its distribution function).

    The smallest value with at least a share q of the weight at or below it. With integer
    weights it is the same quantile of the sample with each value repeated.
    """
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order]) / np.sum(weights)
    index = int(np.searchsorted(cumulative, q - 1e-12, side="left"))
    return float(values[order][min(index, len(values) - 1)])


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size, (sum w)^2 / sum w^2: how many equal particles they count as."""
    weights = np.asarray(weights, float)
    return float(weights.sum() ** 2 / np.sum(weights**2))


def verdict(ratio: float) -> str:
    """`pinned`, `partly pinned` or `loose`, by posterior sd / prior sd."""
    return "pinned" if ratio < PINNED else "loose" if ratio > LOOSE else "partly pinned"


def edge(parameter: Estimated, mean: float) -> str:
    """`low` or `high` when the posterior mean lies within EDGE of that bound, else ``."""
    span = parameter.high - parameter.low
    if mean < parameter.low + EDGE * span:
        return "low"
    return "high" if mean > parameter.high - EDGE * span else ""


def parameter_table(data: CalibrationData) -> pd.DataFrame:
    """One row per estimated parameter, in the file's order.

    Columns: path, label, low, high, prior_sd, hand_set, mean, sd, q05, q95, ratio (posterior sd
    over prior sd), verdict, edge.
    """
    weights = data.posterior.weights
    rows = []
    for parameter in data.parameters:
        values = data.posterior.values[parameter.path].to_numpy(float)
        mean, sd = weighted_mean(values, weights), weighted_sd(values, weights)
        ratio = sd / parameter.prior_sd
        rows.append({"path": parameter.path, "label": parameter.label, "low": parameter.low,
                     "high": parameter.high, "prior_sd": parameter.prior_sd,
                     "hand_set": parameter.hand_set, "mean": mean, "sd": sd,
                     "q05": weighted_quantile(values, weights, CREDIBLE[0]),
                     "q95": weighted_quantile(values, weights, CREDIBLE[1]),
                     "ratio": ratio, "verdict": verdict(ratio), "edge": edge(parameter, mean)})
    return pd.DataFrame(rows)


def weighted_correlations(values: pd.DataFrame, weights: np.ndarray) -> pd.DataFrame:
    """Weighted Pearson correlation of every pair of columns, strongest (by |r|) first.

    Columns: a, b (paths, in the table's order), r. A column that does not vary correlates
    with nothing (r = 0).
    """
    rows = []
    for a, b in combinations(values.columns, 2):
        x, y = values[a].to_numpy(float), values[b].to_numpy(float)
        sx, sy = weighted_sd(x, weights), weighted_sd(y, weights)
        covariance = np.average((x - weighted_mean(x, weights)) * (y - weighted_mean(y, weights)),
                                weights=weights)
        r = float(covariance / (sx * sy)) if sx > 0 and sy > 0 else 0.0
        rows.append({"a": a, "b": b, "r": r})
    table = pd.DataFrame(rows, columns=["a", "b", "r"])
    return table.reindex(table["r"].abs().sort_values(ascending=False, kind="stable").index
                         ).reset_index(drop=True)


def strongest_pairs(correlations: pd.DataFrame) -> pd.DataFrame:
    """The pairs the page plots, strongest first.

    Every pair with |r| >= WEAK_CORRELATION up to MOST_PAIRS, and at least LEAST_PAIRS (fewer
    only when there are fewer pairs).
    """
    strong = int((correlations["r"].abs() >= WEAK_CORRELATION).sum())
    return correlations.head(min(MOST_PAIRS, max(LEAST_PAIRS, strong)))


@dataclass(frozen=True)
class Loss:
    """One score on which the model does worse than a benchmark on one test fact."""

    fact: str
    score: str
    benchmark: str
    model: float
    other: float


def losses(scores: pd.DataFrame) -> list[Loss]:
    """Every (test fact, score, benchmark) where the benchmark's score is lower (better).

    Brier and log scores alike: the test report's `model_loses_to` column counts Brier only.
    """
    found = []
    for row in scores.itertuples(index=False):
        for score in ("brier", "log"):
            for benchmark, name in BENCHMARKS.items():
                model, other = getattr(row, f"model_{score}"), getattr(row, f"{benchmark}_{score}")
                if other < model - 1e-12:
                    found.append(Loss(row.fact, score, name, float(model), float(other)))
    return found


def stop_reasons(data: CalibrationData) -> list[str]:
    """Why the ABC-SMC stopped after its last generation, as the stopping rules' keys.

    `min_tolerance`, `min_acceptance`, `min_tolerance_change` (the tolerance stopped moving) or
    `max_generations`, in that order; several can hold at once.
    """
    spec, table = data.spec, data.generations.sort_values("generation")
    last = table.iloc[-1]
    moved = (table.tolerance.iloc[-2] - last.tolerance) if len(table) > 1 else np.inf
    reasons = [key for key, held in (
        ("min_tolerance", last.tolerance <= spec.min_tolerance),
        ("min_acceptance", last.acceptance_rate < spec.min_acceptance),
        ("min_tolerance_change", moved < spec.min_tolerance_change),
        ("max_generations", len(table) >= spec.max_generations)) if held]
    return reasons
