"""Levers: how far one step of each pressure or key state attribute moves each probability.

One at a time, each pressure's whole schedule and each key attribute of the states that block
is moved a fixed step up and down (clipped to [0, 1]); the variant runs with the run's own seed,
so its replication r pairs with the run's replication r (common random numbers) and the
difference in each grouping's probability of consolidation comes with a paired 95% interval
(`analysis.paired`). The table is cached beside the run as `levers.parquet`.

    chosen = choose_levers(scenario, outcomes, step=0.1)      # [Lever, ...]
    table = lever_table(chosen, reference, variants, groupings)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from blocsim.analysis.paired import consolidation_matrix, paired_difference
from blocsim.analysis.summary import consolidation_summary
from blocsim.model.pressures import NEUTRAL_PRESSURE, schedule_values
from blocsim.scenario.schema import Scenario
from blocsim.vocabulary import PRESSURE_NAMES

LEVERS = "levers.parquet"
"""The file the levers are cached in, inside the run's folder."""

STEP = 0.1
"""The default step either way: a tenth of every [0, 1] scale (calibrated: large enough to move
a probability beyond replication noise with a few hundred paired runs, small enough to stay a
local, one-at-a-time question)."""

STATE_ATTRIBUTES: tuple[str, ...] = ("autonomy", "threat_china", "domestic_constraint",
                                     "russia_defense_dependence", "china_trade_dependence",
                                     "us_alliance")
"""The attributes moved for each state that most often blocks some grouping."""


@dataclass(frozen=True)
class Lever:
    """One variant: a parameter moved one step in one direction.

    Attributes:
        lever: what moves: `pressures.NAME` (the whole schedule) or `states.ISO3.attribute`.
        direction: +1 (up) or -1 (down).
        before: the value before (a pressure's mean over the run).
        after: the value after the step (after clipping to [0, 1]).
        values: the dotted overrides that make the variant (`Scenario.with_values`).

    """

    lever: str
    direction: int
    before: float
    after: float
    values: dict


def _shift(value: float, step: float) -> float:
    return float(np.clip(value + step, 0.0, 1.0))


def pressure_lever(scenario: Scenario, name: str, step: float) -> Lever | None:
    """The pressure `name` with its whole schedule moved by `step` (None if nothing moves)."""
    meta = scenario.scenario
    schedule = scenario.pressures.get(name)
    key = f"pressures.{name}"
    if schedule is None or schedule.value is not None:
        value = NEUTRAL_PRESSURE if schedule is None else schedule.value
        values: dict = {f"{key}.value": _shift(value, step)}
        before = value
    elif schedule.points is not None:
        values = {f"{key}.points": [[at, _shift(v, step)] for at, v in schedule.points]}
        before = float(schedule_values(schedule, meta.start, meta.steps).mean())
    else:
        values = {f"{key}.start": _shift(schedule.start, step),
                  f"{key}.end": _shift(schedule.end, step)}
        before = float(schedule_values(schedule, meta.start, meta.steps).mean())
    moved = scenario.with_values(values)
    after = float(schedule_values(moved.pressures[name], meta.start, meta.steps).mean())
    if abs(after - before) < 1e-12:
        return None
    return Lever(key, int(np.sign(step)), before, after, values)


def state_lever(scenario: Scenario, code: str, attribute: str, step: float) -> Lever | None:
    """The attribute of state `code` moved by `step`.

    None if it sits at that end already, or if the step would raise a structural zero (a state
    with no arms from Russia, no trade with China, no threat felt): that is a different state,
    not a lever.
    """
    before = float(getattr(scenario.states[code], attribute))
    after = _shift(before, step)
    if abs(after - before) < 1e-12 or before == 0.0:
        return None
    path = f"states.{code}.{attribute}"
    return Lever(path, int(np.sign(step)), before, after, {path: after})


def choose_levers(scenario: Scenario, outcomes: pd.DataFrame, step: float = STEP) -> list[Lever]:
    """Every pressure, and the key attributes of each grouping's most frequent blocker.

    Args:
        scenario: the scenario the run was made from.
        outcomes: the run's outcomes (to find the blockers).
        step: the step either way, on the [0, 1] scales.

    Returns:
        The levers, pressures first (vocabulary order), then states; up before down.

    """
    summary = consolidation_summary(outcomes)
    blockers = list(dict.fromkeys(b for b in summary["top_blocker"] if isinstance(b, str)))
    found = []
    for sign in (1, -1):
        found += [pressure_lever(scenario, name, sign * step) for name in PRESSURE_NAMES]
        found += [state_lever(scenario, code, attribute, sign * step)
                  for code in blockers if code in scenario.states
                  for attribute in STATE_ATTRIBUTES]
    return sorted((lever for lever in found if lever is not None),
                  key=lambda lever: (not lever.lever.startswith("pressures"), lever.lever,
                                     -lever.direction))


def lever_table(levers: list[Lever], reference: pd.DataFrame, variants: list[np.ndarray],
                groupings: list[str], step: float = STEP,
                draw_block: int | None = None) -> pd.DataFrame:
    """Each lever's paired effect on each grouping's probability of consolidation.

    Args:
        levers: the levers, one per variant.
        reference: the run's outcomes (replication, grouping, consolidated).
        variants: per lever, who consolidated in replications 0..n-1 (`run_variants`); each is
            paired with the run's replication of the same number (a replication that failed in
            the run is left out).
        groupings: the grouping keys in the variants' column order.
        step: the step the levers were made with (kept in the table's metadata).
        draw_block: replications that shared one posterior draw in the run and its variants
            (None: none); the intervals then allow for it (`paired_difference`).

    Returns:
        One row per (lever, direction, grouping): lever, direction, before, after, grouping,
        replications, reference, probability, difference, ci_low, ci_high (its own 95%
        interval), family_low, family_high (simultaneous over the variants: Bonferroni's 95%,
        each at 1 - 0.05 / variants, for reading off the largest of them).

    """
    base = consolidation_matrix(reference)
    family = 1 - 0.05 / max(len(levers), 1)
    rows = []
    for lever, hits in zip(levers, variants, strict=True):
        shared = base.index.intersection(pd.RangeIndex(len(hits))).to_numpy()
        pairs = base.loc[shared]
        for column, grouping in enumerate(groupings):
            pair = (pairs[grouping].to_numpy(), hits[shared, column], draw_block, shared)
            found = paired_difference(*pair)
            among = paired_difference(*pair, level=family)
            rows.append({"lever": lever.lever, "direction": lever.direction,
                         "before": lever.before, "after": lever.after, "grouping": grouping,
                         "replications": found.runs, "reference": found.reference,
                         "probability": found.variant, "difference": found.value,
                         "ci_low": found.low, "ci_high": found.high,
                         "family_low": among.low, "family_high": among.high})
    table = pd.DataFrame(rows)
    table.attrs = {"step": step}
    return table


def write_levers(folder: Path, table: pd.DataFrame) -> Path:
    """Write the lever table beside a run, atomically; return its path."""
    target = Path(folder) / LEVERS
    staging = target.with_name(f".{LEVERS}.partial")
    try:
        table.to_parquet(staging, index=False)
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)
    return target


def read_levers(folder: Path) -> pd.DataFrame | None:
    """The lever table beside a run, or None when none was computed."""
    path = Path(folder) / LEVERS
    return pd.read_parquet(path) if path.is_file() else None
