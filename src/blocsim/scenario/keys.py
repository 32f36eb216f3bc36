"""What a key or a name in an input file may be: safe patterns, each with its meaning in words.

Keys (state codes, grouping keys, landscape actors, sweep axis paths) become table values, file
names, HTML ids and terminal output, so they are restricted to a few safe characters; names and
descriptions are free text but never hold control characters (a terminal escape sequence, a
carriage return that rewrites a line). One home for these patterns: the scenario, sweep and
landscape schemas import the types, and the loaders' error messages the meanings.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

MAX_KEY_LENGTH = 64
KEY_PATTERN = rf"^[A-Za-z][A-Za-z0-9_.-]{{0,{MAX_KEY_LENGTH - 1}}}$"
STATE_CODE_PATTERN = r"^[A-Z]{3}$"
AFFINITY_KEY_PATTERN = r"^(?:[A-Z]{3}|source)$"
PATH_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*$"
LABEL_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]*$"
TEXT_PATTERN = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]*$"
MAX_LABEL_LENGTH = 200
MAX_TEXT_LENGTH = 20_000

PATTERN_MEANINGS = {
    KEY_PATTERN: "a key of letters, digits, `_`, `.` or `-`, starting with a letter (at most "
                 f"{MAX_KEY_LENGTH} characters)",
    STATE_CODE_PATTERN: "an ISO3 state code (three capital letters, e.g. \"IND\")",
    AFFINITY_KEY_PATTERN: "an ISO3 state code (three capital letters) or `source`",
    PATH_PATTERN: "a dotted key path such as \"states.IND.autonomy\"",
    LABEL_PATTERN: "one line of text without control characters",
    TEXT_PATTERN: "text without control characters (newlines and tabs are fine)",
}
"""What each pattern allows, in the words an error message uses."""

Key = Annotated[str, Field(pattern=KEY_PATTERN)]
StateCode = Annotated[str, Field(pattern=STATE_CODE_PATTERN)]
AffinityKey = Annotated[str, Field(pattern=AFFINITY_KEY_PATTERN)]
KeyPath = Annotated[str, Field(min_length=1, max_length=4 * MAX_KEY_LENGTH, pattern=PATH_PATTERN)]
Label = Annotated[str, Field(max_length=MAX_LABEL_LENGTH, pattern=LABEL_PATTERN)]
Text = Annotated[str, Field(max_length=MAX_TEXT_LENGTH, pattern=TEXT_PATTERN)]
