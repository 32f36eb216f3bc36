"""Finding the local minima of a landscape and their basins of attraction.

The dynamic (Axelrod & Bennett's myopic, incremental actors), made precise:
from a configuration, repeatedly pick, uniformly at random, one actor among those whose switch
would strictly lower its own frustration (equivalently the energy, see `energy`), and switch it;
stop when no actor can. The energy falls at every step, so it stops, at a local minimum.

The basin of a local minimum is the probability that this dynamic, started from a configuration
drawn uniformly from all 2^n, ends there (camps relabelled so actor 0 is in camp 0; a start and
its mirror image end in mirror images, the same alignment). It depends on the rule above.

* n <= 12: minima by enumeration, basins exact: absorption probabilities of the random dynamic
  computed over all 2^n starts, configurations taken in increasing energy.
* 12 < n <= 24: minima by enumeration of all 2^(n-1) alignments; basins estimated as the share
  of `starts` seeded random starts of the dynamic that end at each minimum.
* n > 24: no enumeration. Minima are the end states of `starts` seeded random starts of the
  dynamic plus of a simulated-annealing variant (Metropolis single switches under a geometric
  cooling schedule, then the dynamic above); basins are the shares of the plain dynamic's starts
  (a minimum found only by annealing has basin 0). The "global" minimum is the lowest found.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from blocsim.errors import BlocsimError
from blocsim.landscape.energy import (
    FloatArray,
    canonical,
    energy,
    switch_gains,
    tolerance,
    weight_matrix,
)
from blocsim.limits import MAX_STARTS

ENUMERATION_MAX_N = 24
MAX_ACTORS = 2000
"""Most actors `analyse` accepts (the weight matrix alone is n^2 doubles: 32 MB at 2,000)."""
MAX_WORK = 1_000_000_000
"""Bound on starts x n^2, the dynamic's work (about a minute on one core at the bound)."""
MAX_CELLS = 20_000_000
"""Bound on starts x n, the size of the arrays of the starts (a few hundred MB at the bound)."""
MAX_MINIMA = 200_000
"""Most local minima enumerated before giving up (a system with almost no propensities has
nearly every alignment as a minimum)."""
EXACT_BASIN_MAX_N = 12
CHUNK_BITS = 16
ANNEAL_SWEEPS = 200
ANNEAL_COOLING = 0.97


@dataclass(frozen=True)
class Minimum:
    """One local minimum: camps as spins (actor 0 in camp 0 = +1), energy, basin share."""

    sigma: tuple[int, ...]
    energy: float
    basin: float
    is_global: bool


@dataclass(frozen=True)
class Landscape:
    """Every local minimum found, sorted by basin (largest first), then energy.

    Attributes:
        minima: the local minima.
        exhaustive: True when all 2^(n-1) alignments were enumerated (the list is complete).
        basin_method: "exact" or "sampled".
        starts: random starts used for sampled basins / the search (0 when exact).
        seed: seed of those starts.
        configurations: alignments examined by enumeration (0 for the search).
    """

    minima: tuple[Minimum, ...]
    exhaustive: bool
    basin_method: str
    starts: int
    seed: int
    configurations: int


def enumerate_minima(weights: FloatArray, chunk_bits: int = CHUNK_BITS
                     ) -> tuple[FloatArray, FloatArray]:
    """Return every local minimum (spins, actor 0 in camp 0) and its energy, by enumeration.

    All 2^(n-1) alignments are scanned in chunks of 2^`chunk_bits`: alignment number c puts
    actor i >= 1 in camp bit (i - 1) of c. Within a chunk the low bits run through every value and
    the high bits are fixed, so the local field h = w sigma is a precomputed table for the low
    actors plus one vector for the high ones; an alignment is a local minimum when every switch
    gain 2 sigma_k h_k is >= -tolerance, and its energy is (sum(w) - sigma . h) / 2. Only minima
    are kept, so memory stays O(2^chunk_bits x n).

    Args:
        weights: w_ij = s_i s_j p_ij, shape (n, n), n >= 2.
        chunk_bits: log2 of the alignments per vectorized batch.

    Returns:
        spins of shape (k, n) and energies of shape (k,) (size^2 x propensity).
    """
    n = weights.shape[0]
    low = min(n - 1, chunk_bits)
    codes = np.arange(1 << low, dtype=np.int64)
    template = np.ones((codes.size, n))
    template[:, 1:low + 1] = 1.0 - 2.0 * ((codes[:, None] >> np.arange(low)) & 1)
    field_low = template[:, :low + 1] @ weights[:low + 1]
    high_actors = np.arange(low + 1, n)
    half_tol = tolerance(weights) / 2.0
    total = weights.sum()
    buffer = np.empty_like(field_low)
    found_sigma: list[FloatArray] = []
    found_energy: list[FloatArray] = []
    kept = 0
    for high in range(1 << (n - 1 - low)):
        sigma_high = 1.0 - 2.0 * ((high >> np.arange(high_actors.size)) & 1)
        template[:, low + 1:] = sigma_high
        np.add(field_low, sigma_high @ weights[low + 1:], out=buffer)
        np.multiply(buffer, template, out=buffer)
        local = buffer.min(axis=1) >= -half_tol
        if local.any():
            found_sigma.append(template[local].copy())
            found_energy.append((total - buffer[local].sum(axis=1)) / 2.0)
            kept += int(local.sum())
            if kept > MAX_MINIMA:
                raise BlocsimError(f"more than {MAX_MINIMA:,} local minima: the propensities "
                                   f"barely constrain the alignment (an actor with no "
                                   f"propensity is indifferent between the camps); give the "
                                   f"actors propensities")
    return np.concatenate(found_sigma), np.concatenate(found_energy)


