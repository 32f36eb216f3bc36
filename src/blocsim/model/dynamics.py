"""The model's mechanisms as pure, vectorized functions of numpy arrays.

Shapes: `n` states, `g` groupings. A per-state array is `(n,)`, a state-by-grouping array is
`(n, g)`, a membership mask is a boolean `(n, g)`. Anything that evolves may carry leading batch
axes (replications run in lockstep, `(r, n, g)`): every function broadcasts over them. Shares are
in [0, 1], levels in [0, 4], alignments in [-1, 1] (US +1, China -1), utilities in logit units.
Nothing here knows about Mesa, files or random seeds: the model passes the noise in.
"""

from __future__ import annotations

import numpy as np

from blocsim.vocabulary import MAX_LEVEL

FloatArray = np.ndarray


def ordered_sum(values: FloatArray, axis: int = -1) -> FloatArray:
    """Sum along `axis` adding elements strictly in order.

    numpy reduces a contiguous last axis pairwise and with SIMD, grouping the terms differently
    for different batch shapes; a one-ulp difference can later flip a threshold. Summing the moved
    axis element by element keeps a replication's result independent of the batch it ran in.
    """
    moved = np.moveaxis(values, axis, 0)
    total = np.zeros(moved.shape[1:])
    for part in moved:
        total = total + part
    return total


def perceived_threat(base: FloatArray, assertiveness: FloatArray | float) -> FloatArray:
    """Threat a state perceives, in [0, 1], given its baseline perception and China's assertiveness.

    `1 - (1 - base) ** (2 * assertiveness)`: equal to `base` at assertiveness 0.5, zero when China
    is benign, and rising toward 1 (never past it) as China grows assertive. A state that perceives
    no threat (base 0) is unmoved, as balance-of-threat theory expects.
    """
    return 1.0 - (1.0 - base) ** (2.0 * np.asarray(assertiveness))


def partner_strength(capability: FloatArray, reliability: FloatArray, commitment: FloatArray,
                     core: FloatArray, membership: FloatArray) -> FloatArray:
    """Committed, reliable capability of each member's partners, `(n, g)`, in US-capability units.

    Sum over the other core members j of `capability_j * reliability_j * commitment_jg`, for
    every state in `membership` (core members and observers: observers pledge nothing).
    """
    pledged = capability[:, None] * reliability[..., :, None] * commitment * core
    return (pledged.sum(axis=-2, keepdims=True) - pledged) * membership


def security_value(threat: FloatArray, strength: FloatArray, adversary_capability: float,
                   level: FloatArray, level_credibility: float) -> FloatArray:
    """Balance of threat (Walt): value of a grouping to a member, `(n, g)`, in [0, 1].

    `threat * S / (S + adversary) * credibility`, where the partners' strength S is set against
    China's capability and credibility `(1 + k * level / 4) / (1 + k)` rewards binding pledges.
    `threat` is per state `(..., n)` or, when it differs by grouping, `(..., n, g)` like `strength`.
    """
    balance = strength / (strength + max(adversary_capability, 1e-9))
    credibility = (1.0 + level_credibility * level / MAX_LEVEL) / (1.0 + level_credibility)
    threat = threat if threat.ndim == strength.ndim else threat[..., :, None]
    return threat * balance * credibility[..., None, :]


def autonomy_cost(autonomy: FloatArray, domestic_constraint: FloatArray, level: FloatArray,
                  convexity: float) -> FloatArray:
    """Cost to an autonomy-minded state of a grouping's level, `(n, g)`, in [0, 1].

    `reluctance * ((level + 1) / 5) ** convexity`: convex, so a formal alliance (level 4) costs
    most and a dialogue (level 1) little. Strategic autonomy and domestic or constitutional limits
    are independent brakes: `reluctance = 1 - (1 - autonomy) * (1 - constraint)`.
    """
    disposition = 1.0 - (1.0 - autonomy) * (1.0 - domestic_constraint)
    return disposition[:, None] * (((level + 1.0) / (MAX_LEVEL + 1.0)) ** convexity)[..., None, :]


def level_exposure(level: FloatArray) -> FloatArray:
    """How provocative a grouping looks to the power it is aimed at: 0.5 dormant .. 1 alliance."""
    return 0.5 + level / (2.0 * MAX_LEVEL)


def economic_exposure(trade_dependence: FloatArray, coercion: FloatArray,
                      level: FloatArray) -> FloatArray:
    """Cost of China's economic retaliation, `(n, g)`: dependence x coercion x provocation."""
    return (trade_dependence * coercion)[..., :, None] * level_exposure(level)[..., None, :]


def russia_pull(defense_dependence: FloatArray, courtship: FloatArray,
                level: FloatArray) -> FloatArray:
    """Cost of displeasing an arms supplier, `(n, g)`: dependence x courtship x provocation."""
    return (defense_dependence * courtship)[..., :, None] * level_exposure(level)[..., None, :]


