"""Read scenario files: TOML, `extends` inheritance with deep override, validation.

A file that says `extends = "baseline.toml"` (relative to itself) inherits everything the other
file resolves to; its own tables override key by key, and its `[[shocks]]` are added to the
inherited ones. Every error names the file the offending key came from.
"""

from __future__ import annotations

import copy
import re
import stat
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from blocsim.calendar import step_of
from blocsim.errors import ScenarioError, nearest, short_repr
from blocsim.scenario import keys
from blocsim.scenario.schema import (
    MAX_SCENARIO_NAME,
    NAME_PATTERN,
    QUARTER_PATTERN,
    Scenario,
    State,
)

Provenance = dict[tuple[str | int, ...], Path]
PATTERN_MEANINGS = {
    QUARTER_PATTERN.pattern: "a quarter such as \"2025Q1\"",
    NAME_PATTERN: "a name of letters, digits, `_`, `.` or `-`, starting with a letter or digit",
    **keys.PATTERN_MEANINGS,
}
APPENDED_LISTS = frozenset({"shocks"})


MAX_FILE_BYTES = 4 * 2**20
"""Largest input file read (4 MiB; the shipped baseline is about 20 KiB)."""
MAX_DEPTH = 16
"""Deepest nesting of tables and arrays in an input file (scenario files need 5)."""
MAX_EXTENDS = 32
"""Longest chain of `extends` (each file extending the next)."""


def read_toml(path: Path) -> dict[str, Any]:
    """Parse one TOML file, turning every way it can fail into a ScenarioError naming the file.

    Only a regular file of at most MAX_FILE_BYTES is read (never a device such as /dev/zero, a
    pipe or a folder), and its nesting must stay within MAX_DEPTH.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ScenarioError(path, "", "an existing file", "no such file") from None
    except OSError as exc:
        raise ScenarioError(path, "", "a readable file", exc.strerror or type(exc).__name__
                            ) from None
    except ValueError:
        raise ScenarioError(path, "", "a file name without NUL characters",
                            short_repr(str(path))) from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a device, pipe or socket"
        raise ScenarioError(path, "", "a TOML file", kind)
    if info.st_size > MAX_FILE_BYTES:
        raise ScenarioError(path, "", f"a file of at most {MAX_FILE_BYTES // 2**20} MiB",
                            f"{info.st_size:,} bytes")
    try:
        with path.open("rb") as stream:
            text = stream.read(MAX_FILE_BYTES + 1).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(path, "", "a UTF-8 TOML file", type(exc).__name__) from None
    except OSError as exc:
        raise ScenarioError(path, "", "a readable file", exc.strerror or type(exc).__name__
                            ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(path, "", "valid TOML", f"a syntax error ({exc})") from None
    except RecursionError:
        raise ScenarioError(path, "", f"at most {MAX_DEPTH} levels of nested tables and arrays",
                            "far deeper nesting") from None
    check_depth(data, path)
    return data


def resolved(path: Path, source: Path, key: str) -> Path:
    """`path` made absolute with symbolic links followed, or a ScenarioError naming `source`."""
    try:
        return Path(path).resolve()
    except (OSError, ValueError, RuntimeError) as exc:
        raise ScenarioError(source, key, "a usable file name", f"{short_repr(str(path))} "
                            f"({type(exc).__name__})") from None


def is_existing_file(path: Path) -> bool:
    """Whether `path` names an existing file (False for a name no file can have)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def check_depth(data: Any, path: Path, limit: int = MAX_DEPTH) -> None:
    """Refuse content nested deeper than `limit` tables or arrays (walked without recursion)."""
    stack: list[tuple[Any, tuple]] = [(data, ())]
    while stack:
        node, loc = stack.pop()
        if len(loc) > limit:
            raise ScenarioError(path, key_path(loc[:limit]), f"at most {limit} levels of nested "
                                f"tables and arrays", "deeper nesting")
        if isinstance(node, dict):
            stack.extend((value, (*loc, key)) for key, value in node.items())
        elif isinstance(node, list):
            stack.extend((value, (*loc, index)) for index, value in enumerate(node))


