"""Run replications of one scenario, in parallel on local processes, reproducibly.

Each replication r gets its own stream `SeedSequence(seed).spawn(replications)[r]`, so its result
depends on (scenario, seed, r) only: not on the number of workers, the chunking or the order in
which chunks finish. Workers receive the compiled scenario once (pool initializer) and then only
(first replication, seed sequences) per chunk, so per-task overhead stays small.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np

from blocsim.experiment.lifecycle import guarded
from blocsim.model.camps import camp_structure
from blocsim.model.inputs import ModelInputs
from blocsim.model.model import AllianceModel, Trajectory
from blocsim.model.outcomes import GroupingOutcome, replication_outcomes

BATCH = 64
"""Replications advanced in lockstep by one model: large enough to amortize numpy's per-call
overhead, small enough to keep a batch's arrays in cache."""


@dataclass
class ChunkResult:
    """Arrays of a contiguous block of replications, stacked on a leading replication axis."""

    first: int
    level: np.ndarray
    nato_tie: np.ndarray
    commitment: np.ndarray
    alignment: np.ndarray
    pressure: np.ndarray
    outcomes: list[list[GroupingOutcome]]
    seconds: float
    with_us: np.ndarray
    """`(r, n)` whether each state ends in the US's camp (landscape theory, final quarter)."""


def replication_seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    """One independent stream per replication, from one root seed."""
    return np.random.SeedSequence(seed).spawn(replications)


def simulate(inputs: ModelInputs, first: int, seeds: list[np.random.SeedSequence]) -> ChunkResult:
    """Run the replications `first, first+1, ...` with the given streams; return stacked arrays.

    Replications advance in lockstep batches of at most BATCH (one AllianceModel each).
    """
    started = time.perf_counter()
    parts: list[Trajectory] = []
    outcomes: list[list[GroupingOutcome]] = []
    camps: list[np.ndarray] = []
    capability = inputs.attributes["capability"]
    for start in range(0, len(seeds), BATCH):
        trajectory = AllianceModel(inputs, rng=seeds[start:start + BATCH]).run()
        parts.append(trajectory)
        for r in range(trajectory.level.shape[0]):
            outcomes.append(replication_outcomes(trajectory, inputs, r))
            camps.append(camp_structure(capability, inputs.affinity,
                                        trajectory.alignment[r, -1], inputs.us))

    def stacked(field: str) -> np.ndarray:
        return np.concatenate([getattr(part, field) for part in parts])

    commitment = stacked("commitment")[:, :, inputs.involved]
    return ChunkResult(first, stacked("level"), stacked("nato_tie"), commitment,
                       stacked("alignment"), stacked("pressure"), outcomes,
                       time.perf_counter() - started, np.array(camps))


_WORKER_INPUTS: ModelInputs | None = None


def _install_inputs(inputs: ModelInputs) -> None:
    global _WORKER_INPUTS
    _WORKER_INPUTS = inputs


def _simulate_in_worker(first: int, seeds: list[np.random.SeedSequence]) -> ChunkResult:
    assert _WORKER_INPUTS is not None, "worker started without inputs"
    return simulate(_WORKER_INPUTS, first, seeds)


def pool_context() -> multiprocessing.context.BaseContext:
    """Start workers by `fork` where the platform has it, else `spawn`.

    With fork, workers start instantly and scripts or notebooks need no `__main__` guard (the
    worker function lives in this module, never in the caller's).
    """
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def chunk_bounds(replications: int, chunk_size: int) -> list[tuple[int, int]]:
    """Contiguous [start, stop) blocks of replications of at most `chunk_size`."""
    return [(start, min(start + chunk_size, replications))
            for start in range(0, replications, chunk_size)]


def default_chunk_size(replications: int, workers: int) -> int:
    """About four chunks per worker (load balance), never fewer than 8 replications a chunk."""
    return max(8, -(-replications // (4 * max(workers, 1))))


def default_workers() -> int:
    """The machine's cores (the process pool's size when `--workers` is not given)."""
    return os.cpu_count() or 1


def iter_chunks(inputs: ModelInputs, seed: int, replications: int, workers: int,
                chunk_size: int | None = None) -> Iterator[ChunkResult]:
    """Yield chunk results as they complete (in any order); each carries its first replication."""
    seeds = replication_seeds(seed, replications)
    size = chunk_size or default_chunk_size(replications, workers)
    bounds = chunk_bounds(replications, size)
    if workers <= 1 or len(bounds) == 1:
        for start, stop in bounds:
            yield simulate(inputs, start, seeds[start:stop])
        return
    with warnings.catch_warnings():
        # Python warns that fork() in a process with threads (pyarrow's I/O pool, say) may
        # deadlock a child that takes a lock those threads held; our children only run numpy.
        warnings.filterwarnings("ignore", message=".*use of fork\\(\\) may lead to deadlocks",
                                category=DeprecationWarning)
        initializer, initargs = guarded(_install_inputs, inputs)
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=pool_context(),
                                   initializer=initializer, initargs=initargs)
        futures = [pool.submit(_simulate_in_worker, start, seeds[start:stop])
                   for start, stop in bounds]
    with pool:
        for future in as_completed(futures):
            yield future.result()


def run_chunks(inputs: ModelInputs, seed: int, replications: int, workers: int,
               progress: Callable[[int], None] | None = None,
               chunk_size: int | None = None) -> list[ChunkResult]:
    """Run every replication; return the chunks sorted by first replication."""
    chunks = []
    for chunk in iter_chunks(inputs, seed, replications, workers, chunk_size):
        chunks.append(chunk)
        if progress is not None:
            progress(len(chunk.outcomes))
    return sorted(chunks, key=lambda c: c.first)
