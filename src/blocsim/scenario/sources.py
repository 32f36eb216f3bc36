"""Which values a scenario changes, and the source each value stands on.

Every table of a scenario file (`[states.IND]`, `[pressures.NAME]`, `[groupings.NAME]`, a
`[[shocks]]` entry, `[affinities.ISO3]`, `[mechanisms.NAME]`, `[dynamics]`, `[alignment]`) carries
one `source` for the values in it. A variant that `extends` another file and changes a value
should say why in its own `source`; otherwise it silently inherits text written for the old value
(`unsourced_changes` finds those).

    changes(old_raw, new_raw)      # [Change("states.IND.autonomy", 0.9, 0.97, "...", "..."), ...]
    origin(scenario_path)          # the resolved file a scenario's values are compared with
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from blocsim.scenario.loading import read_toml, resolve_extends
from blocsim.scenario.schema import Scenario

NOT_VALUES = frozenset({"source", "description", "name"})
"""Keys that describe a table rather than set a value of the model."""

SOURCED = ("states.", "affinities.", "groupings.", "pressures.", "shocks[", "mechanisms.",
           "dynamics.", "alignment.")
"""The tables that carry a `source` (the `[scenario]` and `[poles]` tables do not)."""


@dataclass(frozen=True)
class Change:
    """One value that differs between two resolved scenarios.

    Attributes:
        path: the dotted path, e.g. `states.IND.autonomy` (`shocks[2]` for a whole shock).
        old: the value before (None if absent).
        new: the value after (None if absent).
        old_source: the source of the value's table before ("" if none).
        new_source: the source of the value's table after ("" if none).
        old_drawn: where the old value is one the runs drew from a posterior instead (the file's
            value is the hand-set one the draws replace), what they drew: "drawn from the
            posterior: weighted median 4.72, particles 1.02 to 9.51" ("" otherwise; filled by
            the run that kept the new value, `experiment.posterior.drawn_summary`).

    """

    path: str
    old: Any
    new: Any
    old_source: str
    new_source: str
    old_drawn: str = ""

    @property
    def table(self) -> str:
        """The table whose `source` covers the value."""
        return table_of(self.path)

    @property
    def same_source(self) -> bool:
        """Whether the new value still stands on the old value's source text."""
        return self.new_source == self.old_source

    @property
    def sourced(self) -> bool:
        """Whether the value's table can carry a `source` (all but `[scenario]` and `[poles]`).

        A mechanism's or the dynamics' values are calibrated where no file sets them; a variant
        that changes one says why in that table's `source`, as for a state's value.
        """
        return self.path.startswith(SOURCED)

    @property
    def calibrated(self) -> bool:
        """Whether the value is a mechanism's, the dynamics' or the alignment's.

        Such values are calibrated (or drawn from a posterior) where no file gives them a source.
        """
        return self.path.startswith(("mechanisms.", "dynamics.", "alignment."))

    @property
    def needs_source(self) -> bool:
        """Whether the change stands on no source of its own where its table could give one."""
        return self.sourced and (not self.new_source or self.same_source)


def table_of(path: str) -> str:
    """The table whose `source` covers a value: `states.IND.autonomy` -> `states.IND`."""
    return path if path.startswith("shocks[") else path.rpartition(".")[0]


def source_at(data: dict, path: str) -> str:
    """The `source` of the table covering `path` in resolved scenario content ("" if none).

    A nested table without a source of its own (a state's `paths`) is covered by its parent's.
    """
    node: Any = data
    table = table_of(path)
    if table.startswith("shocks["):
        index = int(table[len("shocks["):-1])
        shocks = data.get("shocks", [])
        node = shocks[index] if index < len(shocks) else {}
    else:
        found = ""
        for part in table.split("."):
            node = node.get(part, {}) if isinstance(node, dict) else {}
            if isinstance(node, dict) and node.get("source"):
                found = str(node["source"])
        return found
    return str(node.get("source", "")) if isinstance(node, dict) else ""


