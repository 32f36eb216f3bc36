"""Read a results folder once into typed objects: a run, a sweep, a tipping search, a comparison.

    kind = folder_kind(folder)            # RUN, SWEEP, TIPPING, COMPARISON or CALIBRATION
    data = read_run(folder)               # RunData: facts, tables, levers (when computed)
    data = read_calibration(folder)       # CalibrationData: spec, posterior, facts, scores

The analyses' own files are read by `blocsim.analysis` (sensitivity, discovery, tipping,
levers); nothing here re-reads a manifest field by field.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError

from blocsim.analysis.calibration.spec import CalibrationSpec, TestFacts, load_test_facts
from blocsim.analysis.discovery import DiscoveryResult, read_discoveries, read_step_boxes
from blocsim.analysis.levers import read_levers
from blocsim.analysis.paired import scenario_differences
from blocsim.analysis.sensitivity import read_sensitivity
from blocsim.analysis.sweeps import point_probabilities
from blocsim.analysis.tipping import TippingResult, read_tipping
from blocsim.dashboards.facts import Parameter, ScenarioFacts, parameter, scenario_facts
from blocsim.errors import BlocsimError, ResultsError
from blocsim.experiment.posterior import Posterior
from blocsim.experiment.store import KINDS, MANIFEST, read_manifest
from blocsim.experiment.sweep import read_sweep_manifest
from blocsim.scenario.loading import load
from blocsim.scenario.sources import Change, changes

RUN, SWEEP, TIPPING, COMPARISON, CALIBRATION = KINDS
EXPECTED = ("a run folder (`blocsim run`), a finished sweep folder (`blocsim sweep`), a tipping "
            "folder (`blocsim tip`), a comparison folder (`blocsim compare`), a calibration "
            "folder (`blocsim calibrate`) or a folder holding two or more run folders")
REFERENCE = "baseline"
"""In a plain folder of runs, a run folder of this name is the reference."""


def _kind(folder: Path) -> str | None:
    try:
        return str(read_manifest(folder).get("kind"))
    except ResultsError:
        return None


def run_subfolders(folder: Path) -> list[Path]:
    """The direct subfolders of `folder` that are run folders, sorted by name."""
    return sorted(c for c in Path(folder).iterdir() if c.is_dir() and _kind(c) == RUN)


def folder_kind(folder: Path) -> str:
    """Which page a folder gets: its manifest's kind, or COMPARISON for a folder of runs.

    Raises:
        ResultsError: for anything else, saying what was expected.

    """
    folder = Path(folder)
    if (folder / MANIFEST).is_file():
        kind = _kind(folder)
        if kind in KINDS:
            return kind
        raise ResultsError(f"{folder} holds a {kind!r} results folder (or an unreadable "
                           f"{MANIFEST}); expected {EXPECTED}")
    runs = run_subfolders(folder) if folder.is_dir() else []
    if len(runs) >= 2:
        return COMPARISON
    found = (f"only one run folder ({runs[0].name})" if runs else
             f"no {MANIFEST} and no run folders inside")
    raise ResultsError(f"{folder} is not a blocsim results folder: expected {EXPECTED}; "
                       f"found {found}")


@dataclass(frozen=True)
class Stamp:
    """Who made a folder, when, with which seed and how many replications."""

    seed: int
    replications: int
    created: str
    version: str
    weights: str = "the scenario's own"
    """Where the runs' calibrated weights came from: a posterior's draws, or the file's values."""
    draw_block: int | None = None
    """Replications that shared one posterior draw (None: no posterior)."""
    pinned: tuple[str, ...] = ()
    """Parameters the posterior draws that the scenario kept at its own values."""

    @classmethod
    def of(cls, manifest: dict) -> Stamp:
        """The stamp in a manifest."""
        drawn = manifest.get("posterior")
        weights = "the scenario's own"
        block = None
        pinned: list[str] = []
        if isinstance(drawn, dict):
            block = int(drawn.get("draw_block", 1))
            pinned = list(drawn.get("pinned") or [])
            weights = (f"drawn from {Path(str(drawn.get('file', 'a posterior'))).name} "
                       f"({drawn.get('particles', '?')} particles; "
                       + ("a draw per run" if block == 1 else f"a draw per {block} runs")
                       + (f"; the scenario's own {', '.join(pinned)}" if pinned else "") + ")")
        return cls(int(manifest.get("seed", 0)), int(manifest.get("replications", 0)),
                   str(manifest.get("created", "")),
                   str(manifest.get("versions", {}).get("blocsim", "?")), weights, block,
                   tuple(pinned))


