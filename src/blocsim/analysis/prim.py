"""PRIM, the patient rule induction method (Friedman & Fisher 1999), for scenario discovery.

Given inputs `x` (points x axes) and a boolean `y` marking the cases of interest, PRIM looks for
a box, a set of intervals `[low, high]` per axis, inside which the cases of interest are dense.

* **Peeling.** Starting from the box that holds every point, each step considers, for every axis,
  removing the points of the box below the `peel_alpha` quantile of that axis, or above the
  `1 - peel_alpha` quantile. As in EMA Workbench and sdtoolkit, the quantile's position is
  `(n - 1) * alpha` among the box's n sorted values, so a peel removes `floor((n - 1) * alpha) + 1`
  points (and every point tied with the last of them). It takes the peel that leaves the highest
  mean of `y` in the box. **Ties** (equal means, frequent when cases are few) go to the peel that
  does not restrict a new axis, then to the one that keeps more points, then to the first axis in
  column order, upper side before lower (EMA Workbench's order): an axis is restricted only when
  that buys density no peel of an already restricted axis buys. Peeling stops when every peel
  would leave less than `min_mass` of all points in the box, or when the box holds only cases of
  interest. The sequence of boxes is the trajectory, the coverage-density trade-off.
* **Choosing.** `choose_step` proposes one box of the trajectory (high density, as much coverage
  as that allows); any other step can be taken instead (`PrimResult.box(step)`), refined alike.
* **Pasting.** The chosen box is then grown: each step considers, for every axis and side, moving
  the limit outwards to take in the `paste_alpha` x (points in the box) nearest points that lie
  outside the box on that axis only; it takes the paste with the highest mean and repeats while
  the mean strictly increases.
* **Pruning.** Each limit of the box is tested on its own (quasi-p-value per lower and per upper
  limit, `quasi_p_values`); the weakest limit whose quasi-p-value is at least `QP_SIGNIFICANCE` is
  widened to the data's range, and so on until every remaining limit is significant. A reported
  box therefore restricts only axes with at least one significant limit.

Statistics of a box, with N points and K cases of interest in all, n points and k cases of
interest inside the box: coverage = k / K, density = k / n (the mean of `y`), mass = n / N.
An axis is restricted when one of the box's limits is inside the data's range.

Boxes are closed (a point on a limit is inside) and their limits are data values, in the axes'
own units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import binom

DEFAULT_MIN_COVERAGE = 0.5
"""The proposed box is among the peeled boxes with at least this coverage (share, 0-1)."""

DEFAULT_DENSITY_TOLERANCE = 0.05
"""Densities within this of the best eligible density count as equally good (absolute, 0-1).

