"""Tipping points: where a grouping's consolidation probability crosses a target.

An adaptive sequential design: a coarse look across the range, then batches of runs placed where
the fitted curve crosses the target, until the 95% interval of the crossing is narrow enough. The
curve is a logistic regression of the runs' outcomes (consolidated or not) on the parameter,
fitted by iteratively reweighted least squares; the crossing's interval comes from the delta
method. The search assumes the probability changes monotonically over the range (it reports when
the fitted slope says otherwise) and says plainly when the curve never crosses in range.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from blocsim.analysis.summary import Z95
from blocsim.errors import ResultsError

Evaluator = Callable[[np.ndarray, "int | np.ndarray"], np.ndarray]
"""`evaluate(values, runs)` -> successes at each value, out of `runs` runs (each, or per value)."""


@dataclass(frozen=True)
class LogisticFit:
    """`P(x) = 1 / (1 + exp(-(intercept + slope * x)))` and the covariance of the two."""

    intercept: float
    slope: float
    covariance: np.ndarray

    def probability(self, x: np.ndarray | float) -> np.ndarray:
        """Fitted probability at x."""
        return 1.0 / (1.0 + np.exp(-(self.intercept + self.slope * np.asarray(x))))


def fit_logistic(x: np.ndarray, successes: np.ndarray, trials: np.ndarray,
                 iterations: int = 50) -> LogisticFit:
    """Binomial logistic regression of successes/trials on x (IRLS, a tiny ridge for separation).

    A small ridge penalty (1e-6 on the slope) keeps the fit finite when the runs separate
    perfectly; it does not move a well-determined fit.
    """
    design = np.column_stack([np.ones_like(x, dtype=float), x.astype(float)])
    beta = np.zeros(2)
    ridge = np.diag([0.0, 1e-6])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(design @ beta)))
        weight = np.maximum(trials * p * (1 - p), 1e-9)
        information = design.T @ (design * weight[:, None]) + ridge
        gradient = design.T @ (successes - trials * p) - ridge @ beta
        step = np.linalg.solve(information, gradient)
        beta = beta + step
        if np.abs(step).max() < 1e-10:
            break
    p = 1.0 / (1.0 + np.exp(-(design @ beta)))
    weight = np.maximum(trials * p * (1 - p), 1e-9)
    covariance = np.linalg.inv(design.T @ (design * weight[:, None]) + ridge)
    return LogisticFit(float(beta[0]), float(beta[1]), covariance)


def crossing(fit: LogisticFit, target: float) -> tuple[float, float, float]:
    """Where the fitted curve crosses `target`, and its 95% interval (delta method)."""
    logit = math.log(target / (1 - target))
    if fit.slope == 0:
        return math.nan, -math.inf, math.inf
    estimate = (logit - fit.intercept) / fit.slope
    gradient = np.array([-1.0 / fit.slope, -(logit - fit.intercept) / fit.slope**2])
    spread = math.sqrt(max(float(gradient @ fit.covariance @ gradient), 0.0))
    return estimate, estimate - Z95 * spread, estimate + Z95 * spread


@dataclass
class TippingResult:
    """The outcome of a search.

    Attributes:
        status: "crosses", "never crosses in range" or "not resolved" (budget spent first).
        estimate, low, high: the crossing and its 95% interval (NaN unless it crosses).
        evaluations: one row per batch: value, runs, successes, round.
        target: the probability whose crossing was sought.
        note: a sentence for the analyst.
    """

    status: str
    estimate: float
    low: float
    high: float
    target: float
    evaluations: pd.DataFrame
    note: str = ""
    details: dict = field(default_factory=dict)

    @property
    def runs(self) -> int:
        """Runs spent."""
        return int(self.evaluations.runs.sum())

    @property
    def width(self) -> float:
        """Width of the 95% interval of the crossing."""
        return self.high - self.low

    def table(self) -> pd.DataFrame:
        """The result as a one-row DataFrame (for Parquet and notebooks)."""
        return pd.DataFrame([{"status": self.status, "target": self.target,
                              "estimate": self.estimate, "ci_low": self.low,
                              "ci_high": self.high, "runs": self.runs, "note": self.note,
                              **self.details}])


def find_tipping_point(evaluate: Evaluator, low: float, high: float, target: float = 0.5,
                       precision: float = 0.05, initial_points: int = 5,
                       initial_runs: int = 20, batch_runs: int = 40,
                       max_runs: int = 20_000) -> TippingResult:
    """Search [low, high] for the value where P(success) crosses `target`.

    Round 0 spends `initial_runs` at `initial_points` evenly spaced values; each later round
    spends `batch_runs` at the current estimate and `batch_runs // 2` at each end of its interval
    (clipped to the range), refits, and stops when the interval is at most `precision` wide.
    """
    values = np.linspace(low, high, initial_points)
    rows = [(v, initial_runs, int(s), 0) for v, s in zip(values, evaluate(values, initial_runs),
                                                          strict=True)]
    round_ = 0
    while True:
        round_ += 1
        frame = pd.DataFrame(rows, columns=["value", "runs", "successes", "round"])
        pooled = frame.groupby("value", as_index=False)[["runs", "successes"]].sum()
        verdict = _never_crosses(pooled, target)
        if verdict:
            return TippingResult("never crosses in range", math.nan, math.nan, math.nan, target,
                                 frame, verdict)
        fit = fit_logistic(pooled.value.to_numpy(), pooled.successes.to_numpy(),
                           pooled.runs.to_numpy())
        estimate, lo, hi = crossing(fit, target)
        inside = low <= estimate <= high
        if inside and hi - lo <= precision:
            return TippingResult("crosses", estimate, lo, hi, target, frame,
                                 f"P crosses {target} at {estimate:.3f} "
                                 f"[{lo:.3f}, {hi:.3f}] after {frame.runs.sum()} runs",
                                 {"slope": fit.slope, "intercept": fit.intercept})
        if frame.runs.sum() >= max_runs:
            slope_z = fit.slope / math.sqrt(max(fit.covariance[1, 1], 1e-300))
            trend = ("" if abs(slope_z) >= 2 else "; no monotone trend is detectable (the curve "
                     "may rise and fall, or be flat): look at a sweep of this parameter")
            return TippingResult("not resolved", estimate, lo, hi, target, frame,
                                 f"budget of {max_runs} runs spent; interval still "
                                 f"{hi - lo:.3f} wide{trend}")
        centre = float(np.clip(estimate if np.isfinite(estimate) else (low + high) / 2, low,
                               high))
        half = min(max((hi - lo) / 2, precision / 2), (high - low) / 4) if np.isfinite(
            hi - lo) else (high - low) / 4
        batch = np.array([centre, max(low, centre - half), min(high, centre + half)])
        runs = np.array([batch_runs, batch_runs // 2, batch_runs // 2])
        successes = evaluate(batch, runs)
        rows.extend((float(value), int(count), int(hits), round_)
                    for value, count, hits in zip(batch, runs, successes, strict=True))


def _never_crosses(pooled: pd.DataFrame, target: float) -> str:
    """A reason to stop if the observed probabilities stay on one side of the target everywhere.

    Uses each value's 95% Wilson interval: if every interval lies below (or above) the target, the
    curve does not cross within the range at this precision.
    """
    from blocsim.analysis.summary import wilson_interval

    bounds = [wilson_interval(int(s), int(n)) for s, n in zip(pooled.successes, pooled.runs,
                                                               strict=True)]
    if all(high < target for _, high in bounds):
        top = max(bounds, key=lambda b: b[1])
        return (f"P stays below {target} across the range (highest upper 95% bound "
                f"{top[1]:.3f})")
    if all(low > target for low, _ in bounds):
        bottom = min(bounds, key=lambda b: b[0])
        return (f"P stays above {target} across the range (lowest lower 95% bound "
                f"{bottom[0]:.3f})")
    return ""


def grid_bracket(values: np.ndarray, successes: np.ndarray, runs: int,
                 target: float) -> tuple[float, float]:
    """The crossing as an analyst reads it off a fixed grid, as (low, high).

    Between the highest value whose 95% Wilson interval lies wholly below the target and the
    lowest whose interval lies wholly above it (for a rising curve; mirrored for a falling one);
    (-inf, inf) when either side is missing.
    """
    from blocsim.analysis.summary import wilson_interval

    bounds = [wilson_interval(int(s), runs) for s in successes]
    below = [v for v, (_, hi) in zip(values, bounds, strict=True) if hi < target]
    above = [v for v, (lo, _) in zip(values, bounds, strict=True) if lo > target]
    if not below or not above:
        return -math.inf, math.inf
    if max(below) < min(above):
        return max(below), min(above)
    return max(above), min(below)


def fixed_grid_runs(evaluate: Evaluator, low: float, high: float, target: float,
                    precision: float, runs_per_point: list[int],
                    method: str = "bracket") -> tuple[int, int]:
    """Runs a fixed grid with spacing `precision` needs to locate the crossing as precisely.

    `method="bracket"`: the analyst's reading, adjacent grid values on either side of the target
    (an interval one spacing wide); `method="logistic"`: the same logistic fit and delta-method
    interval as the adaptive search, on the whole grid. Tries each runs-per-point in turn and
    returns (total runs, runs per point) for the first that reaches `precision` (or the last).
    """
    values = np.arange(low, high + precision / 2, precision)
    for per_point in runs_per_point:
        successes = evaluate(values, per_point)
        if method == "bracket":
            lo, hi = grid_bracket(values, successes, per_point, target)
        else:
            fit = fit_logistic(values, successes, np.full(len(values), per_point))
            _, lo, hi = crossing(fit, target)
        if hi - lo <= precision + 1e-9:
            return len(values) * per_point, per_point
    return len(values) * runs_per_point[-1], runs_per_point[-1]


TIPPING, EVALUATIONS = "tipping.parquet", "evaluations.parquet"
"""The two tables of a tipping folder (`blocsim tip`): the verdict and every batch of runs."""


def read_tipping(folder: Path) -> TippingResult:
    """A search's result as saved in a tipping folder (`blocsim tip`).

    Raises:
        ResultsError: if the tables are missing or lack the columns the result needs.

    """
    folder = Path(folder)
    try:
        verdict = pd.read_parquet(folder / TIPPING).iloc[0].to_dict()
        evaluations = pd.read_parquet(folder / EVALUATIONS)
    except (OSError, ValueError, IndexError) as error:
        raise ResultsError(f"{folder} is not a readable tipping folder: {error}") from error
    missing = {"value", "runs", "successes"} - set(evaluations.columns)
    if missing or "status" not in verdict:
        raise ResultsError(f"{folder}: the tipping tables lack "
                           f"{', '.join(sorted(missing) or ['status'])}")
    if "round" not in evaluations.columns:
        evaluations = evaluations.assign(round=0)
    numbers = {k: float(verdict.pop(k, math.nan)) for k in ("estimate", "ci_low", "ci_high")}
    verdict.pop("runs", None)
    return TippingResult(str(verdict.pop("status")), numbers["estimate"], numbers["ci_low"],
                         numbers["ci_high"], float(verdict.pop("target", 0.5)), evaluations,
                         str(verdict.pop("note", "") or ""), verdict)


def pooled_shares(evaluations: pd.DataFrame) -> pd.DataFrame:
    """Runs and successes pooled per value tried, with the share and its Wilson interval.

    Returns:
        One row per value, in value order: value, runs, successes, share, ci_low, ci_high.

    """
    from blocsim.analysis.summary import wilson_interval

    pooled = (evaluations.groupby("value", as_index=False)[["runs", "successes"]].sum()
              .sort_values("value").reset_index(drop=True))
    pooled["share"] = pooled["successes"] / pooled["runs"]
    bounds = [wilson_interval(int(s), int(n))
              for s, n in zip(pooled["successes"], pooled["runs"], strict=True)]
    pooled["ci_low"] = [low for low, _ in bounds]
    pooled["ci_high"] = [high for _, high in bounds]
    return pooled