@dataclass(frozen=True)
class RunData:
    """A run folder: its scenario, stamp and tables (optional ones None when absent)."""

    folder: Path
    facts: ScenarioFacts
    stamp: Stamp
    tables: dict[str, pd.DataFrame]
    levers: pd.DataFrame | None

    def table(self, name: str) -> pd.DataFrame | None:
        """A table of the folder, or None when the run did not write it."""
        return self.tables.get(name)

    @property
    def outcomes(self) -> pd.DataFrame:
        """One row per replication and grouping."""
        return self.tables["outcomes"]


def read_run(folder: Path, names: tuple[str, ...] | None = None) -> RunData:
    """Read a run folder (every table, or only `names`), with string keys for the groupings.

    Raises:
        ResultsError: if the folder is not a readable run folder.

    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest.get("kind") != RUN:
        raise ResultsError(f"{folder} holds a {manifest.get('kind')!r} results folder, not a "
                           f"run (`blocsim run`)")
    tables = {}
    for path in sorted(folder.glob("*.parquet")):
        if (names is None or path.stem in names) and path.stem != "levers":
            try:
                table = pd.read_parquet(path)
            except (OSError, ValueError) as error:
                raise ResultsError(f"{path} cannot be read: {error}") from error
            for column in ("grouping", "state", "quarter", "pressure", "term"):
                if column in table:
                    table[column] = table[column].astype(str)
            tables[path.stem] = table
    if "outcomes" not in tables:
        raise ResultsError(f"{folder} is a run folder without outcomes.parquet")
    return RunData(folder, scenario_facts(manifest["scenario"]), Stamp.of(manifest), tables,
                   read_levers(folder) if names is None else None)


@dataclass(frozen=True)
class Axis:
    """One axis of a sweep: its name, the values it visits, and the base scenario's value."""

    name: Parameter
    values: tuple | None
    range: tuple[float, float] | None
    steps: int | None
    here: float | None

    @property
    def path(self) -> str:
        """The dotted path (the design table's column)."""
        return self.name.path

    @property
    def label(self) -> str:
        """The readable label."""
        return self.name.label

    def extent(self, design: str) -> str:
        """What the axis visits, in words."""
        if self.values is not None:
            return "values " + ", ".join(str(v).lower() if isinstance(v, bool) else f"{v:g}"
                                         for v in self.values)
        low, high = self.range or (0, 1)
        if design == "grid":
            return f"{low:g} to {high:g} in {self.steps} even steps"
        return f"{low:g} to {high:g}, sampled ({design})"


@dataclass(frozen=True)
class SweepData:
    """A finished sweep: its spec, base scenario, design, per-point probabilities, analyses."""

    folder: Path
    facts: ScenarioFacts
    stamp: Stamp
    name: str
    description: str
    file: str
    hash: str
    design: str
    axes: tuple[Axis, ...]
    points: pd.DataFrame
    probabilities: pd.DataFrame
    sensitivity: pd.DataFrame | None
    discoveries: dict[str, DiscoveryResult]
    step_boxes: dict[str, pd.DataFrame]

    def axis(self, path: str) -> Axis:
        """The axis with this path (a bare one for a path the sweep does not vary)."""
        found = next((a for a in self.axes if a.path == path), None)
        return found or Axis(parameter(path, self.facts), None, None, None, None)

    @property
    def order(self) -> list[str]:
        """Groupings by how much their probability varies across points, most first."""
        spread = self.probabilities.groupby("grouping", sort=False)["probability"].std()
        return [str(k) for k in spread.fillna(0).sort_values(ascending=False,
                                                              kind="stable").index]


