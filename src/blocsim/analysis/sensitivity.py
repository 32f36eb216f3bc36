"""Which parameters matter: Sobol indices or Morris elementary effects, with SALib.

A `sobol` sweep (Saltelli's scheme) gives first-order and total indices with 95% bootstrap
intervals; a `morris` sweep gives mu* (mean absolute elementary effect) with its interval, and
sigma. Each is computed for every grouping's probability of consolidation and mean peak level per
design point (the replications of a point averaged first).

A point's mean of finitely many runs carries replication noise, independent from point to point
(each point has its own streams), and that noise would pass for influence: with 20 runs a point,
a pressure without any effect shows a total index near 0.5 and a real one's first-order index is
halved. The Sobol indices are therefore net of it (the noise variance, estimated from each
point's own runs, is taken out of the variance between points and out of the total-effect
estimator, whose expectation it inflates by the same amount; the first-order estimator's
numerator is unbiased), and Morris' mu* comes with the floor that noise alone would give it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from blocsim.analysis.summary import Z95
from blocsim.analysis.sweeps import point_probabilities
from blocsim.errors import ResultsError
from blocsim.experiment.designs import MORRIS_LEVELS, sobol_problem
from blocsim.experiment.sweep import read_sweep_manifest
from blocsim.experiment.sweepfile import SweepSpec

OUTCOMES = {"probability": "P(consolidation)", "mean_peak_level": "mean peak level"}

SENSITIVITY = "sensitivity.parquet"
"""The file `analyze_sensitivity` writes beside the sweep."""


NOISE_DOMINATES = 0.5
"""The share of the variance between points above which a sweep's Sobol indices are not reported:
the points then differ more by their runs' noise than by their parameters, and the indices,
divided by the share left, amplify their own sampling error more than twofold (on the shipped
sweep, 20 runs a point, a share of 0.75 gave total indices of ±2 to ±4)."""

BOOTSTRAP_RESAMPLES = 100
"""Bootstrap resamples of the design's rows behind each interval (SALib's default)."""

def sobol_indices(problem: dict, y: np.ndarray, seed: int = 0,
                  noise: np.ndarray | None = None) -> pd.DataFrame:
    """First-order (S1) and total (ST) Sobol indices of `y` over a Saltelli sample.

    The estimators are SALib's (Saltelli 2010's first-order, Jansen's total, on `y` centred and
    scaled); the `*_conf` columns are the half-widths of 95% bootstrap intervals over the
    design's rows, seeded by `seed`.

    Args:
        problem: SALib's problem (`experiment.designs.sobol_problem`).
        y: one value per design point, in Saltelli's order (a block of `D + 2` rows per base
            sample).
        seed: seeds the bootstrap.
        noise: per point, the variance of its value that is replication noise (unbiased, from
            its runs: `replication_noise`); None for a deterministic `y`. The indices are then
            those of the noise-free mean: the noise is taken out of the variance they divide by
            and out of the total-effect estimator.

    Returns:
        One row per parameter: S1, S1_conf, ST, ST_conf and noise_share, the share of the
        variance between points that is replication noise (0 without `noise`). Where that
        share reaches 1 nothing is left to apportion and the indices are NaN.

    """
    from SALib.analyze.sobol import separate_output_values

    names = problem["names"]
    d = len(names)
    n = y.size // (d + 2)
    scale = float(np.std(y))
    centred = (y - np.mean(y)) / scale
    noise = np.zeros_like(y, dtype=float) if noise is None else np.asarray(noise) / scale**2
    values = separate_output_values(centred, d, n, False)[:3]
    noises = separate_output_values(noise, d, n, False)[:3]
    s1, st, share = _sobol_estimates(*values, *noises)
    s1_conf = st_conf = np.full(d, np.nan)
    if share < 1:
        rows = np.random.default_rng(seed).integers(n, size=(n, BOOTSTRAP_RESAMPLES))
        s1_r, st_r, _ = _sobol_estimates(*(v[rows] for v in values),
                                         *(v[rows] for v in noises))
        kept = ~np.isnan(s1_r[:, 0])
        if kept.sum() > 1:
            s1_conf = Z95 * np.std(s1_r[kept], axis=0, ddof=1)
            st_conf = Z95 * np.std(st_r[kept], axis=0, ddof=1)
    return pd.DataFrame({"parameter": names, "S1": s1, "S1_conf": s1_conf, "ST": st,
                         "ST_conf": st_conf, "noise_share": share})


def _sobol_estimates(a: np.ndarray, b: np.ndarray, ab: np.ndarray, noise_a: np.ndarray,
                     noise_b: np.ndarray, noise_ab: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, float | np.ndarray]:
    """S1 and ST `(..., D)` net of noise, and the noise's share of the variance between points.

    `a`, `b` `(N, ...)` and `ab` `(N, ..., D)` are Saltelli's matrices, the `noise_*` their
    points' noise variances (same shapes).

    E[(f_A - f_ABi)^2] / 2 = V_Ti + (noise_A + noise_ABi) / 2, and the variance of the base
    samples is the mean's plus the mean noise; E[f_B (f_ABi - f_A)] = V_i needs no correction.
    """
    variance = np.var(np.concatenate([a, b]), axis=0)
    noise = np.mean(np.concatenate([noise_a, noise_b]), axis=0)
    share = noise / variance
    signal = np.where(variance > noise, variance - noise, np.nan)[..., None]
    first = np.mean(b[..., None] * (ab - a[..., None]), axis=0) / signal
    total = (0.5 * np.mean((a[..., None] - ab) ** 2, axis=0)
             - 0.5 * np.mean(noise_a[..., None] + noise_ab, axis=0)) / signal
    return first, total, share


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
                   seed: int = 0, noise: np.ndarray | None = None) -> pd.DataFrame:
    """Morris mu* (with its 95% interval half-width) and sigma of `y` over a Morris sample.

    With `noise` (per point, the variance of its value that is replication noise), the column
    `mu_star_noise` is the mu* a parameter without any effect would show from that noise alone:
    an elementary effect is a difference of two points' values over the step, so with no
    effect it is normal with variance (noise_1 + noise_2) / step^2, whose mean absolute value
    is sqrt(2 / pi) times its standard deviation. Without `noise` the floor is 0.
    """
    from SALib.analyze import morris

    result = morris.analyze(problem, x, y, conf_level=0.95, num_levels=levels, seed=seed)
    floor = 0.0
    if noise is not None:
        step = levels / (2 * (levels - 1))
        floor = float(np.sqrt(2 / np.pi) * np.sqrt(2 * np.mean(noise)) / step)
    return pd.DataFrame({"parameter": problem["names"], "mu_star": result["mu_star"],
                         "mu_star_conf": result["mu_star_conf"], "sigma": result["sigma"],
                         "mu_star_noise": floor})


def replication_noise(outcomes: pd.DataFrame, draw_block: int = 1) -> pd.DataFrame:
    """Per (point, grouping): the variance of each outcome's point mean that is replication noise.

    Unbiased: the variance between the point's blocks of runs (the runs sharing one posterior
    draw; each run alone without a posterior) over the number of blocks, so a draw's share of the
    noise counts too. NaN for a point with fewer than two blocks, whose noise cannot be told
    from its value. `outcomes` needs point, grouping, replication, consolidated and peak_level.
    """
    frame = pd.DataFrame({
        "point": outcomes["point"], "grouping": outcomes["grouping"],
        "block": outcomes["replication"] // max(int(draw_block), 1),
        "probability": outcomes["consolidated"].astype(float),
        "mean_peak_level": outcomes["peak_level"].astype(float)})
    blocks = frame.groupby(["point", "grouping", "block"], observed=True, sort=False)[
        list(OUTCOMES)].mean()
    per_point = blocks.groupby(level=["point", "grouping"], observed=True, sort=False)
    return (per_point.var(ddof=1) / per_point.count()).reset_index()


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
    outcomes = pd.read_parquet(folder / "outcomes.parquet", columns=[
        "point", "replication", "grouping", "consolidated", "peak_level"])
    summary = point_probabilities(outcomes, points)
    if not spec.common_random_numbers:
        draw_block = (manifest.get("posterior") or {}).get("draw_block", 1)
        summary = summary.merge(replication_noise(outcomes, draw_block), how="left",
                                on=["point", "grouping"], suffixes=("", "_noise"))
    frames = []
    for grouping, rows in summary.groupby("grouping", sort=False):
        rows = rows.sort_values("point")
        for outcome in OUTCOMES:
            y = rows[outcome].to_numpy(dtype=float)
            noise = _noise_of(rows, outcome)
            note = unmeasured_note(y, spec.design, len(problem["names"]), outcome)
            if note is not None:
                table = pd.DataFrame({"parameter": problem["names"], "note": note})
            elif spec.design == "sobol":
                table = sobol_indices(problem, y, spec.seed, noise)
                if table["noise_share"].iloc[0] > NOISE_DOMINATES:
                    table["note"] = noise_note(outcome, float(table["noise_share"].iloc[0]))
                    table[["S1", "S1_conf", "ST", "ST_conf"]] = np.nan
            else:
                x = rows[problem["names"]].to_numpy(dtype=float)
                table = morris_effects(problem, x, y, MORRIS_LEVELS, spec.seed, noise)
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


def _noise_of(rows: pd.DataFrame, outcome: str) -> np.ndarray | None:
    """The points' noise variances of an outcome, or None where they cannot be corrected for.

    None under common random numbers (the noise is shared between points) or when no point has
    the two runs (or draws) its noise needs; a point that lacks them (its other runs failed)
    takes the mean of the others'.
    """
    column = f"{outcome}_noise"
    if column not in rows:
        return None
    noise = rows[column].to_numpy(dtype=float)
    known = ~np.isnan(noise)
    if not known.any():
        return None
    return np.where(known, noise, noise[known].mean())


def noise_note(outcome: str, share: float) -> str:
    """Why no Sobol index is given: the points differ mostly by their runs' noise."""
    return (f"mostly replication noise: {share:.0%} of the variance of {OUTCOMES[outcome]} "
            f"between points is what its runs' noise alone would give, too much to apportion "
            f"between the parameters; more replications per point would tell")


def _noise_words(rows: pd.DataFrame, sobol: bool) -> str:
    """What the ranking says about replication noise: how much was taken out, or the floor."""
    column = "noise_share" if sobol else "mu_star_noise"
    value = float(rows[column].iloc[0]) if column in rows else float("nan")
    if np.isnan(value) or value == 0:
        return "; not corrected for replication noise"
    if sobol:
        return (f"; net of replication noise ({value:.0%} of the variance between points); "
                f"values below 0 or above 1 are estimation noise")
    return f"; replication noise alone would give mu* {value:.3f}"


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
                         f"{'total Sobol index' if sobol else 'Morris mu*'} (± 95% half-width)"
                         f"{_noise_words(rows, sobol)}")
            for row in rows.sort_values(key, ascending=False).itertuples():
                first = f"  S1 {row.S1:6.3f} ± {row.S1_conf:.3f}" if sobol else \
                    f"  sigma {row.sigma:6.3f}"
                lines.append(f"  {row.parameter:<40} {key} {getattr(row, key):6.3f} ± "
                             f"{getattr(row, half):.3f}{first}")
    return "\n".join(lines)
