"""Save the view's settings as a scenario file that `extends` the original.

The file sets only the values the user changed, each table with a `source` that gives the new
ground for every changed value (which the user must type) and keeps the file's own text for the
values left alone. It is written only if it loads and validates as a scenario, and never over
an existing file.

    changes = [Change("states.IND.autonomy", 0.9, 0.75, "2027 defence white paper (assumed)")]
    save_variant(Path("scenarios/baseline.toml"), Path("scenarios/india_opens.toml"),
                 "india_opens", changes, own_sources={"states.IND": "..."})
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import tomli_w

from blocsim import api
from blocsim.errors import BlocsimError, InputError


class VariantError(BlocsimError):
    """Settings that cannot be saved as asked (the message says what to fix)."""


@dataclass(frozen=True)
class Change:
    """One value moved in the view.

    Attributes:
        path: dotted scenario path (`states.IND.autonomy`, `pressures.china_coercion.end`).
        before: the original file's value.
        after: the value to save.
        source: the ground for the new value, as the user typed it.

    """

    path: str
    before: float
    after: float
    source: str

    @property
    def owner(self) -> str:
        """The table that holds the value and its `source` (`states.IND`)."""
        return self.path.rsplit(".", 1)[0]

    @property
    def key(self) -> str:
        """The value's key in its table (`autonomy`)."""
        return self.path.rsplit(".", 1)[1]


def table_source(original: str, changes: Sequence[Change], own_source: str) -> str:
    """The `source` of a changed table: each new value's ground, then the file's own text.

    Each new ground reads "key value (original: old value): ground", so the view (and a
    reader) finds it before the file's own ground for the same key, quoted after it.
    """
    moved = "; ".join(f"{c.key} {c.after:g} ({original}: {c.before:g}): {c.source.strip()}"
                      for c in changes)
    text = (f"Variant of {original} (blocsim explore); the values not changed here keep their "
            f"grounds in {original}, quoted after the new ones. {moved}.")
    return f"{text} {own_source.strip()}" if own_source.strip() else text


def variant_document(original: Path, target: Path, name: str, changes: Sequence[Change],
                     own_sources: Mapping[str, str], description: str = "") -> dict:
    """The variant's content: `extends` (relative to `target`), [scenario], changed tables."""
    document: dict = {"extends": Path(os.path.relpath(original.resolve(),
                                                      target.resolve().parent)).as_posix(),
                      "scenario": {"name": name}}
    if description:
        document["scenario"]["description"] = description
    by_owner: dict[str, list[Change]] = {}
    for change in changes:
        by_owner.setdefault(change.owner, []).append(change)
    for owner, moved in by_owner.items():
        kind, key = owner.split(".", 1)
        table = {c.key: c.after for c in moved}
        table["source"] = table_source(original.name, moved, own_sources.get(owner, ""))
        document.setdefault(kind, {})[key] = table
    return document


def check_changes(changes: Sequence[Change]) -> None:
    """Refuse settings with nothing changed or a change without its `source`.

    Raises:
        VariantError: naming every changed value that lacks a source.

    """
    if not changes:
        raise VariantError("nothing to save: no value differs from the file's own")
    missing = [c.path for c in changes if not c.source.strip()]
    if missing:
        raise VariantError("give a source for each changed value; missing for: "
                           + ", ".join(missing))


def renamed(error: InputError, staging: Path, target: Path) -> InputError:
    """The same error, naming `target` where it named the staging file that stood for it."""
    if error.file.resolve() != staging.resolve():
        return error
    return type(error)(target, error.key_path, error.expected, error.found, error.suggestion)


def save_variant(original: Path, target: Path, name: str, changes: Sequence[Change],
                 own_sources: Mapping[str, str], description: str = "") -> Path:
    """Write the variant to `target` if it validates; never replace an existing file.

    Args:
        original: the scenario file the view was started on.
        target: where to write the variant (`.toml`).
        name: the variant's `[scenario] name`.
        changes: the values that differ from the original, each with its source.
        own_sources: each changed table's `source` text in the original (kept for the values
            the user did not change).
        description: the variant's `[scenario] description` (optional).

    Returns:
        The path written.

    Raises:
        VariantError: when a change lacks a source, the target exists or is not a `.toml`
            file, or the variant does not validate (with the validator's message).

    """
    check_changes(changes)
    target = Path(target)
    if target.suffix != ".toml":
        raise VariantError(f"{target}: expected a file name ending in .toml")
    if target.exists():
        raise VariantError(f"{target} exists; choose another file name (nothing was written)")
    if not target.parent.is_dir():
        raise VariantError(f"{target.parent} is not a folder; create it or choose another")
    document = variant_document(original, target, name, changes, own_sources, description)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    text = (f"# Written by `blocsim explore` from {document['extends']} on {stamp}: only the "
            f"values changed there.\n" + tomli_w.dumps(document))
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        staging.write_text(text, encoding="utf-8")
        try:
            api.load(staging)
        except InputError as error:
            raise VariantError(f"not saved, the variant would not validate: "
                               f"{renamed(error, staging, target)}") from None
        try:
            os.link(staging, target)
        except FileExistsError:
            raise VariantError(f"{target} exists; choose another file name") from None
    except OSError as error:
        raise VariantError(f"{target}: could not write ({error.strerror or error})") from None
    finally:
        staging.unlink(missing_ok=True)
    return target
