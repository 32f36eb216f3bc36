"""Calibration files: the parameters to estimate, the cases, and the record's facts as predicates.

    name = "record"
    seed = 2007
    population = 200            # particles per ABC-SMC generation
    replications = 16           # runs per case for each particle
    max_generations = 10
    min_tolerance = 0.1         # stop once the fit facts hold in 90% of the runs on average
    test_facts = "test_facts.toml"
    test_facts_sha256 = "..."   # the pre-registered test facts: a changed file is refused

    [[parameters]]
    path = "mechanisms.balance_of_threat.weight"
    prior = [4.0, 24.0]          # uniform

    [[cases]]
    name = "history"
    scenario = "../history_2007.toml"
    fit = ["2007Q1", "2016Q4"]   # quarters fit facts may look at
    test = ["2017Q1", "2024Q4"]  # held out

    [[facts]]
    id = "H1"
    case = "history"
    window = "fit"
    statement = "QUAD dormant 2009-2016"
    source = "data/timeline.csv 2008-02-05, 2017-11-12"
    [[facts.conditions]]
    kind = "mean_level"
    grouping = "QUAD"
    from = "2009Q1"
    to = "2016Q4"
    below = 1.0

A fact holds in a replication when all its conditions do. Fit facts may only look at quarters of
their case's fit window (never into the test window); test facts may look back from the end of the
test window (a revival is measured from where the fit window left it). Test facts live in their
own file, whose hash the calibration file pins, and the fitting never reads them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, model_validator

from blocsim.calendar import quarter_offset
from blocsim.errors import InputError, ScenarioError, nearest
from blocsim.scenario.loading import _error_from_pydantic, _provenance, key_path, load, read_toml
from blocsim.scenario.schema import NAME_PATTERN, QUARTER_PATTERN, Scenario, Strict

Quarter = Annotated[str, Field(pattern=QUARTER_PATTERN.pattern)]
Name = Annotated[str, Field(min_length=1, pattern=NAME_PATTERN)]


class CalibrationError(InputError):
    """An invalid calibration or test-facts file."""


class Condition(Strict):
    """One condition on a replication (all of a fact's conditions must hold).

    Kinds and their keys:
        mean_level: grouping, from, to, and `below` and/or `at_least` (mean level over the span).
        level: grouping, at, `below` and/or `at_least`.
        level_rise: grouping, from, to, at_least (level at `to` minus level at `from`).
        consolidated: grouping (or "any"), by, is (whether it consolidated by that quarter).
        exited: grouping, state (or "any"), by, is; optionally from (first exit in [from, by]).
        first_to_exit: grouping, state, by (the first member to leave, by that quarter).
        tie_rising: grouping, from, to (NATO's tie higher at `to` than at `from`).
        linked: grouping, by, is (part of a linked bloc at `by`).
    """

    kind: Literal["mean_level", "level", "level_rise", "consolidated", "exited",
                  "first_to_exit", "tie_rising", "linked"]
    grouping: Annotated[str, Field(min_length=1)]
    state: str | None = None
    from_: Quarter | None = Field(default=None, alias="from")
    to: Quarter | None = None
    at: Quarter | None = None
    by: Quarter | None = None
    below: float | None = None
    at_least: float | None = None
    is_: bool | None = Field(default=None, alias="is")

    @model_validator(mode="after")
    def _keys_of_its_kind(self) -> Condition:
        needs = {"mean_level": ("from_", "to"), "level": ("at",), "level_rise": (
            "from_", "to", "at_least"), "consolidated": ("by", "is_"), "exited": (
            "state", "by", "is_"), "first_to_exit": ("state", "by"), "tie_rising": (
            "from_", "to"), "linked": ("by", "is_")}[self.kind]
        missing = [key.rstrip("_") for key in needs if getattr(self, key) is None]
        if missing:
            raise ValueError(f"a `{self.kind}` condition needs " + ", ".join(
                f"`{m}`" for m in missing))
        if self.kind in ("mean_level", "level") and self.below is None and \
                self.at_least is None:
            raise ValueError(f"a `{self.kind}` condition needs `below` or `at_least`")
        return self

    def quarters(self) -> list[str]:
        """Every quarter the condition looks at."""
        return [q for q in (self.from_, self.to, self.at, self.by) if q is not None]


class Fact(Strict):
    """A fact of the record: a statement, its source, its case and window, its conditions."""

    id: Name
    case: Name
    window: Literal["fit", "test"]
    statement: Annotated[str, Field(min_length=1)]
    source: Annotated[str, Field(min_length=1)]
    conditions: Annotated[list[Condition], Field(min_length=1)]


class Parameter(Strict):
    """A parameter to estimate: a dotted scenario path and a uniform prior `[low, high]`."""

    path: Annotated[str, Field(min_length=1)]
    prior: tuple[float, float]
    note: str = ""

    @model_validator(mode="before")
    @classmethod
    def _prior_as_tuple(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("prior"), list):
            data = {**data, "prior": tuple(data["prior"])}
        return data

    @model_validator(mode="after")
    def _ordered(self) -> Parameter:
        if not self.prior[0] < self.prior[1]:
            raise ValueError("`prior = [low, high]` with low < high")
        return self


class Case(Strict):
    """A historical case: a scenario file and its fit (and test) windows."""

    name: Name
    scenario: Annotated[str, Field(min_length=1)]
    fit: tuple[Quarter, Quarter]
    test: tuple[Quarter, Quarter] | None = None

    @model_validator(mode="before")
    @classmethod
    def _windows_as_tuples(cls, data: object) -> object:
        if isinstance(data, dict):
            data = {k: tuple(v) if k in ("fit", "test") and isinstance(v, list) else v
                    for k, v in data.items()}
        return data


class CalibrationSpec(Strict):
    """A whole calibration file."""

    name: Name
    description: str = ""
    seed: Annotated[int, Field(ge=0)] = 0
    population: Annotated[int, Field(ge=10, le=100_000)] = 200
    replications: Annotated[int, Field(ge=1, le=1_000)] = 16
    max_generations: Annotated[int, Field(ge=1, le=100)] = 10
    min_tolerance: Annotated[float, Field(ge=0.0, le=1.0)] = 0.25
    """Stop once the tolerance (the largest shortfall of a fit fact's share from 1) is below."""
    min_acceptance: Annotated[float, Field(ge=0.0, le=1.0)] = 0.01
    min_tolerance_change: Annotated[float, Field(ge=0.0, le=1.0)] = 0.005
    """Stop once a generation lowers the tolerance by less than this: the posterior has stopped
    moving."""
    kernel_scaling: Annotated[float, Field(gt=0.0, le=10.0)] = 2.0
    """The proposal's width: the scaling of pyabc's multivariate normal transition (1.0 is
    pyabc's own default). Wider keeps the effective sample size up when the posterior is flat
    and the distance noisy over many parameters: at 1.0 the first record calibration ended with
    4 effective particles of 150."""
    predictive_draws: Annotated[int, Field(ge=10, le=100_000)] = 200
    """Posterior draws for the posterior predictive of the facts (and the test report)."""
    predictive_replications: Annotated[int, Field(ge=1, le=1_000)] = 10
    test_facts: Annotated[str, Field(min_length=1)]
    test_facts_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    parameters: Annotated[list[Parameter], Field(min_length=1)]
    cases: Annotated[list[Case], Field(min_length=1)]
    facts: Annotated[list[Fact], Field(min_length=1)]


class Benchmark(Strict):
    """A naive forecaster's probability that a test fact holds, and why."""

    probability: Annotated[float, Field(ge=0.0, le=1.0)]
    reason: Annotated[str, Field(min_length=1)]


class TestFact(Fact):
    """A pre-registered test fact, with the benchmarks the model is scored against."""

    persistence: Benchmark
    base_rate: Benchmark


class TestFacts(Strict):
    """The test-facts file: held out from the fitting, pinned by its hash."""

    description: str = ""
    pass_rule: Annotated[str, Field(min_length=1)]
    facts: Annotated[list[TestFact], Field(min_length=1)]


class Calibration:
    """A validated calibration: its spec, its cases' scenarios, its file and its test facts."""

    def __init__(self, spec: CalibrationSpec, cases: dict[str, Scenario], path: Path,
                 test_facts: TestFacts, test_path: Path) -> None:
        self.spec = spec
        self.cases = cases
        self.path = path
        self.test_facts = test_facts
        self.test_path = test_path

    @property
    def fit_facts(self) -> list[Fact]:
        """The facts the fitting may read."""
        return [f for f in self.spec.facts if f.window == "fit"]

    @property
    def hash(self) -> str:
        """SHA-256 of the spec and the cases' resolved scenarios: a resume must match it."""
        text = json.dumps({"spec": self.spec.model_dump(mode="json", by_alias=True),
                           "cases": {n: s.hash for n, s in self.cases.items()}}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _validated(model: type[Strict], data: dict, path: Path) -> Strict:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(p for p in error["loc"] if p != "[key]")
        if error["type"] == "extra_forbidden":
            raise CalibrationError(path, key_path(loc), "a key of the calibration format "
                                   "(see `blocsim.analysis.calibration.spec`)",
                                   f"the unknown key `{loc[-1]}`") from None
        found = _error_from_pydantic(error, _provenance(data, path), path)
        raise CalibrationError(path, found.key_path, found.expected, found.found,
                               found.suggestion) from None


def load_calibration(path: str | Path) -> Calibration:
    """Load and check a calibration file, its cases and its pinned test facts."""
    path = Path(path).resolve()
    spec = _validated(CalibrationSpec, read_toml(path), path)
    assert isinstance(spec, CalibrationSpec)
    cases: dict[str, Scenario] = {}
    for index, case in enumerate(spec.cases):
        if case.name in cases:
            raise CalibrationError(path, f"cases[{index}].name", "distinct case names",
                                   repr(case.name))
        scenario_path = (path.parent / case.scenario).resolve()
        if not scenario_path.is_file():
            raise CalibrationError(path, f"cases[{index}].scenario", "an existing scenario file "
                                   "(relative to the calibration file)", repr(case.scenario))
        cases[case.name] = load(scenario_path)
    test_path = (path.parent / spec.test_facts).resolve()
    if not test_path.is_file():
        raise CalibrationError(path, "test_facts", "an existing test-facts file",
                               repr(spec.test_facts))
    tests = load_test_facts(test_path, spec.test_facts_sha256, path)
    calibration = Calibration(spec, cases, path, tests, test_path)
    _check(calibration)
    return calibration


def load_test_facts(test_path: str | Path, sha256: str, pinned_by: Path | None = None
                    ) -> TestFacts:
    """Read a pre-registered test-facts file, refusing it unless its SHA-256 is `sha256`.

    Raises:
        CalibrationError: naming `pinned_by` (the calibration file, else the test file itself)
            if the hash differs, or the test file if it is not valid.

    """
    test_path = Path(test_path)
    digest = file_sha256(test_path)
    if digest != sha256:
        raise CalibrationError(pinned_by or test_path, "test_facts_sha256", f"the hash of "
                               f"{test_path.name} as pre-registered (the test facts must not "
                               "change after the calibration is run)",
                               f"{digest} for the file on disk")
    return read_test_facts(test_path)


def read_test_facts(test_path: str | Path) -> TestFacts:
    """Read a test-facts file on its own.

    Its format only: the calibration that pins it checks its hash and its cases.
    """
    test_path = Path(test_path)
    tests = _validated(TestFacts, read_toml(test_path), test_path)
    assert isinstance(tests, TestFacts)
    return tests


def _check(calibration: Calibration) -> None:
    """Cross-references: cases, groupings, states, windows; parameters valid in every case."""
    spec, path = calibration.spec, calibration.path
    windows = {c.name: c for c in spec.cases}
    seen: set[str] = set()
    for where, facts, source in (("facts", spec.facts, path),
                                 ("facts", calibration.test_facts.facts, calibration.test_path)):
        for index, fact in enumerate(facts):
            here = f"{where}[{index}]"
            if fact.id in seen:
                raise CalibrationError(source, f"{here}.id", "distinct fact ids", repr(fact.id))
            seen.add(fact.id)
            if fact.case not in windows:
                raise CalibrationError(source, f"{here}.case", "a case of the calibration",
                                       repr(fact.case), nearest(fact.case, windows))
            expected = "fit" if source == path else "test"
            if fact.window != expected:
                raise CalibrationError(source, f"{here}.window", f"`{expected}` (fit facts in the "
                                       "calibration file, test facts in the pinned file)",
                                       repr(fact.window))
            case = windows[fact.case]
            span = case.fit if expected == "fit" else case.test
            if span is None:
                raise CalibrationError(source, f"{here}.case", f"a case with a `{expected}` "
                                       "window", repr(fact.case))
            scenario = calibration.cases[fact.case]
            if expected == "test":
                span = (scenario.scenario.start, span[1])
            for c_index, condition in enumerate(fact.conditions):
                _check_condition(condition, scenario, span, source,
                                 f"{here}.conditions[{c_index}]")
    for index, parameter in enumerate(spec.parameters):
        for name, scenario in calibration.cases.items():
            for value in parameter.prior:
                try:
                    scenario.with_values({parameter.path: value})
                except ScenarioError as error:
                    raise CalibrationError(path, f"parameters[{index}]", f"a path and prior "
                                           f"valid in case `{name}` ({error.expected})",
                                           f"{parameter.path} = {value!r}") from None


def _check_condition(condition: Condition, scenario: Scenario, span: tuple[str, str],
                     path: Path, where: str) -> None:
    if condition.grouping != "any" and condition.grouping not in scenario.groupings:
        raise CalibrationError(path, f"{where}.grouping", "a grouping of the case's scenario",
                               repr(condition.grouping),
                               nearest(condition.grouping, scenario.groupings))
    if condition.state not in (None, "any") and condition.state not in scenario.states:
        raise CalibrationError(path, f"{where}.state", "a state of the case's scenario",
                               repr(condition.state), nearest(condition.state, scenario.states))
    start, steps = scenario.scenario.start, scenario.scenario.steps
    for quarter in condition.quarters():
        if not quarter_offset(span[0], quarter) >= 0 or quarter_offset(quarter, span[1]) < 0:
            raise CalibrationError(path, where, f"quarters within the window {span[0]}-"
                                   f"{span[1]}", repr(quarter))
        if not 0 <= quarter_offset(start, quarter) < steps:
            raise CalibrationError(path, where, f"quarters within the case's run ({start} "
                                   f"plus {steps - 1} quarters)", repr(quarter))
