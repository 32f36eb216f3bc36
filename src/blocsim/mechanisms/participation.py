"""Participation: a member whose utility stays negative leaves; the grouping is suspended."""

from __future__ import annotations

import numpy as np

from blocsim.mechanisms.base import (
    CALIBRATED,
    Ablation,
    FloatArray,
    Mechanism,
    Membership,
    Parameter,
    Params,
    Quarter,
    per_pair,
)


def participation_step(membership: Membership, core: FloatArray, utility: FloatArray,
                       exit_threshold: FloatArray, reentry_threshold: FloatArray,
                       patience: FloatArray) -> Membership:
    """Who takes part next quarter: exit and re-entry with hysteresis.

    A taking-part core member whose utility has stayed below `exit_threshold` for `patience`
    quarters in a row leaves; an exited member whose utility has stayed at or above
    `reentry_threshold` (higher) for `patience` quarters comes back. Shapes `(r, n, g)`;
    thresholds and patience `(r,)`.
    """
    member = np.asarray(core, bool)
    taking_part = member & ~membership.exited
    below = np.where(taking_part & (utility < per_pair(exit_threshold)),
                     membership.below + 1, 0).astype(np.int16)
    above = np.where(membership.exited & member & (utility >= per_pair(reentry_threshold)),
                     membership.above + 1, 0).astype(np.int16)
    leaving = below >= per_pair(patience)
    returning = above >= per_pair(patience)
    exited = (membership.exited | leaving) & ~returning & member
    return Membership(exited, np.where(leaving, 0, below).astype(np.int16),
                      np.where(returning, 0, above).astype(np.int16))


class Participation(Mechanism):
    """Taking part is separate from how much: members can leave, and be won back."""

    name = "participation"
    title = "Participation and exit"
    theory = ("exit rather than voice: a member that gains nothing leaves, and a minilateral "
              "without one of its members is suspended (QUAD after Australia's exit, 2008)")
    citation = ("Hirschman, A. O. (1970). Exit, Voice, and Loyalty; data/timeline.csv "
                "2008-02-05 (Australia's withdrawal from the Quad) and 2017-11-12 (revival); "
                "ATOP exits from SEATO (1972-11, 1974-06) and ANZUS (1986-09).")
    effect = ("a core member whose utility stays below the exit threshold leaves and the "
              "grouping decays toward dormant; it comes back when its utility turns positive, "
              "and the organizer relaunches a dialogue")
    parameters = (
        Parameter("exit_threshold", -2.5, -10.0, -0.01, "participation utility (logit units: the "
                  "net value of belonging, without the baseline propensity) below which a "
                  "member is ready to leave", CALIBRATED),
        Parameter("reentry_threshold", 0.0, 0.0, 10.0, "utility at or above which an exited "
                  "member comes back: 'when its utility turns positive' (issue 10)",
                  "issue 10 / DESIGN.md (re-entry needs a higher threshold; relaunch when the "
                  "exited member's utility turns positive)"),
        Parameter("patience", 4, 1, 40, "quarters in a row beyond a threshold before a member "
                  "leaves or comes back", CALIBRATED, integer=True),
        Parameter("relaunch_level", 1.0, 0.0, 2.0, "level the organizer restores when the "
                  "grouping is relaunched (1: a consultative dialogue)", "data/timeline.csv "
                  "2017-11-12: the Quad was revived as an officials' dialogue"),
    )
    ablation = Ablation("suspended QUAD", -1, "without exit no grouping is ever suspended",
                        overrides={"mechanisms.participation.exit_threshold": -1.0, "shocks": [{
                            "name": "India's government turns away from the Quad for two years",
                            "at": 0, "targets": ["IND"], "attribute": "autonomy",
                            "magnitude": 0.6, "decay_quarters": 8,
                            "source": "a passing domestic turn, as Australia's in 2008"}]})

    def participation(self, quarter: Quarter, params: Params, utility: FloatArray,
                      membership: Membership) -> Membership:
        """One quarter of exits and returns (see `participation_step`)."""
        return participation_step(membership, quarter.members, utility,
                                  params.exit_threshold, params.reentry_threshold,
                                  params.patience)
