"""The agent-based model: pure dynamics, pressures, Mesa agents, the model and its outcomes."""

from blocsim.model.agents import GroupingAgent, StateAgent
from blocsim.model.inputs import (
    BatchInputs,
    CompiledScenario,
    PointInputs,
    Structure,
    compile_batch,
)
from blocsim.model.model import AllianceModel
from blocsim.model.outcomes import Outcomes, batch_outcomes
from blocsim.model.record import Trajectory

__all__ = [
    "AllianceModel", "BatchInputs", "CompiledScenario", "GroupingAgent", "Outcomes",
    "PointInputs", "StateAgent", "Structure", "Trajectory", "batch_outcomes", "compile_batch",
]
