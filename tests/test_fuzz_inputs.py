"""Property-based fuzzing of the three input formats (issue 14): any document, however mangled,
either loads or raises the project's own error (`BlocsimError`, which the command line prints as a
message), never anything else.

Documents are generated around valid ones: one to four mutations each, replacing a value with a
hostile one (wrong type, huge or negative number, NaN, odd or unicode or control-character text,
dates, empty or deeply nested containers), deleting a key or adding one (including `extends` to
a device, a missing file or the file itself). They are written as real TOML files and loaded
through the same functions the command line calls.

The `slow` variants explore more (BLOCSIM_FUZZ_EXAMPLES examples each, 250 by default; set it to
thousands for a long hunt).
"""

from __future__ import annotations

import copy
import datetime
import os
import tempfile
import tomllib
from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blocsim.errors import BlocsimError
from blocsim.experiment.sweepfile import load_sweep
from blocsim.landscape.input import load_landscape
from blocsim.scenario.loading import load
from tests.conftest import TINY

SCENARIO = tomllib.loads(TINY)
SCENARIO["shocks"] = [{"name": "clash", "at": "2025Q3", "pressure": "china_coercion",
                       "magnitude": 0.2, "targets": ["IND"]}]
SCENARIO["pressures"]["us_engagement"] = {"points": [["2025Q1", 0.5], [4, 0.7]]}
SCENARIO["dynamics"] = {"noise": 0.05, "broad_support": 0.3}
SCENARIO["mechanisms"] = {"hedging": {"enabled": False, "weight": 1.0}}
SWEEP = {"name": "fuzz", "base": "base.toml", "design": "grid", "replications": 4, "seed": 1,
         "axes": [{"path": "states.IND.autonomy", "values": [0.5, 0.9]},
                  {"path": "pressures.china_assertiveness.end", "range": [0.2, 0.8],
                   "steps": 3}]}
LANDSCAPE = {"name": "fuzz", "actors": {"A": {"size": 1.0}, "B": {"size": 2.0, "name": "Bee"},
                                        "C": {"size": 0.5, "source": "x"}},
             "propensities": [{"between": ["A", "B"], "value": 1.0},
                              {"between": ["B", "C"], "value": -0.5, "source": "y"}]}

ODD_STRINGS = ["", " ", "USA", "usa", "2025Q1", "2025Q5", "0Q1", "99999Q4", "all", "grid",
               "sobol", "\x1b[31m", "\x00", "\r\n", "<script>alert(1)</script>", "../../x",
               "/dev/zero", "\u202e", "𝔘𝔖𝔄", "名前", "a" * 300, "states.IND.autonomy",
               "pressures.nope.end", "scenario.seed", "NaN"]
scalars = st.one_of(
    st.integers(min_value=-2**63, max_value=2**63 - 1),
    st.sampled_from([0, 1, -1, 2, 3, 10**6, 2**63 - 1, -2**63]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1.0, 0.5, 1e308, -1e308, 5e-324, float("inf"), float("nan")]),
    st.booleans(),
    st.text(max_size=20),
    st.sampled_from(ODD_STRINGS),
    st.dates(),
    st.datetimes(),
    st.times(),
)
keys = st.one_of(st.text(min_size=1, max_size=12), st.sampled_from(
    ["name", "size", "value", "members", "targets", "extends", "QUAD", "IND", "source", "axes",
     "path", "values", "range", "steps", "samples", "between", "points", "at", "start", "end",
     "\x1b[2J", "<b>", "a.b"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)), max_leaves=12)


@st.composite
def deep(draw) -> object:
    """A value nested far deeper than any input format uses."""
    depth = draw(st.integers(min_value=10, max_value=40))
    value: object = draw(scalars)
    for _ in range(depth):
        value = [value] if draw(st.booleans()) else {draw(keys): value}
    return value


hostile = st.one_of(values, deep(), st.sampled_from([[], {}, [[]], [{}]]))


