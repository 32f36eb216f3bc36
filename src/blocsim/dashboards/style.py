"""Colours, layout and small multiples shared by every figure.

Colours come from palettes designed to stay distinct for colour-blind readers: Okabe and Ito's
(2008) for emphasis, Paul Tol's for categories; heatmaps use Viridis (perceptually uniform,
readable in greyscale). Each colour has one meaning across the pages: ASEAN is marked by a
diamond and ◆, never by a colour, so no colour means "ASEAN" in one place and "a camp" in another.
"""

from __future__ import annotations

import math
import textwrap

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from blocsim.vocabulary import MAX_LEVEL, STAGES

FONT = ("system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
        "'Liberation Sans', sans-serif")
TEXT, GRID, MUTED_TEXT = "#222222", "#e6e6e6", "#555555"
BLUE, ORANGE, VERMILLION, SKY = "#0072B2", "#E69F00", "#D55E00", "#56B4E9"
GREEN, PURPLE, NEUTRAL, WINE = "#009E73", "#CC79A7", "#BBBBBB", "#882255"
US_SIDE, CHINA_SIDE = BLUE, WINE
"""The two sides of the US–China axis and of the two camps, wherever they appear."""
HEATMAP_SCALE = "Viridis"
SERIES: tuple[str, ...] = (BLUE, ORANGE, GREEN, VERMILLION, SKY, PURPLE, "#332288", "#999933",
                           WINE, "#44AA99", "#555555", "#DDCC77")
"""One colour per line or category when several are compared (cycling past the end)."""
LEGEND_TOP = 72
"""Pixels between the top of a figure and a legend placed under the title and subtitle."""
SUBTITLE_WIDTH = 115
"""Characters per subtitle line: a longer subtitle wraps, so it fits a 1024-pixel window."""


def series_colour(index: int) -> str:
    """The colour of the `index`-th line or category."""
    return SERIES[index % len(SERIES)]


def rgba(hex_colour: str, alpha: float) -> str:
    """A `#rrggbb` colour with transparency, as plotly wants it (`rgba(r,g,b,a)`)."""
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def text_on(hex_colour: str) -> str:
    """A text colour readable on a `#rrggbb` background: white on dark, near-black on light."""
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5 else TEXT


def base_layout(figure: go.Figure, title: str, subtitle: str, height: int,
                legend_top: bool = False, top: int = 150) -> go.Figure:
    """Apply the common layout: white template, title and subtitle, fonts, axes.

    With `legend_top`, the legend goes in one row under the subtitle, placed in pixels so it
    never meets the panels' titles (`top` pixels are reserved above the panels).
    """
    lines = textwrap.wrap(subtitle, SUBTITLE_WIDTH) or [""]
    extra = 17 * (len(lines) - 1)
    figure.update_layout(
        template="plotly_white", height=height + extra,
        font={"family": FONT, "size": 13, "color": TEXT},
        title={"text": title, "x": 0.0, "xanchor": "left", "y": 1 - 10 / (height + extra),
               "yanchor": "top", "font": {"size": 17},
               "subtitle": {"text": "<br>".join(lines),
                            "font": {"size": 13, "color": MUTED_TEXT}}},
        margin={"l": 80, "r": 30, "t": (top if legend_top else 100) + extra, "b": 60},
        legend={"bgcolor": "rgba(255,255,255,0.9)", "bordercolor": GRID, "borderwidth": 1},
        hoverlabel={"font": {"family": FONT}})
    if legend_top:
        figure.update_layout(legend={"orientation": "h", "x": 0.0, "xanchor": "left",
                                     "xref": "container",
                                     "y": 1 - (LEGEND_TOP + extra) / (height + extra),
                                     "yanchor": "top", "yref": "container"})
    axes = {"gridcolor": GRID, "zeroline": False, "showline": True, "linecolor": "#999999",
            "ticks": "outside", "tickcolor": "#999999", "automargin": True}
    figure.update_xaxes(**axes)
    figure.update_yaxes(**axes)
    return figure


