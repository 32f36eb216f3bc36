"""China's counter-moves: provocation, deterrence by coercion, and wedges at the weakest member."""

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
    level_share,
    per_pair,
    per_state,
)


def bloc_formality(level: FloatArray, hub_led: FloatArray) -> FloatArray:
    """`(r,)` how formal the most formal US-led grouping is, `(max level / 4) ** 2`, in [0, 1].

    Squared, so dialogues barely register and an alliance provokes.
    """
    share = level_share((level * hub_led).max(axis=-1, initial=0.0))
    return share * share


def response_intensity(quarter: Quarter, gain: FloatArray) -> FloatArray:
    """`(r,)` China's counter-move: `gain * (formality - starting formality)`, never below 0.

    The scheduled pressures describe China's posture toward the groupings as they stood at the
    start, so China reacts to what they become.
    """
    rise = (bloc_formality(quarter.level, quarter.hub_led)
            - bloc_formality(quarter.starting_level, quarter.hub_led))
    return gain * np.maximum(rise, 0.0)


def wedge_targets(commitment: FloatArray, core: FloatArray, hub: int,
                  hub_led: FloatArray) -> FloatArray:
    """`(r, n, g)` 1 at the core member closest to leaving each US-led grouping (not the hub)."""
    candidates = np.array(core, dtype=float)
    candidates[..., hub, :] = 0.0
    masked = np.where(candidates > 0, commitment, np.inf)
    weakest = masked.argmin(axis=-2)
    target = np.zeros(commitment.shape)
    np.put_along_axis(target, weakest[..., None, :], 1.0, axis=-2)
    return target * candidates * hub_led


class ChinaResponse(Mechanism):
    """The security-dilemma spiral, and the wedge strategies that try to break coalitions."""

    name = "china_response"
    title = "China's counter-moves"
    theory = ("a counter-move can provoke balancing (the spiral) or deter it (coercion); wedge "
              "strategies aim inducements and pressure at the member closest to leaving")
    citation = ("Jervis, R. (1976). Perception and Misperception in International Politics; "
                "Crawford, T. W. (2011). Preventing enemy coalitions: how wedge strategies "
                "shape power politics. International Security 35(4); seed 002 (China and Russia "
                "'ready to do everything in their power to resist').")
    effect = ("as US-led groupings formalize, China raises its assertiveness (provocation: more "
              "threat, more balancing) and its coercion (deterrence), and offers the member "
              "closest to leaving reasons to leave (wedge)")
    binding = False
    parameters = (
        Parameter("gain", 0.25, 0.0, 1.0, "rise of China's response (pressure units) when the "
                  "most formal US-led grouping goes from its starting level to an alliance",
                  CALIBRATED),
        Parameter("provocation", 0.5, 0.0, 1.0, "share of the response spent on assertiveness "
                  "(provokes balancing); the rest raises coercion (deters dependents)",
                  "002 (resistance by every means) leaves the mix open; calibrated"),
        Parameter("wedge", 4.0, 0.0, 50.0, "utility (logit units) the member closest to leaving "
                  "loses per unit of response (inducements and pressure aimed at it)",
                  CALIBRATED),
    )
    ablation = Ablation("pressure china_assertiveness", -1, "without counter-moves China's "
                        "assertiveness stays on its schedule",
                        overrides={"pressures.china_assertiveness.end": 0.9})

    def bound(self, params: Params) -> FloatArray:
        """At most `wedge * gain` (formality rises by at most 1)."""
        return params.wedge * params.gain

    def adjust_pressures(self, quarter: Quarter, params: Params) -> dict[str, FloatArray]:
        """Assertiveness up by `provocation * R`, coercion by `(1 - provocation) * R`."""
        response = per_state(response_intensity(quarter, params.gain))
        share = per_state(params.provocation)
        return {
            "china_assertiveness": np.clip(quarter.felt["china_assertiveness"]
                                           + share * response, 0.0, 1.0),
            "china_coercion": np.clip(quarter.felt["china_coercion"]
                                      + (1.0 - share) * response, 0.0, 1.0),
        }

    def utility(self, quarter: Quarter, params: Params) -> FloatArray:
        """`-wedge * R` on the core member closest to leaving each US-led grouping."""
        response = response_intensity(quarter, params.gain)
        targets = wedge_targets(quarter.commitment, quarter.core, quarter.hub, quarter.hub_led)
        return -per_pair(params.wedge * response) * targets
