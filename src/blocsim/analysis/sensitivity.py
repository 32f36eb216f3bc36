"""Which parameters matter: Sobol indices or Morris elementary effects, with SALib.

A `sobol` sweep (Saltelli's scheme) gives first-order and total indices with 95% bootstrap
intervals; a `morris` sweep gives mu* (mean absolute elementary effect) with its interval, and
sigma. Each is computed for every grouping's probability of consolidation and mean peak level per
design point (the replications of a point averaged first).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from blocsim.analysis.sweeps import point_probabilities
from blocsim.errors import ResultsError
from blocsim.experiment.designs import MORRIS_LEVELS, sobol_problem
from blocsim.experiment.sweep import read_sweep_manifest
from blocsim.experiment.sweepfile import SweepSpec

OUTCOMES = {"probability": "P(consolidation)", "mean_peak_level": "mean peak level"}

SENSITIVITY = "sensitivity.parquet"
"""The file `analyze_sensitivity` writes beside the sweep."""


def sobol_indices(problem: dict, y: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """First-order (S1) and total (ST) Sobol indices of `y` over a Saltelli sample.

    The `*_conf` columns are the half-widths of SALib's 95% bootstrap intervals.
    """
    from SALib.analyze import sobol

    with warnings.catch_warnings():
        # A bootstrap resample of a rare outcome can hold no hit; SALib warns and counts that
        # resample's index as 0, which widens the interval it reports (`*_conf`) as it should.
        warnings.filterwarnings("ignore", message="Constant values encountered")
        result = sobol.analyze(problem, y, calc_second_order=False, conf_level=0.95, seed=seed)
    return pd.DataFrame({"parameter": problem["names"], "S1": result["S1"],
                         "S1_conf": result["S1_conf"], "ST": result["ST"],
                         "ST_conf": result["ST_conf"]})


def unmeasured_note(y: np.ndarray, design: str, parameters: int, outcome: str) -> str | None:
    """Why no index can be computed for `y` (one value per design point), or None if one can.

    Sobol indices are normalised by the variance over Saltelli's two base samples (rows A and B of
    each block of `parameters + 2`); an outcome that varies only in the cross rows between them
    (a rare consolidation) has none, and SALib would print its indices as 0 +/- 0.
    """
    label = OUTCOMES[outcome]
    if np.ptp(y) == 0:
        return (f"no variation: {label} is {y[0]:.3g} at every point, so no parameter matters "
                f"within these ranges")
    step = parameters + 2
    if design == "sobol" and np.ptp(np.r_[y[0::step], y[step - 1::step]]) == 0:
        varying = int(np.count_nonzero(y != y[0]))
        return (f"too rare for Sobol indices: {label} departs from {y[0]:.3g} at {varying} of "
                f"{len(y)} points, none of them in the base samples the indices are measured "
                f"against")
    return None


def morris_effects(problem: dict, x: np.ndarray, y: np.ndarray, levels: int,
                   seed: int = 0) -> pd.DataFrame:
    """Morris mu* (with its 95% interval half-width) and sigma of `y` over a Morris sample."""
    from SALib.analyze import morris

    result = morris.analyze(problem, x, y, conf_level=0.95, num_levels=levels, seed=seed)
    return pd.DataFrame({"parameter": problem["names"], "mu_star": result["mu_star"],
                         "mu_star_conf": result["mu_star_conf"], "sigma": result["sigma"]})


def analyze_sensitivity(folder: Path, output: Path | None = None,
                        write: bool = True) -> pd.DataFrame:
    """Indices for every grouping and outcome of a finished sobol or morris sweep.

    Returns one row per (grouping, outcome, parameter). With `write`, also writes
    `sensitivity.parquet` (atomically) into `output`, by default the sweep's folder.
    """
    folder = Path(folder)
    manifest = read_sweep_manifest(folder)
    spec = SweepSpec.model_validate(manifest["sweep"]["spec"])
    if spec.design not in ("sobol", "morris"):
        raise ResultsError(f"{folder} holds a `{spec.design}` sweep; sensitivity indices need "
                           f"`design = \"sobol\"` or `\"morris\"` (for an lhs sweep, use "
                           f"--discover)")
    problem = sobol_problem(spec.axes)
    points = pd.read_parquet(folder / "points.parquet")
    outcomes = pd.read_parquet(folder / "outcomes.parquet",
                               columns=["point", "grouping", "consolidated", "peak_level"])
    summary = point_probabilities(outcomes, points)
    frames = []
    for grouping, rows in summary.groupby("grouping", sort=False):
        rows = rows.sort_values("point")
        for outcome in OUTCOMES:
            y = rows[outcome].to_numpy(dtype=float)
            note = unmeasured_note(y, spec.design, len(problem["names"]), outcome)
            if note is not None:
                table = pd.DataFrame({"parameter": problem["names"], "note": note})
            elif spec.design == "sobol":
                table = sobol_indices(problem, y, spec.seed)
            else:
                x = rows[problem["names"]].to_numpy(dtype=float)
                table = morris_effects(problem, x, y, MORRIS_LEVELS, spec.seed)
            table.insert(0, "outcome", outcome)
            table.insert(0, "grouping", grouping)
            frames.append(table)
    result = pd.concat(frames, ignore_index=True)
    result.insert(0, "method", spec.design)
    result["note"] = result["note"].fillna("") if "note" in result else ""
    if write:
        where = Path(output) if output is not None else folder
        staging = where / f".{SENSITIVITY}.partial"
        try:
            result.to_parquet(staging, index=False)
            os.replace(staging, where / SENSITIVITY)
        finally:
            staging.unlink(missing_ok=True)
    return result


def read_sensitivity(folder: Path) -> pd.DataFrame | None:
    """`sensitivity.parquet` beside a sweep, or None when the sweep has not been analysed.

    Returns:
        One row per (grouping, outcome, parameter): method, grouping, outcome, parameter, the
        method's indices (S1, S1_conf, ST, ST_conf for sobol; mu_star, mu_star_conf, sigma for
        morris) and note ("" unless the outcome never varies).

    Raises:
        ResultsError: if the file exists but cannot be read or lacks the columns it needs.

    """
    path = Path(folder) / SENSITIVITY
    if not path.is_file():
        return None
    try:
        table = pd.read_parquet(path)
    except (OSError, ValueError) as error:
        raise ResultsError(f"{path} cannot be read: {error}") from error
    missing = {"method", "grouping", "outcome", "parameter"} - set(table.columns)
    if missing:
        raise ResultsError(f"{path} lacks the columns {', '.join(sorted(missing))}")
    table = table.astype({c: str for c in ("grouping", "outcome", "parameter", "method")})
    table["note"] = table.get("note", pd.Series("", index=table.index)).fillna("").astype(str)
    return table


def sensitivity_method(table: pd.DataFrame) -> str:
    """`sobol` (S1 and ST) or `morris` (mu*), from the table's method column and columns."""
    method = str(table["method"].iloc[0]) if len(table) else "sobol"
    if method == "morris" or ("ST" not in table.columns and "mu_star" in table.columns):
        return "morris"
    return "sobol"


