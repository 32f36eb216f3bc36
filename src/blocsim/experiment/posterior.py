"""A posterior over parameters that runs draw from: each block of replications its own draw.

A calibrated posterior is a weighted sample of parameter values (`posterior.parquet`: one column
per dotted scenario path and `weight`). A run that names it draws, for every block of
`draw_block` consecutive replications of a point, one particle by its weight, from the stream
`SeedSequence(seed, spawn_key=(stream_key, block, 1))`: part of the one seeding rule, independent
of the replications' own noise, and the same for replication r of every point that shares a stream
key (so comparisons stay paired in their parameters too). Runs within a block share the
particle, which lets the summary tell the spread due to the parameters from Monte Carlo noise.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from blocsim.errors import ResultsError
from blocsim.scenario.schema import Scenario
from blocsim.scenario.sources import flatten

DRAW_BLOCK = 10
"""Replications that share one posterior draw (enough to read each draw's probability roughly)."""

SEARCH_DRAW_BLOCK = 1
"""Replications per draw in sweeps and tipping searches: each run its own draw, so a point's runs
are independent draws from the posterior predictive and its binomial (Wilson) interval holds. In
blocks of 10, a point of 20 runs would rest on two draws and the interval would be far too narrow
(one draw mostly decides whether a grouping consolidates)."""


@dataclass(frozen=True)
class Posterior:
    """A weighted sample of parameter values (one row per particle)."""

    values: pd.DataFrame
    weights: np.ndarray
    source: str = ""
    pinned: tuple[str, ...] = ()
    """Paths of the file the runs do not draw: the scenario sets them itself."""

    @classmethod
    def read(cls, path: str | Path) -> Posterior:
        """Read `posterior.parquet`: one column per scenario path, and `weight`.

        Read once per file content as far as its modification time and size tell (a lone run
        spent 1.5 ms reading it again): a calibration that rewrites the file changes both.
        """
        path = Path(path)
        try:
            stamp = path.stat()
        except OSError:
            return cls._read(path)
        once = cls._read_once(str(path), str(path.resolve()), stamp.st_mtime_ns, stamp.st_size)
        return cls(once.values.copy(), once.weights.copy(), once.source)

    @classmethod
    @functools.lru_cache(maxsize=8)
    def _read_once(cls, path: str, where: str, modified_ns: int, size: int) -> Posterior:
        """The file as read (the cache's own copy: each caller gets another)."""
        return cls._read(Path(path))

    @classmethod
    def _read(cls, path: Path) -> Posterior:
        try:
            table = pd.read_parquet(path)
        except (OSError, ValueError) as error:
            raise ResultsError(f"{path} is not a readable posterior ({error})") from None
        if "weight" not in table or len(table) == 0 or len(table.columns) < 2:
            raise ResultsError(f"{path} is not a posterior: it needs rows, a `weight` column "
                               "and one column per parameter path")
        weights = table.pop("weight").to_numpy(float)
        if (weights < 0).any() or not np.isfinite(weights).all() or weights.sum() <= 0:
            raise ResultsError(f"{path}: weights must be finite, non-negative, not all zero")
        return cls(table.reset_index(drop=True), weights / weights.sum(), str(path))

    @property
    def paths(self) -> list[str]:
        """The scenario paths the posterior sets."""
        return list(self.values.columns)

    def without(self, paths: list[str]) -> Posterior:
        """The same particles and weights, drawing none of `paths`.

        Each draw picks the same particle as before, so runs stay paired with those that drew
        every path.
        """
        pinned = [path for path in paths if path in self.values.columns]
        if not pinned:
            return self
        return Posterior(self.values.drop(columns=pinned), self.weights, self.source,
                         tuple(sorted({*self.pinned, *pinned})))

    def index(self, seed: int, stream_key: int, block: int) -> int:
        """The particle drawn for a block of replications."""
        generator = np.random.default_rng(np.random.SeedSequence(
            seed, spawn_key=(int(stream_key), int(block), 1)))
        return int(generator.choice(len(self.weights), p=self.weights))

    def particle(self, index: int) -> dict[str, float]:
        """The values of one particle."""
        return {path: float(value) for path, value in self.values.iloc[index].items()}


def drawn_posterior(scenario: Scenario, point: bool = False) -> Posterior | None:
    """The posterior a scenario's runs draw from, or None for its own values.

    The one it names, unless `point` or it names none (runs, sweeps and tipping searches ask
    here; levers and comparisons reuse what the run they pair with drew), without the parameters
    the scenario sets itself (`Scenario.pinned`).
    """
    if point or scenario.posterior_path is None:
        return None
    posterior = Posterior.read(scenario.posterior_path)
    drawn = posterior.without(scenario.pinned(posterior.paths))
    return drawn if drawn.paths else None  # every value pinned: nothing left to draw


def pinned_outside(scenario: Scenario) -> list[str]:
    """A warning for each kept value outside the range its posterior's particles span.

    A value the scenario keeps instead of drawing (`Scenario.pinned`) where the calibration never
    ran the model is not one the record says anything about (a weight of 0 where the particles
    span 1 to 9.5).
    """
    if scenario.posterior_path is None:
        return []
    posterior = Posterior.read(scenario.posterior_path)
    kept = scenario.pinned(posterior.paths)
    values = flatten(scenario.model_dump(mode="json")) if kept else {}
    found = []
    for path in kept:
        value = values[path]
        low, high = float(posterior.values[path].min()), float(posterior.values[path].max())
        if not low <= value <= high:
            found.append(f"{path} = {value:g} is kept (not drawn) outside the range the "
                         f"posterior's particles span ({low:.3g} to {high:.3g}): the calibration "
                         "never ran the model there")
    return found


def drawn_summary(scenario: Scenario, path: str) -> str:
    """What a scenario's posterior draws for `path`, in words ("" if it draws nothing there)."""
    if scenario.posterior_path is None:
        return ""
    posterior = Posterior.read(scenario.posterior_path)
    if path not in posterior.values.columns:
        return ""
    column = posterior.values[path].to_numpy(float)
    order = np.argsort(column)
    cumulative = np.cumsum(np.asarray(posterior.weights, float)[order])
    median = column[order][np.searchsorted(cumulative, cumulative[-1] / 2)]
    return (f"drawn from the posterior: weighted median {median:.3g}, particles "
            f"{column.min():.3g} to {column.max():.3g}")


def posterior_record(posterior: Posterior | None, draw_block: int = DRAW_BLOCK) -> dict | None:
    """What a manifest says about the posterior its runs drew from (None: the point values).

    The file's SHA-256 pins its content: a folder names the particles it drew, not just a path
    that a later calibration may overwrite.
    """
    if posterior is None:
        return None
    return {"file": posterior.source, "sha256": file_sha256(posterior.source),
            "particles": len(posterior.weights), "draw_block": draw_block,
            "paths": posterior.paths, "pinned": list(posterior.pinned)}


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
