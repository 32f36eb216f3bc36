"""Autonomy cost: binding commitments cost autonomy-minded and constrained states, convexly."""

from __future__ import annotations

from blocsim.mechanisms.base import (
    CALIBRATED,
    Ablation,
    FloatArray,
    Mechanism,
    Parameter,
    Params,
    Quarter,
    across_members,
    per_pair,
    power,
)
from blocsim.vocabulary import MAX_LEVEL


def reluctance(autonomy: FloatArray, domestic_constraint: FloatArray) -> FloatArray:
    """`1 - (1 - autonomy) * (1 - constraint)`: two independent brakes on binding oneself."""
    return 1.0 - (1.0 - autonomy) * (1.0 - domestic_constraint)


def autonomy_cost(autonomy: FloatArray, domestic_constraint: FloatArray, level: FloatArray,
                  convexity: FloatArray) -> FloatArray:
    """Cost of a grouping's level to each member, `(r, n, g)`, in [0, 1].

    `reluctance * ((level + 1) / 5) ** convexity`: convex, so a formal alliance (level 4) costs
    most and a dialogue little.
    """
    rung = (across_members(level) + 1.0) / (MAX_LEVEL + 1.0)
    return reluctance(autonomy, domestic_constraint)[..., :, None] * power(rung,
                                                                         per_pair(convexity))


class AutonomyCost(Mechanism):
    """Strategic autonomy (India's non-alignment) and domestic limits make binding costly."""

    name = "autonomy_cost"
    title = "Autonomy cost"
    theory = "alliances trade autonomy for security; the more binding, the dearer"
    citation = ("Morrow, J. D. (1991). Alliances and asymmetry: an alternative to the "
                "capability aggregation model of alliances. AJPS 35(4); seed 001 on India's "
                "'strategic autonomy'.")
    effect = "cost of membership rises convexly with the grouping's level"
    parameters = (
        Parameter("weight", 4.5, 0.0, 50.0, "utility (logit units) a fully reluctant state "
                  "loses in a formal alliance", CALIBRATED),
        Parameter("convexity", 2.0, 1.0, 5.0, "exponent on (level + 1) / 5: 2 makes a formal "
                  "alliance cost most", "000 (states not ready to join a 'formalized military "
                  "alliance') - costs rise with formality; calibrated"),
    )
    ablation = Ablation("commitment IND QUAD", +1, "India's autonomy is what holds it back")

    def bound(self, params: Params) -> FloatArray:
        """At most `weight`."""
        return params.weight

    def utility(self, quarter: Quarter, params: Params) -> FloatArray:
        """`-weight * autonomy_cost`."""
        cost = autonomy_cost(quarter.attributes["autonomy"],
                             quarter.attributes["domestic_constraint"], quarter.level,
                             params.convexity)
        return -per_pair(params.weight) * cost * quarter.involved
