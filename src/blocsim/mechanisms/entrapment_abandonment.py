"""Snyder's alliance security dilemma: fear of entrapment against fear of abandonment."""

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


def entrapment_fear(threat: FloatArray, taiwan_tension: FloatArray,
                    level: FloatArray) -> FloatArray:
    """`(r, n, g)` fear of being dragged into a Taiwan war by a binding pact, in [0, 1].

    Highest for members who feel little threat themselves, in formal groupings, under tension.
    """
    return (1.0 - threat) * taiwan_tension[..., :, None] * level_share(across_members(level))


def abandonment_fear(threat: FloatArray, us_alliance: FloatArray, us_reliability: FloatArray,
                     hub: int) -> FloatArray:
    """`(r, n, g)` fear that the US will not come: threatened allies who doubt it bind more.

    `threat * us_alliance * (1 - reliability)`; zero for the hub itself, which cannot fear
    abandonment by itself.
    """
    ally = us_alliance * (1.0 - us_reliability)
    ally = np.array(np.broadcast_to(ally, np.broadcast_shapes(ally.shape, us_reliability.shape)))
    ally[..., hub] = 0.0
    return threat * ally[..., :, None]


class EntrapmentAbandonment(Mechanism):
    """Snyder (1984): allies fear being dragged into a partner's war and being left alone."""

    name = "entrapment_abandonment"
    title = "Entrapment and abandonment"
    theory = "the alliance security dilemma: entrapment fear loosens ties, abandonment fear binds"
    citation = ("Snyder, G. H. (1984). The security dilemma in alliance politics. World "
                "Politics 36(4).")
    effect = ("fear of entrapment in a Taiwan war lowers commitment to binding groupings; allies "
              "who doubt the US bind themselves more")
    parameters = (
        Parameter("weight", 1.0, 0.0, 50.0, "scale of both fears (logit units)", CALIBRATED),
        Parameter("entrapment", 3.0, 0.0, 50.0, "weight of entrapment fear", CALIBRATED),
        Parameter("abandonment", 1.5, 0.0, 50.0, "weight of abandonment fear", CALIBRATED),
    )
    ablation = Ablation("commitment NZL PBP", +1, "a Taiwan crisis deters the least "
                        "threatened from binding", overrides={"pressures.taiwan_tension.end": 0.9})

    def bound(self, params: Params) -> FloatArray:
        """At most `weight * max(entrapment, abandonment)`."""
        return params.weight * np.maximum(params.entrapment, params.abandonment)

    def utility(self, quarter: Quarter, params: Params) -> FloatArray:
        """`weight * (abandonment * abandonment_fear - entrapment * entrapment_fear)`."""
        threat = quarter.grouping_threat
        entrapment = entrapment_fear(threat, quarter.felt["taiwan_tension"], quarter.level)
        abandonment = abandonment_fear(threat, quarter.attributes["us_alliance"],
                                       quarter.felt["us_reliability"], quarter.hub)
        term = (per_pair(params.abandonment) * abandonment
                - per_pair(params.entrapment) * entrapment)
        return per_pair(params.weight) * term * quarter.involved