def read_sweep(folder: Path) -> SweepData:
    """Read a finished sweep: its design, the probabilities per point and its analyses.

    Raises:
        ResultsError: if the folder is not a finished, readable sweep.

    """
    folder = Path(folder)
    try:
        manifest = read_sweep_manifest(folder)
        sweep, spec = manifest["sweep"], manifest["sweep"]["spec"]
        points = pd.read_parquet(folder / "points.parquet")
        outcomes = pd.read_parquet(folder / "outcomes.parquet",
                                   columns=["point", "grouping", "consolidated", "peak_level"])
    except (KeyError, OSError, ValueError) as error:
        raise ResultsError(f"{folder} is not a finished, readable sweep ({error})") from error
    facts = scenario_facts(manifest["scenario"])
    axes = tuple(Axis(parameter(a["path"], facts), tuple(a["values"]) if a.get("values")
                      else None, tuple(a["range"]) if a.get("range") else None, a.get("steps"),
                      facts.value_at(a["path"])) for a in spec["axes"])
    outcomes["grouping"] = outcomes["grouping"].astype(str)
    discoveries = read_discoveries(folder)
    return SweepData(folder, facts, Stamp.of(manifest), str(sweep.get("name") or spec["name"]),
                     str(spec.get("description", "")), str(sweep.get("file", "")),
                     str(sweep.get("hash", "")), str(manifest.get("design") or spec["design"]),
                     axes, points, point_probabilities(outcomes, points),
                     read_sensitivity(folder), discoveries,
                     read_step_boxes(folder, list(discoveries)))


@dataclass(frozen=True)
class TippingData:
    """A tipping search: its result, the scenario (when recorded) and the value searched."""

    folder: Path
    result: TippingResult
    facts: ScenarioFacts | None
    name: str
    stamp: Stamp
    precision: float | None
    vary: Parameter
    grouping: str
    range: tuple[float, float]
    here: float | None