def flatten(data: dict) -> dict[str, Any]:
    """Every value of resolved scenario content by dotted path (`shocks[i]` whole), no sources."""
    found: dict[str, Any] = {}

    def walk(node: dict, prefix: str) -> None:
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                walk(value, path)
            elif key not in NOT_VALUES or prefix == "scenario":
                found[path] = value

    walk({k: v for k, v in data.items() if k != "shocks"}, "")
    for index, shock in enumerate(data.get("shocks", [])):
        found[f"shocks[{index}]"] = {k: v for k, v in shock.items() if k != "source"}
    return found


def changes(old: dict, new: dict) -> list[Change]:
    """Every value that differs between two resolved scenarios, in `new`'s order then `old`'s.

    The scenario's name and description are identity, not inputs, and are left out. A value the
    old file leaves to the schema's default (a mechanism's weight the baseline does not write)
    is compared with that default, not with nothing.
    """
    before, after = flatten(old), flatten(new)
    paths = [p for p in dict.fromkeys([*after, *before])
             if p not in ("scenario.name", "scenario.description")]
    defaults = _defaults(old) if any(p not in before for p in paths) else {}
    was = {p: before[p] if p in before else defaults.get(p) for p in paths}
    return [Change(p, was[p], after.get(p), source_at(old, p), source_at(new, p))
            for p in paths if was[p] != after.get(p)]


def _defaults(data: dict) -> dict[str, Any]:
    """Every value of resolved scenario content once validated, defaults included.

    {} when the content is not a valid scenario.
    """
    try:
        return flatten(Scenario.model_validate(data).model_dump(mode="json"))
    except ValidationError:
        return {}


def origin(path: Path) -> dict | None:
    """What a scenario file's values are compared with: the file it `extends`, else itself.

    Returns:
        The resolved content, or None when the file cannot be read (a scenario made in memory).

    """
    path = Path(path)
    if not path.is_file():
        return None
    key = path.resolve()
    cached = _ORIGINS.get(key)
    if cached is not None and _stamp(cached[0]) == cached[1]:
        return copy.deepcopy(cached[2])
    parent = read_toml(path).get("extends")
    if isinstance(parent, str) and (path.parent / parent).is_file():
        found, provenance = resolve_extends(path.parent / parent)
    else:
        found, provenance = resolve_extends(path)
    chain = tuple(sorted({key, *_extends_chain(path),
                          *(p.resolve() for p in provenance.values() if p.suffix == ".toml")}))
    _ORIGINS[key] = (chain, _stamp(chain), found)
    return copy.deepcopy(found)


_ORIGINS: dict[Path, tuple[tuple[Path, ...], tuple, dict]] = {}
"""Resolved origins by file, with the files they were read from and those files' stamps: a
run's manifest lists its changes from the file on every call (12 ms a call for the baseline),
and the files rarely change within a process."""


_EXTENDS = re.compile(r"""^\s*extends\s*=\s*(?:"([^"\n]*)"|'([^'\n]*)')""", re.MULTILINE)


def _extends_chain(path: Path, most: int = 64) -> list[Path]:
    """The files an `extends` chain passes through, found without parsing the TOML.

    A file that only extends another leaves no key in the merged content, yet its edit must be
    seen by the cache.
    """
    found, current = [], path
    while len(found) < most and current.is_file():
        found.append(current.resolve())
        head = current.read_text(encoding="utf-8", errors="replace").split("\n[", 1)[0]
        match = _EXTENDS.search(head)
        if match is None:
            break
        current = current.parent / (match.group(1) or match.group(2) or "")
    return found


def _stamp(files: tuple[Path, ...]) -> tuple:
    """Modification time and size of each file (None for one that is gone)."""
    stamps = []
    for file in files:
        try:
            status = file.stat()
        except OSError:
            stamps.append(None)
        else:
            stamps.append((status.st_mtime_ns, status.st_size))
    return tuple(stamps)


def unsourced_changes(path: Path) -> list[Change]:
    """The values a variant changes from the file it `extends` without giving a new `source`.

    A change counts as sourced when the variant's own file sets the `source` of that value's
    table (or the shock it adds has one). Files that extend nothing have none.
    """
    own = read_toml(Path(path))
    if not isinstance(own.get("extends"), str):
        return []
    base = origin(path)
    merged = resolve_extends(Path(path))[0]
    return [change for change in changes(base or {}, merged)
            if change.needs_source]
