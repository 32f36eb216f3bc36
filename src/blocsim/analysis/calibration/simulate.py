"""The calibration's model: a particle's parameters -> the share of runs reproducing each fit fact.

pyabc calls it once per particle (in its own worker processes or on Dask). For each case it runs
`replications` runs of the case's scenario at the particle's values, in one lockstep batch of the
one kernel, and evaluates the fit facts on them. It is given the fit facts only: the test facts
are never simulated during the fitting.

Run r of case c for a particle draws from `SeedSequence(seed, spawn_key=(c, k, r))`, where k is a
32-bit digest of the particle's values: a particle's summary is a function of its values alone.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from blocsim.analysis.calibration.facts import fact_holds
from blocsim.analysis.calibration.spec import Calibration, Fact
from blocsim.errors import BlocsimError
from blocsim.experiment.kernel import BATCH, simulate_runs
from blocsim.model.inputs import CompiledScenario


def particle_key(values: dict[str, float]) -> int:
    """A 32-bit digest of a particle's parameter values (its random streams' key)."""
    text = json.dumps({k: float(v) for k, v in sorted(values.items())})
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def parameter_names(paths: list[str]) -> dict[str, str]:
    """Pyabc's names for the parameters (`p0`, `p1`, ...) -> their scenario paths."""
    return {f"p{i}": path for i, path in enumerate(paths)}


class RecordModel:
    """Simulates the cases at a particle's values and returns each fit fact's share of runs."""

    def __init__(self, calibration: Calibration, facts: list[Fact], replications: int) -> None:
        self.seed = calibration.spec.seed
        self.replications = replications
        self.names = parameter_names([p.path for p in calibration.spec.parameters])
        self.cases = {name: CompiledScenario(scenario)
                      for name, scenario in calibration.cases.items()}
        self.facts = {name: tuple(f for f in facts if f.case == name) for name in self.cases}
        self.fact_ids = [f.id for f in facts]

    def shares(self, values: dict[str, float]) -> dict[str, float]:
        """Each fact's share of the runs that reproduce it, at scenario values `values`."""
        key = particle_key(values)
        shares: dict[str, float] = {}
        for index, (name, compiled) in enumerate(self.cases.items()):
            facts = self.facts[name]
            if not facts:
                continue
            try:
                point = compiled.point(values)
            except BlocsimError:
                shares.update({f.id: 0.0 for f in facts})
                continue
            held = {f.id: 0 for f in facts}
            for start in range(0, self.replications, BATCH):
                runs = np.arange(start, min(start + BATCH, self.replications))
                streams = [np.random.SeedSequence(self.seed, spawn_key=(index, key, int(r)))
                           for r in runs]
                with np.errstate(all="ignore"):
                    batch = simulate_runs(compiled, [point] * len(runs), np.zeros(len(runs), int),
                                          runs, streams)
                for fact in facts:
                    held[fact.id] += int(fact_holds(fact, batch).sum())
            shares.update({fid: count / self.replications for fid, count in held.items()})
        return shares

    def __call__(self, parameters: dict) -> dict[str, float]:
        """Pyabc's model call: `{"p0": ..., ...}` -> `{fact id: share}`."""
        values = {path: float(parameters[name]) for name, path in self.names.items()}
        return self.shares(values)


def shortfall(simulated: dict[str, float], observed: dict[str, float]) -> float:
    """The ABC distance: the mean shortfall of the fit facts' shares from the record (1).

    At tolerance e the fit facts hold, on average, in a share 1 - e of a particle's runs. The
    mean (not the largest) shortfall lets the search make progress on some facts while others
    are still rarely reproduced; the report gives every fact's share, so a fact the model cannot
    reproduce is visible rather than hidden by the average.
    """
    return sum(observed[key] - simulated.get(key, 0.0) for key in observed) / len(observed)
