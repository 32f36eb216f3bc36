"""The page shell: Jinja2 templates that escape every string, plotly figures, atomic writes.

Every page is a template under `templates/` rendered by one autoescaping environment, so a key,
name, description or source read from a file reaches the HTML escaped wherever it is written;
the only markup not escaped is plotly's own output (`figure_html`, whose JSON plotly encodes
for a `<script>`) and plotly.js itself. The pages fetch nothing: plotly.js is inlined once,
there is no MathJax and the fonts are the reader's own.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from blocsim.dashboards.facts import parameter

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                 "modeBarButtonsToRemove": ["select2d", "lasso2d"],
                 "toImageButtonOptions": {"format": "png", "scale": 2}}


@dataclass(frozen=True)
class Section:
    """One numbered part of a page: its anchor, heading and figure (None for text only).

    The words around the figure live in the page's template, under the same anchor.
    """

    anchor: str
    heading: str
    figure: go.Figure | None = None


def _number(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def _signed(value: float, digits: int = 3) -> str:
    return f"{value:+.{digits}f}".replace("-", "−")


def _date(created: str) -> str:
    try:
        return datetime.fromisoformat(created).strftime("%Y-%m-%d %H:%M UTC")
    except (TypeError, ValueError):
        return created or "unknown"


ENVIRONMENT = Environment(loader=PackageLoader("blocsim.dashboards"), autoescape=True,
                          undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
ENVIRONMENT.globals["parameter"] = parameter
ENVIRONMENT.filters.update(num=_number, signed=_signed, date=_date,
                           pct=lambda v, d=0: f"{v:.{d}%}",
                           g=lambda v: "–" if v is None else f"{v:g}")


MARKDOWN = ENVIRONMENT.overlay(autoescape=False, finalize=lambda v: str(v).replace("<", "&lt;"))
"""The environment of Markdown templates: every value written has `<` escaped, so no name read
from a file can open an HTML tag or an autolink in a Markdown viewer; `>` opens neither and stays
as written (a source's `0.0864 -> 0.086` reads as an arrow in the raw file too)."""


def script_json(text: str) -> Markup:
    """JSON text to write inside a `<script>` block, `</` escaped.

    No value read from a file (a label, a name) can then close the script.
    """
    return Markup(text.replace("</", "<\\/"))


def figure_html(figure: go.Figure, div_id: str) -> Markup:
    """The `<div>` and `<script>` drawing one figure, without plotly.js itself."""
    return Markup(pio.to_html(figure, include_plotlyjs=False, include_mathjax=False,
                              full_html=False, config=PLOTLY_CONFIG, div_id=div_id,
                              default_width="100%",
                              default_height=f"{figure.layout.height or 450}px"))


def render(template: str, sections: list[Section], **context: object) -> str:
    """A complete, self-contained page from `templates/<template>` and its sections.

    The template gets `sections` (in order), `number` (anchor to section number, so the reading
    guide cannot miscount), `figures` (anchor to figure HTML) and the `context`.
    """
    figures = {s.anchor: figure_html(s.figure, f"figure-{s.anchor}") for s in sections
               if s.figure is not None}
    number = {s.anchor: index for index, s in enumerate(sections, 1)}
    return ENVIRONMENT.get_template(template).render(
        sections=sections, number=number, figures=figures, plotly_js=Markup(get_plotlyjs()),
        headings={s.anchor: s.heading for s in sections}, **context)


def write_atomically(path: Path, text: str) -> Path:
    """Write `text` to `path` through a temporary sibling file and `os.replace`.

    A reader sees the old file or the new one, never half of one; a failed write leaves no
    temporary file behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial",
                                         dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