def resolve_extends(path: Path) -> tuple[dict, Provenance]:
    """Return the merged content of `path` and its `extends` ancestors, and each key's file.

    The chain is followed without recursion and at most MAX_EXTENDS files deep; a cycle is named.
    """
    chain: list[tuple[Path, dict]] = []
    current = resolved(path, path, "")
    while True:
        seen = [file for file, _ in chain]
        if current in seen:
            cycle = " -> ".join(p.name for p in (*seen, current))
            raise ScenarioError(seen[-1], "extends", "a chain of files without a cycle",
                                f"the cycle {cycle}")
        if len(chain) >= MAX_EXTENDS:
            raise ScenarioError(seen[-1], "extends", f"a chain of at most {MAX_EXTENDS} files "
                                f"(each extending the next)", f"a longer chain from {path.name}")
        own = read_toml(current)
        parent_name = own.pop("extends", None)
        chain.append((current, own))
        if parent_name is None:
            break
        if not isinstance(parent_name, str):
            raise ScenarioError(current, "extends", "a file name (string)",
                                short_repr(parent_name))
        parent_path = resolved(current.parent / parent_name, current, "extends")
        if not is_existing_file(parent_path):
            raise ScenarioError(current, "extends", "an existing scenario file",
                                f"{parent_name!r} (no such file next to {current.name})")
        current = parent_path
    root, merged = chain[-1]
    provenance = _provenance(merged, root)
    for file, own in reversed(chain[:-1]):
        _merge_into(merged, own, (), file, provenance)
    return merged, provenance


def _name_after_the_file(path: Path, data: dict, provenance: Provenance) -> str | None:
    """Name a file that inherits its scenario's name after itself (its stem); return the old name.

    Inheriting the base's name, a variant would be titled as the base and run into the base's
    default results folder (`results/baseline`), whose refusal suggests `--overwrite`. A stem that
    is not a valid name (too long, spaces) keeps the inherited one.
    """
    section = data.get("scenario")
    setter = provenance.get(("scenario", "name"))
    if not isinstance(section, dict) or setter is None or setter == path:
        return None
    stem = path.stem
    if len(stem) > MAX_SCENARIO_NAME or not re.fullmatch(NAME_PATTERN, stem):
        return None
    inherited = section.get("name")
    data["scenario"] = {**section, "name": stem}
    provenance[("scenario", "name")] = path
    return inherited if isinstance(inherited, str) else None


