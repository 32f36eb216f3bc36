"""HTML assembly: one self-contained page (plotly.js inlined once), written atomically.

The page fetches nothing: plotly.js is embedded in a `<script>` in the head, the figures carry
their data inline, there is no MathJax and the fonts are the reader's own.
"""

from __future__ import annotations

import html
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from blocsim.dashboards.style import FONT

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                 "modeBarButtonsToRemove": ["select2d", "lasso2d"],
                 "toImageButtonOptions": {"format": "png", "scale": 2}}


@dataclass(frozen=True)
class Section:
    """One numbered part of the page: a heading, a figure and the words that go with it.

    Attributes:
        anchor: the HTML id of the section (for the table of contents).
        heading: the section's heading.
        figure: the figure, or None for a section of text only.
        intro: HTML shown above the figure (the question it answers).
        notes: HTML shown below the figure (how to read it, caveats).

    """

    anchor: str
    heading: str
    figure: go.Figure | None
    intro: str = ""
    notes: str = ""


STYLE = f"""
* {{ box-sizing: border-box; }}
body {{ margin: 0; font-family: {FONT}; color: #222; background: #f4f5f7; line-height: 1.5; }}
main {{ max-width: 1400px; margin: 0 auto; padding: 24px 28px 60px; }}
header.page {{ background: #fff; border-bottom: 3px solid #0072B2; }}
header.page .inner {{ max-width: 1400px; margin: 0 auto; padding: 22px 28px 18px; }}
h1 {{ margin: 0 0 4px; font-size: 26px; }}
h1 .kind {{ color: #0072B2; font-weight: 600; }}
.description {{ margin: 4px 0 12px; font-size: 16px; max-width: 1100px; }}
dl.facts {{ display: flex; flex-wrap: wrap; gap: 6px 28px; margin: 0; font-size: 14px; }}
dl.facts div {{ display: flex; gap: 6px; }}
dl.facts dt {{ color: #555; }}
dl.facts dd {{ margin: 0; font-weight: 600; }}
code {{ font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.92em;
        background: #eef1f4; padding: 1px 4px; border-radius: 3px; }}
section.card {{ background: #fff; border: 1px solid #dde1e6; border-radius: 8px;
                padding: 18px 22px; margin: 22px 0; }}
section.card h2 {{ margin: 0 0 6px; font-size: 20px; }}
section.card h2 .number {{ color: #0072B2; margin-right: 6px; }}
.intro, .notes {{ max-width: 1150px; font-size: 15px; }}
.notes {{ color: #444; font-size: 14px; margin-top: 6px; }}
nav.toc {{ font-size: 14px; margin-top: 14px; }}
nav.toc a {{ color: #0072B2; text-decoration: none; margin-right: 16px; white-space: nowrap; }}
nav.toc a:hover {{ text-decoration: underline; }}
table.data {{ border-collapse: collapse; font-size: 14px; margin: 8px 0; }}
table.data th, table.data td {{ padding: 4px 12px; border-bottom: 1px solid #e3e6ea;
                                text-align: left; vertical-align: top; }}
table.data th {{ background: #f0f3f6; font-weight: 600; }}
table.data td.num {{ text-align: right; font-variant-numeric: tabular-nums;
                     white-space: nowrap; }}
.howto {{ background: #f7fafc; border-left: 4px solid #56B4E9; padding: 10px 16px;
          margin: 14px 0 0; font-size: 15px; max-width: 1150px; }}
footer {{ color: #666; font-size: 13px; max-width: 1400px; margin: 0 auto; padding: 0 28px 30px; }}
"""


def figure_html(figure: go.Figure, div_id: str) -> str:
    """The `<div>` and `<script>` drawing one figure, without plotly.js itself."""
    return pio.to_html(figure, include_plotlyjs=False, include_mathjax=False, full_html=False,
                       config=PLOTLY_CONFIG, div_id=div_id, default_width="100%",
                       default_height=f"{figure.layout.height or 450}px")


def section_html(number: int, section: Section) -> str:
    """The HTML of one numbered section."""
    parts = [f'<section class="card" id="{section.anchor}">',
             f'<h2><span class="number">{number}.</span>{html.escape(section.heading)}</h2>']
    if section.intro:
        parts.append(f'<div class="intro">{section.intro}</div>')
    if section.figure is not None:
        parts.append(figure_html(section.figure, f"figure-{section.anchor}"))
    if section.notes:
        parts.append(f'<div class="notes">{section.notes}</div>')
    parts.append("</section>")
    return "\n".join(parts)


def render_page(title: str, header: str, sections: list[Section], footer: str) -> str:
    """A complete, self-contained HTML document.

    Args:
        title: the document's `<title>`.
        header: HTML of the page header (inside a `<header>`).
        sections: the numbered sections, in order.
        footer: HTML of the footer.

    Returns:
        The page, with plotly.js embedded once in the head.

    """
    toc = " ".join(f'<a href="#{s.anchor}">{n}. {html.escape(s.heading)}</a>'
                   for n, s in enumerate(sections, 1))
    body = "\n".join(section_html(n, s) for n, s in enumerate(sections, 1))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n"
        f"<script type=\"text/javascript\">{get_plotlyjs()}</script>\n</head>\n<body>\n"
        f"<header class=\"page\"><div class=\"inner\">{header}\n"
        f"<nav class=\"toc\">{toc}</nav></div></header>\n"
        f"<main>\n{body}\n</main>\n<footer>{footer}</footer>\n</body>\n</html>\n"
    )


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
