"""Europe's cap: NATO's outreach to Indo-Pacific partners is capped by forces tied to Russia."""

from __future__ import annotations

import numpy as np

from blocsim.mechanisms.base import (
    Ablation,
    FloatArray,
    Mechanism,
    Parameter,
    Params,
    Quarter,
    ordered_sum,
    per_state,
)


class EuropeCap(Mechanism):
    """What NATO can lend the Indo-Pacific is bounded by Europe's bandwidth and a veto risk."""

    name = "europe_cap"
    title = "Europe's bandwidth and veto"
    theory = "commitments elsewhere and consensus rules bound an alliance's reach"
    citation = ("Seed 004 (European members 'fully involved in the deterrence of Russia'; "
                "France's objection to a NATO office in Tokyo, 2023).")
    effect = ("NATO's offer to a partner grouping is its outreach capped by Europe's bandwidth, "
              "less a share lost to a consensus veto")
    binding = False
    parameters = (
        Parameter("veto_risk", 0.3, 0.0, 1.0, "chance-weighted share of NATO's offer lost to a "
                  "consensus veto", "004 (France blocked the NATO liaison office in Tokyo, "
                  "data/timeline.csv 2023-07-10): one veto in the record; calibrated"),
    )
    ablation = Ablation("tie IP4", +1, "uncapped, NATO ties to the IP4 grow further")

    def nato_offer(self, quarter: Quarter, params: Params, offer: FloatArray) -> FloatArray:
        """`min(offer, bandwidth) * (1 - veto_risk)`; bandwidth as the European states feel it."""
        bandwidth = quarter.felt["europe_bandwidth"]
        europe = quarter.europe
        felt = bandwidth[..., europe] if europe.any() else bandwidth
        mean_bandwidth = ordered_sum(felt)[..., None] / felt.shape[-1]
        return np.minimum(offer, mean_bandwidth) * (1.0 - per_state(params.veto_risk))
