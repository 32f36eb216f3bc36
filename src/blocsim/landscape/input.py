"""The landscape TOML format and its validation.

```toml
name = "europe_1907"            # optional: name, description, source
[actors.Britain]
size = 0.10                     # > 0, any unit (e.g. a COW CINC share)
source = "..."                  # optional, also `name`
[[propensities]]
between = ["Britain", "France"] # two distinct actors defined under [actors]
value = 1.0                     # any finite number; a pair not listed has 0
source = "Entente Cordiale, 1904"
```

Every error names the file, the key path (`propensities[3].between[1]`), what was expected and
what was found, with the nearest valid name for a typo (reusing the scenario loader's helpers).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import Field, ValidationError

from blocsim.errors import InputError, ScenarioError, nearest, short_repr
from blocsim.landscape.energy import FloatArray
from blocsim.landscape.search import MAX_ACTORS
from blocsim.scenario.keys import Key, Label, Text
from blocsim.scenario.loading import (
    _error_from_pydantic,
    _provenance,
    key_path,
    model_at,
    read_toml,
)
from blocsim.scenario.schema import Strict

MAX_MAGNITUDE = 1e100
"""Largest size or |propensity|: s_i s_j p_ij stays far below the largest double (~1.8e308)."""
MIN_SIZE = 1e-100
"""Smallest size: s_i s_j stays far above the smallest double."""
Finite = Annotated[float, Field(allow_inf_nan=False, ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE)]


class LandscapeError(InputError):
    """An invalid landscape file."""


class Actor(Strict):
    """An `[actors.NAME]` table."""

    size: Annotated[float, Field(ge=MIN_SIZE, le=MAX_MAGNITUDE, allow_inf_nan=False)]
    """Size s_i > 0 (any unit shared by all actors, e.g. a COW CINC share)."""
    name: Label = ""
    source: Text = ""


class Propensity(Strict):
    """A `[[propensities]]` entry: p_ij for one unordered pair (symmetric)."""

    between: list[Key]
    value: Finite
    source: Text = ""


class LandscapeFile(Strict):
    """A whole landscape file."""

    name: Label = ""
    description: Text = ""
    source: Text = ""
    actors: Annotated[dict[Key, Actor], Field(max_length=MAX_ACTORS)]
    propensities: list[Propensity] = []


@dataclass(frozen=True)
class LandscapeSystem:
    """A validated system: names in file order, sizes, and the symmetric propensity matrix."""

    name: str
    names: tuple[str, ...]
    sizes: FloatArray
    propensity: FloatArray
    path: Path


def load_landscape(path: str | Path) -> LandscapeSystem:
    """Read and validate a landscape file; raise LandscapeError naming file and key path."""
    path = Path(path)
    try:
        data = read_toml(path)
    except ScenarioError as exc:
        raise LandscapeError(exc.file, exc.key_path, exc.expected.replace("scenario", "landscape"),
                             exc.found, exc.suggestion) from None
    try:
        parsed = LandscapeFile.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = _from_pydantic(errors[0], data, path)
        if len(errors) > 1:
            first.args = (f"{first.args[0]}\n  ... and {len(errors) - 1} more problem(s)",)
        raise first from None
    return _build(parsed, path)


def _from_pydantic(error: Any, data: dict, path: Path) -> LandscapeError:
    loc = tuple(p for p in error["loc"] if p != "[key]")
    if error["type"] == "extra_forbidden":
        model = model_at(loc[:-1], LandscapeFile)
        allowed = sorted(model.model_fields) if model else []
        return LandscapeError(path, key_path(loc), "one of the keys " + ", ".join(allowed),
                              f"the unknown key `{loc[-1]}`", nearest(str(loc[-1]), allowed))
    if error["type"] == "missing" and loc == ("actors",):
        return LandscapeError(path, "actors", "an [actors.NAME] table with `size` per actor",
                              "nothing")
    base = _error_from_pydantic(error, _provenance(data, path), path)
    return LandscapeError(base.file, base.key_path, base.expected, base.found, base.suggestion)


def _build(parsed: LandscapeFile, path: Path) -> LandscapeSystem:
    names = tuple(parsed.actors)

    def fail(loc: tuple, expected: str, found: str, suggestion: str | None = None) -> None:
        raise LandscapeError(path, key_path(loc), expected, found, suggestion)

    if len(names) < 2:
        fail(("actors",), "at least 2 actors", f"{len(names)} actor(s) {list(names)!r}")
    index = {name: i for i, name in enumerate(names)}
    propensity = np.zeros((len(names), len(names)))
    seen: dict[frozenset[str], int] = {}
    for k, entry in enumerate(parsed.propensities):
        loc = ("propensities", k, "between")
        if len(entry.between) != 2 or entry.between[0] == entry.between[1]:
            fail(loc, "two distinct actor names", short_repr(entry.between))
        for side, name in enumerate(entry.between):
            if name not in index:
                fail((*loc, side), "an actor defined under [actors]", repr(name),
                     nearest(name, names))
        pair = frozenset(entry.between)
        if pair in seen:
            fail(loc, f"each pair listed once (this one is already propensities[{seen[pair]}])",
                 short_repr(entry.between))
        seen[pair] = k
        i, j = index[entry.between[0]], index[entry.between[1]]
        propensity[i, j] = propensity[j, i] = entry.value
    sizes = np.array([parsed.actors[name].size for name in names])
    return LandscapeSystem(parsed.name or path.stem, names, sizes, propensity, path)
