"""Economic exposure: dependence on China's market makes its coercion a brake on joining."""

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


class EconomicExposure(Mechanism):
    """Interdependence as leverage: coercion of trade-dependent members raises their cost."""

    name = "economic_exposure"
    title = "Economic exposure"
    theory = "asymmetric interdependence is a source of coercive leverage"
    citation = ("Keohane, R. O. & Nye, J. S. (1977). Power and Interdependence; China's 2020 "
                "coercion of Australia (data/timeline.csv).")
    effect = "cost = dependence on China x China's coercion x how provocative the grouping looks"
    binding = False
    parameters = (
        Parameter("weight", 4.0, 0.0, 50.0, "utility (logit units) lost by a fully dependent "
                  "state under maximal coercion in an alliance", CALIBRATED),
        Parameter("dormant_exposure", 0.5, 0.0, 1.0, "exposure of a dormant grouping's members, "
                  "as a share of an alliance's", CALIBRATED),
    )
    ablation = Ablation("commitment AUS QUAD", +1, "trade with China restrains Australia")

    def bound(self, params: Params) -> FloatArray:
        """At most `weight`."""
        return params.weight

    def utility(self, quarter: Quarter, params: Params) -> FloatArray:
        """`-weight * dependence * coercion * exposure`."""
        pressure = quarter.attributes["china_trade_dependence"] * quarter.felt["china_coercion"]
        exposure = level_exposure(quarter.level, params.dormant_exposure)
        return -per_pair(params.weight) * pressure[..., :, None] * exposure * quarter.involved
