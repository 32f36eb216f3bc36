"""Per-point probabilities of a sweep: P(consolidation) with Wilson intervals per design point."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from blocsim.analysis.summary import wilson_interval
from blocsim.experiment.sweep import read_sweep_manifest


def point_probabilities(outcomes: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """Per design point and grouping: P(consolidation) with a 95% Wilson interval.

    `outcomes` needs the columns point, grouping, consolidated, peak_level; `points` is the
    design (point and one column per axis). One row per (point, grouping), axis values first.
    """
    grouped = outcomes.groupby(["point", "grouping"], observed=True, sort=False)
    table = grouped.agg(replications=("consolidated", "size"),
                        consolidated=("consolidated", "sum"),
                        mean_peak_level=("peak_level", "mean")).reset_index()
    table["probability"] = table.consolidated / table.replications
    bounds = [wilson_interval(int(k), int(n)) for k, n in zip(table.consolidated,
                                                               table.replications, strict=True)]
    table["ci_low"] = [low for low, _ in bounds]
    table["ci_high"] = [high for _, high in bounds]
    return points.merge(table, on="point")


def sweep_summary(folder: Path, output: Path | None = None, write: bool = True
                  ) -> pd.DataFrame:
    """Summarize a finished sweep per point and grouping.

    With `write`, the table is also written (atomically) to `output`, by default
    `summary.parquet` beside the sweep; without it nothing is written (a read-only folder).
    """
    folder = Path(folder)
    read_sweep_manifest(folder)
    outcomes = pd.read_parquet(folder / "outcomes.parquet",
                               columns=["point", "grouping", "consolidated", "peak_level"])
    summary = point_probabilities(outcomes, pd.read_parquet(folder / "points.parquet"))
    if write:
        target = Path(output) if output is not None else folder / "summary.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.parent / f".{target.name}.partial"
        try:
            summary.to_parquet(staging, index=False)
            os.replace(staging, target)
        finally:
            staging.unlink(missing_ok=True)
    return summary
