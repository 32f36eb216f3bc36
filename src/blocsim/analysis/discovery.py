"""Scenario discovery on a finished sweep: where in parameter space a grouping consolidates.

A design point is a case of interest when the grouping's probability of consolidation there (the
share of the point's replications that consolidated, `point_probabilities`) is at least
`threshold`. PRIM (`blocsim.analysis.prim`, Friedman & Fisher 1999, with peeling and pasting) then
looks for a box of axis values holding those points: the analyst's question "under which
combinations of pressures does a bloc form?". The inputs are the sweep's axes (`points.parquet`).

PRIM is meant for space-filling designs (Latin hypercube): on a grid, many points share each
value and peels remove whole grid lines; on a Sobol (Saltelli) design, the points repeat
coordinates across its matrices. Either is accepted, with a warning in the result.

`discover` writes three tables beside the sweep, atomically:
`discovery_<GROUPING>_trajectory.parquet` (one row per box along the peeling trajectory, then the
proposed box after pasting and after pruning), `discovery_<GROUPING>_box.parquet` (one row per
axis of the reported box) and `discovery_<GROUPING>_boxes.parquet` (every step's box, peeled and
refined, one row per step, stage and axis), so the analyst can take another point of the
coverage-density trade-off (`DiscoveryResult.box(step)` in Python; the sweep page's picker).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from blocsim.analysis.prim import (
    DEFAULT_DENSITY_TOLERANCE,
    DEFAULT_MIN_COVERAGE,
    QP_SIGNIFICANCE,
    Box,
    PrimResult,
    choose_step,
    prim,
)
from blocsim.analysis.sweeps import point_probabilities
from blocsim.errors import ResultsError, nearest
from blocsim.experiment.sweep import read_sweep_manifest

__all__ = ["Box", "DiscoveryResult", "axis_label", "choose_step", "discover",
           "format_discovery", "prim"]

MIN_POINTS = 50
"""Fewer design points than this make PRIM's boxes unreliable (warned)."""

MIN_CASES = 10
"""Fewer cases of interest than this make PRIM's boxes unreliable (warned)."""


