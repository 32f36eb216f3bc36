"""Designs: which points of parameter space a sweep visits (grid, Latin hypercube, Sobol, Morris).

A design is a DataFrame with one row per point (index `point` = 0, 1, ...) and one column per
axis path. Random designs are seeded from the sweep's seed, so a sweep file always yields the
same points.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from blocsim.experiment.sweepfile import Axis, SweepSpec

MORRIS_LEVELS = 4
"""Grid levels of the Morris elementary-effects design (SALib's default)."""


def axis_levels(axis: Axis) -> list[float | int | bool]:
    """The values a grid visits on one axis: its `values`, or `steps` evenly spaced on `range`."""
    if axis.values is not None:
        return list(axis.values)
    low, high = axis.range  # type: ignore[misc]
    return [float(v) for v in np.linspace(low, high, axis.steps)]  # type: ignore[arg-type]


def unit_to_ranges(unit: np.ndarray, axes: list[Axis]) -> np.ndarray:
    """Scale points of the unit hypercube `(p, d)` onto the axes' ranges."""
    lows = np.array([a.range[0] for a in axes])  # type: ignore[index]
    highs = np.array([a.range[1] for a in axes])  # type: ignore[index]
    return lows + unit * (highs - lows)


def sobol_problem(axes: list[Axis]) -> dict:
    """The SALib `problem` dict of a sweep's axes (for the Sobol and Morris samplers)."""
    return {"num_vars": len(axes), "names": [a.path for a in axes],
            "bounds": [list(a.range) for a in axes]}  # type: ignore[arg-type]


def design_points(spec: SweepSpec) -> pd.DataFrame:
    """Every design point of a sweep, `(points, axes)`, index named `point`."""
    paths = [axis.path for axis in spec.axes]
    if spec.design == "grid":
        rows = list(itertools.product(*(axis_levels(a) for a in spec.axes)))
        frame = pd.DataFrame(rows, columns=paths)
    elif spec.design == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(paths), rng=np.random.default_rng(spec.seed)).random(
            spec.samples)
        frame = pd.DataFrame(unit_to_ranges(unit, spec.axes), columns=paths)
    elif spec.design == "sobol":
        from SALib.sample import sobol

        values = sobol.sample(sobol_problem(spec.axes), spec.samples, calc_second_order=False,
                              seed=spec.seed)
        frame = pd.DataFrame(values, columns=paths)
    else:
        from SALib.sample import morris

        values = morris.sample(sobol_problem(spec.axes), spec.samples, num_levels=MORRIS_LEVELS,
                               seed=spec.seed)
        frame = pd.DataFrame(values, columns=paths)
    frame.index.name = "point"
    return frame
