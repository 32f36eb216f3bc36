"""How provocative a grouping looks to the power it is aimed at, by its level (shared formula)."""

from __future__ import annotations

from blocsim.mechanisms.base import FloatArray, across_members, level_share, per_pair


def level_exposure(level: FloatArray, dormant_exposure: FloatArray) -> FloatArray:
    """`(r, 1, g)` exposure in [0, 1]: `dormant + (1 - dormant) * level / 4`.

    Belonging to even a dormant grouping exposes a state somewhat; an alliance exposes it fully.
    """
    floor = per_pair(dormant_exposure)
    return floor + (1.0 - floor) * level_share(across_members(level))