def entrapment_fear(threat: FloatArray, taiwan_tension: float, level: FloatArray) -> FloatArray:
    """Snyder's entrapment, `(n, g)`: fear of being dragged into a Taiwan war by a binding pact.

    Highest for members who feel little threat themselves, in formal groupings, under tension.
    """
    return ((1.0 - threat) * taiwan_tension)[..., :, None] * (level / MAX_LEVEL)[..., None, :]


def abandonment_fear(threat: FloatArray, us_alliance: FloatArray,
                     us_reliability: float) -> FloatArray:
    """Snyder's abandonment, `(n,)`: threatened US allies who doubt the US bind themselves more."""
    return threat * us_alliance * (1.0 - us_reliability)


def peer_pull(commitment: FloatArray, affinity: FloatArray, membership: FloatArray) -> FloatArray:
    """Pull toward fellow members' commitment, `(n, g)`, in [-1, 1].

    Affinity-weighted mean over the other members j of `(c_jg - c_ig)`: a friend's commitment
    attracts, a rival's repels. Zero where a state has no affinity with any fellow member.
    """
    mask = membership.astype(float)
    weighted = affinity @ (commitment * mask) - commitment * (affinity @ mask)
    weight = np.abs(affinity) @ mask
    with np.errstate(invalid="ignore", divide="ignore"):
        pull = np.where(weight > 0, weighted / weight, 0.0)
    return pull * mask


def legitimacy_deficit(alignment: FloatArray, hedging: FloatArray, hedgers: FloatArray,
                       asean_centrality: float) -> FloatArray:
    """Regional reluctance toward exclusive blocs, in [0, 1] (one per replication, `(...)`).

    Mean over the hedging states (ASEAN) of `hedging * (1 - max(alignment, 0))`, scaled by ASEAN
    centrality: the less the hedgers lean to the US, the costlier an anti-China bloc looks.
    """
    if not hedgers.any():
        return np.zeros(alignment.shape[:-1])
    reluctance = hedging[hedgers] * (1.0 - np.clip(alignment[..., hedgers], 0.0, 1.0))
    return ordered_sum(reluctance) / hedgers.sum() * asean_centrality


def legitimacy_cost(deficit: FloatArray | float, hedging: FloatArray,
                    level: FloatArray) -> FloatArray:
    """Cost to members of belonging to a bloc the region distrusts, `(n, g)`.

    Grows with the grouping's level (how bloc-like it looks) and with the member's own regional
    sensitivity `(0.5 + hedging) / 1.5`.
    """
    sensitivity = ((0.5 + hedging) / 1.5)[:, None]
    return np.asarray(deficit)[..., None, None] * sensitivity * (level / MAX_LEVEL)[..., None, :]


def organizer_propensity(us_engagement: FloatArray, us: int, shape: tuple[int, int]) -> FloatArray:
    """The US's own reason to invest in groupings it organizes, `(n, g)`, in logit units.

    `logit(us_engagement)` on the US's row, zero elsewhere: at engagement 0.5 the US weighs each
    grouping on its merits alone, like any member; above it, the organizer leans in.
    """
    engagement = np.clip(us_engagement[us], 0.01, 0.99)
    propensity = np.zeros(shape)
    propensity[us] = np.log(engagement / (1.0 - engagement))
    return propensity


def political_mood(innovations: FloatArray, persistence: float, volatility: float) -> FloatArray:
    """Each state's domestic-political mood per quarter, `(steps, n)`, in logit units.

    An AR(1) process starting at 0 (the scenario describes today's governments):
    `m_t = persistence * m_(t-1) + e_t`, scaled so its long-run standard deviation is `volatility`.
    `innovations` are standard normal draws of shape `(steps, n)`.
    """
    scale = volatility * np.sqrt(1.0 - persistence**2)
    mood = np.zeros_like(innovations)
    previous = np.zeros(innovations.shape[1:])
    for t, shock in enumerate(innovations):
        previous = persistence * previous + scale * shock
        mood[t] = previous
    return mood


def best_response(utility: FloatArray) -> FloatArray:
    """Commitment a state would choose with no inertia: the logistic of its utility."""
    return 1.0 / (1.0 + np.exp(-utility))


def revise_commitment(commitment: FloatArray, target: FloatArray, adjustment: float,
                      shock: FloatArray, membership: FloatArray) -> FloatArray:
    """Bounded-rational revision: close `adjustment` of the gap to the target, plus noise."""
    revised = commitment + adjustment * (target - commitment) + shock
    return np.minimum(np.maximum(revised, 0.0), 1.0) * membership


def mean_core_commitment(commitment: FloatArray, core: FloatArray) -> FloatArray:
    """`(..., g)` mean commitment of each grouping's core members (0 for a grouping without)."""
    count = core.sum(axis=0)
    return (commitment * core).sum(axis=-2) / np.maximum(count, 1)


