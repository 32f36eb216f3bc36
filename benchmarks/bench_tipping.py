"""Benchmark the tipping-point search: runs needed for a 95% interval of width <= 0.05 on a
[0, 1] parameter, against a fixed grid of the same precision (spacing 0.05, 21 values).

Usage: `make bench-tipping` (or `.venv/bin/python benchmarks/bench_tipping.py`).

Two fixed-grid readings, both with runs per value doubled until they reach the precision:
"bracket", the analyst's reading (adjacent grid values whose 95% Wilson intervals fall on either
side of the target), and "logistic", the same logistic fit and interval as the adaptive search.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import blocsim
from blocsim.analysis.tipping import find_tipping_point, fixed_grid_runs
from blocsim.experiment.evaluate import ModelEvaluator
from blocsim.experiment.executors import LocalExecutor

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
LADDER = [10, 20, 40, 80, 160, 320, 640, 1280]


def synthetic(threshold: float, scale: float, seed: int):
    rng = np.random.default_rng(seed)
    return lambda values, runs: rng.binomial(
        runs, 1.0 / (1.0 + np.exp(-(np.asarray(values) - threshold) / scale)))


def compare(label: str, make_evaluator) -> None:
    result = find_tipping_point(make_evaluator(), 0.0, 1.0, 0.5, 0.05)
    bracket, per_b = fixed_grid_runs(make_evaluator(), 0.0, 1.0, 0.5, 0.05, LADDER, "bracket")
    logistic, per_l = fixed_grid_runs(make_evaluator(), 0.0, 1.0, 0.5, 0.05, LADDER, "logistic")
    print(f"{label:<44} {result.status:<8} {result.estimate:6.3f} [{result.low:.3f}, "
          f"{result.high:.3f}]  adaptive {result.runs:5d}  grid-bracket {bracket:6d} "
          f"({bracket / result.runs:4.1f}x)  grid-logistic {logistic:5d} "
          f"({logistic / result.runs:4.1f}x)")


def main() -> None:
    print("target P = 0.5, interval width <= 0.05, parameter range [0, 1]")
    for scale in (0.05, 0.08, 0.12):
        for seed in range(3):
            compare(f"synthetic logistic, threshold 0.62, scale {scale}, seed {seed}",
                    lambda scale=scale, seed=seed: synthetic(0.62, scale, seed))
    baseline = blocsim.load(SCENARIOS / "baseline.toml")
    executor = LocalExecutor(2)
    for grouping, path in (("QUAD", "states.IND.autonomy"),
                           ("AUKUS", "pressures.china_assertiveness.value")):
        compare(f"model: {grouping} vs {path}",
                lambda grouping=grouping, path=path: ModelEvaluator(baseline, path, grouping,
                                                                    executor, seed=1))
    executor.close()


if __name__ == "__main__":
    main()
