"""Tidy tables (one row per observation) from the stacked arrays of replications.

Columns and their units are the results format (README, "Outputs"): levels in [0, 4], commitments
in [0, 1], alignment in [-1, 1] (US +1, China -1), step = quarters since the scenario's start.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd

from blocsim.calendar import quarter_label
from blocsim.experiment.runner import ChunkResult
from blocsim.model.inputs import ModelInputs
from blocsim.vocabulary import PRESSURE_NAMES

TABLES = ("levels", "commitments", "alignment", "pressures", "outcomes", "camps")


def _grid(replications: np.ndarray, steps: int, labels: list[str]) -> dict[str, np.ndarray]:
    """Index columns for a (replication, step, label) cube flattened in C order."""
    r, s, k = len(replications), steps, len(labels)
    return {
        "replication": np.repeat(replications.astype(np.int32), s * k),
        "step": np.tile(np.repeat(np.arange(s, dtype=np.int16), k), r),
        "label": np.tile(np.arange(k), r * s),
    }


def _cube_table(cube: np.ndarray, replications: np.ndarray, labels: list[str], label_name: str,
                value_name: str, start: str) -> pd.DataFrame:
    grid = _grid(replications, cube.shape[1], labels)
    quarters = [quarter_label(start, s) for s in range(cube.shape[1])]
    return pd.DataFrame({
        "replication": grid["replication"],
        "step": grid["step"],
        "quarter": pd.Categorical.from_codes(grid["step"], categories=quarters),
        label_name: pd.Categorical.from_codes(grid["label"], categories=labels),
        value_name: cube.reshape(-1),
    })


def build_tables(chunks: list[ChunkResult], inputs: ModelInputs) -> dict[str, pd.DataFrame]:
    """Assemble the result tables from chunks sorted by first replication."""
    scenario = inputs.scenario
    start = scenario.scenario.start
    codes, names = scenario.state_codes, scenario.grouping_names
    replications = np.concatenate([c.first + np.arange(len(c.outcomes)) for c in chunks])

    def stacked(field: str) -> np.ndarray:
        return np.concatenate([getattr(c, field) for c in chunks])

    levels = _cube_table(stacked("level"), replications, names, "grouping", "level", start)
    levels["nato_tie"] = stacked("nato_tie").reshape(-1)
    state_index, grouping_index = np.nonzero(inputs.involved)
    pairs = [f"{codes[i]}|{names[j]}" for i, j in zip(state_index, grouping_index, strict=True)]
    commitments = _cube_table(stacked("commitment"), replications, pairs, "pair", "commitment",
                              start)
    pair_codes = commitments["pair"].cat.codes.to_numpy()
    commitments.insert(3, "state", pd.Categorical.from_codes(state_index[pair_codes], codes))
    commitments.insert(4, "grouping", pd.Categorical.from_codes(grouping_index[pair_codes], names))
    commitments = commitments.drop(columns="pair")
    alignment = _cube_table(stacked("alignment"), replications, codes, "state", "alignment", start)
    pressures = _cube_table(stacked("pressure"), replications, list(PRESSURE_NAMES), "pressure",
                            "value", start)
    with_us = np.concatenate([c.with_us for c in chunks])
    camps = pd.DataFrame({
        "replication": np.repeat(replications.astype(np.int32), len(codes)),
        "state": pd.Categorical.from_codes(np.tile(np.arange(len(codes)), len(replications)),
                                           codes),
        "with_us": with_us.reshape(-1),
    })
    return {"levels": levels, "commitments": commitments, "alignment": alignment,
            "pressures": pressures, "outcomes": outcome_table(chunks, start), "camps": camps}


def outcome_table(chunks: list[ChunkResult], start: str) -> pd.DataFrame:
    """One row per (replication, grouping)."""
    rows = []
    for chunk in chunks:
        for offset, outcomes in enumerate(chunk.outcomes):
            for outcome in outcomes:
                row = asdict(outcome)
                row["replication"] = chunk.first + offset
                rows.append(row)
    table = pd.DataFrame(rows)
    at = table["consolidated_at"]
    table["consolidated_at"] = at.where(at >= 0).astype("Int16")
    table["consolidated_quarter"] = [quarter_label(start, int(s)) if s >= 0 else None for s in at]
    table["blocker"] = table["blocker"].replace("", None)
    columns = ["replication", "grouping", "consolidated", "consolidated_at", "consolidated_quarter",
               "final_level", "peak_level", "final_stage", "blocker", "final_nato_tie",
               "in_linked_bloc"]
    table = table[columns]
    table["replication"] = table["replication"].astype(np.int32)
    return table
