"""The model's actors as Mesa agents: the readable face of the vectorized dynamics.

The per-quarter work is done once for all states and groupings by `AllianceModel.step` (numpy over
arrays, see `dynamics.py`); each agent is a view onto its own row or column of those arrays, so an
analyst can ask one state why it commits as it does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from blocsim.vocabulary import stage_name

if TYPE_CHECKING:
    from blocsim.model.model import AllianceModel


class StateAgent(mesa.Agent):
    """A state: its dispositions (from the scenario), commitments and US-China alignment.

    In a lockstep batch the agent shows the batch's first replication.
    """

    model: AllianceModel

    def __init__(self, model: AllianceModel, code: str, index: int) -> None:
        super().__init__(model)
        self.code = code
        self.index = index

    @property
    def commitment(self) -> dict[str, float]:
        """Commitment in [0, 1] to each grouping the state belongs to or observes."""
        structure = self.model.structure
        return {name: float(self.model.commitment[0, self.index, j])
                for j, name in enumerate(structure.grouping_names)
                if structure.involved[self.index, j]}

    @property
    def alignment(self) -> float:
        """Position on the US(+1)-China(-1) axis."""
        return float(self.model.alignment[0, self.index])

    def utility_terms(self, grouping: str) -> dict[str, float]:
        """Each mechanism's contribution (logit units) to last quarter's target commitment.

        India on QUAD, say: `{"balance_of_threat": +x, "autonomy_cost": -y, ...}`.
        """
        j = self.model.structure.grouping_names.index(grouping)
        shape = (self.model.replications, *self.model.structure.core.shape)
        return {name: float(np.broadcast_to(term, shape)[0, self.index, j])
                for name, term in self.model.utility_terms.items()}

    def __repr__(self) -> str:
        return f"StateAgent({self.code}, alignment={self.alignment:+.2f})"


class GroupingAgent(mesa.Agent):
    """A minilateral grouping: its members and its place on the institutional ladder.

    In a lockstep batch the agent shows the batch's first replication.
    """

    model: AllianceModel

    def __init__(self, model: AllianceModel, name: str, index: int) -> None:
        super().__init__(model)
        self.name = name
        self.index = index

    @property
    def level(self) -> float:
        """Institutional level in [0, 4]."""
        return float(self.model.level[0, self.index])

    @property
    def stage(self) -> str:
        """Name of the ladder rung reached."""
        return stage_name(self.level)

    @property
    def nato_tie(self) -> float:
        """NATO's tie to the grouping in [0, 1] (non-zero only for NATO's partner groupings)."""
        return float(self.model.nato_tie[0, self.index])

    @property
    def members(self) -> list[str]:
        """The grouping's core members (whether or not they take part now)."""
        structure = self.model.structure
        return [structure.state_codes[i] for i in np.flatnonzero(structure.core[:, self.index])]

    @property
    def exited(self) -> list[str]:
        """Core members that have left the grouping and not come back."""
        structure = self.model.structure
        out = np.flatnonzero(self.model.membership.exited[0, :, self.index])
        return [structure.state_codes[i] for i in out]

    @property
    def weakest_member(self) -> str:
        """The core member with the lowest commitment now: who holds the grouping back."""
        column = self.model.commitment[0, :, self.index]
        codes = self.model.structure.state_codes
        return min(self.members, key=lambda code: column[codes.index(code)])

    def __repr__(self) -> str:
        return f"GroupingAgent({self.name}, level={self.level:.2f}, {self.stage})"
