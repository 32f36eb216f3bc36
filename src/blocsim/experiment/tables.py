"""Tidy tables (one row per observation) from the batches a task ran.

Columns and their units are the results format (README, "Outputs"): levels in [0, 4], commitments
in [0, 1], alignment in [-1, 1] (US +1, China -1), step = quarters since the scenario's start.
Sweeps add a `point` column first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from blocsim.calendar import quarter_label
from blocsim.experiment.kernel import RunBatch
from blocsim.experiment.plan import Task
from blocsim.model.inputs import Structure
from blocsim.vocabulary import PRESSURE_NAMES, stage_name

TABLES = ("levels", "commitments", "alignment", "pressures", "outcomes", "camps",
          "blocker_terms")
"""Every table a run writes; a sweep may keep fewer (`tables` in its file)."""


def _labels(structure: Structure, steps: int) -> list[str]:
    return [quarter_label(structure.start, s) for s in range(steps)]


def _cube(cube: np.ndarray, keys: dict[str, np.ndarray], labels: list[str], label_name: str,
          value_name: str, quarters: list[str]) -> pd.DataFrame:
    """A `(r, steps, k)` cube as rows (run keys..., step, quarter, label, value), C order."""
    r, s, k = cube.shape
    step = np.tile(np.repeat(np.arange(s, dtype=np.int16), k), r)
    columns: dict[str, object] = {name: np.repeat(values, s * k) for name, values in keys.items()}
    columns["step"] = step
    columns["quarter"] = pd.Categorical.from_codes(step, categories=quarters)
    columns[label_name] = pd.Categorical.from_codes(np.tile(np.arange(k), r * s),
                                                    categories=labels)
    columns[value_name] = cube.reshape(-1)
    return pd.DataFrame(columns)


def _quarter_or_none(structure: Structure, steps: np.ndarray) -> pd.Series:
    return pd.Series([quarter_label(structure.start, int(s)) if s >= 0 else None for s in steps],
                     dtype="str")


def _nullable_step(steps: np.ndarray) -> pd.Series:
    return pd.Series(np.where(steps >= 0, steps, 0), dtype="Int16").where(steps >= 0)


def _code_or_none(structure: Structure, index: np.ndarray) -> pd.Series:
    codes = structure.state_codes
    return pd.Series([codes[i] if i >= 0 else None for i in index], dtype="str")


def outcome_table(batch: RunBatch, keys: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per (run, grouping): the grouping's fate."""
    s, o = batch.structure, batch.outcomes
    r, g = o.consolidated.shape
    names = list(s.grouping_names)
    flat = {name: np.repeat(values, g) for name, values in keys.items()}
    at, exited_at, relaunched_at = (o.consolidated_at.reshape(-1), o.exited_at.reshape(-1),
                                    o.relaunched_at.reshape(-1))
    final = o.final_level.reshape(-1)
    table = pd.DataFrame({
        **flat,
        "grouping": pd.Categorical.from_codes(np.tile(np.arange(g), r), categories=names),
        "consolidated": o.consolidated.reshape(-1),
        "consolidated_at": _nullable_step(at),
        "consolidated_quarter": _quarter_or_none(s, at),
        "final_level": final,
        "peak_level": o.peak_level.reshape(-1),
        "final_stage": pd.Series([stage_name(v) for v in final], dtype="str"),
        "blocker": _code_or_none(s, o.blocker.reshape(-1)),
        "final_nato_tie": o.final_nato_tie.reshape(-1),
        "in_linked_bloc": o.in_linked_bloc.reshape(-1),
        "exited": _code_or_none(s, o.exiter.reshape(-1)),
        "exited_at": _nullable_step(exited_at),
        "exited_quarter": _quarter_or_none(s, exited_at),
        "relaunched_at": _nullable_step(relaunched_at),
        "relaunched_quarter": _quarter_or_none(s, relaunched_at),
        "suspended_quarters": o.suspended_quarters.reshape(-1).astype(np.int16),
    })
    return table


