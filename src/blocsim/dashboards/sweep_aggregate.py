"""Reductions of a sweep's per-point probabilities to what the sweep dashboard draws.

Everything starts from `analysis.sweeps.point_probabilities` (one row per design point and
grouping: replications, consolidated, probability, Wilson interval, axis values). Pooling several
points (a bin of an axis, a cell of a surface) adds their runs and consolidations and takes the
Wilson interval of the pooled counts, so every number here can be traced back to that table and
the page's size depends on the number of points, never on the number of runs.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from blocsim.analysis.summary import wilson_interval

EFFECT_BINS = 8
"""Quantile bins of a sampled (LHS, Sobol) axis in the per-axis effect plots."""


def is_discrete(values: pd.Series, design: str) -> bool:
    """Whether an axis is drawn value by value: a grid's levels, or booleans in any design.

    A sampled design's (LHS, Sobol) axes are binned, however few its points.
    """
    return design == "grid" or values.dtype == bool


def surface_bins(points: int) -> int:
    """Bins per sampled axis of a probability surface: about five points per cell, 3 to 8."""
    return int(min(8, max(3, math.floor(math.sqrt(points / 5)))))


def axis_bins(values: pd.Series, discrete: bool, bins: int = EFFECT_BINS) -> pd.DataFrame:
    """Assign each design point to a bin of one axis.

    A discrete axis keeps its values (one bin per value); a sampled axis is cut into `bins`
    quantile bins (fewer when values repeat).

    Args:
        values: the axis' value at each point, indexed by point.
        discrete: whether to keep the values (`is_discrete`) rather than cut quantile bins.
        bins: quantile bins of a sampled axis.

    Returns:
        One row per point (index `point`): bin (0, 1, ... in axis order), x (the bin's value:
        the level itself, or the mean of the points' values in the bin), low and high (the
        bin's smallest and largest value).

    """
    numeric = values.astype(float)
    if discrete:
        levels = np.sort(numeric.unique())
        codes = np.searchsorted(levels, numeric.to_numpy())
    else:
        codes = pd.qcut(numeric, q=bins, labels=False, duplicates="drop").to_numpy()
    frame = pd.DataFrame({"bin": codes.astype(int), "value": numeric.to_numpy()},
                         index=values.index)
    stats = frame.groupby("bin")["value"].agg(x="mean", low="min", high="max")
    frame = frame.join(stats, on="bin").drop(columns="value")
    frame.index.name = "point"
    return frame


def pool(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Pool the runs of several points: counts added, probability and Wilson interval recomputed.

    Args:
        table: rows of `point_probabilities` (replications, consolidated, mean_peak_level) with
            the `keys` columns.
        keys: the columns to pool by.

    Returns:
        One row per key combination: the keys, points, replications, consolidated, probability,
        ci_low, ci_high, mean_peak_level (weighted by runs).

    """
    weighted = table.assign(_peak=table["mean_peak_level"] * table["replications"])
    pooled = (weighted.groupby(keys, observed=True, sort=True)
              .agg(points=("point", "nunique"), replications=("replications", "sum"),
                   consolidated=("consolidated", "sum"), _peak=("_peak", "sum"))
              .reset_index())
    pooled["probability"] = pooled["consolidated"] / pooled["replications"]
    bounds = [wilson_interval(int(k), int(n))
              for k, n in zip(pooled["consolidated"], pooled["replications"], strict=True)]
    pooled["ci_low"] = [low for low, _ in bounds]
    pooled["ci_high"] = [high for _, high in bounds]
    pooled["mean_peak_level"] = pooled.pop("_peak") / pooled["replications"]
    return pooled


def axis_effects(probabilities: pd.DataFrame, points: pd.DataFrame, paths: list[str],
                 design: str, bins: int = EFFECT_BINS) -> pd.DataFrame:
    """P(consolidation) per grouping against each axis, pooled over the other axes.

    For a discrete axis, the runs at each of its values (all values of the other axes); for a
    sampled axis, the runs of the points in each of its quantile bins.

    Args:
        probabilities: `point_probabilities(outcomes, points)`.
        points: the design (column `point` and one column per axis).
        paths: the axes, in the order to return them.
        design: the sweep's design (`grid` keeps each axis' values, others are binned).
        bins: quantile bins of a sampled axis.

    Returns:
        One row per (axis, grouping, bin): axis, grouping, bin, x, low, high, points,
        replications, consolidated, probability, ci_low, ci_high, mean_peak_level.

    """
    frame = points.set_index("point")
    frames = []
    for path in paths:
        values = frame[path]
        assigned = axis_bins(values, is_discrete(values, design), bins).reset_index()
        table = probabilities[["point", "grouping", "replications", "consolidated",
                               "mean_peak_level"]].merge(assigned, on="point")
        pooled = pool(table, ["grouping", "bin", "x", "low", "high"])
        pooled.insert(0, "axis", path)
        frames.append(pooled)
    return pd.concat(frames, ignore_index=True)


def effect_sizes(effects: pd.DataFrame, grouping: str) -> pd.Series:
    """How much each axis moves one grouping's P(consolidation): the range of its effect curve.

    Args:
        effects: `axis_effects`.
        grouping: the grouping to rank by.

    Returns:
        Per axis, max - min of the grouping's pooled probability across the axis' values or
        bins; largest first (ties keep the axes' order).

    """
    mine = effects[effects["grouping"] == grouping]
    order = list(dict.fromkeys(effects["axis"]))
    sizes = mine.groupby("axis", sort=False)["probability"].agg(lambda p: p.max() - p.min())
    sizes = sizes.reindex(order).fillna(0.0)
    return sizes.sort_values(ascending=False, kind="stable")


def surface(probabilities: pd.DataFrame, points: pd.DataFrame, x_path: str, y_path: str,
            design: str, bins: int) -> pd.DataFrame:
    """P(consolidation) per grouping over two axes, pooled over the other axes.

    On a grid of exactly these two axes every cell is one design point, so its value is that
    point's probability; otherwise each cell pools the runs of the points that fall in it.

    Args:
        probabilities: `point_probabilities(outcomes, points)`.
        points: the design (column `point` and one column per axis).
        x_path: the axis across.
        y_path: the axis up.
        design: the sweep's design (`grid` keeps each axis' values, others are binned).
        bins: quantile bins of a sampled axis.

    Returns:
        One row per (grouping, cell with points): grouping, x_bin, x, x_low, x_high, y_bin, y,
        y_low, y_high, points, replications, consolidated, probability, ci_low, ci_high,
        mean_peak_level.

    """
    frame = points.set_index("point")
    x = (axis_bins(frame[x_path], is_discrete(frame[x_path], design), bins)
         .add_prefix("x_").rename(columns={"x_x": "x"}))
    y = (axis_bins(frame[y_path], is_discrete(frame[y_path], design), bins)
         .add_prefix("y_").rename(columns={"y_x": "y"}))
    cells = x.join(y).reset_index()
    table = probabilities[["point", "grouping", "replications", "consolidated",
                           "mean_peak_level"]].merge(cells, on="point")
    keys = ["grouping", "x_bin", "x", "x_low", "x_high", "y_bin", "y", "y_low", "y_high"]
    return pool(table, keys)


def extreme_points(probabilities: pd.DataFrame, grouping: str, count: int = 5
                   ) -> tuple[pd.DataFrame, pd.DataFrame, int, int]:
    """The design points with the highest and the lowest P(consolidation) of one grouping.

    Args:
        probabilities: `point_probabilities(outcomes, points)`.
        grouping: the grouping to rank by.
        count: how many points at each end.

    Returns:
        (highest, lowest, top ties, bottom ties): rows of `probabilities`, ties broken by the
        interval's bound then by point; and how many points share the highest and the lowest
        probability. When more than `count` tie, the rows are every tied point (the page then
        describes the tie rather than listing an arbitrary `count` of them).

    """
    mine = probabilities[probabilities["grouping"] == grouping]
    top = mine.sort_values(["probability", "ci_high", "point"], ascending=[False, False, True],
                           kind="stable")
    bottom = mine.sort_values(["probability", "ci_low", "point"], kind="stable")
    ties = [int((mine["probability"] == end["probability"].iloc[0]).sum()) if len(end) else 0
            for end in (top, bottom)]
    top, bottom = (end.head(tied if tied > count else count).reset_index(drop=True)
                   for end, tied in zip((top, bottom), ties, strict=True))
    return top, bottom, ties[0], ties[1]
