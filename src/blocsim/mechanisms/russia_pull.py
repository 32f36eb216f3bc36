"""Russia's pull: arms dependence on Moscow makes joining US-led blocs costly (India)."""

from __future__ import annotations

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
from blocsim.mechanisms.exposure import level_exposure


class RussiaPull(Mechanism):
    """Arms-supplier leverage: clients pay for displeasing Russia, more as it courts them."""

    name = "russia_pull"
    title = "Russia's pull"
    theory = "arms dependence gives the supplier leverage over the client's alignments"
    citation = ("Seed 001 (India 'significantly dependent on Moscow for defense and energy'); "
                "SIPRI Arms Transfers (data/).")
    effect = "cost = defence dependence on Russia x Russia's courtship x exposure"
    binding = False
    parameters = (
        Parameter("weight", 4.0, 0.0, 50.0, "utility (logit units) lost by a fully dependent "
                  "client under maximal courtship in an alliance", CALIBRATED),
        Parameter("dormant_exposure", 0.5, 0.0, 1.0, "exposure of a dormant grouping's members, "
                  "as a share of an alliance's", CALIBRATED),
    )
    ablation = Ablation("commitment IND QUAD", +1, "Russia's arms tie holds India back")

    def bound(self, params: Params) -> FloatArray:
        """At most `weight`."""
        return params.weight

    def utility(self, quarter: Quarter, params: Params) -> FloatArray:
        """`-weight * dependence * courtship * exposure`."""
        pressure = (quarter.attributes["russia_defense_dependence"]
                    * quarter.felt["russia_courtship"])
        exposure = level_exposure(quarter.level, params.dormant_exposure)
        return -per_pair(params.weight) * pressure[..., :, None] * exposure * quarter.involved
