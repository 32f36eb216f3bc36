"""AllianceModel as `mesa.batch_run` needs it: keyword parameters and a DataCollector.

One model per run, as batch_run makes them; the parameters are the two axes of the benchmark
sweep, applied to the baseline exactly as a blocsim sweep applies them, and the data collected
every quarter is what a blocsim sweep writes (so both do the same job).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import mesa

import blocsim
from blocsim.model import AllianceModel, compile_inputs
from blocsim.model.inputs import ModelInputs

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"
AXES = ("pressures.china_assertiveness.end", "states.IND.autonomy")


@lru_cache(maxsize=64)
def inputs_for(assertiveness_end: float, india_autonomy: float) -> ModelInputs:
    """Compiled baseline with the point's values (cached per process, as blocsim caches)."""
    scenario = blocsim.load(BASELINE).with_values(
        dict(zip(AXES, (assertiveness_end, india_autonomy), strict=True)))
    return compile_inputs(scenario)


class BatchRunAllianceModel(AllianceModel):
    """The same model, built from keyword parameters, collecting every quarter what a blocsim
    run writes: each grouping's level and NATO tie, each state's alignment and commitments.
    """

    def __init__(self, assertiveness_end: float = 0.6, india_autonomy: float = 0.9,
                 rng: object = None) -> None:
        super().__init__(inputs_for(assertiveness_end, india_autonomy), rng=rng)
        reporters = {}
        for j, name in enumerate(self.spec.grouping_names):
            reporters[f"level_{name}"] = lambda m, j=j: float(m.level[0, j])
            reporters[f"nato_tie_{name}"] = lambda m, j=j: float(m.nato_tie[0, j])
        self.datacollector = mesa.DataCollector(
            model_reporters=reporters,
            agent_reporters={"alignment": lambda a: getattr(a, "alignment", None),
                             "commitment": lambda a: getattr(a, "commitment", None)})

    def step(self) -> None:
        """Advance a quarter and collect it."""
        super().step()
        self.datacollector.collect(self)