def format_sensitivity(table: pd.DataFrame, outcomes: tuple[str, ...] = tuple(OUTCOMES)) -> str:
    """Plain-text ranking of the parameters per grouping, most influential first, per outcome.

    Both outcomes by default: where consolidation is rare, P(consolidation) barely varies and the
    mean peak level is the ranking that says something.
    """
    lines = []
    sobol = "ST" in table.columns and table["ST"].notna().any()
    key, half = ("ST", "ST_conf") if sobol else ("mu_star", "mu_star_conf")
    for outcome in outcomes:
        for grouping, rows in table[table.outcome == outcome].groupby("grouping", sort=False):
            if rows.note.iloc[0]:
                lines.append(f"{grouping} — {rows.note.iloc[0]}")
                continue
            lines.append(f"{grouping} — {OUTCOMES[outcome]}, ranked by "
                         f"{'total Sobol index' if sobol else 'Morris mu*'} (± 95% half-width)")
            for row in rows.sort_values(key, ascending=False).itertuples():
                first = f"  S1 {row.S1:6.3f} ± {row.S1_conf:.3f}" if sobol else \
                    f"  sigma {row.sigma:6.3f}"
                lines.append(f"  {row.parameter:<40} {key} {getattr(row, key):6.3f} ± "
                             f"{getattr(row, half):.3f}{first}")
    return "\n".join(lines)