@dataclass
class DiscoveryResult:
    """PRIM's answer for one grouping of one sweep.

    Attributes:
        grouping: The grouping whose consolidation is explained.
        threshold: A point is a case of interest when P(consolidation) >= this (0-1).
        trajectory: One row per box: step, phase ("peel", then the proposed step's refinements:
            a "paste" row after pasting and a "prune" row after pruning), coverage, density,
            mass (shares, 0-1), points, of_interest, n_restricted, chosen (True on the reported
            box).
        chosen_step: The peeling step the reported box comes from (before pasting, pruning).
        design: The sweep's design (grid, lhs or sobol).
        points: Design points analysed.
        cases: Cases of interest among them.
        replications: Replications per point behind each probability.
        parameters: peel_alpha, min_mass, min_coverage, density_tolerance, prune.
        warnings: Reasons to read the result with care.
        prim_result: PRIM's own result (the trajectory's boxes, `box(step)`).

    """

    grouping: str
    threshold: float
    trajectory: pd.DataFrame
    chosen_step: int
    design: str
    points: int
    cases: int
    replications: int
    prim_result: PrimResult | None = field(repr=False)
    parameters: dict[str, float | bool] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    saved_limits: pd.DataFrame | None = field(default=None, repr=False)
    """The reported box as written beside the sweep (a result read back has no PRIM state)."""

    def box(self, step: int | None = None) -> Box:
        """The box of a peeling step, pasted (and pruned) as the reported one.

        Every point of the coverage-density trade-off (`trajectory`'s peel rows) is a step; the
        proposed one is `chosen_step`. `box(12)` takes step 12 instead: its limits are pasted
        and pruned by the same rules, and its statistics recomputed.

        Args:
            step: A peeling step; None for the reported box.

        Returns:
            The box: `.limits` (one row per axis: low, high, data_low, data_high, restricted,
            qp_low, qp_high, qp), `.coverage`, `.density`, `.mass`, `.points`,
            `.of_interest`, `.restricted_axes`, `.significant_axes`.

        Raises:
            IndexError: If the step is not on the peeling trajectory.

        """
        if self.prim_result is None:
            raise ResultsError(f"the PRIM result of {self.grouping} was read from disk: its "
                               f"steps' boxes are in discovery_{self.grouping}_boxes.parquet; "
                               f"recompute with blocsim.discover(...) to paste another")
        return self.prim_result.box(step)

    @property
    def limits(self) -> pd.DataFrame:
        """The reported box, one row per axis.

        Columns: axis (dotted path), low, high (axis units), data_low, data_high (the design's
        range), restricted, qp_low, qp_high (quasi-p-value of each limit, NaN for a limit at
        the design's edge) and qp (the larger of the two).
        """
        if self.prim_result is None:
            return self.saved_limits if self.saved_limits is not None else pd.DataFrame()
        return self.prim_result.boxes[-1 if len(self.trajectory) > self.prim_result.steps
                                      else self.chosen_step].reset_index()

    @property
    def chosen(self) -> pd.Series:
        """The trajectory's row of the reported box (the last row if none is marked)."""
        marked = self.trajectory[self.trajectory["chosen"].astype(bool)]
        return marked.iloc[0] if len(marked) else self.trajectory.iloc[-1]

    @property
    def peel(self) -> pd.DataFrame:
        """The peeling trajectory's rows, in step order."""
        return self.trajectory[self.trajectory["phase"] == "peel"].sort_values("step")

    @property
    def restricted(self) -> pd.DataFrame:
        """The box's rows of the axes it restricts, in design order."""
        limits = self.limits
        return limits[limits["restricted"].astype(bool)]

    @property
    def restricted_axes(self) -> list[str]:
        """The axes the reported box restricts, in design order."""
        limits = self.limits
        return limits.loc[limits["restricted"], "axis"].tolist()

    @property
    def significant_axes(self) -> list[str]:
        """The restricted axes whose every restricted limit has quasi-p < 0.05."""
        limits = self.limits
        return limits.loc[limits["qp"] < QP_SIGNIFICANCE, "axis"].tolist()

    def save(self, folder: Path) -> list[Path]:
        """Write the trajectory, the reported box and every step's box beside the sweep.

        `discovery_<GROUPING>_trajectory.parquet` (the trajectory), `..._box.parquet` (the
        reported box, `limits`) and `..._boxes.parquet` (`PrimResult.step_boxes`: each step's
        peeled and refined box, one row per axis, with its quasi-p-values per limit and
        statistics), so a page can show the box of any point on the trade-off. Each file is
        written under a hidden name and renamed into place, so it appears complete or not at
        all. The grouping, threshold and parameters are stored in the files' metadata.

        Returns:
            The three paths.

        """
        folder = Path(folder)
        written = []
        tables = [("trajectory", self.trajectory), ("box", self.limits)]
        if self.prim_result is not None:
            tables.append(("boxes", self.prim_result.step_boxes()))
        for name, table in tables:
            target = folder / f"discovery_{self.grouping}_{name}.parquet"
            staging = folder / f".{target.name}.partial"
            table = table.copy()
            table.attrs = {"grouping": self.grouping, "threshold": self.threshold,
                           "design": self.design, "chosen_step": self.chosen_step,
                           **self.parameters}
            try:
                table.to_parquet(staging, index=False)
                os.replace(staging, target)
            finally:
                staging.unlink(missing_ok=True)
            written.append(target)
        return written


def read_step_boxes(folder: Path, groupings: list[str]) -> dict[str, pd.DataFrame]:
    """Every step's box per grouping (`discovery_<G>_boxes.parquet`), where written and readable.

    Older analyses did not write the file; a page without it simply has no box picker.
    """
    found = {}
    for grouping in groupings:
        path = Path(folder) / f"discovery_{grouping}_boxes.parquet"
        try:
            table = pd.read_parquet(path)
        except (OSError, ValueError):
            continue
        needed = {"step", "stage", "axis", "low", "high", "restricted", "qp", "coverage",
                  "density"}
        if needed <= set(table.columns):
            found[grouping] = table.assign(axis=table["axis"].astype(str))
    return found