def _provenance(data: Any, path: Path, prefix: tuple = ()) -> Provenance:
    found: Provenance = {prefix: path}
    if isinstance(data, dict):
        for key, value in data.items():
            found.update(_provenance(value, path, (*prefix, key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found.update(_provenance(value, path, (*prefix, index)))
    return found


SCHEDULE_FORMS = ({"value"}, {"start", "end"}, {"points"})


def _drop_replaced_schedule_form(base: dict, override: dict) -> None:
    """A pressure schedule has one form: the override's form replaces the inherited one."""
    for form in SCHEDULE_FORMS:
        if form & override.keys():
            for other in SCHEDULE_FORMS:
                if other is not form:
                    for key in other:
                        base.pop(key, None)


def _merge_into(base: dict, override: dict, prefix: tuple, path: Path,
                provenance: Provenance) -> None:
    if len(prefix) == 2 and prefix[0] == "pressures":
        _drop_replaced_schedule_form(base, override)
    for key, value in override.items():
        here = (*prefix, key)
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge_into(base[key], value, here, path, provenance)
            provenance[here] = path
        elif key in APPENDED_LISTS and not prefix and isinstance(base.get(key), list):
            offset = len(base[key])
            base[key] = base[key] + value
            for index, item in enumerate(value):
                provenance.update(_provenance(item, path, (*here, offset + index)))
        else:
            base[key] = value
            provenance.update(_provenance(value, path, here))


def key_path(loc: tuple) -> str:
    """Format a location tuple as `states.IND.autonomy` / `shocks[2].at`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _origin(loc: tuple, provenance: Provenance, fallback: Path) -> Path:
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in provenance:
            return provenance[loc[:cut]]
    return fallback


def model_at(loc: tuple, root: type[BaseModel] = Scenario) -> type[BaseModel] | None:
    """Return the pydantic model whose fields are valid at `loc` under `root` (to suggest a key)."""
    annotation: Any = root
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if part not in annotation.model_fields:
                return None
            annotation = annotation.model_fields[part].annotation
        elif typing.get_origin(annotation) in (dict, list):
            annotation = typing.get_args(annotation)[-1]
        else:
            return None
    annotation = _unwrap(annotation)
    is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
    return annotation if is_model else None


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        models = [a for a in typing.get_args(annotation)
                  if isinstance(a, type) and issubclass(a, BaseModel)]
        return models[0] if models else annotation
    return annotation


PYDANTIC_TAGS = ("constrained-", "function-", "literal[", "list[", "tuple[", "union[", "dict[")


def _is_key(part: str | int) -> bool:
    """Whether a pydantic location part is a key of the file (not a union member's tag)."""
    if isinstance(part, int):
        return True
    return part != "[key]" and part not in ("int", "str", "float", "bool") and not \
        part.startswith(PYDANTIC_TAGS)


def _error_from_pydantic(error: dict, provenance: Provenance, fallback: Path) -> ScenarioError:
    loc = tuple(p for p in error["loc"] if _is_key(p))
    kind = error["type"]
    if kind.startswith("function-after") or kind == "value_error":
        kind = "value_error"
    file = _origin(loc, provenance, fallback)
    if kind == "extra_forbidden":
        model = model_at(loc[:-1])
        allowed = sorted(model.model_fields) if model else []
        return ScenarioError(file, key_path(loc), "one of the keys " + ", ".join(allowed),
                             f"the unknown key `{loc[-1]}`", nearest(str(loc[-1]), allowed))
    if kind == "missing":
        return ScenarioError(file, key_path(loc), "this required key", "nothing")
    if kind in ("too_long", "string_too_long"):
        found = error.get("input")
        size = len(found) if isinstance(found, str | list | dict) else None
        unit = "characters" if kind == "string_too_long" else "entries"
        return ScenarioError(file, key_path(loc), f"at most {error['ctx']['max_length']:,} {unit}",
                             f"{size:,}" if size is not None else None)
    expected = error["msg"]
    for prefix in ("Input should be ", "Value error, ", "String should "):
        if expected.startswith(prefix):
            expected = expected[len(prefix):]
    if error["msg"].startswith("String should match pattern"):
        expected = PATTERN_MEANINGS.get(error["ctx"]["pattern"],
                                        f"a string matching {error['ctx']['pattern']}")
    suggestion = None
    if kind == "literal_error" and isinstance(error.get("input"), str):
        options = [o.strip(" '") for o in error["ctx"]["expected"].replace(" or ", ",").split(",")]
        suggestion = nearest(error["input"], options)
    found = short_repr(error.get("input")) if loc else None
    return ScenarioError(file, key_path(loc), expected, found, suggestion)


def _misspellings_as_one(errors: list[dict]) -> list[dict]:
    """Unknown keys first; a required key missing beside its misspelling is the same mistake.

    A misspelt `autonmy` is both an unknown key and a missing `autonomy`: the unknown key says
    which (with its did-you-mean), and the missing one is not counted again.
    """
    unknown = [e for e in errors if e["type"] == "extra_forbidden"]

    def misspelt(error: dict) -> bool:
        parent, key = tuple(error["loc"][:-1]), str(error["loc"][-1])
        return any(tuple(u["loc"][:-1]) == parent and nearest(str(u["loc"][-1]), [key]) == key
                   for u in unknown)

    return unknown + [e for e in errors if e["type"] != "extra_forbidden"
                      and not (e["type"] == "missing" and misspelt(e))]


def _unknown_state(error: dict, data: dict, provenance: Provenance, path: Path
                   ) -> ScenarioError | None:
    """A state table missing its required keys, read as what it most likely is: a misspelt code.

    `[states.JAP] autonomy = 0.5` in a variant makes a new state JAP with only an autonomy (not
    Japan's), and pydantic reports its missing name; the error names the scenario's states and the
    nearest one instead.
    """
    loc = tuple(p for p in error["loc"] if _is_key(p))
    if error["type"] != "missing" or len(loc) != 3 or loc[0] != "states":
        return None
    states = data.get("states", {})
    code = str(loc[1])
    known = sorted(c for c, table in states.items() if isinstance(table, dict) and "name" in table)
    if code in known or not isinstance(states.get(code), dict):
        return None
    required = [key for key, field in State.model_fields.items() if field.is_required()]
    if sum(key not in states[code] for key in required) * 2 <= len(required):
        return None  # most keys given: a new state short of a few, which pydantic names
    given = ", ".join(sorted(states[code])) or "nothing"
    return ScenarioError(_origin(("states", code), provenance, path), f"states.{code}",
                         f"one of the scenario's states ({', '.join(known)}), or a new state "
                         f"with all its keys", f"a state `{code}` that sets only {given}",
                         nearest(code, known))


def validate(data: dict, provenance: Provenance, path: Path,
             posterior_base: Path | None = None) -> Scenario:
    """Validate merged content into a Scenario, then check cross-references between tables.

    A relative `scenario.posterior` resolves against the file that names it, or against
    `posterior_base` (the folder it was resolved in before) when a variant is re-validated.
    """
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        errors = _misspellings_as_one(exc.errors())
        unknown = _unknown_state(errors[0], data, provenance, path)
        first = unknown or _error_from_pydantic(errors[0], provenance, path)
        places = {key_path(tuple(p for p in e["loc"] if _is_key(p))) for e in errors}
        if unknown is not None:  # a misspelt state: its missing keys are one problem
            places = {p for p in places if not p.startswith(f"{unknown.key_path}.")}
            places.add(unknown.key_path)
        if len(places) > 1:
            first.args = (f"{first.args[0]}\n  ... and {len(places) - 1} more problem(s) "
                          f"(fix this one to see the next)",)
        raise first from None
    _check_references(scenario, provenance, path)
    scenario._raw = data
    scenario._path = path
    scenario._vary = with_values
    scenario._set_in = provenance
    origin = provenance.get(("scenario", "posterior"), path)
    scenario._posterior_base = posterior_base or (origin if origin.suffix == ".toml"
                                                  else path).parent
    posterior = scenario.posterior_path
    if posterior is not None and not posterior.is_file():
        raise ScenarioError(_origin(("scenario", "posterior"), provenance, path),
                            "scenario.posterior", "an existing posterior file (posterior.parquet "
                            "written by `blocsim calibrate`), relative to the file naming it",
                            repr(scenario.scenario.posterior))
    return scenario


def _check_references(scenario: Scenario, provenance: Provenance, path: Path) -> None:
    codes = list(scenario.states)

    def fail(loc: tuple, expected: str, found: str, suggestion: str | None = None) -> None:
        raise ScenarioError(_origin(loc, provenance, path), key_path(loc), expected, found,
                            suggestion)

    def known(loc: tuple, code: str) -> None:
        if code not in scenario.states:
            fail(loc, "a state defined under [states]", repr(code), nearest(code, codes))

    for name, grouping in scenario.groupings.items():
        for role in ("members", "observers"):
            for index, code in enumerate(getattr(grouping, role)):
                known(("groupings", name, role, index), code)
        if len(set(grouping.members)) != len(grouping.members):
            fail(("groupings", name, "members"), "distinct members", repr(grouping.members))
        overlap = set(grouping.members) & set(grouping.observers)
        if overlap:
            fail(("groupings", name, "observers"), "observers who are not also members",
                 repr(sorted(overlap)))
    for name, grouping in scenario.groupings.items():
        if grouping.formed is not None:
            formed = step_of(scenario.scenario.start, grouping.formed)
            if not 0 <= formed < scenario.scenario.steps:
                fail(("groupings", name, "formed"), f"a quarter within the run "
                     f"({scenario.scenario.start} plus 0..{scenario.scenario.steps - 1} quarters)",
                     repr(grouping.formed))
    for code, row in scenario.affinities.items():
        known(("affinities", code), code)
        for other, value in row.items():
            if other == "source":
                if not isinstance(value, str):
                    fail(("affinities", code, other), "a text citing the ground", repr(value))
                continue
            known(("affinities", code, other), other)
            if isinstance(value, str):
                fail(("affinities", code, other), "a number in [-1, 1]", repr(value))
            mirror = scenario.affinities.get(other, {}).get(code)
            if isinstance(mirror, float | int) and abs(mirror - value) > 1e-12:
                fail(("affinities", code, other), f"the same value as affinities.{other}.{code} "
                     f"({mirror}) or no second entry", repr(value))
    for role in ("us", "china", "russia"):
        known(("poles", role), getattr(scenario.poles, role))
    steps = scenario.scenario.steps
    for index, shock in enumerate(scenario.shocks):
        at = step_of(scenario.scenario.start, shock.at)
        if not 0 <= at < steps:
            fail(("shocks", index, "at"), f"a quarter within the run ({scenario.scenario.start} "
                 f"plus 0..{steps - 1} quarters)", repr(shock.at))
        if shock.targets != "all":
            for t_index, code in enumerate(shock.targets):
                known(("shocks", index, "targets", t_index), code)


def load(path: str | Path) -> Scenario:
    """Load, merge and validate a scenario file; raise ScenarioError with file and key path."""
    path = Path(path)
    data, provenance = resolve_extends(path)
    top = resolved(path, path, "")
    inherited = _name_after_the_file(top, data, provenance)
    scenario = validate(data, provenance, top)
    if inherited is not None:  # the name is identity, not content: the hash stays the file's
        scenario._hashed = {**data, "scenario": {**data["scenario"], "name": inherited}}
    return scenario


MAX_NAME = keys.MAX_KEY_LENGTH
"""Longest variant name spelt out from its changes; longer ones count the changes instead."""


def variant_name(name: str, values: dict[str, Any]) -> str:
    """A variant's name spelt from its changes: `baseline_IND.autonomy-0.97_...`."""
    def word(dotted: str, value: Any) -> str:
        short = ".".join(dotted.split(".")[1:]) or dotted
        shown = (str(value).lower() if isinstance(value, bool) else
                 f"{value:g}" if isinstance(value, int | float) else
                 value if isinstance(value, str) else "changed")
        return f"{short}-{shown}"

    spelt = "_".join([name, *(word(k, v) for k, v in values.items())])
    spelt = "".join(c if c.isalnum() or c in "_.-" else "-" for c in spelt)
    if len(spelt) <= MAX_NAME:
        return spelt
    suffix = f"_{len(values)}-changes"
    return name[:MAX_NAME - len(suffix)] + suffix


def with_values(scenario: Scenario, values: dict[str, Any]) -> Scenario:
    """Return a new validated Scenario with dotted key paths set to new values.

    Setting `start` or `end` of a constant pressure turns it into a ramp from its constant;
    setting `value` (or `points`) of a ramp replaces the ramp. Unless `scenario.name` is among
    the values, the variant is named after its changes (`variant_name`), so its results folder
    and pages say what it is.
    """
    data = copy.deepcopy(scenario.raw)
    if values and "scenario.name" not in values:
        data["scenario"]["name"] = variant_name(scenario.scenario.name, values)
    for dotted, value in values.items():
        parts = dotted.split(".")
        node = data
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ScenarioError(scenario.path, dotted, "a path through tables", "a value")
        leaf = parts[-1]
        if parts[0] == "pressures" and len(parts) == 3:
            if leaf in ("start", "end") and "value" in node:
                constant = node.pop("value")
                node.setdefault("start", constant)
                node.setdefault("end", constant)
            elif leaf in ("value", "points"):
                _drop_replaced_schedule_form(node, {leaf: value})
        node[leaf] = value
    provenance = {**_provenance(data, scenario.path), **scenario._set_in}
    for dotted in values:
        provenance[tuple(dotted.split("."))] = Path(f"with_values({dotted!r})")
    kept = None if "scenario.posterior" in values else scenario._posterior_base
    return validate(data, provenance, scenario.path, kept)
