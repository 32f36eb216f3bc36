"""The posterior predictive of the record's facts, and the out-of-sample score on the test facts.

Each case is run `predictive_draws` x `predictive_replications` times, every block of
`predictive_replications` runs at one posterior draw. A fact's predictive probability is its share
of all runs; the spread of the blocks' shares, net of their binomial noise, is the part of the
uncertainty the parameters carry.

The test facts are scored only here, after the posterior is fixed: Brier score (1 - p)^2 and log
score -ln p for each (every test fact is true in the record), against the two naive forecasters
the pre-registered file states for each fact: the 2016 state persisting, and the ATOP base rate.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from blocsim.analysis.calibration.facts import FactCollector
from blocsim.analysis.calibration.spec import Calibration, Fact, TestFact
from blocsim.analysis.summary import blocked_interval, parameter_band
from blocsim.experiment.engine import gather
from blocsim.experiment.executors import Executor
from blocsim.experiment.plan import Plan
from blocsim.experiment.posterior import Posterior


def predictive_shares(calibration: Calibration, posterior: Posterior, facts: list[Fact],
                      executor: Executor | None = None) -> pd.DataFrame:
    """Per fact: its predictive probability, Monte Carlo and parameter intervals."""
    spec = calibration.spec
    draws, block = spec.predictive_draws, spec.predictive_replications
    rows = []
    for name, scenario in calibration.cases.items():
        case_facts = tuple(f for f in facts if f.case == name)
        if not case_facts:
            continue
        single = Plan.single(scenario, draws * block, spec.seed)
        plan = Plan(scenario, single.points, draws * block, spec.seed, posterior=posterior,
                    draw_block=block)
        gathered = gather(plan, FactCollector(case_facts), executor)
        parts = [part for part in gathered.collected if len(part["replication"])]
        replication = np.concatenate([p["replication"] for p in parts])
        for fact in case_facts:
            held = np.concatenate([p[fact.id] for p in parts])
            low, high, _, spread = blocked_interval(held, replication // block, block)
            hits, runs = int(held.sum()), len(held)
            p = hits / runs
            band_low, band_high = parameter_band(p, spread)
            rows.append({"fact": fact.id, "case": name, "window": fact.window,
                         "statement": fact.statement, "probability": p, "runs": runs,
                         "mc_low": low, "mc_high": high,
                         "parameter_sd": spread,
                         "parameter_low": band_low, "parameter_high": band_high})
    return pd.DataFrame(rows)


def _scores(probability: float, runs: int) -> tuple[float, float]:
    """Brier and log score of a forecast p for a fact that held (p kept off 0 for the log)."""
    floor = 1.0 / (2 * max(runs, 1))
    p = min(max(probability, floor), 1.0 - floor)
    return (1.0 - probability) ** 2, -math.log(p)


def score_test_facts(shares: pd.DataFrame, facts: list[TestFact]) -> pd.DataFrame:
    """The model's Brier and log scores on each test fact beside the two benchmarks'."""
    by_id = shares.set_index("fact")
    rows = []
    for fact in facts:
        p, runs = float(by_id.probability[fact.id]), int(by_id.runs[fact.id])
        row = {"fact": fact.id, "statement": fact.statement, "model": p}
        row["model_brier"], row["model_log"] = _scores(p, runs)
        for name, benchmark in (("persistence", fact.persistence),
                                ("base_rate", fact.base_rate)):
            row[name] = benchmark.probability
            row[f"{name}_brier"], row[f"{name}_log"] = _scores(benchmark.probability, runs)
        row["model_loses_to"] = ", ".join(
            name for name in ("persistence", "base_rate")
            if row[f"{name}_brier"] < row["model_brier"] - 1e-12)
        rows.append(row)
    table = pd.DataFrame(rows)
    return table


def score_summary(scores: pd.DataFrame) -> dict:
    """Mean Brier and log scores of the model and the benchmarks, and where the model loses."""
    summary = {}
    for who in ("model", "persistence", "base_rate"):
        summary[who] = {"brier": round(float(scores[f"{who}_brier"].mean()), 4),
                        "log": round(float(scores[f"{who}_log"].mean()), 4)}
    summary["model_loses_on"] = [
        {"fact": row.fact, "to": row.model_loses_to} for row in scores.itertuples()
        if row.model_loses_to]
    return summary
