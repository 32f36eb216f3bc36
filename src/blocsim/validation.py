"""Checking a file of any kind: scenario, sweep, landscape or calibration.

`blocsim validate` answers in a fraction of a second: each kind loads only what reading it needs
(a scenario its schema, 0.3 s; a sweep the engine too, which compiles its base), not the
analysis, dashboards and calibration machinery the other commands load (2-3 s a call before).

    from blocsim.validation import validate_file
    validate_file("scenarios/india_tilt.toml")   # Validated("scenario", "India tilt: 23 ...", [])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from blocsim.errors import BlocsimError
from blocsim.scenario.loading import load as load_scenario
from blocsim.scenario.loading import read_toml
from blocsim.scenario.sources import unsourced_changes


@dataclass
class Validated:
    """A valid file: its kind, what it holds in words, and its warnings."""

    kind: str
    description: str
    warnings: list[str]


def file_kind(path: Path) -> str:
    """What kind of file a TOML file is, from its keys.

    `sweep` (has `base` and `axes`), `landscape` (`actors`), `calibration` (`cases` and
    `facts`), `test facts` (a calibration's pre-registered facts: `facts` and `pass_rule`), else
    `scenario`.
    """
    try:
        data = read_toml(Path(path))
    except BlocsimError:
        return "scenario"  # the scenario loader says what is wrong, naming the file
    if "axes" in data and "base" in data:
        return "sweep"
    if "cases" in data and "facts" in data:
        return "calibration"
    if "facts" in data and "pass_rule" in data:
        return "test facts"
    return "landscape" if "actors" in data else "scenario"


def validate_file(path: str | Path) -> Validated:
    """Load one file of any kind (raises the project's error on an invalid file).

    A scenario variant that changes a value without giving a new `source` gets a warning: the
    inherited source was written for the old value. The sweep, landscape and calibration loaders
    are imported only for a file of their kind (they bring the engine and its libraries).
    """
    path = Path(path)
    kind = file_kind(path)
    if kind == "sweep":
        from blocsim.experiment.sweepfile import load_sweep

        sweep = load_sweep(path)
        return Validated(kind, f"sweep {sweep.spec.name}: {sweep.spec.design}, "
                         f"{len(sweep.spec.axes)} axes on {sweep.base.scenario.name}",
                         list(sweep.warnings))
    if kind == "landscape":
        from blocsim.landscape import load_landscape

        return Validated(kind, f"landscape: {len(load_landscape(path).names)} actors", [])
    if kind == "calibration":
        from blocsim.analysis.calibration import load_calibration

        calibration = load_calibration(path)
        spec = calibration.spec
        return Validated(kind, f"calibration {spec.name}: {len(spec.parameters)} parameters, "
                         f"{len(spec.cases)} cases, {len(calibration.fit_facts)} fit and "
                         f"{len(calibration.test_facts.facts)} pre-registered test facts", [])
    if kind == "test facts":
        from blocsim.analysis.calibration.spec import read_test_facts

        facts = read_test_facts(path).facts
        return Validated(kind, f"pre-registered test facts: {len(facts)} facts "
                         f"({', '.join(fact.id for fact in facts)})",
                         ["its hash and its cases are checked by the calibration file that pins "
                          "it: validate that file too"])
    scenario = load_scenario(path)
    notes = list(scenario.warnings)
    if scenario.posterior_path is not None:
        from blocsim.experiment.posterior import pinned_outside

        notes.extend(pinned_outside(scenario))
    for change in unsourced_changes(path):
        table = change.path.rpartition(".")[0] if "." in change.path else change.path
        inherited = ("the inherited one was written for the old value" if change.new_source
                     else "its table has none")
        notes.append(f"{change.path} changes {change.old!r} -> {change.new!r} without a new "
                     f"source (set {table}.source: {inherited})")
    return Validated(kind, f"{scenario.scenario.name}: {len(scenario.states)} states, "
                     f"{len(scenario.groupings)} groupings", notes)
