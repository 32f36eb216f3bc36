"""Peer influence: members are pulled toward the commitment of fellow members they like."""

from __future__ import annotations

import numpy as np

from blocsim.mechanisms.base import (
    CALIBRATED,
    Ablation,
    FloatArray,
    Mechanism,
    Parameter,
    Params,
    Quarter,
    per_pair,
)


def peer_pull(commitment: FloatArray, affinity: FloatArray, involved: FloatArray) -> FloatArray:
    """Pull toward fellow members' commitment, `(r, n, g)`, in [-1, 1].

    Affinity-weighted mean over the other members j of `(c_jg - c_ig)`: a friend's commitment
    attracts, a rival's repels. Zero where a state has no affinity with any fellow member.
    """
    weighted = (affinity @ (commitment * involved)
                - commitment * (affinity @ involved))
    weight = np.abs(affinity) @ involved
    with np.errstate(invalid="ignore", divide="ignore"):
        pull = np.where(weight > 0, weighted / weight, 0.0)
    return pull * involved


class PeerInfluence(Mechanism):
    """Socialization within groupings: commitment spreads along affinities."""

    name = "peer_influence"
    title = "Peer influence"
    theory = "socialization: states converge on the practice of partners they trust"
    citation = ("Johnston, A. I. (2001). Treating international institutions as social "
                "environments. International Studies Quarterly 45(4).")
    effect = "pull toward fellow members' commitment, weighted by affinity"
    binding = False
    parameters = (
        Parameter("weight", 2.0, 0.0, 50.0, "utility (logit units) per unit of commitment gap "
                  "to fully liked partners", CALIBRATED),
    )
    ablation = Ablation("spread QUAD", +1, "without socialization members drift apart")

    def bound(self, params: Params) -> FloatArray:
        """At most `weight` (the pull is a mean of gaps in [-1, 1])."""
        return params.weight

    def utility(self, quarter: Quarter, params: Params) -> FloatArray:
        """`weight * peer_pull`."""
        pull = peer_pull(quarter.commitment, quarter.affinity, quarter.involved)
        return per_pair(params.weight) * pull
