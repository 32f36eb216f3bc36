"""Energy, frustration and switch gains of two-camp configurations (pure numpy).

Notation (Axelrod & Bennett 1993): actor i has size s_i > 0 (any unit, e.g. a CINC share) and
the symmetric propensity p_ij (dimensionless; positive = wants to be with j, negative = against).
A configuration puts every actor in camp 0 or camp 1; here it is a spin vector sigma in {+1, -1}^n
(sigma_i = +1 for camp 0), so d_ij = 1 exactly when sigma_i != sigma_j, i.e. d_ij = (1 - sigma_i
sigma_j) / 2.

* frustration F_i = sum_j s_j p_ij d_ij                       (unit: size x propensity)
* energy E = sum_{i != j} s_i s_j p_ij d_ij = sum_i s_i F_i   (unit: size^2 x propensity)
* weights w_ij = s_i s_j p_ij (zero diagonal), so E = (sum(w) - sigma^T w sigma) / 2.

Switching actor k changes E by dE_k = 2 s_k sum_j s_j p_kj (1 - 2 d_kj) = 2 sigma_k (w sigma)_k,
and its own frustration by dF_k = sum_j s_j p_kj (1 - 2 d_kj) = dE_k / (2 s_k): as s_k > 0, a
switch lowers the mover's frustration exactly when it lowers the energy.

Every function accepts one configuration (shape (n,)) or a batch (shape (m, n)).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def weight_matrix(sizes: FloatArray, propensity: FloatArray) -> FloatArray:
    """Return w_ij = s_i s_j p_ij with a zero diagonal.

    Args:
        sizes: shape (n,), each > 0 (size unit).
        propensity: shape (n, n), symmetric (dimensionless).

    Returns:
        Shape (n, n), symmetric, in size^2 x propensity.
    """
    sizes = np.asarray(sizes, dtype=float)
    weights = np.outer(sizes, sizes) * np.asarray(propensity, dtype=float)
    np.fill_diagonal(weights, 0.0)
    return weights


def spins(camps: NDArray) -> FloatArray:
    """Turn camp labels in {0, 1} (or booleans) into spins in {+1, -1}."""
    return 1.0 - 2.0 * np.asarray(camps, dtype=float)


def energy(weights: FloatArray, sigma: FloatArray) -> FloatArray | float:
    """Return E = sum_{i != j} w_ij d_ij for a configuration or a batch (size^2 x propensity)."""
    sigma = np.asarray(sigma, dtype=float)
    field = sigma @ weights
    return (weights.sum() - np.sum(sigma * field, axis=-1)) / 2.0


def frustration(sizes: FloatArray, propensity: FloatArray, sigma: FloatArray) -> FloatArray:
    """Return F_i = sum_j s_j p_ij d_ij for every actor (size x propensity).

    The diagonal of `propensity` is ignored (an actor is never apart from itself).
    """
    sigma = np.asarray(sigma, dtype=float)
    apart = (1.0 - sigma[..., :, None] * sigma[..., None, :]) / 2.0
    return np.sum(apart * np.asarray(propensity, dtype=float) * np.asarray(sizes), axis=-1)


def switch_gains(weights: FloatArray, sigma: FloatArray) -> FloatArray:
    """Return dE_k = 2 sigma_k (w sigma)_k, the energy change if actor k alone switched camp."""
    sigma = np.asarray(sigma, dtype=float)
    return 2.0 * sigma * (sigma @ weights)


def tolerance(weights: FloatArray) -> float:
    """Return the smallest energy drop counted as a real improvement (rounding guard).

    A switch "lowers" E only if dE < -tolerance; equal-energy moves are not taken, so a
    configuration on a plateau is a local minimum.
    """
    return 1e-12 * max(float(np.abs(weights).sum()), 1e-300)


def is_local_minimum(weights: FloatArray, sigma: FloatArray) -> NDArray[np.bool_] | bool:
    """Return whether no single actor can lower its frustration (hence E) by switching."""
    return np.all(switch_gains(weights, sigma) >= -tolerance(weights), axis=-1)


def canonical(sigma: FloatArray) -> FloatArray:
    """Relabel camps so that actor 0 is in camp 0 (sigma_0 = +1); E is unchanged by this."""
    sigma = np.asarray(sigma, dtype=float)
    return sigma * np.sign(sigma[..., :1])