def read_tipping_folder(folder: Path) -> TippingData:
    """Read a `blocsim tip` folder.

    Raises:
        ResultsError: if the folder is not a readable tipping folder.

    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest.get("kind") != TIPPING:
        raise ResultsError(f"{folder} holds a {manifest.get('kind')!r} folder, not a tipping "
                           f"folder (`blocsim tip`)")
    result = read_tipping(folder)
    scenario = manifest.get("scenario", {})
    facts = scenario_facts(scenario) if "resolved" in scenario else None
    vary = str(result.details.get("vary") or manifest.get("vary", "?"))
    span = manifest.get("range", [result.details.get("low", 0.0), result.details.get("high", 1)])
    return TippingData(folder, result, facts, str(scenario.get("name", "?")),
                       Stamp.of(manifest), manifest.get("precision"), parameter(vary, facts),
                       str(result.details.get("grouping") or manifest.get("grouping", "?")),
                       (float(span[0]), float(span[1])), facts.value_at(vary) if facts else None)


@dataclass(frozen=True)
class ComparisonData:
    """Runs read against a reference: each run, the differences and the changed inputs."""

    folder: Path
    runs: dict[str, RunData]
    reference: str
    table: pd.DataFrame
    parameters: dict[str, list[Change]]

    @property
    def paired(self) -> bool:
        """Whether every run shares the seed and replications (differences paired by run)."""
        return len({(r.stamp.seed, r.stamp.replications) for r in self.runs.values()}) == 1


def read_comparison(folder: Path) -> ComparisonData:
    """Read a comparison folder (`blocsim compare`) or a plain folder of run folders.

    Raises:
        ResultsError: if a run folder cannot be read.

    """
    folder = Path(folder)
    if (folder / MANIFEST).is_file():
        manifest = read_manifest(folder)
        members = {label: folder / path for label, path in manifest.get("runs", {}).items()}
        reference = str(manifest.get("reference", next(iter(members), "")))
    else:
        found = sorted(run_subfolders(folder), key=lambda f: (f.name != REFERENCE, f.name))
        members = {f.name: f for f in found}
        reference = found[0].name
    runs = {}
    for label, path in members.items():
        try:
            runs[label] = read_run(path, ("outcomes", "levels"))
        except ResultsError as error:
            raise ResultsError(f"{folder}: run {label!r}: {error}") from error
    runs = {reference: runs[reference], **runs}
    paired = len({(r.stamp.seed, r.stamp.replications) for r in runs.values()}) == 1
    table = scenario_differences({k: r.outcomes for k, r in runs.items()}, reference, paired,
                                 {k: r.stamp.draw_block for k, r in runs.items()})
    base = runs[reference].facts.raw
    return ComparisonData(folder, runs, reference, table,
                          {k: _drawn_as_recorded(changes(base, r.facts.raw), runs[reference], r)
                           for k, r in runs.items() if k != reference})


def _drawn_as_recorded(found: list[Change], reference: RunData, run: RunData) -> list[Change]:
    """The changes, a value the reference's runs drew saying so as the run's manifest does.

    A run that kept a weight its base draws recorded what the base's runs draw there
    (`Change.old_drawn`); where the reference drew from a posterior and did not keep that weight
    itself, its value is that draw, not the file's hand-set number.
    """
    if not reference.stamp.draw_block:
        return found
    drawn = {c.path: c.old_drawn for c in run.facts.changes if c.old_drawn}
    return [replace(c, old_drawn=drawn[c.path])
            if c.path in drawn and c.path not in reference.stamp.pinned else c for c in found]



@dataclass(frozen=True)
class Estimated:
    """A parameter the calibration estimates: its name in words, uniform prior, hand-set value.

    `hand_set` is the value the first case's scenario file gives it (what runs used before the
    calibration), None when that file is gone or has changed since.
    """

    name: Parameter
    low: float
    high: float
    hand_set: float | None

    @property
    def path(self) -> str:
        """The dotted scenario path (the posterior's column)."""
        return self.name.path

    @property
    def label(self) -> str:
        """The parameter in words."""
        return self.name.label

    @property
    def prior_sd(self) -> float:
        """The standard deviation of the uniform prior: (high - low) / sqrt(12)."""
        return (self.high - self.low) / float(np.sqrt(12.0))


@dataclass(frozen=True)
class CalibrationData:
    """A calibration folder (`blocsim calibrate`): what was fitted, how, and what came out.

    `facts` and `scores` are None while only the fit has finished (status "fitted"); `test_facts`
    is the pre-registered file when it is still where the manifest says and unchanged (else
    `test_note` says why it is not shown), for its pass rule, sources and benchmarks' reasons.
    """

    folder: Path
    manifest: dict
    spec: CalibrationSpec
    parameters: tuple[Estimated, ...]
    hand_set_from: str
    posterior: Posterior
    generations: pd.DataFrame
    facts: pd.DataFrame | None
    scores: pd.DataFrame | None
    test_facts: TestFacts | None
    test_note: str

    @property
    def status(self) -> str:
        """`complete` (fit and report), `fitted` (report not yet written) or `running`."""
        return str(self.manifest.get("status", "?"))

    @property
    def created(self) -> str:
        """When the calibration started (ISO 8601)."""
        return str(self.manifest.get("created", ""))

    @property
    def version(self) -> str:
        """The blocsim version that wrote the folder."""
        return str(self.manifest.get("versions", {}).get("blocsim", "?"))

    @property
    def file(self) -> str:
        """The calibration file."""
        return str(self.manifest.get("calibration", {}).get("file", ""))

    @property
    def hash(self) -> str:
        """The calibration's hash (spec and cases' scenarios)."""
        return str(self.manifest.get("calibration", {}).get("hash", ""))

    @property
    def test_file(self) -> str:
        """The pre-registered test-facts file."""
        return str(self.manifest.get("test_facts", {}).get("file", ""))

    @property
    def test_sha256(self) -> str:
        """The SHA-256 the calibration file pins for the test facts."""
        return str(self.manifest.get("test_facts", {}).get("sha256", ""))

    @property
    def wall_seconds(self) -> float:
        """Wall time of the fitting (all sessions of a resumed calibration)."""
        return float(self.manifest.get("timings", {}).get("wall_seconds", 0.0))

    @property
    def sources(self) -> dict[str, str]:
        """Each fact's source: the fit facts' from the spec, the test facts' from their file."""
        found = {fact.id: fact.source for fact in self.spec.facts}
        if self.test_facts is not None:
            found.update({fact.id: fact.source for fact in self.test_facts.facts})
        return found


def _table(path: Path, needed: tuple[str, ...], optional: bool = False) -> pd.DataFrame | None:
    if optional and not path.is_file():
        return None
    try:
        table = pd.read_parquet(path)
    except (OSError, ValueError) as error:
        raise ResultsError(f"{path} cannot be read ({error})") from None
    missing = [c for c in needed if c not in table]
    if missing:
        raise ResultsError(f"{path} lacks the column(s) {', '.join(missing)}")
    return table


def _hand_set(spec: CalibrationSpec, cases: dict) -> tuple[dict[str, float | None], str]:
    """The estimated parameters' values in the first case's scenario, and which file that is."""
    first = spec.cases[0]
    meta = cases.get(first.name, {})
    path = Path(str(meta.get("file", "")))
    try:
        scenario = load(path) if path.is_file() else None
    except BlocsimError:
        scenario = None
    if scenario is None or scenario.hash != meta.get("hash"):
        return {p.path: None for p in spec.parameters}, ""
    facts = scenario_facts({"name": first.name, "resolved": scenario.raw})
    return {p.path: facts.value_at(p.path) for p in spec.parameters}, path.name


def _test_facts(manifest: dict) -> tuple[TestFacts | None, str]:
    """The pre-registered test facts, if their file is where it was and unchanged."""
    meta = manifest.get("test_facts", {})
    path = Path(str(meta.get("file", "")))
    if not path.is_file():
        return None, f"the test-facts file {path} is not on this machine"
    try:
        return load_test_facts(path, str(meta.get("sha256", ""))), ""
    except BlocsimError:
        return None, (f"the test-facts file {path} has changed since the calibration (its "
                      "SHA-256 differs from the pinned one)")


def read_calibration(folder: Path) -> CalibrationData:
    """Read a calibration folder whose fit has finished (the report's tables when written).

    Raises:
        ResultsError: if the folder is not a calibration, its fit has not finished, or a table
            or the recorded spec cannot be read.

    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest.get("kind") != CALIBRATION:
        raise ResultsError(f"{folder} holds a {manifest.get('kind')!r} results folder, not a "
                           f"calibration (`blocsim calibrate`)")
    if manifest.get("status") not in ("fitted", "complete"):
        raise ResultsError(f"{folder}: the calibration has not finished its fit (status "
                           f"{manifest.get('status')!r}); continue it with `blocsim calibrate "
                           f"FILE --out {folder} --resume`")
    try:
        spec = CalibrationSpec.model_validate(manifest["calibration"]["spec"])
    except (KeyError, TypeError, ValidationError) as error:
        raise ResultsError(f"{folder / MANIFEST}: the calibration's spec cannot be read "
                           f"({error})") from None
    hand_set, source = _hand_set(spec, manifest.get("cases", {}))
    parameters = tuple(Estimated(parameter(p.path), p.prior[0], p.prior[1], hand_set[p.path])
                       for p in spec.parameters)
    posterior = Posterior.read(folder / "posterior.parquet")
    missing = [p.path for p in parameters if p.path not in posterior.values]
    if missing:
        raise ResultsError(f"{folder / 'posterior.parquet'} lacks the column(s) "
                           f"{', '.join(missing)}")
    generations = _table(folder / "generations.parquet", ("generation", "tolerance",
                                                          "simulations", "acceptance_rate"))
    facts = _table(folder / "facts.parquet", ("fact", "case", "window", "statement",
                                              "probability", "runs", "mc_low", "mc_high",
                                              "parameter_low", "parameter_high"), optional=True)
    scores = _table(folder / "test_scores.parquet", ("fact", "model", "model_brier",
                                                     "model_log", "persistence_brier",
                                                     "base_rate_brier"), optional=True)
    test_facts, note = _test_facts(manifest)
    return CalibrationData(folder, manifest, spec, parameters, source, posterior, generations,
                           facts, scores, test_facts, note)