def read_discoveries(folder: Path) -> dict[str, DiscoveryResult]:
    """Every grouping's PRIM result saved beside a sweep (empty when none was).

    A grouping counts only when both its trajectory and its box files exist; what the files do
    not keep (replications, warnings) is left empty.

    Raises:
        ResultsError: if a pair of files exists but cannot be read.

    """
    found: dict[str, DiscoveryResult] = {}
    for path in sorted(Path(folder).glob("discovery_*_trajectory.parquet")):
        grouping = path.name[len("discovery_"):-len("_trajectory.parquet")]
        box_path = path.with_name(f"discovery_{grouping}_box.parquet")
        if not box_path.is_file():
            continue
        try:
            trajectory, box = pd.read_parquet(path), pd.read_parquet(box_path)
        except (OSError, ValueError) as error:
            raise ResultsError(f"{path} or its box cannot be read: {error}") from error
        if "axis" not in box.columns:
            box = box.reset_index().rename(columns=lambda c: "axis" if c in ("index", None)
                                           else c)
        meta = {**box.attrs, **trajectory.attrs}
        trajectory = trajectory.assign(phase=trajectory["phase"].astype(str),
                                       chosen=trajectory["chosen"].astype(bool))
        box = box.assign(axis=box["axis"].astype(str), restricted=box["restricted"].astype(bool))
        threshold = pd.to_numeric(meta.get("threshold"), errors="coerce")
        peel = trajectory[trajectory["phase"] == "peel"].sort_values("step")
        chosen = trajectory[trajectory["chosen"]]
        found[grouping] = DiscoveryResult(
            grouping=grouping, threshold=float(threshold), trajectory=trajectory,
            prim_result=None, saved_limits=box,
            chosen_step=int(chosen["step"].iloc[-1]) if len(chosen) else -1,
            design=str(meta.get("design", "")),
            points=int(peel["points"].iloc[0]) if len(peel) else 0,
            cases=int(peel["of_interest"].iloc[0]) if len(peel) else 0, replications=0,
            parameters={k: v for k, v in meta.items()
                        if k not in ("grouping", "threshold", "design")})
    return found


def discover(folder: Path, grouping: str, threshold: float = 0.5, peel_alpha: float = 0.05,
             min_mass: float = 0.05, *, min_coverage: float = DEFAULT_MIN_COVERAGE,
             density_tolerance: float = DEFAULT_DENSITY_TOLERANCE, prune: bool = True,
             write: bool = True) -> DiscoveryResult:
    """Run PRIM on a finished sweep for one grouping and (by default) save the result beside it.

    Args:
        folder: A finished sweep folder (`blocsim sweep --out`).
        grouping: The grouping whose consolidation to explain, e.g. "QUAD".
        threshold: A design point is a case of interest when the grouping's probability of
            consolidation there is at least this (share of replications, 0 < threshold <= 1).
        peel_alpha: Share of the box's points each peel removes (and each paste adds).
        min_mass: Smallest share of the design points a peeled box may hold.
        min_coverage: Smallest coverage of the proposed box (share of cases of interest).
        density_tolerance: Densities within this of the best count as equal when choosing.
        prune: Whether to widen the reported box's limits whose quasi-p-value is >= 0.05
            (weakest first), so that it restricts only where the data say it matters.
        write: Whether to write the three Parquet tables beside the sweep.

    Returns:
        The trajectory, the reported box, any other box of the trade-off (`box(step)`) and
        their context.

    Raises:
        ResultsError: If the folder is not a finished sweep, the grouping is unknown, or no point
            (or every point) is a case of interest.

    """
    folder = Path(folder)
    manifest = read_sweep_manifest(folder)
    if not 0 < threshold <= 1:
        raise ResultsError(f"threshold must be in (0, 1], got {threshold}")
    points = pd.read_parquet(folder / "points.parquet")
    probabilities = _grouping_probabilities(folder, points, grouping)
    x, skipped = _inputs(points)
    y = (probabilities["probability"] >= threshold).to_numpy()
    _check_cases(y, probabilities, grouping, threshold)
    found = prim(x, y, peel_alpha, min_mass, min_coverage=min_coverage,
                 density_tolerance=density_tolerance, prune=prune)
    result = DiscoveryResult(
        grouping=grouping, threshold=threshold, trajectory=found.trajectory,
        chosen_step=found.chosen_step, design=str(manifest.get("design")), points=len(x),
        cases=int(y.sum()), replications=int(manifest.get("replications", 0)),
        prim_result=found,
        parameters={"peel_alpha": peel_alpha, "min_mass": min_mass,
                    "min_coverage": min_coverage, "density_tolerance": density_tolerance,
                    "prune": prune},
        warnings=_warnings(str(manifest.get("design")), len(x), int(y.sum()), skipped))
    if write:
        result.save(folder)
    return result