def descend(weights: FloatArray, sigma: FloatArray, rng: np.random.Generator) -> FloatArray:
    """Run the dynamic from each row of `sigma` to a local minimum (see the module docstring).

    The local fields h = sigma w are computed once and updated by one row of w per switch, so a
    step costs O(n) per start rather than O(n^2).

    Args:
        weights: shape (n, n).
        sigma: starting spins, shape (m, n).
        rng: source of the uniform choice among improving actors.

    Returns:
        End states, shape (m, n) (not relabelled).
    """
    sigma = np.array(sigma, dtype=float, copy=True)
    field = sigma @ weights
    tol = tolerance(weights)
    active = np.arange(sigma.shape[0])
    while active.size:
        improving = 2.0 * sigma[active] * field[active] < -tol
        moving = improving.any(axis=1)
        active, improving = active[moving], improving[moving]
        if not active.size:
            break
        keys = np.where(improving, rng.random(improving.shape), -1.0)
        movers = keys.argmax(axis=1)
        field[active] -= (2.0 * sigma[active, movers])[:, None] * weights[movers]
        sigma[active, movers] *= -1.0
    return sigma


def anneal(weights: FloatArray, runs: int, rng: np.random.Generator,
           sweeps: int = ANNEAL_SWEEPS, cooling: float = ANNEAL_COOLING) -> FloatArray:
    """Simulated annealing from `runs` random starts, finished by the dynamic.

    Each sweep visits the actors in a random order; a switch with energy change dE is accepted
    with probability min(1, exp(-dE / T)). T starts at the mean |dE| of the random starts and is
    multiplied by `cooling` after each sweep. Local fields are updated per accepted switch.

    Returns:
        End states (local minima), shape (runs, n).
    """
    n = weights.shape[0]
    sigma = rng.choice([-1.0, 1.0], size=(runs, n))
    field = sigma @ weights
    temperature = max(float(np.mean(np.abs(2.0 * sigma * field))), 1e-300)
    for _ in range(sweeps):
        for k in rng.permutation(n):
            change = 2.0 * sigma[:, k] * field[:, k]
            odds = np.exp(-np.clip(change, 0.0, None) / temperature)
            flips = np.flatnonzero(rng.random(runs) < odds)
            if flips.size:
                field[flips] -= (2.0 * sigma[flips, k])[:, None] * weights[k]
                sigma[flips, k] *= -1.0
        temperature *= cooling
    return descend(weights, sigma, rng)


def exact_basins(weights: FloatArray, minima: FloatArray) -> FloatArray:
    """Return each minimum's basin: P(the dynamic from a uniform random start ends there).

    Exact for the random rule: over all 2^n configurations in increasing energy, a local minimum
    absorbs with probability 1 and any other configuration averages the absorption probabilities
    of the configurations its improving switches lead to (each chosen with equal probability).

    Args:
        weights: shape (n, n), n <= EXACT_BASIN_MAX_N.
        minima: spins with actor 0 in camp 0, shape (k, n): every local minimum.

    Returns:
        Shape (k,), summing to 1.
    """
    n = weights.shape[0]
    codes = np.arange(1 << n, dtype=np.int64)
    sigma = 1.0 - 2.0 * ((codes[:, None] >> np.arange(n)) & 1)
    gains = switch_gains(weights, sigma)
    improving = gains < -tolerance(weights)
    index = {_code(row): i for i, row in enumerate(minima)}
    mirror = (1 << n) - 1
    absorbed = np.zeros((codes.size, len(minima)))
    for code in np.argsort(energy(weights, sigma), kind="stable"):
        movers = np.flatnonzero(improving[code])
        if movers.size:
            absorbed[code] = absorbed[code ^ (1 << movers)].mean(axis=0)
        else:
            absorbed[code, index[int(code ^ mirror if code & 1 else code)]] = 1.0
    return absorbed.mean(axis=0)


