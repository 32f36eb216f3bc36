"""Tipping points: where a grouping's consolidation probability crosses a target.

An adaptive sequential design: a coarse look across the range, then batches of runs placed only
where they narrow the answer (`find_tipping_point`). Each value tried is read on its own (a 95%
Wilson interval of P) and classed below, above or near the target; two confident values on
opposite sides bracket a crossing. Within a bracket the curve is a logistic regression of the
runs' outcomes on the parameter (iteratively reweighted least squares, fitted to that bracket's
values only, so the curve may rise and fall elsewhere); the crossing's interval comes from the
delta method. The search reports where P peaks in the range (with its interval), whether the
target is reached at all, and a crossing only when one is identified; a stretch where P is flat
at the target, or a crossing too flat to locate with the budget left, gets no more runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from blocsim.analysis.summary import Z95, wilson_interval
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


CROSSES = "crosses"
NEVER = "never crosses in range"
NOT_IDENTIFIABLE = "not identifiable"
UNRESOLVED = "not resolved"

DEFAULT_RESOLUTION = 0.02
"""Probabilities closer than this to the target are not worth telling apart from it (absolute).

A value whose 95% interval of P is already this narrow (half-width) and still holds the target
gets no more runs: its P is "at the target" for practical purposes. Deciding a P of 0.19 against a
target of 0.2 takes about 6,000 runs; this stops at about 1,500 (calibrated: the precision an
analyst reads a consolidation probability to)."""


@dataclass
class TippingResult:
    """The outcome of a search.

    Attributes:
        status: "crosses" (a crossing located within the precision asked), "never crosses in
            range" (P stays on one side of the target at every value tried), "not identifiable"
            (P comes to the target but the curve is too flat there, or hovers at it, for a
            crossing to be located with the budget) or "not resolved" (budget spent first).
        estimate, low, high: the first located crossing and its 95% interval (NaN unless
            status is "crosses").
        target: the probability whose crossing was sought.
        evaluations: one row per batch: value, runs, successes, round.
        note: a sentence for the analyst.
        details: context (the local logistic fit, the scenario, the varied path...).
        peak_value: the value of the opening look where P is highest at its 95% lower bound
            (so a value read from few runs does not win by luck).
        peak_probability, peak_low, peak_high: P there and its 95% Wilson interval.
        reached: whether P is at or above the target somewhere in the range (the interval of
            some value tried lies above it).
        bracket_low, bracket_high: values between which P is known to cross the target (the
            confident values on either side), NaN when no crossing is identified.
        crossings: every crossing identified, in value order: dicts with estimate, low, high
            (NaN estimate when only bracketed), direction (+1 rising, -1 falling), located.

    """

    status: str
    estimate: float
    low: float
    high: float
    target: float
    evaluations: pd.DataFrame
    note: str = ""
    details: dict = field(default_factory=dict)
    peak_value: float = math.nan
    peak_probability: float = math.nan
    peak_low: float = math.nan
    peak_high: float = math.nan
    reached: bool = False
    bracket_low: float = math.nan
    bracket_high: float = math.nan
    crossings: list[dict] = field(default_factory=list)

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
                              "peak_value": self.peak_value,
                              "peak_probability": self.peak_probability,
                              "peak_low": self.peak_low, "peak_high": self.peak_high,
                              "reached": self.reached, "bracket_low": self.bracket_low,
                              "bracket_high": self.bracket_high,
                              "crossings": len(self.crossings), **self.details}])


@dataclass(frozen=True)
class _Bracket:
    """Two confident values on either side of the target, and the local fit between them."""

    a: float
    b: float
    direction: int
    estimate: float
    low: float
    high: float
    located: bool
    affordable: bool
    fit: LogisticFit | None
    fitted: tuple[float, float] = (math.nan, math.nan)
    """The lowest and highest value the fit was made on."""


def find_tipping_point(evaluate: Evaluator, low: float, high: float, target: float = 0.5,
                       precision: float = 0.05, initial_points: int = 9,
                       initial_runs: int = 20, batch_runs: int = 40,
                       max_runs: int = 20_000,
                       resolution: float = DEFAULT_RESOLUTION) -> TippingResult:
    """Search [low, high] for the value where P(success) crosses `target`, and say what P does.

    Round 0 spends `initial_runs` at `initial_points` evenly spaced values. Each value is then
    *below* the target (its 95% Wilson interval lies under it), *above*, or *near* (the interval
    holds the target). Two confident values of opposite sides with nothing confident between
    them bracket a crossing. Each later round spends one batch where it narrows the answer:

    1. on the first bracket whose crossing is not yet located: a logistic curve is fitted to the
       values inside the bracket only (so the curve may rise and fall elsewhere), and runs go to
       the fitted crossing and either side of it; a bracket is located when the crossing's 95%
       interval (delta method, within the bracket) is at most `precision` wide, and left alone
       when even its steepest plausible slope would need more runs than the budget has left
       (the curve is flat there);
    2. otherwise on near values outside every bracket, highest P first, until each is decided
       or its interval is narrower than `resolution` either side (P is at the target there);
    3. otherwise the answer is complete and the search stops.

    Args:
        evaluate: `evaluate(values, runs)` -> successes at each value.
        low: Lowest value of the varied parameter searched.
        high: Highest value searched.
        target: The probability whose crossing is sought (0-1).
        precision: Widest acceptable 95% interval of a crossing (parameter units).
        initial_points: Values of the opening look, evenly spaced over the range.
        initial_runs: Runs at each of them.
        batch_runs: Runs at a crossing's estimate per round (half as many either side of it),
            and at the first near value (half as many at the next two).
        max_runs: Budget.
        resolution: See `DEFAULT_RESOLUTION`.

    Returns:
        The verdict, the crossing when one is located, the peak of P and the evidence.

    """
    anchors = np.linspace(low, high, initial_points)
    rows = [(float(v), initial_runs, int(s), 0)
            for v, s in zip(anchors, evaluate(anchors, initial_runs), strict=True)]
    round_ = 0
    while True:
        frame = pd.DataFrame(rows, columns=["value", "runs", "successes", "round"])
        pooled = _pooled(frame, target)
        looks = pooled[pooled.value.isin(anchors)].reset_index(drop=True)
        remaining = max_runs - int(frame.runs.sum())
        brackets = _brackets(looks, pooled, target, precision, max(remaining, 0))
        batch = _next_batch(looks, brackets, precision, batch_runs, resolution, target)
        if batch is None or remaining <= 0:
            return _verdict(frame, looks, brackets, target, precision, resolution,
                            exhausted=batch is not None)
        round_ += 1
        points, runs = batch
        successes = evaluate(points, runs)
        rows.extend((float(value), int(count), int(hits), round_)
                    for value, count, hits in zip(points, runs, successes, strict=True))


def _pooled(frame: pd.DataFrame, target: float) -> pd.DataFrame:
    """Runs pooled per value, in value order, with P, its Wilson interval and its side."""
    pooled = (frame.groupby("value", as_index=False)[["runs", "successes"]].sum()
              .sort_values("value").reset_index(drop=True))
    pooled["share"] = pooled.successes / pooled.runs
    bounds = [wilson_interval(int(s), int(n)) for s, n in zip(pooled.successes, pooled.runs,
                                                               strict=True)]
    pooled["ci_low"] = [b[0] for b in bounds]
    pooled["ci_high"] = [b[1] for b in bounds]
    pooled["side"] = np.where(pooled.ci_high < target, -1, np.where(pooled.ci_low > target, 1, 0))
    return pooled


def _brackets(looks: pd.DataFrame, pooled: pd.DataFrame, target: float, precision: float,
              remaining: int) -> list[_Bracket]:
    """Every pair of neighbouring confident values of the opening look on opposite sides.

    Only the opening look's values (which get more runs while they are near the target) are
    classed: the values placed to fit a crossing are many and thinly run, and reading each on its
    own would bracket noise. Each crossing is fitted on every value of a window reaching one
    confident look value beyond its bracket on either side (so one value misread by chance does
    not move the crossing), but never into a neighbouring bracket (so a curve that rises and
    falls is fitted one monotone stretch at a time).
    """
    confident = looks[looks.side != 0].reset_index(drop=True)
    pairs = [i for i in range(len(confident) - 1)
             if confident.side[i] != confident.side[i + 1]]
    found = []
    for k, i in enumerate(pairs):
        left = float(confident.value[max(i - 1, 0)])
        right = float(confident.value[min(i + 2, len(confident) - 1)])
        if k > 0:
            left = max(left, float(confident.value[pairs[k - 1] + 1]))
        if k + 1 < len(pairs):
            right = min(right, float(confident.value[pairs[k + 1]]))
        window = pooled[(pooled.value >= left) & (pooled.value <= right)]
        found.append(_local_crossing(window, float(confident.value[i]),
                                     float(confident.value[i + 1]), int(confident.side[i + 1]),
                                     target, precision, remaining))
    return found


def _local_crossing(window: pd.DataFrame, a: float, b: float, direction: int, target: float,
                    precision: float, remaining: int) -> _Bracket:
    """The crossing of bracket (a, b) from logistic fits to the values around it.

    A first fit on the whole window finds the crossing roughly; a second on the values within
    one interval width (at least `precision`) of it reads the curve's local slope there, so a
    curve that is no logistic over the window (one that levels off short of 1, say) is still
    read right where it crosses. When a fit's slope disagrees with the bracket's direction, or
    its crossing falls outside the values fitted, the estimate is the bracket's middle, the
    interval the bracket, and the crossing is not located. Affordable: the runs the crossing's
    interval would need at the steepest local slope the data allow (its 95% upper bound;
    `(2 z)^2 / (slope^2 t (1 - t) precision^2)` runs near the crossing) fit in the budget left.
    """
    estimate, lo, hi, fit, consistent = _fit_crossing(window, direction, target)
    fitted = (float(window.value.min()), float(window.value.max()))
    if consistent:
        reach = max(hi - lo, precision)
        near = window[(window.value >= estimate - reach) & (window.value <= estimate + reach)]
        if 3 <= len(near) < len(window):
            local = _fit_crossing(near, direction, target)
            if local[-1]:
                estimate, lo, hi, fit, consistent = local
                fitted = (float(near.value.min()), float(near.value.max()))
    if not consistent:
        estimate, lo, hi = (a + b) / 2, a, b
    located = consistent and hi - lo <= precision
    steepest = abs(fit.slope) + Z95 * math.sqrt(max(float(fit.covariance[1, 1]), 0.0))
    needed = (2 * Z95) ** 2 / (max(steepest, 1e-12) ** 2 * target * (1 - target)
                               * precision ** 2)
    nearby = window[(window.value >= lo) & (window.value <= hi)]
    affordable = located or needed - float(nearby.runs.sum()) <= remaining
    return _Bracket(a, b, direction, estimate, lo, hi, located, affordable, fit, fitted)


def _fit_crossing(values: pd.DataFrame, direction: int,
                  target: float) -> tuple[float, float, float, LogisticFit, bool]:
    """Logistic fit to some values: crossing, its interval within them, the fit, and consistency.

    Consistent: the fit's slope has the expected direction and it crosses within the values.
    """
    fit = fit_logistic(values.value.to_numpy(), values.successes.to_numpy(),
                       values.runs.to_numpy())
    first, last = float(values.value.min()), float(values.value.max())
    estimate, lo, hi = crossing(fit, target)
    consistent = fit.slope * direction > 0 and first <= estimate <= last
    return estimate, max(lo, first), min(hi, last), fit, consistent


def _next_batch(looks: pd.DataFrame, brackets: list[_Bracket], precision: float,
                batch_runs: int, resolution: float,
                target: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Where the next runs narrow the answer (values, runs per value), or None when done."""
    for bracket in brackets:
        if bracket.located or not bracket.affordable:
            continue
        half = max((bracket.high - bracket.low) / 2, precision / 2)
        centre = bracket.estimate
        points = np.array([centre, max(bracket.low, centre - half),
                           min(bracket.high, centre + half)])
        return points, np.array([batch_runs, batch_runs // 2, batch_runs // 2])
    near = _undecided(looks, target, resolution)
    for bracket in brackets:
        near = near[(near.value <= bracket.a) | (near.value >= bracket.b)]
    if near.empty:
        return None
    chosen = near.sort_values(["share", "value"], ascending=[False, True]).iloc[:3]
    runs = np.array([batch_runs] + [batch_runs // 2] * (len(chosen) - 1))
    return chosen.value.to_numpy(dtype=float), runs


def _undecided(looks: pd.DataFrame, target: float, resolution: float) -> pd.DataFrame:
    """The near values worth more runs: not yet within `resolution` of the target.

    Neighbouring near values form a stretch where P may hover at the target; a stretch whose
    pooled 95% interval is within `resolution` either side, and reaches to within `resolution`
    of the target, is flat at the target and gets no more runs (nor do its values), so a plateau
    costs about as much as one value. A stretch whose pooled interval lies clearly to one side
    (values of P = 0, each too thinly run to be confident below a low target) is not at the
    target: its values get runs until each is decided.
    """
    near = looks.side == 0
    stretch = (near != near.shift()).cumsum()[near]
    keep = []
    for _, members in looks[near].groupby(stretch):
        low, high = wilson_interval(int(members.successes.sum()), int(members.runs.sum()))
        at_target = low - resolution <= target <= high + resolution
        if (high - low) / 2 > resolution or not at_target:
            keep.append(members[(members.ci_high - members.ci_low) / 2 > resolution])
    return pd.concat(keep) if keep else looks.iloc[:0]


def _verdict(frame: pd.DataFrame, pooled: pd.DataFrame, brackets: list[_Bracket],
             target: float, precision: float, resolution: float,
             exhausted: bool) -> TippingResult:
    """The result from the evidence (`pooled`: the opening look's values, pooled)."""
    peak = pooled.sort_values(["ci_low", "share", "value"], ascending=[False, False, True]
                              ).iloc[0]
    runs = int(frame.runs.sum())
    crossings = [{"estimate": b.estimate if b.located else math.nan,
                  "low": b.low if b.located else b.a, "high": b.high if b.located else b.b,
                  "direction": b.direction, "located": b.located} for b in brackets]
    located = [b for b in brackets if b.located]
    extras = {"peak_value": float(peak.value), "peak_probability": float(peak.share),
              "peak_low": float(peak.ci_low), "peak_high": float(peak.ci_high),
              "reached": bool((pooled.side > 0).any() or (pooled.ci_low >= target).any()),
              "crossings": crossings}
    if brackets:
        extras.update(bracket_low=brackets[0].a, bracket_high=brackets[0].b)
    peak_text = (f"P peaks at {peak.share:.3f} [{peak.ci_low:.3f}, {peak.ci_high:.3f}] at "
                 f"{peak.value:.3g}")
    if located:
        first = located[0]
        more = (f"; {len(brackets) - 1} more crossing(s) in range (the curve is not monotone)"
                if len(brackets) > 1 else "")
        return TippingResult(
            CROSSES, first.estimate, first.low, first.high, target, frame,
            f"P {'rises' if first.direction > 0 else 'falls'} through {target} at "
            f"{first.estimate:.3f} [{first.low:.3f}, {first.high:.3f}] after {runs} runs; "
            f"{peak_text}{more}",
            {"slope": first.fit.slope, "intercept": first.fit.intercept,
             "fit_low": first.fitted[0], "fit_high": first.fitted[1]}, **extras)
    if exhausted:
        return TippingResult(UNRESOLVED, math.nan, math.nan, math.nan, target, frame,
                             f"budget of {runs} runs spent before the answer was complete; "
                             f"{peak_text}", **extras)
    if brackets:
        first = brackets[0]
        return TippingResult(
            NOT_IDENTIFIABLE, math.nan, math.nan, math.nan, target, frame,
            f"P passes {target} somewhere between {first.a:.3g} and {first.b:.3g}, but the "
            f"curve is too flat there to locate the crossing to {precision:g} within the "
            f"budget; {peak_text}", **extras)
    if (pooled.side < 0).all():
        return TippingResult(NEVER, math.nan, math.nan, math.nan, target, frame,
                             f"P stays below {target} across the range (highest upper 95% "
                             f"bound {pooled.ci_high.max():.3f}); {peak_text}", **extras)
    if (pooled.side > 0).all():
        return TippingResult(NEVER, math.nan, math.nan, math.nan, target, frame,
                             f"P stays above {target} across the range (lowest lower 95% "
                             f"bound {pooled.ci_low.min():.3f}); {peak_text}", **extras)
    at = pooled[pooled.side == 0]
    return TippingResult(
        NOT_IDENTIFIABLE, math.nan, math.nan, math.nan, target, frame,
        f"P comes within {resolution:g} of {target} (at {_values_text(at.value)}) but is not "
        f"seen to cross it: too flat at the target to tell; {peak_text}", **extras)


def _values_text(values: pd.Series) -> str:
    shown = ", ".join(f"{v:.3g}" for v in values.iloc[:4])
    return shown + (f" and {len(values) - 4} more" if len(values) > 4 else "")


def grid_bracket(values: np.ndarray, successes: np.ndarray, runs: int,
                 target: float) -> tuple[float, float]:
    """The crossing as an analyst reads it off a fixed grid, as (low, high).

    Between the highest value whose 95% Wilson interval lies wholly below the target and the
    lowest whose interval lies wholly above it (for a rising curve; mirrored for a falling one);
    (-inf, inf) when either side is missing.
    """
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
    pooled = (evaluations.groupby("value", as_index=False)[["runs", "successes"]].sum()
              .sort_values("value").reset_index(drop=True))
    pooled["share"] = pooled["successes"] / pooled["runs"]
    bounds = [wilson_interval(int(s), int(n))
              for s, n in zip(pooled["successes"], pooled["runs"], strict=True)]
    pooled["ci_low"] = [low for low, _ in bounds]
    pooled["ci_high"] = [high for _, high in bounds]
    return pooled
