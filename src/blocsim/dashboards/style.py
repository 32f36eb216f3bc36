"""Colours, fonts and layout shared by every dashboard figure.

Colours come from palettes designed to stay distinct for colour-blind readers: Okabe and Ito's
(2008) for emphasis and Paul Tol's "muted" qualitative scheme for categories; the heatmaps use
Viridis, a perceptually uniform sequential scale readable with colour-vision deficiencies and in
greyscale.
"""

from __future__ import annotations

import plotly.graph_objects as go

from blocsim.vocabulary import MAX_LEVEL, STAGES

FONT = ("system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
        "'Liberation Sans', sans-serif")
"""Fonts already on the reader's machine: the page fetches none."""

TEXT = "#222222"
GRID = "#e6e6e6"
MUTED_TEXT = "#555555"

BLUE = "#0072B2"
ORANGE = "#E69F00"
VERMILLION = "#D55E00"
SKY = "#56B4E9"
GREEN = "#009E73"
PURPLE = "#CC79A7"
NEUTRAL = "#BBBBBB"

CATEGORICAL: tuple[str, ...] = (
    "#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255",
    "#AA4499", BLUE, ORANGE, VERMILLION,
)
"""Tol's muted scheme, then Okabe-Ito colours, for categories such as blocking states."""

HEATMAP_SCALE = "Viridis"

TITLE_TOP = 10
"""Pixels between the top of a figure and its title."""

LEGEND_TOP = 72
"""Pixels between the top of a figure and a legend placed under the title and subtitle."""


def rgba(hex_colour: str, alpha: float) -> str:
    """A `#rrggbb` colour with transparency, as plotly wants it (`rgba(r,g,b,a)`)."""
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def category_colour(index: int) -> str:
    """The colour of the `index`-th category (cycling if there are more than the palette)."""
    return CATEGORICAL[index % len(CATEGORICAL)]


def base_layout(figure: go.Figure, title: str, subtitle: str, height: int) -> go.Figure:
    """Apply the dashboard's common layout: white template, title and subtitle, legend, fonts.

    Args:
        figure: the figure to style (modified in place).
        title: what the figure shows, in a sentence.
        subtitle: how to read it (units, what the bands mean).
        height: the figure's height in pixels.

    Returns:
        The same figure.

    """
    figure.update_layout(
        template="plotly_white",
        height=height,
        font={"family": FONT, "size": 13, "color": TEXT},
        title={"text": title, "x": 0.0, "xanchor": "left", "y": 1 - TITLE_TOP / height,
               "yanchor": "top",
               "font": {"size": 17}, "subtitle": {"text": subtitle,
                                                  "font": {"size": 13, "color": MUTED_TEXT}}},
        margin={"l": 80, "r": 30, "t": 100, "b": 60},
        legend={"bgcolor": "rgba(255,255,255,0.9)", "bordercolor": GRID, "borderwidth": 1},
        hoverlabel={"font": {"family": FONT}},
    )
    figure.update_xaxes(gridcolor=GRID, zeroline=False, showline=True, linecolor="#999999",
                        ticks="outside", tickcolor="#999999", automargin=True)
    figure.update_yaxes(gridcolor=GRID, zeroline=False, showline=True, linecolor="#999999",
                        ticks="outside", tickcolor="#999999", automargin=True)
    return figure


def legend_on_top(figure: go.Figure, top_margin: int = 150) -> go.Figure:
    """Put the legend in one row under the title and subtitle, above the plots and their titles.

    The legend is placed in pixels from the top of the figure (container coordinates), so it
    cannot collide with subplot titles however tall the figure is.

    Args:
        figure: the figure (its layout height must be set).
        top_margin: the top margin to reserve for title, subtitle, legend and subplot titles.

    Returns:
        The same figure.

    """
    height = figure.layout.height or 450
    figure.update_layout(
        legend={"orientation": "h", "x": 0.0, "xanchor": "left", "xref": "container",
                "y": 1 - LEGEND_TOP / height, "yanchor": "top", "yref": "container"},
        margin={"t": top_margin})
    return figure


def year_ticks(quarters: list[str], every: int = 1) -> dict:
    """Axis settings for a categorical quarter axis: every quarter kept, first quarters labelled.

    Args:
        quarters: every quarter label of the run, in order.
        every: label the first quarter of every `every`-th year (2 for narrow panels).

    Returns:
        Keyword arguments for `update_xaxes`.

    """
    firsts = [q for q in quarters if q.endswith("Q1")][::every] or quarters[:1]
    return {"type": "category", "categoryorder": "array", "categoryarray": quarters,
            "tickmode": "array", "tickvals": firsts, "ticktext": firsts,
            "range": [-0.5, len(quarters) - 0.5], "tickangle": 0}


def text_on(hex_colour: str) -> str:
    """A text colour readable on a `#rrggbb` background: white on dark, near-black on light."""
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "white" if luminance < 0.5 else TEXT


def spacing(pixels: float, height: float, margin: float = 160) -> float:
    """Subplot spacing as make_subplots wants it (a fraction of the plotting area's height).

    Args:
        pixels: the gap wanted between subplots, in pixels.
        height: the figure's height in pixels.
        margin: the figure's top and bottom margins together, in pixels.

    """
    return min(0.5, pixels / max(height - margin, 1.0))


SHOCK_COLOUR = VERMILLION


def add_shock_lines(figure: go.Figure, shocks: list[tuple[int, str]], steps: int,
                    colour: str = SHOCK_COLOUR, legend: bool = True) -> go.Figure:
    """Mark shocks as dashed vertical lines in every subplot of a figure with a quarter axis.

    Args:
        figure: a figure whose x axes are categorical quarter axes (`year_ticks`).
        shocks: (step, label) of each shock.
        steps: the number of quarters on the axis (shocks outside it are skipped).
        colour: the lines' colour.
        legend: whether to add one legend entry, "shock", for the lines.

    Returns:
        The same figure.

    """
    placed = sorted({step for step, _ in shocks if 0 <= step < steps})
    for step in placed:
        figure.add_vline(x=step, line={"color": colour, "width": 1.3, "dash": "dash"},
                         row="all", col="all")
    if placed and legend:
        labels = "; ".join(f"{label}" for step, label in shocks if step in placed)
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
