"""Russia's counter-move: it courts its arms clients harder as their groupings rise (India)."""

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
    ordered_sum,
    per_state,
)


def mean_level_of_groupings(level: FloatArray, involved: FloatArray) -> FloatArray:
    """`(r, n)` each state's mean level over the groupings it takes part in or observes."""
    return ordered_sum(involved * level[..., None, :]) / np.maximum(ordered_sum(involved), 1.0)


class RussiaResponse(Mechanism):
    """Russia courts India and warns the region as QUAD rises (001, 003)."""

    name = "russia_response"
    title = "Russia's counter-moves"
    theory = ("a spoiler raises its courtship of a client as the client's ties to the rival "
              "bloc grow")
    citation = ("Seed 001 (Russia 'is attempting to attract these two actors [India, China] to "
                "its side'); 003 (Lavrov's warnings at the East Asia Summit).")
    effect = "Russia's courtship of its arms clients rises with their groupings' levels"
    binding = False
    parameters = (
        Parameter("gain", 0.3, 0.0, 1.0, "rise in courtship (pressure units) per unit rise of "
                  "the client's mean grouping level / 4", CALIBRATED),
    )
    ablation = Ablation("pressure russia_courtship", -1, "without counter-moves Russia's "
                        "courtship stays on its schedule")

    def adjust_pressures(self, quarter: Quarter, params: Params) -> dict[str, FloatArray]:
        """Courtship of each arms client up by `gain * rise of its groupings' mean level / 4`."""
        now = mean_level_of_groupings(quarter.level, quarter.involved)
        then = mean_level_of_groupings(quarter.starting_level, quarter.involved)
        client = quarter.attributes["russia_defense_dependence"] > 0
        rise = per_state(params.gain) * client * level_share(np.maximum(now - then, 0.0))
        return {"russia_courtship": np.clip(quarter.felt["russia_courtship"] + rise, 0.0, 1.0)}
