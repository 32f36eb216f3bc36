"""Calibration on the record: ABC-SMC over the parameters, scored out of sample.

`run_calibration(file, folder, ...)` fits the posterior on the fit facts (`smc.run_abc`), then runs
the posterior predictive of every fact of the record, fit and test, and scores the pre-registered
test facts against the two benchmarks (`predictive`). The folder holds `posterior.parquet`,
`generations.parquet`, `facts.parquet`, `test_scores.parquet`, the pyabc database and the manifest.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from blocsim.analysis.calibration.predictive import (
    predictive_shares,
    score_summary,
    score_test_facts,
)
from blocsim.analysis.calibration.smc import (
    FACTS,
    POSTERIOR,
    TEST_SCORES,
    _write_json,
    run_abc,
)
from blocsim.analysis.calibration.spec import Calibration, load_calibration
from blocsim.experiment.executors import Executor
from blocsim.experiment.posterior import Posterior
from blocsim.experiment.store import MANIFEST, read_manifest

__all__ = ["Calibration", "load_calibration", "report_facts", "run_calibration"]


def report_facts(calibration: Calibration, folder: Path, executor: Executor | None = None
                 ) -> dict:
    """Posterior predictive of every fact, the test scores, written beside the posterior."""
    folder = Path(folder)
    posterior = Posterior.read(folder / POSTERIOR)
    facts = [*calibration.spec.facts, *calibration.test_facts.facts]
    shares = predictive_shares(calibration, posterior, facts, executor)
    shares.to_parquet(folder / FACTS, index=False)
    scores = score_test_facts(shares, calibration.test_facts.facts)
    scores.to_parquet(folder / TEST_SCORES, index=False)
    manifest = read_manifest(folder)
    manifest.update(status="complete", test_scores=score_summary(scores),
                    fit_shares={row.fact: round(float(row.probability), 3)
                                for row in shares.itertuples() if row.window == "fit"},
                    test_shares={row.fact: round(float(row.probability), 3)
                                 for row in shares.itertuples() if row.window == "test"})
    _write_json(folder, MANIFEST, manifest)
    return manifest


def run_calibration(path: str | Path, folder: str | Path, workers: int = 1,
                    dask: str | None = None, resume: bool = False, overwrite: bool = False,
                    executor: Executor | None = None,
                    progress: Callable[[dict], None] | None = None) -> dict:
    """Fit, then report: the whole `blocsim calibrate`. Returns the final manifest."""
    calibration = load_calibration(path)
    run_abc(calibration, Path(folder), workers, dask, resume, overwrite, progress)
    return report_facts(calibration, Path(folder), executor)
