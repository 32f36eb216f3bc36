"""EMA Workbench's MultiprocessingEvaluator on a blocsim sweep's design (run in the EMA venv).

    benchmarks/.venv-ema/bin/python benchmarks/ema_sweep_worker.py DESIGN.npz FINAL.npy WORKERS

Started by `bench_sweep.py compare` with BLOCSIM_BENCH_DESIGN set to DESIGN.npz. The model
function is `batchrun_model.run_point` (the one `mesa.batch_run` runs too): one run of a design
point, returning each grouping's quarterly level, NATO tie and suspension (TimeSeriesOutcome) and
its outcome fields (ScalarOutcome). The experiments are the design's own points (EMA samples
nothing). Prints one JSON line: the wall time from starting the pool to the last result, and the
runs; writes each point's final levels `(points, groupings)` to FINAL.npy for the cross-check.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
from batchrun_model import OUTCOME_FIELDS, QUARTERLY, design, grouping_names, run_point
from ema_workbench import (
    IntegerParameter,
    Model,
    MultiprocessingEvaluator,
    RealParameter,
    Sample,
    ScalarOutcome,
    TimeSeriesOutcome,
)


def axis_name(path: str) -> str:
    """An EMA parameter name for an axis path (`pressures.X.end` -> `X`)."""
    return path.split(".")[1]


def blocsim_point(point: int, **_pressures: float) -> dict[str, object]:
    """One run of design point `point` (its pressure values are the design's: EMA passes them
    as parameters, the point index picks the same compiled point and stream blocsim uses)."""
    trajectory, outcomes = run_point(int(point))
    result: dict[str, object] = {}
    for j, name in enumerate(grouping_names()):
        for series in QUARTERLY:
            result[f"{series}_{name}"] = getattr(trajectory, series)[0, :, j].astype(float)
        for field in OUTCOME_FIELDS:
            result[f"{field}_{name}"] = float(getattr(outcomes, field)[0, j])
    return result


def main() -> None:
    _, final_path, workers = sys.argv[1:4]
    _, paths, values, _ = design()
    names = [axis_name(p) for p in paths]
    model = Model("blocsim", function=blocsim_point)
    model.uncertainties = [IntegerParameter("point", 0, len(values) - 1),
                           *(RealParameter(n, 0.0, 1.0) for n in names)]
    model.outcomes = [
        *(TimeSeriesOutcome(f"{s}_{g}") for g in grouping_names() for s in QUARTERLY),
        *(ScalarOutcome(f"{f}_{g}") for g in grouping_names() for f in OUTCOME_FIELDS)]
    samples = [Sample(name=i, point=i, **dict(zip(names, map(float, row), strict=True)))
               for i, row in enumerate(values)]
    started = time.perf_counter()
    with MultiprocessingEvaluator(model, n_processes=int(workers)) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios=samples)
    wall = time.perf_counter() - started
    order = np.argsort(experiments["point"].to_numpy())
    final = np.stack([outcomes[f"level_{g}"][:, -1] for g in grouping_names()], axis=1)
    np.save(final_path, final[order])
    print(json.dumps({"wall": wall, "runs": len(experiments)}))


if __name__ == "__main__":
    main()