def small_multiples(titles: list[str], panel: int | list[int], cols: int = 2, gap: int = 60,
                    top: int = 150, **shared: object) -> tuple[go.Figure, list[tuple[int, int]]]:
    """The one home of small multiples: a grid of panels, each with its title.

    Titles too long for a panel at a 1024-pixel window wrap onto a second line; a `<br>` in a
    title breaks it where it stands.

    Args:
        titles: one title per panel, in reading order.
        panel: each panel's height in pixels (or, in one column, each row's).
        cols: columns (fewer when there are fewer panels).
        gap: pixels between rows (room for the titles and the x tick labels).
        top: pixels above the first row (title, subtitle, legend).
        **shared: passed to `make_subplots` (shared_xaxes, shared_yaxes, ...).

    Returns:
        The figure (its height set) and the (row, col) of each panel.

    """
    cols = max(1, min(cols, len(titles)))
    rows = max(1, math.ceil(len(titles) / cols))
    titles = ["<br>".join(part for line in t.split("<br>")
                          for part in textwrap.wrap(line, 100 // cols)) for t in titles]
    heights = panel if isinstance(panel, list) else [panel] * rows
    height = top + 70 + sum(heights) + (rows - 1) * gap
    spacing = min(0.5, gap / max(height - top - 70, 1))
    if isinstance(panel, list):
        shared["row_heights"] = heights
    figure = make_subplots(rows=rows, cols=cols, subplot_titles=titles or None,
                           vertical_spacing=spacing,
                           horizontal_spacing=shared.pop("horizontal_spacing", 0.08), **shared)
    figure.update_layout(height=height)
    figure.update_annotations(font={"size": 13}, selector={"yref": "paper"})
    return figure, [(i // cols + 1, i % cols + 1) for i in range(len(titles))]


def bottom_axes(figure: go.Figure, cells: list[tuple[int, int]], title: str,
                **settings: object) -> None:
    """Title the x axis of each column's lowest panel (and show its ticks there)."""
    lowest: dict[int, int] = {}
    for row, col in cells:
        lowest[col] = max(lowest.get(col, 0), row)
    for col, row in lowest.items():
        figure.update_xaxes(title_text=title, showticklabels=True, row=row, col=col, **settings)


def year_ticks(quarters: list[str], every: int = 1) -> dict:
    """Axis settings for a categorical quarter axis: every quarter kept, years labelled."""
    firsts = [q for q in quarters if q.endswith("Q1")][::every] or quarters[:1]
    return {"type": "category", "categoryorder": "array", "categoryarray": quarters,
            "tickmode": "array", "tickvals": firsts, "ticktext": firsts,
            "range": [-0.5, len(quarters) - 0.5], "tickangle": 0}


def add_shock_lines(figure: go.Figure, shocks: list[tuple[int, str]], steps: int,
                    colour: str = VERMILLION, legend: bool = True) -> go.Figure:
    """Mark shocks as dashed vertical lines in every panel of a figure with a quarter axis."""
    placed = sorted({step for step, _ in shocks if 0 <= step < steps})
    for step in placed:
        figure.add_vline(x=step, line={"color": colour, "width": 1.3, "dash": "dash"},
                         row="all", col="all")
    if placed and legend:
        labels = "; ".join(label for step, label in shocks if step in placed)
        figure.add_scatter(x=[None], y=[None], mode="lines", name=f"shock ({labels})",
                           line={"color": colour, "width": 1.3, "dash": "dash"},
                           hoverinfo="skip")
    return figure


def ladder_yaxis(figure: go.Figure) -> go.Figure:
    """Label the y axes with the institutional ladder's stages, 0 (dormant) to 4 (alliance)."""
    figure.update_yaxes(range=[-0.15, MAX_LEVEL + 0.15], tickmode="array",
                        tickvals=list(range(MAX_LEVEL + 1)),
                        ticktext=[f"{STAGES[i]} ({i})" for i in range(MAX_LEVEL + 1)])
    figure.update_yaxes(title_text="institutional level", col=1)
    return figure


def here_line(figure: go.Figure, x: float | None, text: str, **where: object) -> None:
    """Mark the scenario's own value ("you are here") as a dotted vertical line with a label."""
    if x is None:
        return
    figure.add_vline(x=x, line={"color": TEXT, "width": 1.4, "dash": "dot"},
                     annotation={"text": text, "font": {"size": 11, "color": TEXT},
                                 "bgcolor": "rgba(255,255,255,0.85)"},
                     annotation_position="bottom right", **where)
