"""Read a results folder once into typed objects: a run, a sweep, a tipping search, a comparison.

    kind = folder_kind(folder)            # RUN, SWEEP, TIPPING or COMPARISON
    data = read_run(folder)               # RunData: facts, tables, levers (when computed)

The analyses' own files are read by `blocsim.analysis` (sensitivity, discovery, tipping,
levers); nothing here re-reads a manifest field by field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from blocsim.analysis.discovery import DiscoveryResult, read_discoveries, read_step_boxes
from blocsim.analysis.levers import read_levers
from blocsim.analysis.paired import scenario_differences
from blocsim.analysis.sensitivity import read_sensitivity
from blocsim.analysis.sweeps import point_probabilities
from blocsim.analysis.tipping import TippingResult, read_tipping
from blocsim.dashboards.facts import Parameter, ScenarioFacts, parameter, scenario_facts
from blocsim.errors import ResultsError
from blocsim.experiment.store import KINDS, MANIFEST, read_manifest
from blocsim.experiment.sweep import read_sweep_manifest
from blocsim.scenario.sources import Change, changes

RUN, SWEEP, TIPPING, COMPARISON, CALIBRATION = KINDS
EXPECTED = ("a run folder (`blocsim run`), a finished sweep folder (`blocsim sweep`), a tipping "
            "folder (`blocsim tip`), a comparison folder (`blocsim compare`) or a folder "
            "holding two or more run folders")
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

    @classmethod
    def of(cls, manifest: dict) -> Stamp:
        """The stamp in a manifest."""
        return cls(int(manifest.get("seed", 0)), int(manifest.get("replications", 0)),
                   str(manifest.get("created", "")),
                   str(manifest.get("versions", {}).get("blocsim", "?")))


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
    table = scenario_differences({k: r.outcomes for k, r in runs.items()}, reference, paired)
    base = runs[reference].facts.raw
    return ComparisonData(folder, runs, reference, table,
                          {k: changes(base, r.facts.raw) for k, r in runs.items()
                           if k != reference})

