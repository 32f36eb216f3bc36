"""The analyses written beside a sweep (`blocsim analyze`), read for the sweep page.

    read_sensitivity(folder)   # sensitivity.parquet, or None when absent
    read_discoveries(folder)   # {grouping: Discovery} from discovery_<G>_{trajectory,box}.parquet

Each is optional: the sweep page shows a section for what exists and nothing for what does not.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from blocsim.errors import ResultsError

SENSITIVITY = "sensitivity.parquet"
"""The file `analysis.sensitivity.analyze_sensitivity` writes beside a sweep."""

QP_SIGNIFICANCE = 0.05
"""A restricted axis whose quasi-p-value is at least this is weak: its limit may be noise
(the same threshold as `analysis.prim`)."""

OUTCOMES = {"probability": "P(consolidation)", "mean_peak_level": "mean peak level"}
"""The outcomes sensitivity indices are computed for, and their readable names."""

_DISCOVERY = re.compile(r"^discovery_(?P<grouping>.+)_trajectory\.parquet$")


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
    table = table.copy()
    for column in ("grouping", "outcome", "parameter", "method"):
        table[column] = table[column].astype(str)
    if "note" not in table.columns:
        table["note"] = ""
    table["note"] = table["note"].fillna("").astype(str)
    return table


def sensitivity_method(table: pd.DataFrame) -> str:
    """`sobol` (S1 and ST) or `morris` (mu*), from the table's method column and columns."""
    method = str(table["method"].iloc[0]) if len(table) else "sobol"
    if method == "morris" or ("ST" not in table.columns and "mu_star" in table.columns):
        return "morris"
    return "sobol"


@dataclass(frozen=True)
class Discovery:
    """PRIM's result for one grouping, as written beside the sweep.

    Attributes:
        grouping: the grouping whose consolidation the box explains.
        trajectory: one row per box: step, phase ("peel", "paste", "prune"), coverage,
            density, mass, points, of_interest, n_restricted, chosen.
        box: one row per axis: axis, low, high, data_low, data_high, restricted, qp.
        threshold: a point is a case of interest when P(consolidation) >= this (None if the
            files do not say).

    """

    grouping: str
    trajectory: pd.DataFrame
    box: pd.DataFrame
    threshold: float | None

    @property
    def chosen(self) -> pd.Series:
        """The trajectory's row of the reported box (the last row if none is marked)."""
        marked = self.trajectory[self.trajectory["chosen"].astype(bool)]
        return marked.iloc[-1] if len(marked) else self.trajectory.iloc[-1]

    @property
    def peel(self) -> pd.DataFrame:
        """The peeling trajectory's rows, in step order."""
        return self.trajectory[self.trajectory["phase"] == "peel"].sort_values("step")

    @property
    def restricted(self) -> pd.DataFrame:
        """The box's rows of the axes it restricts, in design order."""
        return self.box[self.box["restricted"].astype(bool)]

    @property
    def cases(self) -> int:
        """Cases of interest among the design points (those in the first, unpeeled box)."""
        return int(self.peel["of_interest"].iloc[0]) if len(self.peel) else 0

    @property
    def points(self) -> int:
        """Design points analysed (those in the first, unpeeled box)."""
        return int(self.peel["points"].iloc[0]) if len(self.peel) else 0


def _box_table(box: pd.DataFrame) -> pd.DataFrame:
    """The box with an `axis` column, whether the file stored the axis as index or column."""
    if "axis" not in box.columns:
        box = box.reset_index()
        first = box.columns[0]
        box = box.rename(columns={first: "axis"})
    box = box.copy()
    box["axis"] = box["axis"].astype(str)
    box["restricted"] = box["restricted"].astype(bool)
    return box.reset_index(drop=True)


def read_discoveries(folder: Path) -> dict[str, Discovery]:
    """Every grouping's PRIM result beside a sweep (empty when `--discover` was never run).

    A grouping counts only when both its trajectory and its box files exist.

    Raises:
        ResultsError: if a pair of files exists but cannot be read.

    """
    folder = Path(folder)
    found: dict[str, Discovery] = {}
    for path in sorted(folder.glob("discovery_*_trajectory.parquet")):
        match = _DISCOVERY.match(path.name)
        box_path = folder / f"discovery_{match['grouping']}_box.parquet" if match else None
        if match is None or box_path is None or not box_path.is_file():
            continue
        grouping = match["grouping"]
        try:
            trajectory = pd.read_parquet(path)
            box = _box_table(pd.read_parquet(box_path))
        except (OSError, ValueError, KeyError) as error:
            raise ResultsError(f"{path} or its box cannot be read: {error}") from error
        threshold = trajectory.attrs.get("threshold", box.attrs.get("threshold"))
        try:
            threshold = float(threshold) if threshold is not None else None
        except (TypeError, ValueError):
            threshold = None
        if threshold is not None and math.isnan(threshold):
            threshold = None
        trajectory = trajectory.copy()
        trajectory["phase"] = trajectory["phase"].astype(str)
        found[grouping] = Discovery(grouping, trajectory.reset_index(drop=True), box, threshold)
    return found