def weakest_core_commitment(commitment: FloatArray, core: FloatArray) -> FloatArray:
    """`(..., g)` lowest commitment among each grouping's core members (inf without members)."""
    return np.where(core, commitment, np.inf).min(axis=-2)


def level_target(commitment: FloatArray, core: FloatArray, broad_support: float,
                 full_support: float) -> tuple[FloatArray, FloatArray]:
    """Level the members' commitments can sustain, `(g,)`, and whether the weakest link binds.

    Support: `4 * mean / full_support` (mean commitment of core members). Weakest link: above
    level 2 the cap rises from 2 (weakest member at `broad_support`) to 4 (weakest at
    `full_support`), so one reluctant member holds a grouping at "coordinated".
    """
    mean = mean_core_commitment(commitment, core)
    weakest = weakest_core_commitment(commitment, core)
    support = MAX_LEVEL * np.minimum(mean / full_support, 1.0)
    span = full_support - broad_support
    cap = 2.0 + 2.0 * np.minimum(np.maximum((weakest - broad_support) / span, 0.0), 1.0)
    return np.minimum(support, cap), cap < support


def next_level(level: FloatArray, target: FloatArray, rise: float, fall: float) -> FloatArray:
    """Institutions follow support with a lag, and decay more slowly than they grow, in [0, 4]."""
    rate = np.where(target > level, rise, fall)
    return np.minimum(np.maximum(level + rate * (target - level), 0.0), MAX_LEVEL)


def bloc_formality(levels: FloatArray, us_led: FloatArray) -> FloatArray:
    """How formal the most formal US-led grouping is, `(max level / 4) ** 2`, in [0, 1]."""
    return ((levels * us_led).max(axis=-1, initial=0.0) / MAX_LEVEL) ** 2


def china_response(assertiveness: float, coercion: float, levels: FloatArray,
                   us_led: FloatArray, gain: float,
                   starting_formality: float = 0.0) -> tuple[FloatArray, FloatArray]:
    """China's counter-move: assertiveness and coercion rise as US-led groupings formalize.

    Adds `gain * (formality - starting formality)` (never below zero): the scheduled pressures
    already describe China's posture toward the groupings as they stood at the start, so China
    reacts to what they become. Formality is squared, so dialogues barely register and an
    alliance provokes. Returns one value per replication (`levels` is `(..., g)`).
    """
    rise = np.maximum(bloc_formality(levels, us_led) - starting_formality, 0.0)
    return (np.minimum(assertiveness + gain * rise, 1.0),
            np.minimum(coercion + gain * rise, 1.0))


def mean_level_of_groupings(levels: FloatArray, membership: FloatArray) -> FloatArray:
    """Each state's mean level over the groupings it belongs to or observes, `(..., n)`."""
    count = membership.sum(axis=1)
    return ordered_sum(membership * levels[..., None, :]) / np.maximum(count, 1)


def russia_response(courtship: FloatArray, defense_dependence: FloatArray, levels: FloatArray,
                    membership: FloatArray, gain: float,
                    starting_levels: FloatArray | None = None) -> FloatArray:
    """Russia courts its arms clients harder as their groupings rise, `(n,)`, in [0, 1].

    Adds `gain * rise / 4`, the rise of the client's mean grouping level above where it started
    (the scheduled courtship already answers the groupings as they stood).
    """
    mean_level = mean_level_of_groupings(levels, membership)
    if starting_levels is not None:
        mean_level = np.maximum(mean_level - mean_level_of_groupings(starting_levels, membership),
                                0.0)
    rise = gain * (defense_dependence > 0) * mean_level / MAX_LEVEL
    return np.minimum(courtship + rise, 1.0)


def nato_tie_target(outreach: FloatArray | float, bandwidth: float, veto_risk: float,
                    mean_commitment: FloatArray, nato_partner: FloatArray,
                    capped: bool) -> FloatArray:
    """Tie NATO can offer each grouping, `(g,)`, in [0, 1] (`outreach` scalar or per grouping).

    Outreach times the partners' mean commitment; when counter-moves are on, Europe's bandwidth caps
    the outreach and a consensus veto removes a share of it.
    """
    offer = np.minimum(outreach, bandwidth) * (1.0 - veto_risk) if capped else outreach
    return offer * mean_commitment * nato_partner


def alignment_target(us_pull: FloatArray, china_pull: FloatArray, hedging: FloatArray,
                     hedge_strength: float) -> FloatArray:
    """Where each state would settle on the US(+1)-China(-1) axis, `(n,)`.

    `tanh(2 * (us_pull - china_pull))`, damped toward neutrality by the state's hedging propensity
    times `hedge_strength` (zero when the hedging mechanism is off).
    """
    return np.tanh(2.0 * (us_pull - china_pull)) * (1.0 - hedging * hedge_strength)
