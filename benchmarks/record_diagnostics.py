"""Why the calibrated model loses out of sample: two diagnostics of the history case.

Post hoc, after the test scores were known; nothing here feeds a fit.

1. Capacity: for draws from the calibration's prior, the share of runs reproducing dormancy (H1)
   and each test fact. Does any parameter value fit both windows?
2. Inputs: under the shipped posterior, the test facts with the history's inputs changed one way
   at a time (persistent border crises, India's later Russian arms share, a US turn in 2017,
   threat perceptions rising from 2017).

    .venv/bin/python benchmarks/record_diagnostics.py [--draws 400] [--replications 400]
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import blocsim
from blocsim.analysis.calibration.facts import FactCollector
from blocsim.analysis.calibration.spec import load_calibration
from blocsim.experiment.engine import gather
from blocsim.experiment.executors import LocalExecutor
from blocsim.experiment.plan import Plan
from blocsim.experiment.posterior import Posterior

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
CRISES = re.compile(r'(name = "(Doklam standoff|Galwan Valley clash)"\n(?:.*\n){3}'
                    r'magnitude = [0-9.]+\ndecay_quarters = )8')
RISING_THREAT = {"USA": (0.4, 0.3), "JPN": (0.45, 0.3), "IND": (0.3, 0.3), "AUS": (0.35, 0.3),
                 "KOR": (0.2, 0.2)}
"""Per state: its 2007 threat_china in the diagnostic, and the rise from 2017Q4 back to ~2025's."""


def shares_by_point(plan: Plan, facts: tuple, executor: LocalExecutor) -> pd.DataFrame:
    """Each point's share of runs reproducing each fact."""
    parts = [p for p in gather(plan, FactCollector(facts), executor).collected
             if len(p["replication"])]
    frame = pd.DataFrame({k: np.concatenate([p[k] for p in parts])
                          for k in ["point", *(f.id for f in facts)]})
    return frame.groupby("point").mean()


def capacity(calibration, facts: tuple, draws: int, executor: LocalExecutor) -> None:
    rng = np.random.default_rng(5)
    points = pd.DataFrame({p.path: rng.uniform(*p.prior, draws)
                           for p in calibration.spec.parameters})
    points.index.name = "point"
    shares = shares_by_point(Plan(calibration.cases["history"], points, 10, 7), facts, executor)
    print(f"1. {draws} prior draws x 10 runs of the history case")
    for test in ("H5", "H6", "H10"):
        both = int(((shares.H1 >= 0.5) & (shares[test] >= 0.5)).sum())
        print(f"   H1 >= 0.5 and {test} >= 0.5: {both} draws; "
              f"correlation of H1 and {test} across draws {shares.H1.corr(shares[test]):+.2f}")


def edited(text: str, old: str, new: str, count: int = -1) -> str:
    """`text` with `old` replaced; an edit that no longer matches the history file is an error,
    not a silent copy of the case as shipped."""
    if old not in text:
        raise SystemExit(f"record_diagnostics: history_2007.toml no longer holds {old!r}")
    return text.replace(old, new, count)


def variants(history: str) -> dict[str, str]:
    us_turn = edited(
        history, '[pressures.us_engagement]\nvalue = 0.5',
        '[pressures.us_engagement]\npoints = [["2007Q1", 0.5], ["2016Q4", 0.5], ["2018Q1", 0.7]]')
    lowered = history
    for code, (start, _) in RISING_THREAT.items():
        lowered = edited(lowered, f"[states.{code}]\n",
                         f"[states.{code}]\nthreat_china = {start}\n", 1)
    rising = lowered + "".join(
        f'\n[[shocks]]\nname = "diagnostic: {code} threat perception rises"\nat = "2017Q4"\n'
        f'targets = ["{code}"]\nattribute = "threat_china"\nmagnitude = {rise}\n'
        f'decay_quarters = 72\nsource = "diagnostic only"\n'
        for code, (_, rise) in RISING_THREAT.items())
    persistent, found = CRISES.subn(r"\g<1>40", history)
    if not found:
        raise SystemExit("record_diagnostics: history_2007.toml has no crisis shocks to extend")
    return {"as shipped": history,
            "Doklam and Galwan persist (decay 40 quarters, not 8)": persistent,
            "India's Russian arms share 0.36 (2019-23) throughout":
                edited(history, "russia_defense_dependence = 0.77",
                       "russia_defense_dependence = 0.36"),
            "US engagement 0.5 -> 0.7 in 2017": us_turn,
            "threat perceptions lower in 2007, rising back from 2017Q4": rising}


def inputs(calibration, facts: tuple, replications: int, executor: LocalExecutor) -> None:
    posterior = Posterior.read(SCENARIOS / "calibration" / "record_posterior.parquet")
    history = edited((SCENARIOS / "history_2007.toml").read_text(), 'extends = "baseline.toml"',
                     f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"')
    print(f"2. the shipped posterior, {replications} runs per variant of the history case")
    for label, text in variants(history).items():
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "history_variant.toml"
            path.write_text(text)
            scenario = blocsim.load(path)
        single = Plan.single(scenario, replications, calibration.spec.seed)
        plan = Plan(scenario, single.points, replications, calibration.spec.seed,
                    posterior=posterior, draw_block=10)
        row = shares_by_point(plan, facts, executor).iloc[0]
        print(f"   {label:58s} " + "  ".join(f"{k} {row[k]:.3f}" for k in
                                              ("H1", "H5", "H6", "H10")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=400)
    parser.add_argument("--replications", type=int, default=400)
    args = parser.parse_args()
    calibration = load_calibration(SCENARIOS / "calibration" / "record.toml")
    facts = tuple(f for f in [*calibration.spec.facts, *calibration.test_facts.facts]
                  if f.case == "history")
    executor = LocalExecutor(2)
    try:
        capacity(calibration, facts, args.draws, executor)
        inputs(calibration, facts, args.replications, executor)
    finally:
        executor.close()


if __name__ == "__main__":
    main()