def _grouping_probabilities(folder: Path, points: pd.DataFrame, grouping: str) -> pd.DataFrame:
    """P(consolidation) per design point for one grouping, in point order."""
    outcomes = pd.read_parquet(folder / "outcomes.parquet",
                               columns=["point", "grouping", "consolidated", "peak_level"])
    names = sorted(outcomes["grouping"].astype(str).unique())
    if grouping not in names:
        hint = nearest(grouping, names)
        raise ResultsError(f"{folder} has no grouping {grouping!r}"
                           + (f" (did you mean {hint!r}?)" if hint else "")
                           + f"; its groupings are {', '.join(names)}")
    chosen = outcomes[outcomes["grouping"].astype(str) == grouping]
    table = point_probabilities(chosen, points).sort_values("point")
    if len(table) != len(points):
        raise ResultsError(f"{folder}: outcomes cover {len(table)} of {len(points)} design "
                           f"points for {grouping}; the sweep looks damaged")
    return table.reset_index(drop=True)


def _inputs(points: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The design's numeric axes (booleans as 0/1) and the names of axes PRIM cannot use."""
    axes = points.drop(columns="point").reset_index(drop=True)
    usable, skipped = {}, []
    for name, column in axes.items():
        if pd.api.types.is_bool_dtype(column):
            usable[name] = column.astype(float)
        elif pd.api.types.is_numeric_dtype(column):
            usable[name] = column.astype(float)
        else:
            skipped.append(str(name))
    if not usable:
        raise ResultsError("the sweep has no numeric axis; PRIM needs numbers to draw a box")
    return pd.DataFrame(usable), skipped


def _check_cases(y: np.ndarray, probabilities: pd.DataFrame, grouping: str,
                 threshold: float) -> None:
    if not y.any():
        top = probabilities["probability"].max()
        raise ResultsError(f"no design point has P({grouping} consolidates) >= {threshold:g} "
                           f"(the highest is {top:.2f}); lower --threshold")
    if y.all():
        low = probabilities["probability"].min()
        raise ResultsError(f"every design point has P({grouping} consolidates) >= "
                           f"{threshold:g} (the lowest is {low:.2f}); there is no region to "
                           f"find, raise --threshold")


def _warnings(design: str, points: int, cases: int, skipped: list[str]) -> list[str]:
    notes = []
    if design == "grid":
        notes.append("this is a grid design; PRIM is meant for space-filling (lhs) designs: "
                     "peels remove whole grid lines and limits fall on grid values")
    elif design != "lhs":
        notes.append(f"this is a {design} design; PRIM is meant for space-filling (lhs) "
                     f"designs, and Saltelli points repeat coordinates across matrices")
    if points < MIN_POINTS:
        notes.append(f"only {points} design points; the box is a rough sketch")
    if cases < MIN_CASES:
        notes.append(f"only {cases} cases of interest; the box may describe a handful of "
                     f"points rather than a region")
    if skipped:
        notes.append(f"non-numeric axes left out: {', '.join(skipped)}")
    return notes


def axis_label(path: str) -> str:
    """A short human-readable name for an axis path.

    `pressures.china_assertiveness.end` reads "china assertiveness (end)", `states.IND.autonomy`
    reads "IND autonomy"; other paths are returned as they are.
    """
    parts = path.split(".")
    if len(parts) == 3 and parts[0] == "pressures":
        return f"{parts[1].replace('_', ' ')} ({parts[2]})"
    if len(parts) == 3 and parts[0] == "states":
        return f"{parts[1]} {parts[2].replace('_', ' ')}"
    return path


def format_discovery(result: DiscoveryResult, max_steps: int = 12) -> str:
    """A plain-text report of a discovery for the terminal.

    Args:
        result: What `discover` returned.
        max_steps: Most trajectory rows to show (key steps: the start, each change in the
            number of restricted axes, the chosen box, the end).

    Returns:
        The report, lines joined by newlines.

    """
    chosen = result.chosen
    history = _history(result.trajectory)
    lines = [
        f"Scenario discovery (PRIM) for {result.grouping}: cases of interest are design points "
        f"where P(consolidates) >= {result.threshold:g}",
        f"{result.cases} of {result.points} points ({result.design} design, "
        f"{result.replications} replications each)",
        "",
        f"Chosen box: peeling step {result.chosen_step}{history}; coverage {chosen.coverage:.2f}"
        f", density {chosen.density:.2f}, mass {chosen.mass:.2f} ({chosen.points} points, "
        f"{chosen.of_interest} of interest)",
        *_box_lines(result.limits),
        f"  (another point of the trade-off: blocsim.discover(...).box(step); every step's box "
        f"is in discovery_{result.grouping}_boxes.parquet)",
        "",
        "Peeling trajectory, key steps (coverage: share of the cases of interest inside the box;",
        " density: share of the box's points that are of interest; mass: share of all points)",
        *_trajectory_lines(result.trajectory, max_steps),
    ]
    if result.warnings:
        lines += ["", *(f"warning: {note}" for note in result.warnings)]
    return "\n".join(lines)


def _history(trajectory: pd.DataFrame) -> str:
    """What happened to the chosen peeled box: ", pasted (+n points)", ", pruned to k axes"."""
    step = int(trajectory["step"].iloc[-1])
    before = trajectory[(trajectory["phase"] == "peel") & (trajectory["step"] == step)].iloc[0]
    text = ""
    for row in trajectory[trajectory["phase"] != "peel"].itertuples():
        if row.phase == "paste":
            added = int(row.points) - int(before.points)
            text += f", pasted (+{added} points)" if added else ", no paste improved it"
        else:
            axes = "axis" if row.n_restricted == 1 else "axes"
            text += f", pruned to {row.n_restricted} restricted {axes}"
    return text


def _box_lines(box: pd.DataFrame) -> list[str]:
    restricted = box[box["restricted"]]
    if restricted.empty:
        return ["  no axis restricted: the cases of interest are spread over the whole design"]
    width = max(len(axis_label(a)) for a in restricted["axis"])
    lines = [f"  {'axis':<{width}}  {'box':<17} {'data range':<18} quasi-p (per limit)"]
    for row in restricted.itertuples():
        weak = "  (weak: may be noise)" if row.qp >= QP_SIGNIFICANCE else ""
        interval = _interval(row.low, row.high, row.data_low, row.data_high)
        lines.append(f"  {axis_label(row.axis):<{width}}  {interval:<17} "
                     f"{f'[{row.data_low:.3g}, {row.data_high:.3g}]':<18} "
                     f"{_qp_limits(row.qp_low, row.qp_high)}{weak}")
    free = len(box) - len(restricted)
    if free:
        lines.append(f"  {free} other ax{'is' if free == 1 else 'es'} unrestricted")
    return lines


def _qp_limits(low: float, high: float) -> str:
    """"lower 3e-04, upper 0.41" naming only the limits that cut into the design."""
    parts = [f"{name} {value:.2g}" for name, value in (("lower", low), ("upper", high))
             if not pd.isna(value)]
    return ", ".join(parts) if len(parts) > 1 else f"{(parts or ['-'])[0].split()[-1]}"


def _interval(low: float, high: float, data_low: float, data_high: float) -> str:
    """A box's interval on one axis, naming only the limits that cut into the design."""
    if low > data_low and high < data_high:
        return f"{low:.3g} to {high:.3g}"
    if low > data_low:
        return f">= {low:.3g}"
    return f"<= {high:.3g}"


def _trajectory_lines(trajectory: pd.DataFrame, max_steps: int) -> list[str]:
    peeled = trajectory[trajectory["phase"] == "peel"]
    keep = {0, len(peeled) - 1}
    changes = np.flatnonzero(np.diff(peeled["n_restricted"].to_numpy())) + 1
    keep.update(int(i) for i in changes)
    keep.add(int(trajectory["step"].iloc[-1]))
    rows = sorted(keep)
    if len(rows) > max_steps:
        chosen = int(trajectory["step"].iloc[-1])
        rows = sorted({rows[0], rows[-1], chosen} | set(rows[1:max_steps - 2]))
    lines = [f"  {'step':>4}  {'coverage':>8}  {'density':>7}  {'mass':>5}  {'restricted':>10}"]
    chosen = int(trajectory["step"].iloc[-1])
    for _, row in pd.concat([peeled.iloc[rows], trajectory[trajectory["phase"] != "peel"]]
                            ).iterrows():
        mark = f" after {row.phase}" if row.phase != "peel" else (
            " <- chosen step" if row.step == chosen else "")
        if row.chosen:
            mark += " (reported)"
        lines.append(f"  {row.step:>4}  {row.coverage:>8.2f}  {row.density:>7.2f}  "
                     f"{row.mass:>5.2f}  {row.n_restricted:>10}{mark}")
    return lines
