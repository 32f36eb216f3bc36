"""Distrust: binding oneself to a partner one distrusts costs more the more binding it is."""

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
    across_members,
    level_share,
    per_pair,
)


def distrust_of_partners(affinity: FloatArray, core: FloatArray) -> FloatArray:
    """`(r, n, g)` mean distrust, `max(-affinity, 0)`, of each member toward its fellow members.

    Over the other core members of the grouping; zero where there are none.
    """
    distrust = np.maximum(-affinity, 0.0)
    total = distrust @ core
    others = core.sum(axis=-2, keepdims=True) - core
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(others > 0, total / np.maximum(others, 1.0), 0.0)


class Distrust(Mechanism):
    """Dyadic distrust (Japan-Korea): historical grievances make a shared pledge costly."""

    name = "distrust"
    title = "Distrust between partners"
    theory = ("quasi-alliance theory: two states allied to one patron cooperate less when they "
              "distrust each other")
    citation = ("Cha, V. D. (1999). Alignment Despite Antagonism: The US-Korea-Japan Security "
                "Triangle. Stanford University Press.")
    effect = "cost = mean distrust of fellow core members x the grouping's level"
    parameters = (
        Parameter("weight", 4.0, 0.0, 50.0, "utility (logit units) lost in a formal alliance "
                  "with partners of affinity -1", CALIBRATED),
    )
    ablation = Ablation("level US_JPN_ROK", +1, "distrust between Japan and Korea holds the "
                        "trilateral back", overrides={"affinities.JPN.KOR": -0.4})

    def bound(self, params: Params) -> FloatArray:
        """At most `weight`."""
        return params.weight

    def utility(self, quarter: Quarter, params: Params) -> FloatArray:
        """`-weight * distrust * level / 4`, for core members."""
        distrust = distrust_of_partners(quarter.affinity, quarter.core)
        scale = level_share(across_members(quarter.level))
        return -per_pair(params.weight) * distrust * scale * quarter.core
