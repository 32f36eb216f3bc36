"""ABC-SMC on the record with pyabc: a posterior over the parameters, generation by generation.

Why ABC-SMC (pyabc) rather than history matching: the model is stochastic and its summaries are
shares of runs reproducing binary facts, whose dependence on 8-12 parameters is sharply
non-linear (a weight +-20% swings a probability from 0.1 to 0.8); an emulator of such surfaces
needs many design points and still blurs the thresholds, while ABC-SMC spends simulations where
the record is matched and yields a weighted posterior sample that runs can draw from directly. Its
populations are stored in SQLite as they finish, so a killed calibration resumes from the last
finished generation; its samplers run on local processes or an existing Dask cluster.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from blocsim.analysis.calibration.simulate import RecordModel, parameter_names, shortfall
from blocsim.analysis.calibration.spec import Calibration
from blocsim.errors import ResultsError
from blocsim.experiment.store import MANIFEST, read_manifest, versions

DATABASE = "abc.db"
POSTERIOR = "posterior.parquet"
GENERATIONS = "generations.parquet"
FACTS = "facts.parquet"
TEST_SCORES = "test_scores.parquet"
WRITTEN = (DATABASE, POSTERIOR, GENERATIONS, FACTS, TEST_SCORES, "dashboard.html", MANIFEST)
"""What a calibration writes in its folder: `--overwrite` removes all of it, and only it (a
re-fit interrupted before its report must not leave the old fit's facts beside it)."""


def _write_json(folder: Path, name: str, content: dict) -> None:
    staging = folder / f".{name}.partial"
    staging.write_text(json.dumps(content, indent=2, default=str) + "\n")
    os.replace(staging, folder / name)


def prepare_folder(calibration: Calibration, folder: Path, resume: bool, overwrite: bool) -> bool:
    """Make or check the folder; return whether a stored run is continued."""
    if folder.exists() and not folder.is_dir():
        raise ResultsError(f"{folder} exists and is not a folder; choose another --out")
    if folder.exists() and any(folder.iterdir()):
        manifest = read_manifest(folder) if (folder / MANIFEST).is_file() else {}
        if manifest.get("kind") != "calibration":
            raise ResultsError(f"{folder} is not a calibration folder; choose another --out")
        if resume:
            if manifest.get("calibration", {}).get("hash") != calibration.hash:
                raise ResultsError(f"{folder} holds a different calibration (its hash differs "
                                   f"from {calibration.path.name}'s); choose another --out")
            return (folder / DATABASE).is_file()
        if not overwrite:
            raise ResultsError(f"{folder} already exists; pass --resume to continue the "
                               f"calibration there, --overwrite to start again, or choose "
                               f"another --out")
        for name in WRITTEN:
            (folder / name).unlink(missing_ok=True)
        return False
    folder.mkdir(parents=True, exist_ok=True)
    return False


def _sampler(workers: int, dask: str | None):
    """Pyabc's sampler: local processes, one process, or a Dask cluster."""
    import pyabc

    if dask:
        from blocsim.experiment.executors import DaskExecutor

        executor = DaskExecutor(dask, workers)
        return pyabc.sampler.DaskDistributedSampler(dask_client=executor.client,
                                                    batch_size=4), executor
    if workers <= 1:
        return pyabc.sampler.SingleCoreSampler(), None
    return pyabc.sampler.MulticoreEvalParallelSampler(n_procs=workers), None


class GenerationReporter(logging.Handler):
    """Turns pyabc's log of each generation into progress calls.

    Each call carries the generation, its tolerance and acceptance rate, and the particles
    simulated so far.
    """

    EPSILON = re.compile(r"^t: (\d+), eps: ([-+0-9.eE]+?|inf)\.?$")
    ACCEPTED = re.compile(r"^Accepted: (\d+) / (\d+) = ")

    def __init__(self, progress: Callable[[dict], None] | None, generations: int) -> None:
        super().__init__(level=logging.INFO)
        self.progress = progress
        self.generations = generations
        self.generation, self.tolerance, self.simulations = 0, float("nan"), 0

    def emit(self, record: logging.LogRecord) -> None:
        """Read one pyabc log line."""
        message = record.getMessage()
        if (found := self.EPSILON.match(message)) is not None:
            self.generation = int(found.group(1))
            try:
                self.tolerance = float(found.group(2))
            except ValueError:
                self.tolerance = float("nan")
        elif (found := self.ACCEPTED.match(message)) is not None and self.progress:
            accepted, tried = int(found.group(1)), int(found.group(2))
            self.simulations += tried
            self.progress({"generation": self.generation, "tolerance": self.tolerance,
                           "acceptance_rate": accepted / max(tried, 1),
                           "simulations": self.simulations, "of": self.generations})


def generation_table(history) -> pd.DataFrame:
    """Per generation: tolerance, particles, simulations and acceptance rate."""
    populations = history.get_all_populations()
    populations = populations[populations.t >= 0].reset_index(drop=True)
    table = pd.DataFrame({"generation": populations.t.astype(int),
                          "tolerance": populations.epsilon.astype(float),
                          "simulations": populations.samples.astype(int),
                          "particles": populations.particles.astype(int)})
    table["acceptance_rate"] = table.particles / table.simulations.clip(lower=1)
    table["effective_particles"] = [
        effective_sample_size(history.get_distribution(m=0, t=int(t))[1])
        for t in table.generation]
    return table


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size of importance weights: 1 / sum(w^2) for normalized w.

    A posterior whose weights sit on a few particles is estimated by those few, whatever the
    population; the manifest reports it so a degenerate fit is seen, not trusted.
    """
    w = np.asarray(weights, float)
    w = w / w.sum()
    return float(1.0 / np.sum(w * w))


def posterior_table(history, names: dict[str, str]) -> pd.DataFrame:
    """The last generation's weighted particles: one column per scenario path, and `weight`."""
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    table = frame.rename(columns=names).reset_index(drop=True)[list(names.values())]
    table["weight"] = np.asarray(weights, float) / np.sum(weights)
    return table


def run_abc(calibration: Calibration, folder: Path, workers: int = 1, dask: str | None = None,
            resume: bool = False, overwrite: bool = False,
            progress: Callable[[dict], None] | None = None) -> dict:
    """Estimate the posterior by ABC-SMC into `folder`; return its manifest.

    `progress(state)` is called after each generation with its number, tolerance, acceptance
    rate and the simulations so far.
    """
    import pyabc

    spec = calibration.spec
    folder = Path(folder).resolve()
    continuing = prepare_folder(calibration, folder, resume, overwrite)
    names = parameter_names([p.path for p in spec.parameters])
    priors = pyabc.Distribution(**{name: pyabc.RV("uniform", p.prior[0], p.prior[1] - p.prior[0])
                                   for name, p in zip(names, spec.parameters, strict=True)})
    model = RecordModel(calibration, calibration.fit_facts, spec.replications)
    observed = {fact_id: 1.0 for fact_id in model.fact_ids}
    sampler, executor = _sampler(workers, dask)
    np.random.seed(spec.seed)
    abc = pyabc.ABCSMC(model, priors, shortfall, population_size=spec.population,
                       transitions=pyabc.MultivariateNormalTransition(
                           scaling=spec.kernel_scaling),
                       sampler=sampler, eps=pyabc.epsilon.QuantileEpsilon(alpha=0.5))
    database = "sqlite:///" + str(folder / DATABASE)
    manifest = {
        "kind": "calibration",
        "calibration": {"name": spec.name, "file": str(calibration.path),
                        "hash": calibration.hash,
                        "spec": spec.model_dump(mode="json", by_alias=True)},
        "test_facts": {"file": str(calibration.test_path), "sha256": spec.test_facts_sha256},
        "cases": {name: {"file": str(s.path), "hash": s.hash}
                  for name, s in calibration.cases.items()},
        "method": "ABC-SMC (pyabc), uniform priors, multivariate normal proposals scaled by "
                  "`kernel_scaling`, distance = the mean shortfall of the fit facts' shares from "
                  "1, tolerance = the median distance of the last generation",
        "status": "running",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": {**versions(), "pyabc": pyabc.__version__},
    }
    finished = False
    if continuing:
        stored = read_manifest(folder)
        finished = stored.get("status") in ("fitted", "complete")
        manifest = {**stored, "status": "running"}
        history = abc.load(database, 1)
    else:
        history = abc.new(database, observed)
    _write_json(folder, MANIFEST, manifest)
    started = time.perf_counter()
    done = max(history.max_t + 1, 0) if continuing else 0
    reporter = GenerationReporter(progress, spec.max_generations)
    logging.getLogger("ABC").addHandler(reporter)
    try:
        if done < spec.max_generations and not finished:
            history = abc.run(minimum_epsilon=spec.min_tolerance,
                              max_nr_populations=spec.max_generations - done,
                              min_acceptance_rate=spec.min_acceptance,
                              min_eps_diff=spec.min_tolerance_change)
    finally:
        logging.getLogger("ABC").removeHandler(reporter)
        if executor is not None:
            executor.close()
    generations = generation_table(history)
    generations.to_parquet(folder / GENERATIONS, index=False)
    posterior = posterior_table(history, names)
    posterior.to_parquet(folder / POSTERIOR, index=False)
    elapsed = time.perf_counter() - started
    timings = manifest.get("timings", {})
    if finished:
        manifest.update(status="fitted")
        _write_json(folder, MANIFEST, manifest)
        return manifest
    manifest.update(status="fitted", generations=len(generations),
                    final_tolerance=float(generations.tolerance.iloc[-1]),
                    effective_particles=round(float(generations.effective_particles.iloc[-1]),
                                              1),
                    simulations=int(generations.simulations.sum()),
                    runs=int(generations.simulations.sum()) * spec.replications
                    * len(calibration.cases),
                    timings={"wall_seconds": round(timings.get("wall_seconds", 0.0) + elapsed, 1)},
                    workers=workers if not dask else dask)
    _write_json(folder, MANIFEST, manifest)
    return manifest
