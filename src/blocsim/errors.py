"""Errors that are part of the interface: what the user wrote wrong, where, and what would be right.

The command line prints `format_message(error)` and exits non-zero; no traceback reaches the
user. Every error survives pickling (a worker process can raise it and the caller read it).
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
"""Characters a terminal would act on rather than show: C0/C1 controls (the escape that starts a
colour or cursor sequence, carriage return, backspace), zero-width and bidirectional marks.
Newline and tab are kept (messages span lines)."""


class BlocsimError(Exception):
    """Base of every error the command line reports as a message rather than a traceback."""

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by state, not by constructor arguments (subclasses take their own)."""
        return (_restore, (type(self), self.args, self.__dict__))


def _restore(cls: type[BlocsimError], args: tuple, state: dict) -> BlocsimError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class BlocsimWarning(UserWarning):
    """An input that is valid but probably not what its author meant, or a notice about a folder.

    The command line prints these as `warning: ...`; in Python they are ordinary warnings.
    """


def printable(text: str) -> str:
    """Return `text` with every character a terminal would act on shown as a Python escape."""
    return CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


def format_message(error: BaseException | str) -> str:
    """The one formatter of messages for the terminal: the error's text, control codes escaped."""
    return printable(str(error))


class InputError(BlocsimError):
    """A problem in an input file, located by file and key path.

    Attributes:
        file: the file the offending key comes from (after `extends` is resolved).
        key_path: dotted path to the key, e.g. `states.IND.autonomy` or `shocks[2].at`.
        expected: what would have been valid.
        found: what the file holds (a short repr), or None when the key is missing.
        suggestion: the nearest valid key, for typos.

    """

    def __init__(self, file: Path | str, key_path: str, expected: str,
                 found: str | None = None, suggestion: str | None = None) -> None:
        self.file = Path(file)
        self.key_path = key_path
        self.expected = expected
        self.found = found
        self.suggestion = suggestion
        super().__init__(self._message())

    def _message(self) -> str:
        where = printable(f"{self.file}" + (f": {self.key_path}" if self.key_path else ""))
        text = f"{where}: expected {self.expected}"
        if self.found is not None:
            text += f", found {self.found}"
        if self.suggestion:
            text += f" (did you mean `{self.suggestion}`?)"
        return text


class ScenarioError(InputError):
    """An invalid scenario file."""


class ResultsError(BlocsimError):
    """A results folder that cannot be written or read as asked."""


def nearest(word: str, candidates: Iterable[str]) -> str | None:
    """Return the candidate closest to `word` (a likely typo), or None if none is close."""
    pool = list(candidates)
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in pool}
        matches = [lowered[m] for m in difflib.get_close_matches(word.lower(), lowered, n=1)]
    return matches[0] if matches else None


def short_repr(value: object, limit: int = 60) -> str:
    """Return a one-line repr of a found value, cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def print_warnings(source: Path | str, found: list[str]) -> None:
    """Print a file's valid-but-meaningless settings as `warning: FILE: ...` lines (stderr)."""
    for text in found:
        print(f"warning: {printable(str(source))}: {printable(text)}", file=sys.stderr)
