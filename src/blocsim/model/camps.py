"""The region's two-camp structure at the end of a run, by landscape theory.

Axelrod & Bennett (1993): actors of size s_i with propensities p_ij settle into the two camps
that (locally) minimize the frustration-weighted energy. Here the sizes are the states'
capabilities and the propensities those of the moment: each pair's affinity plus half the
product of their US-China alignments, so the pressures of the run (which moved the alignments)
shape the camps. The single-switch dynamic starts from each state's current side of the axis and
ends at the nearby local minimum: the camps the states would sort into from where they stand.
"""

from __future__ import annotations

import numpy as np

from blocsim.landscape.energy import weight_matrix
from blocsim.landscape.search import descend

ALIGNMENT_PULL = 0.5
"""Weight of shared alignment in the propensity of the moment (affinity has weight 1)."""


def propensity_of_the_moment(affinity: np.ndarray, alignment: np.ndarray) -> np.ndarray:
    """`(n, n)` affinity plus ALIGNMENT_PULL x alignment_i x alignment_j (zero diagonal)."""
    propensity = affinity + ALIGNMENT_PULL * np.outer(alignment, alignment)
    np.fill_diagonal(propensity, 0.0)
    return propensity


def camp_structure(capability: np.ndarray, affinity: np.ndarray, alignment: np.ndarray,
                   us: int) -> np.ndarray:
    """`(n,)` True for the states that end in the US's camp.

    Deterministic: the dynamic's choice among improving states uses a fixed stream, so a
    replication's camps do not depend on anything but its own final quarter.
    """
    weights = weight_matrix(capability, propensity_of_the_moment(affinity, alignment))
    start = np.where(alignment >= 0.0, 1.0, -1.0)[None, :]
    end = descend(weights, start, np.random.default_rng(0))[0]
    return end == end[us]
