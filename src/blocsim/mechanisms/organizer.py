"""The organizer: the United States invests in the groupings it leads as far as it is engaged."""

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
    per_pair,
)

ENGAGEMENT_CLIP = 0.01
"""Engagement is clipped to [0.01, 0.99] before the logit, so the term stays finite."""


class Organizer(Mechanism):
    """The hub's own reason to invest: its engagement in minilateral formats (004, 002)."""

    name = "organizer"
    title = "US leadership"
    theory = "the hub builds the formats it leads as far as its engagement reaches"
    citation = ("Seed 004 (the US 'promotes the idea of integrating the systems of deterring "
                "Russia and containing China'); 002 (Blinken's 2024 tour).")
    effect = "the US's utility of each grouping it belongs to gains logit(us_engagement)"
    parameters = (
        Parameter("weight", 1.0, 0.0, 10.0, "logit units of the hub's utility per logit unit "
                  "of its engagement", CALIBRATED),
    )
    ablation = Ablation("commitment USA QUAD", -1, "an engaged US leans into its formats")

    def bound(self, params: Params) -> FloatArray:
        """At most `weight * logit(0.99)`."""
        return params.weight * np.log((1 - ENGAGEMENT_CLIP) / ENGAGEMENT_CLIP)

    def utility(self, quarter: Quarter, params: Params) -> FloatArray:
        """`weight * logit(engagement)` on the hub's row, zero elsewhere."""
        engagement = np.clip(quarter.felt["us_engagement"][..., quarter.hub],
                             ENGAGEMENT_CLIP, 1 - ENGAGEMENT_CLIP)
        term = np.zeros(quarter.commitment.shape)
        term[..., quarter.hub, :] = (np.log(engagement / (1.0 - engagement))[..., None]
                                     * quarter.involved[..., quarter.hub, :])
        return per_pair(params.weight) * term
