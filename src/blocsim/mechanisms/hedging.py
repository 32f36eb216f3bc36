"""Hedging: the region's hedgers (ASEAN) stay between the US and China and distrust blocs."""

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
    ordered_sum,
    per_pair,
    per_state,
)


def legitimacy_deficit(alignment: FloatArray, hedging: FloatArray, hedgers: FloatArray,
                       asean_centrality: FloatArray) -> FloatArray:
    """Regional reluctance toward exclusive blocs, `(r,)`, in [0, 1].

    Mean over the hedgers (ASEAN) of `hedging * (1 - max(alignment, 0))`, scaled by ASEAN
    centrality as the hedgers feel it: the less they lean to the US, the costlier an anti-China
    bloc looks.
    """
    if not hedgers.any():
        return np.zeros(alignment.shape[0])
    hedging = np.broadcast_to(hedging, alignment.shape)
    reluctance = hedging[..., hedgers] * (1.0 - np.clip(alignment[..., hedgers], 0.0, 1.0))
    centrality = np.broadcast_to(asean_centrality, alignment.shape)[..., hedgers]
    return ordered_sum(reluctance * centrality) / hedgers.sum()


class Hedging(Mechanism):
    """Kuik (2008): small states hedge; their reluctance makes exclusive blocs illegitimate."""

    name = "hedging"
    title = "Hedging"
    theory = "small states hedge between great powers rather than balance or bandwagon"
    citation = ("Kuik, C.-C. (2008). The essence of hedging. Contemporary Southeast Asia 30(2); "
                "seeds 000, 003 on ASEAN centrality.")
    effect = ("hedgers' alignment targets are pulled to neutral; their reluctance is a "
              "legitimacy cost for members of exclusive blocs")
    binding = False
    parameters = (
        Parameter("weight", 2.0, 0.0, 50.0, "legitimacy cost (logit units) of an alliance the "
                  "whole region distrusts, for the most sensitive member", CALIBRATED),
        Parameter("base_sensitivity", 0.5, 0.0, 5.0, "regional sensitivity of a member that does "
                  "not hedge at all, relative to 1 added by full hedging: sensitivity = "
                  "(base + hedging) / (base + 1)", CALIBRATED),
        Parameter("damping_base", 0.5, 0.0, 1.0, "share of a full hedger's alignment pulled to "
                  "neutral when ASEAN centrality is 0", CALIBRATED),
        Parameter("damping_centrality", 0.5, 0.0, 1.0, "extra share pulled to neutral per unit "
                  "of ASEAN centrality", "003 (stability through 'existing mechanisms (ASEAN)'); "
                  "calibrated"),
    )
    ablation = Ablation("alignment_distance ASEAN", +1, "without hedging ASEAN leaves the middle")

    def bound(self, params: Params) -> FloatArray:
        """At most `weight` (deficit and level share are at most 1; sensitivity at most 1)."""
        return params.weight

    def utility(self, quarter: Quarter, params: Params) -> FloatArray:
        """`-weight * deficit * sensitivity * level / 4`."""
        hedging = quarter.attributes["hedging"]
        deficit = legitimacy_deficit(quarter.alignment, hedging, quarter.asean,
                                     quarter.felt["asean_centrality"])
        base = per_state(params.base_sensitivity)
        sensitivity = (base + hedging) / (base + 1.0)
        cost = (per_pair(deficit) * sensitivity[..., :, None]
                * level_share(across_members(quarter.level)))
        return -per_pair(params.weight) * cost * quarter.involved

    def alignment_damping(self, quarter: Quarter, params: Params) -> FloatArray:
        """`hedging * (damping_base + damping_centrality * centrality)`, in [0, 1]."""
        strength = (per_state(params.damping_base)
                    + per_state(params.damping_centrality) * quarter.felt["asean_centrality"])
        return np.clip(quarter.attributes["hedging"] * strength, 0.0, 1.0)
