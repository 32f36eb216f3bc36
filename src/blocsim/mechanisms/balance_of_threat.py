"""Balance of threat: states join groupings that pool capability against the threats they face."""

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
    power,
)


def partner_strength(capability: FloatArray, commitment: FloatArray, core: FloatArray,
                     involved: FloatArray, hub: int, hub_trust: FloatArray) -> FloatArray:
    """Committed, reliable capability of each member's partners, `(r, n, g)`, in US units.

    Sum over the other core members j of `capability_j * commitment_jg`, the hub's pledge
    discounted by how far member i trusts it (`hub_trust`, `(r, n)`: the US's reliability as i
    feels it). Observers pledge nothing but count their partners' pledges.
    """
    pledged = capability[..., :, None] * commitment * core
    hub_pledge = pledged[..., hub:hub + 1, :]
    others = pledged.copy()
    others[..., hub, :] = 0.0
    from_others = ordered_sum(others, axis=-2)[..., None, :] - others
    trust = hub_trust[..., :, None].copy()
    trust[..., hub, :] = 0.0
    return (from_others + hub_pledge * trust) * involved


def security_value(threat: FloatArray, strength: FloatArray, adversary: FloatArray,
                   level: FloatArray, exponent: FloatArray) -> FloatArray:
    """Walt's balance of threat: value of a grouping to a member, `(r, n, g)`, in [0, 1].

    `threat * S / (S + adversary) * credibility`: the partners' strength S set against the
    combined capability of the adversaries the grouping answers, times the credibility of its
    pledge, `(level / 4) ** exponent`, so a dialogue buys little security and a treaty much.
    """
    balance = strength / (strength + np.maximum(across_members(adversary), 1e-9))
    credibility = power(level_share(across_members(level)), per_pair(exponent))
    return threat * balance * credibility


class BalanceOfThreat(Mechanism):
    """Walt (1987): states ally against the most threatening power, weighing partners' strength."""

    name = "balance_of_threat"
    title = "Balance of threat"
    theory = "states balance against threats: aggregate capability, proximity, intentions"
    citation = "Walt, S. M. (1987). The Origins of Alliances. Cornell University Press."
    effect = ("security value rises with the threat a grouping answers, its partners' committed "
              "and reliable capability against the adversaries', and the credibility of its level")
    parameters = (
        Parameter("weight", 12.0, 0.0, 50.0, "utility (logit units) of a grouping that fully "
                  "balances a maximal threat with a treaty's credibility", CALIBRATED),
        Parameter("credibility_exponent", 1.0, 0.25, 4.0, "how credibility grows with the "
                  "level, (level / 4) ** exponent: 1 makes a dialogue worth a quarter of a "
                  "treaty", "issue 10 (a dialogue buys little security, a treaty much); "
                  "calibrated"),
    )
    ablation = Ablation("level AUKUS", -1, "without a security reason to commit, groupings "
                        "fall back")

    def bound(self, params: Params) -> FloatArray:
        """At most `weight` (threat, balance and credibility are each at most 1)."""
        return params.weight

    def utility(self, quarter: Quarter, params: Params) -> FloatArray:
        """`weight * security_value`, for core members and observers."""
        strength = partner_strength(quarter.capability, quarter.commitment, quarter.core,
                                    quarter.involved, quarter.hub, quarter.felt["us_reliability"])
        strength = strength + across_members(quarter.nato_tie * quarter.nato_capability[..., None])
        value = security_value(quarter.grouping_threat, strength, quarter.adversary_capability,
                               quarter.level, params.credibility_exponent)
        return per_pair(params.weight) * value * quarter.involved