def blocker_terms_table(batch: RunBatch, keys: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per (run, grouping that did not consolidate, term): the blocker's mean term."""
    s, o = batch.structure, batch.outcomes
    r, g = o.blocker.shape
    terms = list(o.blocker_terms)
    rows = np.argwhere(o.blocker >= 0)
    if not len(rows) or not terms:
        frame = pd.DataFrame({**{name: np.zeros(0, values.dtype)
                                 for name, values in keys.items()},
                              "grouping": pd.Categorical([], categories=list(s.grouping_names)),
                              "state": pd.Categorical([], categories=list(s.state_codes)),
                              "term": pd.Categorical([], categories=terms),
                              "value": np.zeros(0)})
        return frame
    run, grouping = rows[:, 0], rows[:, 1]
    k = len(terms)
    values = np.stack([o.blocker_terms[t][run, grouping] for t in terms], axis=1).reshape(-1)
    return pd.DataFrame({
        **{name: np.repeat(v[run], k) for name, v in keys.items()},
        "grouping": pd.Categorical.from_codes(np.repeat(grouping, k),
                                              categories=list(s.grouping_names)),
        "state": pd.Categorical.from_codes(np.repeat(o.blocker[run, grouping], k),
                                           categories=list(s.state_codes)),
        "term": pd.Categorical.from_codes(np.tile(np.arange(k), len(run)), categories=terms),
        "value": values,
    })


def batch_tables(batch: RunBatch, tables: Sequence[str], with_point: bool
                 ) -> dict[str, pd.DataFrame]:
    """The tables of one batch."""
    s, t = batch.structure, batch.trajectory
    keys: dict[str, np.ndarray] = {}
    if with_point:
        keys["point"] = batch.point.astype(np.int32)
    keys["replication"] = batch.replication.astype(np.int32)
    steps = t.level.shape[1]
    quarters = _labels(s, steps)
    codes, names = list(s.state_codes), list(s.grouping_names)
    out: dict[str, pd.DataFrame] = {}
    if "levels" in tables:
        levels = _cube(t.level, keys, names, "grouping", "level", quarters)
        levels["nato_tie"] = t.nato_tie.reshape(-1)
        levels["suspended"] = t.suspended.reshape(-1)
        out["levels"] = levels
    if "commitments" in tables:
        state_index, grouping_index = np.nonzero(s.involved)
        pairs = [f"{codes[i]}|{names[j]}" for i, j in zip(state_index, grouping_index,
                                                          strict=True)]
        table = _cube(t.commitment[:, :, state_index, grouping_index], keys, pairs, "pair",
                      "commitment", quarters)
        pair = table["pair"].cat.codes.to_numpy()
        table.insert(len(keys) + 2, "state",
                     pd.Categorical.from_codes(state_index[pair], codes))
        table.insert(len(keys) + 3, "grouping",
                     pd.Categorical.from_codes(grouping_index[pair], names))
        out["commitments"] = table.drop(columns="pair")
    if "alignment" in tables:
        out["alignment"] = _cube(t.alignment, keys, codes, "state", "alignment", quarters)
    if "pressures" in tables:
        out["pressures"] = _cube(t.pressure, keys, list(PRESSURE_NAMES), "pressure", "value",
                                 quarters)
    if "outcomes" in tables:
        out["outcomes"] = outcome_table(batch, keys)
    if "camps" in tables:
        n = len(codes)
        out["camps"] = pd.DataFrame({
            **{name: np.repeat(v, n) for name, v in keys.items()},
            "state": pd.Categorical.from_codes(np.tile(np.arange(n), len(batch.point)), codes),
            "with_us": batch.with_us.reshape(-1)})
    if "blocker_terms" in tables:
        out["blocker_terms"] = blocker_terms_table(batch, keys)
    return out


def concat_tables(parts: Sequence[dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """Join the tables of several batches (in order), keeping categorical columns categorical."""
    if not parts:
        return {}
    joined = {}
    for name in parts[0]:
        frames = [p[name] for p in parts]
        joined[name] = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return joined


@dataclass(frozen=True)
class TableCollector:
    """Keeps the named tables of every run (with a `point` column for sweeps)."""

    tables: tuple[str, ...] = TABLES
    with_point: bool = False

    def collect(self, batches: list[RunBatch], task: Task) -> dict[str, pd.DataFrame]:
        """The task's tables."""
        return concat_tables([batch_tables(b, self.tables, self.with_point) for b in batches])
