"""The agent-based model: pure dynamics, pressures, Mesa agents, the model and its outcomes."""

from blocsim.model.agents import GroupingAgent, StateAgent
from blocsim.model.inputs import ModelInputs, compile_inputs
from blocsim.model.model import AllianceModel, Trajectory
from blocsim.model.outcomes import GroupingOutcome, replication_outcomes

__all__ = [
    "AllianceModel", "GroupingAgent", "GroupingOutcome", "ModelInputs", "StateAgent",
    "Trajectory", "compile_inputs", "replication_outcomes",
]