Zero gives the plain rule "highest density with coverage >= 0.5", which chases label noise: with
5% of labels flipped on a two-axis box in five, it restricted spurious axes in 28 of 30 seeds and
moved true limits by up to 0.11; with 0.05, no spurious axis in 30 seeds and limits within 0.03.
"""

QP_SIGNIFICANCE = 0.05
"""A limit whose quasi-p-value is at least this may be noise (Bryant & Lempert 2010)."""

TRAJECTORY_COLUMNS = ["step", "phase", "coverage", "density", "mass", "points", "of_interest",
                      "n_restricted", "chosen"]

BOX_COLUMNS = ["low", "high", "data_low", "data_high", "restricted", "qp_low", "qp_high", "qp"]
"""Columns of a box table (indexed by axis); `qp` is the larger of the axis' limits' values."""


@dataclass(frozen=True)
class _Limits:
    """A box as two arrays over the axes: lower and upper limits (inclusive)."""

    low: np.ndarray
    high: np.ndarray

    def contains(self, values: np.ndarray) -> np.ndarray:
        """Boolean mask of the rows of `values` (points x axes) inside the box."""
        return np.all((values >= self.low) & (values <= self.high), axis=1)

    def with_limit(self, axis: int, side: int, value: float) -> _Limits:
        """A copy with one limit moved; side 0 is the lower limit, 1 the upper."""
        low, high = self.low.copy(), self.high.copy()
        (low if side == 0 else high)[axis] = value
        return _Limits(low, high)


@dataclass(frozen=True)
class _Move:
    """A candidate peel or paste: the new box, its points and its mean of y."""

    limits: _Limits
    inside: np.ndarray
    mean: float
    count: int


@dataclass(frozen=True)
class Box:
    """One box of the trade-off, after the refinements asked for (pasting, pruning).

    Attributes:
        step: The peeling step it comes from (its point on the coverage-density curve).
        phase: The last refinement applied: "peel" (none), "paste" or "prune".
        limits: One row per axis (index: axis) with columns `BOX_COLUMNS`: low, high (axis
            units), data_low, data_high (the data's range), restricted, qp_low and qp_high
            (quasi-p-value of each limit, NaN where the limit is the data's own), qp (the
            larger of the two: the axis' weakest limit).
        coverage: Share of the cases of interest inside (0-1).
        density: Share of the box's points that are cases of interest (0-1).
        mass: Share of all points inside (0-1).
        points: Points inside.
        of_interest: Cases of interest inside.

    """

    step: int
    phase: str
    limits: pd.DataFrame
    coverage: float
    density: float
    mass: float
    points: int
    of_interest: int

    @property
    def restricted_axes(self) -> list[str]:
        """The axes the box restricts, in column order."""
        return [str(a) for a in self.limits.index[self.limits["restricted"]]]

    @property
    def significant_axes(self) -> list[str]:
        """The restricted axes whose every restricted limit has quasi-p < QP_SIGNIFICANCE."""
        return [str(a) for a in self.limits.index[self.limits["qp"] < QP_SIGNIFICANCE]]


@dataclass(frozen=True)
class _Data:
    """The inputs PRIM works on and the refinements it applies to a chosen box."""

    axes: pd.Index
    values: np.ndarray
    flags: np.ndarray
    range: _Limits
    paste_alpha: float | None
    prune: bool


@dataclass(frozen=True)
class PrimResult:
    """The peeling trajectory, the proposed box and a way to take any other box of it.

    Attributes:
        trajectory: One row per box: the peeled boxes (phase "peel", step 0, 1, ...), then the
            proposed step's refinements (phase "paste", "prune"; step: the proposed step).
            Columns `TRAJECTORY_COLUMNS`; `chosen` is True on the reported box (the last row
            when refined, else the proposed peeled box).
        boxes: One box table per trajectory row, in the same order (see `Box.limits`).
        chosen_step: The peeling step `choose_step` proposed.

    """

    trajectory: pd.DataFrame
    boxes: list[pd.DataFrame]
    chosen_step: int
    _data: _Data = field(repr=False)
    _peeled: list[_Limits] = field(repr=False)

    @property
    def steps(self) -> int:
        """How many boxes the peeling trajectory holds (step 0 is the whole data)."""
        return len(self._peeled)

    def box(self, step: int | None = None) -> Box:
        """The box of one peeling step, refined as the proposed one was (pasted, pruned).

        Args:
            step: A peeling step (0 to `steps - 1`); None for the proposed step.

        Returns:
            The refined box and its statistics.

        Raises:
            IndexError: If the step is not on the trajectory.

        """
        step = self.chosen_step if step is None else int(step)
        if not 0 <= step < len(self._peeled):
            raise IndexError(f"step {step} is not on the peeling trajectory "
                             f"(steps 0 to {len(self._peeled) - 1})")
        phase, limits = refine(self._data, self._peeled[step])[-1]
        return _box(self._data, limits, step, phase)

    def step_boxes(self) -> pd.DataFrame:
        """Every step's box, peeled and refined, as one long table (one row per axis).

        Returns:
            Columns step, stage ("peeled": the point on the trade-off curve; "refined": what
            `box(step)` returns), axis, the `BOX_COLUMNS` and the box's coverage, density, mass,
            points, of_interest and n_restricted.

        """
        frames = []
        for step, peeled in enumerate(self._peeled):
            for stage, box in (("peeled", _box(self._data, peeled, step, "peel")),
                               ("refined", self.box(step))):
                frame = box.limits.reset_index()
                frame.insert(0, "stage", stage)
                frame.insert(0, "step", step)
                frame = frame.assign(coverage=box.coverage, density=box.density, mass=box.mass,
                                     points=box.points, of_interest=box.of_interest,
                                     n_restricted=int(box.limits["restricted"].sum()))
                frames.append(frame)
        return pd.concat(frames, ignore_index=True)


def prim(x: pd.DataFrame, y: np.ndarray, peel_alpha: float = 0.05, min_mass: float = 0.05,
         paste: bool = True, paste_alpha: float | None = None,
         min_coverage: float = DEFAULT_MIN_COVERAGE,
         density_tolerance: float = DEFAULT_DENSITY_TOLERANCE, prune: bool = True,
         ) -> PrimResult:
    """Peel a box around the cases of interest, propose one along the trajectory, refine it.

    Args:
        x: Inputs, one row per point and one numeric column per axis (axis units).
        y: Cases of interest, a boolean array as long as `x`.
        peel_alpha: Share of the box's points each peel removes (0 < alpha < 0.5).
        min_mass: Smallest share of all points a peeled box may hold (0 < beta < 1).
        paste: Whether to paste the chosen box (a "paste" row ends the trajectory).
        paste_alpha: Share of the box's points each paste adds; `peel_alpha` when None.
        min_coverage: Smallest coverage of the proposed box (share of cases of interest, 0-1).
        density_tolerance: The proposed box is the peeled box of highest coverage among those
            whose density is within this of the best density at coverage >= `min_coverage`.
        prune: Whether to widen, one at a time, the limit with the highest quasi-p-value while
            it is >= QP_SIGNIFICANCE (a "prune" row then ends the trajectory).

    Returns:
        The trajectory, its boxes, the proposed step, and `box(step)` for any other step.

    Raises:
        ValueError: If the inputs are malformed or there is no case of interest.

    """
    values, flags = _check_inputs(x, y, peel_alpha, min_mass)
    data = _Data(x.columns, values, flags, _Limits(values.min(axis=0), values.max(axis=0)),
                 (peel_alpha if paste_alpha is None else paste_alpha) if paste else None, prune)
    peeled = peel(values, flags, peel_alpha, min_mass)
    rows = [_stats(data, limits, step, "peel") for step, limits in enumerate(peeled)]
    chosen = choose_step(pd.DataFrame(rows), min_coverage, density_tolerance)
    boxes = [_box_frame(data, limits) for limits in peeled]
    for phase, limits in refine(data, peeled[chosen])[1:]:
        rows.append(_stats(data, limits, chosen, phase))
        boxes.append(_box_frame(data, limits))
    trajectory = pd.DataFrame(rows)
    refined = len(trajectory) > len(peeled)
    trajectory["chosen"] = trajectory.index == (len(trajectory) - 1 if refined else chosen)
    return PrimResult(trajectory[TRAJECTORY_COLUMNS], boxes, chosen, data, peeled)


def _check_inputs(x: pd.DataFrame, y: np.ndarray, peel_alpha: float,
                  min_mass: float) -> tuple[np.ndarray, np.ndarray]:
    flags = np.asarray(y)
    if flags.ndim != 1 or len(flags) != len(x):
        raise ValueError(f"y must be one-dimensional and as long as x ({len(x)} rows), "
                         f"got shape {flags.shape}")
    if flags.dtype != bool:
        raise ValueError(f"y must be boolean (cases of interest), got {flags.dtype}")
    if not 0 < peel_alpha < 0.5:
        raise ValueError(f"peel_alpha must be in (0, 0.5), got {peel_alpha}")
    if not 0 < min_mass < 1:
        raise ValueError(f"min_mass must be in (0, 1), got {min_mass}")
    if x.shape[1] == 0 or not all(pd.api.types.is_numeric_dtype(t) for t in x.dtypes):
        raise ValueError("x must have at least one column, all numeric")
    if not flags.any():
        raise ValueError("y holds no case of interest; PRIM has nothing to find")
    values = x.to_numpy(dtype=float)
    if np.isnan(values).any():
        raise ValueError("x holds missing values")
    return values, flags


def peel(values: np.ndarray, flags: np.ndarray, alpha: float,
         min_mass: float) -> list[_Limits]:
    """The peeling trajectory: the boxes from the whole data down to about `min_mass`.

    Args:
        values: Inputs, points x axes.
        flags: Cases of interest, one boolean per point.
        alpha: Share of the box's points each peel removes.
        min_mass: Smallest share of all points a box may hold.

    Returns:
        The boxes in peeling order, the first one spanning the data.

    """
    total = len(values)
    data = _Limits(values.min(axis=0), values.max(axis=0))
    limits = data
    inside = np.ones(total, dtype=bool)
    boxes = [limits]
    while flags[inside].mean() < 1.0:
        move = _best_peel(values, flags, limits, data, inside, alpha, min_mass * total)
        if move is None:
            break
        limits, inside = move.limits, move.inside
        boxes.append(limits)
    return boxes


def peel_count(points: int, alpha: float) -> int:
    """Points one peel removes from a box of `points`: those below the alpha-quantile.

    The quantile's position among the sorted values is `(points - 1) * alpha` (the rule of
    sdtoolkit and EMA Workbench's `get_quantile`), so the values at positions 0 to
    `floor((points - 1) * alpha)` go: one more than `int(alpha * points)` for most box sizes.
    """
    return math.floor((points - 1) * alpha) + 1


def _best_peel(values: np.ndarray, flags: np.ndarray, limits: _Limits, data: _Limits,
               inside: np.ndarray, alpha: float, min_count: float) -> _Move | None:
    """The peel leaving the highest mean (ties: see the module's docstring), or None."""
    members = np.flatnonzero(inside)
    remove = peel_count(len(members), alpha)
    restricted = _restricted(limits, data)
    best, best_key = None, None
    for axis in range(values.shape[1]):
        column = values[members, axis]
        for side, cut in reversed(list(enumerate(_peel_cuts(column, remove)))):
            if cut is None:
                continue
            keep = column >= cut if side == 0 else column <= cut
            count = int(keep.sum())
            if count < min_count:
                continue
            mean = float(flags[members[keep]].mean())
            key = (mean, bool(restricted[axis]), count)
            if best_key is None or key > best_key:
                new_inside = np.zeros_like(inside)
                new_inside[members[keep]] = True
                best = _Move(limits.with_limit(axis, side, cut), new_inside, mean, count)
                best_key = key
    return best


def _peel_cuts(column: np.ndarray, remove: int) -> tuple[float | None, float | None]:
    """New lower and upper limits that drop `remove` points from one end of `column`.

    A limit is the nearest kept value; points tied with the last removed one go too. None for a
    side where that would leave nothing (the column is constant beyond the cut).
    """
    ordered = np.sort(column)
    count = len(ordered)
    remove = min(remove, count - 1)
    first_kept = int(np.searchsorted(ordered, ordered[remove - 1], side="right"))
    last_kept = int(np.searchsorted(ordered, ordered[count - remove], side="left")) - 1
    lower = float(ordered[first_kept]) if first_kept < count else None
    upper = float(ordered[last_kept]) if last_kept >= 0 else None
    return lower, upper


def refine(data: _Data, limits: _Limits) -> list[tuple[str, _Limits]]:
    """A peeled box and the refinements `data` asks for: [("peel", box), ("paste", ...), ...]."""
    stages = [("peel", limits)]
    if data.paste_alpha is not None:
        limits = paste_box(data.values, data.flags, limits, data.paste_alpha)
        stages.append(("paste", limits))
    if data.prune:
        limits = prune_box(data.values, data.flags, limits, data.range)
        stages.append(("prune", limits))
    return stages


def paste_box(values: np.ndarray, flags: np.ndarray, limits: _Limits,
              alpha: float) -> _Limits:
    """Grow a box along single axes while that strictly raises its mean of y.

    Args:
        values: Inputs, points x axes.
        flags: Cases of interest, one boolean per point.
        limits: The box to paste (typically the chosen peeled box).
        alpha: Share of the box's points each paste adds (at least one point).

    Returns:
        The pasted box; `limits` itself when no paste raises the mean.

    """
    while True:
        inside = limits.contains(values)
        mean = float(flags[inside].mean()) if inside.any() else 0.0
        move = _best_paste(values, flags, limits, inside, alpha)
        if move is None or move.mean <= mean:
            return limits
        limits = move.limits


def _best_paste(values: np.ndarray, flags: np.ndarray, limits: _Limits, inside: np.ndarray,
                alpha: float) -> _Move | None:
    """The paste giving the highest mean (ties: fewest points added), or None if none exists."""
    below, above = values < limits.low, values > limits.high
    outside_count = (below | above).sum(axis=1)
    add = max(1, int(alpha * inside.sum()))
    hits, count = int(flags[inside].sum()), int(inside.sum())
    best: _Move | None = None
    for axis in range(values.shape[1]):
        for side, beyond in enumerate((below[:, axis], above[:, axis])):
            pool = beyond & (outside_count == 1)
            if not pool.any():
                continue
            candidates = np.sort(values[pool, axis])
            cut = candidates[-min(add, len(candidates))] if side == 0 else \
                candidates[min(add, len(candidates)) - 1]
            added = pool & ((values[:, axis] >= cut) if side == 0 else (values[:, axis] <= cut))
            new_count = count + int(added.sum())
            mean = (hits + int(flags[added].sum())) / new_count
            if best is None or (mean, -new_count) > (best.mean, -best.count):
                best = _Move(limits.with_limit(axis, side, float(cut)), inside | added, mean,
                             new_count)
    return best


def prune_box(values: np.ndarray, flags: np.ndarray, limits: _Limits, data: _Limits,
              significance: float = QP_SIGNIFICANCE) -> _Limits:
    """Widen weak limits, the weakest first, until each left has quasi-p < significance.

    Args:
        values: Inputs, points x axes.
        flags: Cases of interest, one boolean per point.
        limits: The box to prune.
        data: The data's range (a dropped limit is widened to it).
        significance: Limits with a quasi-p-value at least this are widened.

    Returns:
        The pruned box.

    """
    while True:
        qp = quasi_p_values(values, flags, limits, data)
        if np.isnan(qp).all() or np.nanmax(qp) < significance:
            return limits
        side, axis = np.unravel_index(int(np.nanargmax(qp)), qp.shape)
        limits = limits.with_limit(int(axis), int(side),
                                   float((data.low if side == 0 else data.high)[axis]))


def quasi_p_values(values: np.ndarray, flags: np.ndarray, limits: _Limits,
                   data: _Limits) -> np.ndarray:
    """How likely the box's density would be this high without each of its limits, one at a time.

    For each limit inside the data's range, a one-sided binomial test (Bryant & Lempert 2010;
    EMA Workbench tests each limit alike): with p0 the density of the box with that one limit
    moved to the data's range, the probability of at least the box's cases of interest among
    its points. "Quasi" because the box was fitted to the same data; small values (< 0.05) mean
    the limit matters, large ones that it may be noise. A two-sided restriction gets two values,
    so a noise limit cannot hide behind a real one on the same axis.

    Returns:
        An array of shape (2, axes): row 0 the lower limits, row 1 the upper; NaN where the
        limit is the data's own.

    """
    inside = limits.contains(values)
    hits, count = int(flags[inside].sum()), int(inside.sum())
    result = np.full((2, values.shape[1]), np.nan)
    for side, (mine, own) in enumerate(((limits.low, data.low), (limits.high, data.high))):
        for axis in np.flatnonzero(mine != own):
            widened = limits.with_limit(int(axis), side, float(own[axis]))
            baseline = float(flags[widened.contains(values)].mean())
            result[side, axis] = float(binom.sf(hits - 1, count, baseline)) if count else 1.0
    return result


def _restricted(limits: _Limits, data: _Limits) -> np.ndarray:
    return (limits.low > data.low) | (limits.high < data.high)


def _stats(data: _Data, limits: _Limits, step: int, phase: str) -> dict:
    """Coverage, density, mass and restricted axes of one box."""
    inside = limits.contains(data.values)
    points, of_interest = int(inside.sum()), int(data.flags[inside].sum())
    return {"step": step, "phase": phase,
            "coverage": of_interest / int(data.flags.sum()),
            "density": of_interest / points if points else 0.0,
            "mass": points / len(data.values), "points": points, "of_interest": of_interest,
            "n_restricted": int(_restricted(limits, data.range).sum()), "chosen": False}


def _box_frame(data: _Data, limits: _Limits) -> pd.DataFrame:
    """One box as a DataFrame indexed by axis, with the quasi-p-values of its limits."""
    qp = quasi_p_values(data.values, data.flags, limits, data.range)
    weakest = np.fmax(qp[0], qp[1])
    return pd.DataFrame({"low": limits.low, "high": limits.high, "data_low": data.range.low,
                         "data_high": data.range.high,
                         "restricted": _restricted(limits, data.range),
                         "qp_low": qp[0], "qp_high": qp[1], "qp": weakest},
                        index=pd.Index(data.axes, name="axis"))


def _box(data: _Data, limits: _Limits, step: int, phase: str) -> Box:
    stats = _stats(data, limits, step, phase)
    return Box(step, phase, _box_frame(data, limits), stats["coverage"], stats["density"],
               stats["mass"], stats["points"], stats["of_interest"])


def choose_step(trajectory: pd.DataFrame, min_coverage: float = DEFAULT_MIN_COVERAGE,
                density_tolerance: float = DEFAULT_DENSITY_TOLERANCE) -> int:
    """The peeling step to propose: high density, as much coverage as that allows.

    Among the peeled boxes with coverage >= `min_coverage`, take those whose density is within
    `density_tolerance` of the best of them, and of these the one with the highest coverage
    (ties: the earliest step). Step 0 (the whole data, coverage 1) always qualifies.

    Args:
        trajectory: Peeling rows with step, coverage and density columns (phase optional).
        min_coverage: Smallest acceptable coverage (share of the cases of interest, 0-1).
        density_tolerance: Densities this close to the best count as equal (absolute, 0-1).

    Returns:
        The chosen step.

    """
    peeled = trajectory[trajectory["phase"] == "peel"] if "phase" in trajectory else trajectory
    eligible = peeled[peeled["coverage"] >= min_coverage - 1e-12]
    best = eligible["density"].max()
    good = eligible[eligible["density"] >= best - density_tolerance - 1e-12]
    ranked = good.sort_values(["coverage", "density", "step"], ascending=[False, False, True],
                              kind="stable")
    return int(ranked["step"].iloc[0])


def jaccard_overlap(low_a: np.ndarray, high_a: np.ndarray, low_b: np.ndarray,
                    high_b: np.ndarray) -> float:
    """Volume of the intersection of two boxes over the volume of their union (0-1).

    The measure of box recovery used to compare PRIM implementations on data with a known box:
    1 for identical boxes, 0 for disjoint ones. Limits are arrays over the same axes; pass the
    data's range for an unrestricted axis, and rescale axes to a common unit first if their
    ranges differ.
    """
    low_a, high_a = np.asarray(low_a, float), np.asarray(high_a, float)
    low_b, high_b = np.asarray(low_b, float), np.asarray(high_b, float)
    overlap = np.clip(np.minimum(high_a, high_b) - np.maximum(low_a, low_b), 0.0, None)
    both = float(np.prod(overlap))
    union = float(np.prod(high_a - low_a)) + float(np.prod(high_b - low_b)) - both
    return both / union if union > 0 else 1.0