def _code(sigma: FloatArray) -> int:
    """Integer of a spin row: bit i set when actor i is in camp 1 (n <= 62: `exact_basins`)."""
    return int(np.sum((np.asarray(sigma) < 0) << np.arange(len(sigma), dtype=np.int64)))


def _key(sigma: FloatArray) -> bytes:
    """Hashable identity of a spin row, one bit per actor, for any number of actors."""
    return np.packbits(np.asarray(sigma) < 0).tobytes()


def _shares(ends: FloatArray, minima: FloatArray) -> FloatArray:
    """Share of the rows of `ends` (relabelled) equal to each row of `minima`."""
    index = {_key(row): i for i, row in enumerate(minima)}
    counts = np.zeros(len(minima))
    for row in canonical(ends):
        counts[index[_key(row)]] += 1
    return counts / max(len(ends), 1)


def analyse(sizes: FloatArray, propensity: FloatArray, starts: int = 2000,
            seed: int = 0) -> Landscape:
    """Find the local minima of a system, with energies and basins (see the module docstring).

    Args:
        sizes: shape (n,), each > 0.
        propensity: shape (n, n), symmetric.
        starts: random starts for sampled basins and for the search when n > 24 (>= 1).
        seed: seed of every random draw; the same inputs and seed give the same result.

    Returns:
        The landscape, minima sorted by basin (largest first), then energy.

    Raises:
        BlocsimError: a system or a number of starts beyond what can be done (`check_size`).
    """
    check_size(len(sizes), starts)
    weights = weight_matrix(np.asarray(sizes, dtype=float), np.asarray(propensity, dtype=float))
    n = weights.shape[0]
    rng = np.random.default_rng(seed)
    exhaustive = n <= ENUMERATION_MAX_N
    if exhaustive:
        minima, energies = enumerate_minima(weights)
        if n <= EXACT_BASIN_MAX_N:
            basins, method, used = exact_basins(weights, minima), "exact", 0
        else:
            ends = descend(weights, rng.choice([-1.0, 1.0], size=(starts, n)), rng)
            basins, method, used = _shares(ends, minima), "sampled", starts
    else:
        ends = descend(weights, rng.choice([-1.0, 1.0], size=(starts, n)), rng)
        annealed = anneal(weights, max(10, starts // 20), rng)
        minima = np.unique(canonical(np.concatenate([ends, annealed])), axis=0)
        energies = np.asarray(energy(weights, minima), dtype=float).reshape(-1)
        basins, method, used = _shares(ends, minima), "sampled", starts
    lowest = float(np.min(energies))
    tol = tolerance(weights)
    found = [Minimum(tuple(int(v) for v in row), float(e), float(b), bool(e <= lowest + tol))
             for row, e, b in zip(minima, energies, basins, strict=True)]
    found.sort(key=lambda m: (-m.basin, m.energy, m.sigma))
    return Landscape(tuple(found), exhaustive, method, used, seed,
                     (1 << (n - 1)) if exhaustive else 0)


def check_size(actors: int, starts: int) -> None:
    """Refuse a system or a number of starts whose memory or work is beyond the limits above."""
    if actors > MAX_ACTORS:
        raise BlocsimError(f"align handles at most {MAX_ACTORS:,} actors; this system has "
                           f"{actors:,}")
    if not 1 <= starts <= MAX_STARTS:
        raise BlocsimError(f"--starts must lie in 1..{MAX_STARTS:,}, found {starts:,}")
    if actors <= EXACT_BASIN_MAX_N:
        return
    most = min(MAX_WORK // actors**2, MAX_CELLS // actors)
    if starts > most:
        raise BlocsimError(f"--starts {starts:,} with {actors:,} actors is beyond what align "
                           f"can do in bounded time and memory (starts x actors^2 at most "
                           f"{MAX_WORK:.0e}, starts x actors at most {MAX_CELLS:.0e}); use "
                           f"--starts {most:,} or fewer")


def trajectory(weights: FloatArray, sigma: FloatArray, rng: np.random.Generator
               ) -> list[NDArray[np.float64]]:
    """Return every configuration the dynamic visits from one start (for inspection and tests)."""
    path = [np.asarray(sigma, dtype=float).copy()]
    tol = tolerance(weights)
    while True:
        movers = np.flatnonzero(switch_gains(weights, path[-1]) < -tol)
        if not movers.size:
            return path
        step = path[-1].copy()
        step[rng.choice(movers)] *= -1.0
        path.append(step)