def locations(node: object, here: tuple = ()) -> list[tuple]:
    """Every path to a node of a document (the root included), down to 12 levels."""
    found = [here]
    if len(here) >= 12:
        return found
    if isinstance(node, dict):
        for key, value in node.items():
            found += locations(value, (*here, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += locations(value, (*here, index))
    return found


def get(node: object, path: tuple) -> object:
    for part in path:
        node = node[part]  # type: ignore[index]
    return node


@st.composite
def mutated(draw, base: dict) -> dict:
    """`base` with one to four random replacements, deletions or additions."""
    document = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        path = draw(st.sampled_from(locations(document)))
        action = draw(st.sampled_from(["replace", "delete", "add", "add"]))
        if not path:
            action = "add"
        if action == "add":
            target = get(document, path)
            if isinstance(target, dict):
                target[draw(keys)] = copy.deepcopy(draw(hostile))
            elif isinstance(target, list):
                target.append(copy.deepcopy(draw(hostile)))
            else:
                action = "replace"
        if not path:
            continue
        parent, last = get(document, path[:-1]), path[-1]
        if action == "replace":
            parent[last] = copy.deepcopy(draw(hostile))
        elif action == "delete":
            del parent[last]
    if not isinstance(document, dict):
        document = {"root": document}
    return document


def loads_or_refuses(loader, document: dict, name: str, base: dict | None = None) -> None:
    """Write `document` as TOML and load it: success or a BlocsimError, nothing else."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(tomli_w.dumps(document), encoding="utf-8")
        if base is not None:
            (Path(folder) / "base.toml").write_text(tomli_w.dumps(base), encoding="utf-8")
        try:
            loader(path)
        except BlocsimError as error:
            assert str(error)


FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
THOROUGH = settings(max_examples=int(os.environ.get("BLOCSIM_FUZZ_EXAMPLES", "250")),
                    deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def with_extends(document: dict, target: str) -> dict:
    return {**document, "extends": target}


@FAST
@given(mutated(SCENARIO))
def test_any_mangled_scenario_loads_or_raises_a_blocsim_error(document):
    loads_or_refuses(load, document, "scenario.toml")


@FAST
@given(mutated(SWEEP), mutated(SCENARIO) | st.just(SCENARIO))
def test_any_mangled_sweep_loads_or_raises_a_blocsim_error(document, base):
    loads_or_refuses(load_sweep, document, "sweep.toml", base)


@FAST
@given(mutated(LANDSCAPE))
def test_any_mangled_landscape_loads_or_raises_a_blocsim_error(document):
    loads_or_refuses(load_landscape, document, "landscape.toml")


@FAST
@given(st.sampled_from(["/dev/zero", "missing.toml", "scenario.toml", ".", "/", "\x00",
                        "base.toml"]), mutated(SCENARIO))
def test_any_extends_target_loads_or_raises_a_blocsim_error(target, base):
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "base.toml").write_text(tomli_w.dumps(base), encoding="utf-8")
        path = Path(folder) / "scenario.toml"
        path.write_text(tomli_w.dumps(with_extends({"scenario": {"steps": 5}}, target)))
        try:
            load(path)
        except BlocsimError:
            pass


def test_the_unmutated_documents_load():
    loads_or_refuses(load, SCENARIO, "scenario.toml")
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "base.toml").write_text(tomli_w.dumps(SCENARIO))
        (Path(folder) / "sweep.toml").write_text(tomli_w.dumps(SWEEP))
        assert load_sweep(Path(folder) / "sweep.toml").spec.point_count == 6
        (Path(folder) / "l.toml").write_text(tomli_w.dumps(LANDSCAPE))
        assert len(load_landscape(Path(folder) / "l.toml").names) == 3


def test_the_mutations_reach_every_kind_of_hostile_value():
    """The generator explores: deep nesting, control characters, dates and huge numbers occur."""
    seen = {"deep": False, "control": False, "date": False, "huge": False}

    @settings(max_examples=300, deadline=None, database=None)
    @given(mutated(SCENARIO))
    def look(document):
        text = tomli_w.dumps(document)
        seen["deep"] |= "[[[[[[[[[[" in text.replace(" ", "").replace("\n", "") or \
            text.count("{") > 10
        seen["control"] |= "\\u001b" in text or "\\u0000" in text
        seen["date"] |= any(isinstance(v, datetime.date | datetime.time)
                            for v in map(lambda p: get(document, p), locations(document)))
        seen["huge"] |= "9223372036854775807" in text or "1e+308" in text or "inf" in text

    look()
    assert all(seen.values()), seen


@pytest.mark.slow
@THOROUGH
@given(mutated(SCENARIO))
def test_thousands_of_mangled_scenarios_load_or_raise_a_blocsim_error(document):
    loads_or_refuses(load, document, "scenario.toml")


@pytest.mark.slow
@THOROUGH
@given(mutated(SWEEP), mutated(SCENARIO) | st.just(SCENARIO))
def test_thousands_of_mangled_sweeps_load_or_raise_a_blocsim_error(document, base):
    loads_or_refuses(load_sweep, document, "sweep.toml", base)


@pytest.mark.slow
@THOROUGH
@given(mutated(LANDSCAPE))
def test_thousands_of_mangled_landscapes_load_or_raise_a_blocsim_error(document):
    loads_or_refuses(load_landscape, document, "landscape.toml")
