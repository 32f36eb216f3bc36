"""Several run folders side by side: read what the comparison page needs and reduce it.

Each run keeps its own tables; the reductions return small frames with a `scenario` column (the
run's label), whose size does not grow with the number of replications.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from blocsim.dashboards.aggregate import consolidation_probabilities
from blocsim.dashboards.run_info import RunInfo, run_info
from blocsim.errors import ResultsError
from blocsim.experiment.store import MANIFEST

OUTCOME_COLUMNS = ["grouping", "consolidated", "blocker", "peak_level", "final_level",
                   "final_nato_tie"]
LEVEL_COLUMNS = ["step", "quarter", "grouping", "level"]

REFERENCE = "baseline"
"""A run folder or scenario of this name goes first: the others read as changes to it."""


@dataclass(frozen=True)
class ComparedRun:
    """One run of the comparison.

    Attributes:
        label: how the page names it (the scenario's name, with the folder's if names repeat).
        folder: the run's results folder.
        info: the run's scenario facts.
        outcomes: its outcomes table (the columns the page needs).
        levels: its levels table (the columns the page needs).

    """

    label: str
    folder: Path
    info: RunInfo
    outcomes: pd.DataFrame
    levels: pd.DataFrame


def read_run(folder: Path, label: str | None = None) -> ComparedRun:
    """Read one run folder's manifest, outcomes and levels (only the columns needed).

    Raises:
        ResultsError: if the folder is not a readable run folder.

    """
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        info = run_info(manifest)
        outcomes = pd.read_parquet(folder / "outcomes.parquet", columns=OUTCOME_COLUMNS)
        levels = pd.read_parquet(folder / "levels.parquet", columns=LEVEL_COLUMNS)
    except ResultsError as error:
        raise ResultsError(f"{folder}: {error}") from error
    except (OSError, ValueError, KeyError) as error:
        raise ResultsError(f"{folder} is not a readable run folder: {error}") from error
    for table in (outcomes, levels):
        table["grouping"] = table["grouping"].astype(str)
    levels["quarter"] = levels["quarter"].astype(str)
    return ComparedRun(label or info.name, folder, info, outcomes, levels)


def run_order(folders: list[Path]) -> list[Path]:
    """The runs in page order: the reference (`baseline`) first, then by folder name."""
    return sorted(folders, key=lambda f: (f.name != REFERENCE, f.name))


def read_runs(folders: list[Path]) -> list[ComparedRun]:
    """Read every run, labelled by scenario name (plus the folder's when names repeat)."""
    runs = [read_run(folder) for folder in run_order(folders)]
    names = [run.info.name for run in runs]
    return [ComparedRun(f"{run.label} ({run.folder.name})", run.folder, run.info, run.outcomes,
                        run.levels) if names.count(run.info.name) > 1 else run
            for run in runs]


def scenario_probabilities(outcomes: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """P(consolidation) per grouping per scenario with 95% Wilson intervals and top blocker.

    Args:
        outcomes: scenario label to its outcomes table.

    Returns:
        `aggregate.consolidation_probabilities` of each scenario with a `scenario` column first.

    """
    frames = [consolidation_probabilities(table).assign(scenario=label)
              for label, table in outcomes.items()]
    frame = pd.concat(frames, ignore_index=True)
    return frame[["scenario", *[c for c in frame.columns if c != "scenario"]]]


def median_levels(levels: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The median institutional level of each grouping per quarter, per scenario.

    Args:
        levels: scenario label to its levels table.

    Returns:
        One row per (scenario, grouping, step): scenario, grouping, step, quarter, median.

    """
    frames = []
    for label, table in levels.items():
        medians = (table.groupby(["grouping", "step", "quarter"], observed=True, sort=True)
                   ["level"].median().rename("median").reset_index())
        frames.append(medians.assign(scenario=label))
    frame = pd.concat(frames, ignore_index=True)
    return frame[["scenario", "grouping", "step", "quarter", "median"]]


def grouping_order(probabilities: pd.DataFrame, reference: str) -> list[str]:
    """Groupings by the reference scenario's probability (highest first), then any others."""
    first = probabilities[probabilities["scenario"] == reference]
    order = (first.sort_values(["probability", "ci_high"], ascending=False, kind="stable")
             ["grouping"].tolist())
    return order + [g for g in dict.fromkeys(probabilities["grouping"]) if g not in order]
