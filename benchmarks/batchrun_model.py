"""One blocsim run per design point, as `mesa.batch_run` and EMA Workbench need it.

The design (the points of a blocsim sweep, its axis paths and seed) is read from the `.npz` file
named by the environment variable BLOCSIM_BENCH_DESIGN (worker processes inherit it, whether they
are forked or spawned). Point p is compiled on the baseline exactly as a blocsim sweep compiles it
(`CompiledScenario.point`) and draws from the same stream (`replication_stream(seed, p, 0)`), so
the three tools run the same model on the same numbers and their results agree to the bit.

What each run keeps is what a blocsim sweep with `tables = ["outcomes", "levels"]` writes: every
quarter, each grouping's level, NATO tie and suspension; at the end, each grouping's outcome.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import mesa
import numpy as np

import blocsim
from blocsim.experiment.plan import replication_stream
from blocsim.model import AllianceModel, BatchInputs, CompiledScenario
from blocsim.model.outcomes import Outcomes, batch_outcomes
from blocsim.model.record import Trajectory

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"
DESIGN_ENV = "BLOCSIM_BENCH_DESIGN"
QUARTERLY = ("level", "nato_tie", "suspended")
"""The per-quarter series kept for each grouping (the columns of a sweep's `levels` table)."""
OUTCOME_FIELDS = ("consolidated", "consolidated_at", "final_level", "peak_level", "blocker",
                  "final_nato_tie", "in_linked_bloc", "exiter", "exited_at", "relaunched_at",
                  "suspended_quarters")
"""The per-run outcome of each grouping kept (the values of a sweep's `outcomes` table)."""


def save_design(path: Path, points, seed: int) -> None:
    """Write a sweep's design points (a DataFrame, one column per path) and seed for the workers."""
    np.savez(path, values=points.to_numpy(float), paths=np.array(points.columns, dtype=str),
             seed=np.array(seed))


@lru_cache(maxsize=1)
def design() -> tuple[CompiledScenario, list[str], np.ndarray, int]:
    """The compiled baseline, the axis paths, the `(points, axes)` values and the seed."""
    data = np.load(os.environ[DESIGN_ENV])
    return (CompiledScenario(blocsim.load(BASELINE)), [str(p) for p in data["paths"]],
            data["values"], int(data["seed"]))


def point_inputs(point: int) -> tuple[BatchInputs, np.random.SeedSequence]:
    """The inputs of one run of design point `point`, and its random stream."""
    compiled, paths, values, seed = design()
    inputs = compiled.point({path: float(v) for path, v in zip(paths, values[point],
                                                                strict=True)})
    return (BatchInputs.stack(compiled.structure, [inputs]),
            replication_stream(seed, point, 0))


def grouping_names() -> tuple[str, ...]:
    """The baseline's groupings, in model order."""
    return design()[0].structure.grouping_names


def outcome_values(outcomes: Outcomes, grouping: int) -> dict[str, object]:
    """One grouping's outcome in a one-replication batch, as plain Python values."""
    return {name: getattr(outcomes, name)[0, grouping].item() for name in OUTCOME_FIELDS}


def run_point(point: int) -> tuple[Trajectory, Outcomes]:
    """Run design point `point` once; return its trajectory and outcomes."""
    inputs, stream = point_inputs(point)
    trajectory = AllianceModel(inputs, rng=[stream]).run()
    return trajectory, batch_outcomes(trajectory, inputs)


class BatchRunAllianceModel(AllianceModel):
    """The same model, built from a design point index, collecting with Mesa's DataCollector.

    Every quarter: each grouping's level, NATO tie and suspension (model reporters). After the
    last quarter: the `outcomes` reporter holds each grouping's outcome (None before).
    """

    def __init__(self, point: int = 0, rng: object = None) -> None:
        inputs, stream = point_inputs(point)
        super().__init__(inputs, rng=[stream])
        reporters: dict[str, object] = {}
        for j, name in enumerate(self.structure.grouping_names):
            for series in QUARTERLY:
                reporters[f"{series}_{name}"] = lambda m, j=j, series=series: (
                    m.record.steps[series][m.quarter - 1, 0, j].item())
        reporters["outcomes"] = BatchRunAllianceModel.final_outcomes
        self.datacollector = mesa.DataCollector(model_reporters=reporters)

    def final_outcomes(self) -> dict[str, dict[str, object]] | None:
        """Each grouping's outcome once the run is over, else None."""
        if self.running:
            return None
        outcomes = batch_outcomes(self.trajectory, self.inputs)
        return {name: outcome_values(outcomes, j)
                for j, name in enumerate(self.structure.grouping_names)}

    def step(self) -> None:
        """Advance a quarter and collect it."""
        super().step()
        self.datacollector.collect(self)
