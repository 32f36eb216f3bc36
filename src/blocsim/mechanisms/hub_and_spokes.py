"""Hub and spokes: the US prefers bilateral ties; a multilateral pledge dilutes its control."""

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
    per_pair,
)
from blocsim.vocabulary import MAX_LEVEL

HUB_SOURCE = ("004: in the Far East Washington 'concentrated on building a system of bilateral "
              "cooperation or formats with a very limited (3-5 participants) composition "
              "(e.g. ANZUS)', which 'gave the US broad freedom of manoeuvre'; Cha (2010)")


def multilateral_rise(level: FloatArray, onset: FloatArray) -> FloatArray:
    """`(r, 1, g)` how far a grouping has risen above the onset level, as a share in [0, 1]."""
    start = per_pair(onset)
    span = np.maximum(MAX_LEVEL - start, 1e-9)
    return np.clip((across_members(level) - start) / span, 0.0, 1.0)


def control_dilution(core: FloatArray) -> FloatArray:
    """`(r, 1, g)` the hub's loss of control to a pledge of k members: `1 - 2 / k` (0 if k <= 2)."""
    members = core.sum(axis=-2, keepdims=True)
    return np.clip(1.0 - 2.0 / np.maximum(members, 1.0), 0.0, 1.0)


class HubAndSpokes(Mechanism):
    """Cha (2010), powerplay: bilateral treaties give the hub control a pact of many would not."""

    name = "hub_and_spokes"
    title = "Hub and spokes"
    theory = ("the hub keeps control through bilateral treaties; spokes that hold one gain "
              "little from a multilateral pledge")
    citation = ("Cha, V. D. (2010). Powerplay: origins of the U.S. alliance system in Asia. "
                "International Security 34(3); seed 004.")
    effect = ("above 'institutionalized', the hub pays for its diluted control and spokes with a "
              "bilateral US treaty value the multilateral pledge less")
    parameters = (
        Parameter("hub_weight", 3.0, 0.0, 50.0, "utility (logit units) the hub loses in a formal "
                  "alliance of many members (dilution 1)", CALIBRATED),
        Parameter("spoke_weight", 2.0, 0.0, 50.0, "utility (logit units) a full treaty ally "
                  "loses in a formal alliance with the hub: its bilateral treaty already gives "
                  "what the pledge adds", CALIBRATED),
        Parameter("onset_level", 3.0, 0.0, 3.9, "level above which the pledge substitutes for "
                  "bilateral treaties ('institutionalized')", "DESIGN.md mechanism 9 (above "
                  "'institutionalized'); " + HUB_SOURCE),
    )
    ablation = Ablation("level US_JPN_ROK", +1, "without the hub's preference the allies' "
                        "trilateral rises further")

    def bound(self, params: Params) -> FloatArray:
        """At most `max(hub_weight, spoke_weight)`."""
        return np.maximum(params.hub_weight, params.spoke_weight)

    def utility(self, quarter: Quarter, params: Params) -> FloatArray:
        """Hub: `-hub_weight * dilution * rise`; spokes: `-spoke_weight * us_alliance * rise`."""
        rise = multilateral_rise(quarter.level, params.onset_level) * quarter.hub_led
        term = np.zeros(quarter.commitment.shape)
        spokes = np.array(np.broadcast_to(quarter.attributes["us_alliance"],
                                          (quarter.replications, term.shape[-2])))
        spokes[:, quarter.hub] = 0.0
        term -= per_pair(params.spoke_weight) * spokes[..., None] * rise
        hub_cost = per_pair(params.hub_weight) * control_dilution(quarter.core) * rise
        term[:, quarter.hub, :] -= hub_cost[:, 0, :]
        return term * quarter.core
