"""Sweep files: a base scenario, the axes to vary, the design and the replications per point.

    base = "../baseline.toml"          # relative to the sweep file
    design = "grid"                    # grid | lhs | sobol | morris
    samples = 64                       # lhs: points; sobol: N (N*(D+2)); morris: trajectories
    replications = 50                  # per design point
    seed = 7

    [[axes]]
    path = "pressures.china_assertiveness.end"
    range = [0.3, 1.0]
    steps = 8                          # grid only

    [[axes]]
    path = "states.IND.autonomy"
    values = [0.6, 0.75, 0.9]

Every path must exist in the base scenario and every value must be valid there: errors name the
sweep file, the key path (`axes[1].range`) and what the scenario would accept.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, model_validator

from blocsim.errors import InputError, ScenarioError, nearest
from blocsim.experiment.posterior import Posterior, file_sha256
from blocsim.experiment.tables import TABLES
from blocsim.limits import MAX_REPLICATIONS
from blocsim.scenario.keys import KeyPath, Text
from blocsim.scenario.loading import (
    _error_from_pydantic,
    _provenance,
    is_existing_file,
    key_path,
    load,
    read_toml,
    resolved,
)
from blocsim.scenario.sanity import axis_warnings
from blocsim.scenario.schema import NAME_PATTERN, Scenario, Strict
from blocsim.scenario.sources import NOT_VALUES
from blocsim.vocabulary import PRESSURE_NAMES

MAX_POINTS = 1_000_000
"""Most design points a sweep file may ask for (grid product, lhs samples, Saltelli or Morris
points)."""
MAX_AXES = 100
"""Most axes a sweep file may vary."""
MAX_RUNS = 100_000_000
"""Most runs (points x replications) a sweep file may ask for."""


class SweepError(InputError):
    """An invalid sweep file."""


class Axis(Strict):
    """One varied parameter: a dotted path into the scenario and its values or range."""

    path: KeyPath
    values: Annotated[list[float | int | bool], Field(max_length=MAX_POINTS)] | None = None
    range: tuple[float, float] | None = None
    steps: Annotated[int, Field(ge=2, le=10_000)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _range_as_tuple(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("range"), list):
            data = {**data, "range": tuple(data["range"])}
        return data

    @model_validator(mode="after")
    def _values_or_range(self) -> Axis:
        if (self.values is None) == (self.range is None):
            raise ValueError("exactly one of `values` or `range`")
        if self.values is not None and not self.values:
            raise ValueError("`values` needs at least one value")
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError("`range = [low, high]` with low < high")
        return self


class SweepSpec(Strict):
    """A whole sweep file."""

    name: Annotated[str, Field(min_length=1, max_length=64, pattern=NAME_PATTERN)]
    description: Text = ""
    base: Annotated[Text, Field(min_length=1, max_length=4096)]
    design: Literal["grid", "lhs", "sobol", "morris"] = "grid"
    samples: Annotated[int, Field(ge=1, le=MAX_POINTS)] | None = None
    """lhs: the number of points; sobol: N (N x (axes + 2) points); morris: trajectories
    (trajectories x (axes + 1) points)."""
    replications: Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)] = 20
    seed: Annotated[int, Field(ge=0)] = 0
    common_random_numbers: bool = False
    """Whether replication r of every point meets the same noise (stream key 0 for all points):
    differences between points are then paired. Off by default: points are independent."""
    point: bool = False
    """Run every design point at the base scenario's own values instead of drawing the
    parameters from the calibrated posterior it names (as `blocsim run --point`)."""
    tables: Annotated[list[Literal[TABLES]],  # type: ignore[valid-type]
                      Field(min_length=1)] = list(TABLES)
    """Which run tables to keep (`outcomes` is always needed for summaries and analyses); large
    sweeps can keep `["outcomes", "levels"]` and skip the per-quarter commitments."""
    axes: Annotated[list[Axis], Field(min_length=1, max_length=MAX_AXES)]

    @model_validator(mode="after")
    def _design_needs(self) -> SweepSpec:
        paths = [axis.path for axis in self.axes]
        for index, path in enumerate(paths):
            if path in paths[:index]:
                raise ValueError(f"each axis path once: `{path}` appears again at axes[{index}]")
        if "outcomes" not in self.tables:
            raise ValueError("`tables` must keep `outcomes` (summaries and analyses read it)")
        if self.design == "grid":
            for axis in self.axes:
                if axis.range is not None and axis.steps is None:
                    raise ValueError(f"grid axis `{axis.path}` with a `range` needs `steps`")
        elif self.samples is None:
            raise ValueError(f"design `{self.design}` needs `samples`")
        elif any(axis.range is None for axis in self.axes):
            raise ValueError(f"design `{self.design}` samples ranges: give every axis a `range`")
        points = self.point_count
        if points > MAX_POINTS:
            raise ValueError(f"a design of at most {MAX_POINTS:,} points; this one has "
                             f"{points:,}")
        if points * self.replications > MAX_RUNS:
            raise ValueError(f"at most {MAX_RUNS:,} runs (points x replications); this sweep "
                             f"asks for {points:,} x {self.replications:,} = "
                             f"{points * self.replications:,}")
        return self

    @property
    def point_count(self) -> int:
        """How many design points the design visits (computed without building them)."""
        if self.design == "grid":
            return math.prod(len(axis.values) if axis.values is not None else axis.steps or 1
                             for axis in self.axes)
        samples = self.samples or 0
        if self.design == "lhs":
            return samples
        return samples * (len(self.axes) + (2 if self.design == "sobol" else 1))


class Sweep:
    """A validated sweep: its spec, the base scenario, and the file it came from."""

    def __init__(self, spec: SweepSpec, base: Scenario, path: Path) -> None:
        self.spec = spec
        self.base = base
        self.path = path

    @property
    def warnings(self) -> list[str]:
        """The base scenario's warnings, then axes that cannot act (`scenario.seed`, ...)."""
        return [*self.base.warnings, *axis_warnings(self.base, [a.path for a in self.spec.axes])]

    @property
    def hash(self) -> str:
        """SHA-256 of the spec, the resolved base and the posterior's bytes: a resume matches it.

        The values the base pins (`Scenario.pinned`) count too, where there are any: a sweep
        started before a base's own values were kept drew them, and must not be resumed as if
        it had not.
        """
        drawn = self.base.posterior_path if not self.spec.point else None
        posterior = file_sha256(drawn) if drawn else None
        pinned = self.base.pinned(Posterior.read(drawn).paths) if drawn else []
        text = json.dumps({"sweep": self.spec.model_dump(mode="json"), "base": self.base.hash,
                           **({"posterior": posterior} if posterior else {}),
                           **({"pinned": pinned} if pinned else {})}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def _fail(path: Path, key: str, expected: str, found: str | None = None,
          suggestion: str | None = None) -> SweepError:
    return SweepError(path, key, expected, found, suggestion)


def load_sweep(path: str | Path) -> Sweep:
    """Load and validate a sweep file and its base scenario; raise SweepError or ScenarioError."""
    path = resolved(Path(path), Path(path), "")
    data = read_toml(path)
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        error = _sweep_error_from_pydantic(exc.errors()[0], data, path)
        raise error from None
    base_path = resolved(path.parent / spec.base, path, "base")
    if not is_existing_file(base_path):
        raise _fail(path, "base", "an existing scenario file (relative to the sweep file)",
                    repr(spec.base))
    base = load(base_path)
    for index, axis in enumerate(spec.axes):
        check_axis(base, axis, path, index)
    return Sweep(spec, base, path)


def _sweep_error_from_pydantic(error: dict, data: dict, path: Path) -> SweepError:
    loc = tuple(p for p in error["loc"] if p != "[key]")
    if error["type"] == "extra_forbidden":
        allowed = sorted(Axis.model_fields if loc[:1] == ("axes",) else SweepSpec.model_fields)
        return _fail(path, key_path(loc), "one of the keys " + ", ".join(allowed),
                     f"the unknown key `{loc[-1]}`", nearest(str(loc[-1]), allowed))
    found = _error_from_pydantic(error, _provenance(data, path), path)
    return _fail(path, found.key_path, found.expected, found.found, found.suggestion)


def check_axis(base: Scenario, axis: Axis, path: Path, index: int) -> None:
    """Check that an axis path exists in the base scenario and its extreme values are valid."""
    where = f"axes[{index}]"
    parts = axis.path.split(".")
    problem = path_problem(base, parts)
    if problem is not None:
        expected, found, options = problem
        raise _fail(path, f"{where}.path", expected, found,
                    nearest(found.strip("`"), options) if options else None)
    probes = axis.values if axis.values is not None else list(axis.range or ())
    key = "values" if axis.values is not None else "range"
    for value in probes:
        try:
            base.with_values({axis.path: value})
        except ScenarioError as error:
            raise _fail(path, f"{where}.{key}", f"values that `{axis.path}` accepts "
                        f"({error.expected})", repr(value)) from None


def path_problem(base: Scenario, parts: list[str]) -> tuple[str, str, list[str]] | None:
    """Why a dotted path does not name a parameter of the scenario, or None if it does.

    Returns (what was expected, what was found, the valid names at that level).
    """
    node: object = base
    for depth, part in enumerate(parts):
        if depth == 1 and parts[0] == "pressures":
            return _pressure_path_problem(parts[1:])
        here = ".".join(parts[:depth]) or "the scenario"
        if isinstance(node, dict):
            if part not in node:
                return (f"a key of {here}", f"`{part}`", list(node))
            node = node[part]
            continue
        fields = getattr(type(node), "model_fields", {})
        if part not in fields:
            return (f"a parameter of {here}", f"`{part}`", list(fields))
        node = getattr(node, part)
    if isinstance(node, dict | list) or hasattr(type(node), "model_fields"):
        return ("a path to a single value", f"`{'.'.join(parts)}` (a table)", [])
    if parts[-1] in NOT_VALUES:
        return ("a parameter (a number or a switch)",
                f"`{'.'.join(parts)}`, which describes its table", [])
    return None


def _pressure_path_problem(parts: list[str]) -> tuple[str, str, list[str]] | None:
    if not parts or parts[0] not in PRESSURE_NAMES:
        found = parts[0] if parts else ""
        return ("a pressure name", f"`{found}`", list(PRESSURE_NAMES))
    if len(parts) != 2 or parts[1] not in ("value", "start", "end"):
        found = ".".join(parts[1:])
        return ("`value`, `start` or `end` of a pressure", f"`{found}`", ["value", "start", "end"])
    return None
