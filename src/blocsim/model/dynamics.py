"""The model's rules as pure, vectorized functions: threat, commitment revision, the ladder, mood.

The mechanisms (the terms of each member's utility, the counter-moves) live in their own registry,
`blocsim.mechanisms`; this module holds what is not a mechanism: how a threat is perceived, how a
commitment is revised toward its best response, how a grouping's level follows its members, how
states drift on the US-China axis, and the domestic-political mood.

Shapes: `r` replications, `n` states, `g` groupings; `(r, n, g)` state-by-grouping arrays,
per-replication parameters `(r,)`. Shares are in [0, 1], levels in [0, 4], alignments in [-1, 1]
(US +1, China -1), utilities in logit units. Nothing here knows about Mesa, files or seeds.
"""

from __future__ import annotations

import numpy as np

from blocsim.mechanisms.base import ordered_sum, per_pair, per_state, power
from blocsim.vocabulary import MAX_LEVEL

FloatArray = np.ndarray

__all__ = ["ordered_sum"]


def perceived_threat(base: FloatArray, assertiveness: FloatArray | float) -> FloatArray:
    """Threat a state perceives, in [0, 1], given its baseline perception and the adversary's mood.

    `1 - (1 - base) ** (2 * assertiveness)`: equal to `base` at assertiveness 0.5, zero when the
    adversary is benign, rising toward 1 (never past it) as it grows assertive. A state that
    perceives no threat (base 0) is unmoved, as balance-of-threat theory expects.
    """
    return 1.0 - power(1.0 - np.asarray(base), 2.0 * np.asarray(assertiveness))


def answered_threat(threats: FloatArray, answers: FloatArray) -> FloatArray:
    """`(r, n, g)` threat each grouping answers for each member: only its declared adversaries.

    `1 - prod over the grouping's adversaries a of (1 - threat_a)`; `threats` is `(r, n, a)`,
    `answers` `(g, a)` 0/1.
    """
    safe = np.ones((*threats.shape[:-1], answers.shape[0]))
    for a in range(answers.shape[1]):
        safe = safe * (1.0 - threats[..., :, a, None] * answers[:, a])
    return 1.0 - safe


def political_mood(innovations: FloatArray, persistence: FloatArray,
                   volatility: FloatArray) -> FloatArray:
    """Each state's domestic-political mood per quarter, `(steps, r, n)`, in logit units.

    An AR(1) process starting at 0 (the scenario describes today's governments):
    `m_t = persistence * m_(t-1) + e_t`, scaled so its long-run standard deviation is
    `volatility`. `innovations` are standard normal draws `(steps, r, n)`; the parameters `(r,)`.
    """
    persistence = per_state(persistence)
    scale = per_state(volatility) * np.sqrt(1.0 - persistence**2)
    mood = np.zeros_like(innovations)
    previous = np.zeros(innovations.shape[1:])
    for t, shock in enumerate(innovations):
        previous = persistence * previous + scale * shock
        mood[t] = previous
    return mood


def best_response(utility: FloatArray) -> FloatArray:
    """Commitment a state would choose with no inertia: the logistic of its utility."""
    return 1.0 / (1.0 + np.exp(-utility))


def revise_commitment(commitment: FloatArray, target: FloatArray, adjustment: FloatArray,
                      shock: FloatArray, involved: FloatArray) -> FloatArray:
    """Bounded-rational revision: close `adjustment` `(r,)` of the gap to the target, plus noise."""
    revised = commitment + per_pair(adjustment) * (target - commitment) + shock
    return np.minimum(np.maximum(revised, 0.0), 1.0) * involved


def mean_core_commitment(commitment: FloatArray, core: FloatArray) -> FloatArray:
    """`(r, g)` mean commitment of each grouping's core members (0 for a grouping without)."""
    count = core.sum(axis=-2)
    return ordered_sum(commitment * core, axis=-2) / np.maximum(count, 1)


def weakest_core_commitment(commitment: FloatArray, core: FloatArray) -> FloatArray:
    """`(r, g)` lowest commitment among each grouping's core members (inf without members)."""
    return np.where(core > 0, commitment, np.inf).min(axis=-2)


def level_target(commitment: FloatArray, core: FloatArray, broad_support: FloatArray,
                 full_support: FloatArray, floor: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Level the members' commitments can sustain, `(r, g)`, and whether the weakest link binds.

    Support: `4 * mean / full_support` (mean commitment of the core members taking part).
    Weakest link: above the floor ("coordinated", 2) the cap rises from the floor (weakest
    member at `broad_support`) to 4 (weakest at `full_support`), so one reluctant member holds a
    grouping at "coordinated" however eager the others are. Parameters `(r,)`.
    """
    mean = mean_core_commitment(commitment, core)
    weakest = weakest_core_commitment(commitment, core)
    broad, full, floor = per_state(broad_support), per_state(full_support), per_state(floor)
    support = MAX_LEVEL * np.minimum(mean / full, 1.0)
    reach = np.clip((weakest - broad) / (full - broad), 0.0, 1.0)
    cap = floor + (MAX_LEVEL - floor) * reach
    return np.minimum(support, cap), cap < support


def next_level(level: FloatArray, target: FloatArray, rise: FloatArray,
               fall: FloatArray) -> FloatArray:
    """Institutions follow support with a lag, and decay more slowly than they grow, in [0, 4]."""
    rate = np.where(target > level, per_state(rise), per_state(fall))
    return np.minimum(np.maximum(level + rate * (target - level), 0.0), MAX_LEVEL)


def alignment_target(us_pull: FloatArray, china_pull: FloatArray, steepness: FloatArray,
                     damping: FloatArray) -> FloatArray:
    """Where each state would settle on the US(+1)-China(-1) axis, `(r, n)`.

    `tanh(steepness * (us_pull - china_pull))`, pulled toward neutrality by `damping` in [0, 1]
    (the hedging mechanism's; zero when it is off).
    """
    return np.tanh(per_state(steepness) * (us_pull - china_pull)) * (1.0 - damping)


def first_streak_end(condition: FloatArray, length: FloatArray) -> FloatArray:
    """`(r, g)` step at which `condition` `(r, steps, g)` has first held `length` times in a row.

    -1 where it never has; `length` is per replication, `(r,)`.
    """
    run = np.zeros(condition.shape[::2], int)
    found = np.full(condition.shape[::2], -1)
    needed = per_state(length)
    for t in range(condition.shape[1]):
        run = np.where(condition[:, t], run + 1, 0)
        found = np.where((found < 0) & (run >= needed), t, found)
    return found
