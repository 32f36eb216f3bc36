"""Figures of the run's outcomes per grouping: whether, when and who blocks consolidation."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from blocsim.calendar import quarter_label
from blocsim.dashboards.aggregate import CONSOLIDATED, UNRECORDED
from blocsim.dashboards.run_info import RunInfo
from blocsim.dashboards.style import (
    BLUE,
    MUTED_TEXT,
    NEUTRAL,
    add_shock_lines,
    base_layout,
    category_colour,
    legend_on_top,
    spacing,
    text_on,
    year_ticks,
)


def grouping_tick(info: RunInfo, key: str) -> str:
    """A two-line axis label: the grouping's short label in bold, its long name below."""
    grouping = info.grouping(key)
    if grouping.name in (grouping.key, grouping.label):
        return f"<b>{grouping.label}</b>"
    return f"<b>{grouping.label}</b><br><span style='font-size:11px'>{grouping.name}</span>"


def probability_figure(probabilities: pd.DataFrame, info: RunInfo) -> go.Figure:
    """Horizontal bars of P(consolidation) per grouping with 95% Wilson intervals as error bars.

    Args:
        probabilities: `aggregate.consolidation_probabilities`, in the order to draw (top first).
        info: the run's scenario facts.

    Returns:
        A figure whose first trace is the bars (x = probability, ids = grouping keys).

    """
    ticks = [grouping_tick(info, g) for g in probabilities["grouping"]]
    p = probabilities["probability"].to_numpy()
    low, high = probabilities["ci_low"].to_numpy(), probabilities["ci_high"].to_numpy()
    names = [info.grouping(g).name for g in probabilities["grouping"]]
    figure = go.Figure()
    figure.add_bar(
        x=p, y=ticks, ids=probabilities["grouping"].tolist(), orientation="h",
        name="probability", marker_color=BLUE,
        error_x={"type": "data", "array": high - p, "arrayminus": p - low, "color": "#333333",
                 "thickness": 1.5, "width": 6},
        customdata=list(zip(names, probabilities["consolidated"],
                            probabilities["replications"], low, high, strict=True)),
        hovertemplate=("%{customdata[0]}<br>P = %{x:.3f} (%{customdata[1]} of "
                       "%{customdata[2]} runs)<br>95% interval [%{customdata[3]:.3f}, "
                       "%{customdata[4]:.3f}]<extra></extra>"),
        showlegend=False,
    )
    figure.add_scatter(
        x=high, y=ticks, mode="text", textposition="middle right", showlegend=False,
        text=[f"  {v:.3f}  [{a:.3f}, {b:.3f}]" for v, a, b in zip(p, low, high, strict=True)],
        textfont={"size": 13}, hoverinfo="skip", name="labels",
    )
    runs = int(probabilities["replications"].max()) if len(probabilities) else 0
    base_layout(
        figure,
        f"Probability that each grouping consolidates into a formal alliance by {info.end}",
        f"Share of {runs:,} runs in which the grouping consolidated; whiskers and brackets: "
        f"95% Wilson interval",
        height=120 + 62 * len(probabilities),
    )
    figure.update_xaxes(title_text="probability of consolidation (share of runs)",
                        range=[0, 1.22], tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0],
                        tickformat=".1f")
    figure.update_yaxes(title_text=None, autorange="reversed", showgrid=False)
    figure.update_layout(bargap=0.35)
    return figure


def timing_figure(timing: pd.DataFrame, summary: pd.DataFrame, info: RunInfo,
                  order: list[str]) -> go.Figure:
    """Small multiples: in how many runs each grouping consolidated in each quarter.

    Args:
        timing: `aggregate.consolidation_timing` (consolidated runs only).
        summary: `aggregate.timing_summary` (runs consolidated, median quarter).
        info: the run's scenario facts.
        order: grouping keys in the order of the panels.

    Returns:
        A figure with one bar trace per grouping (empty when no run consolidated it).

    """
    cols = 2 if len(order) > 1 else 1
    rows = max(1, math.ceil(len(order) / cols))
    by_key = summary.set_index("grouping")
    titles = []
    for key in order:
        row = by_key.loc[key]
        label = info.grouping(key).label
        if row["consolidated"] == 0:
            titles.append(f"<b>{label}</b>: no run consolidated")
        else:
            median = quarter_label(info.start, int(row["median_step"]))
            titles.append(f"<b>{label}</b>: {row['consolidated']:,} of {row['replications']:,} "
                          f"runs, median {median}")
    height = 130 + 210 * rows
    figure = make_subplots(rows=rows, cols=cols, shared_xaxes=True, subplot_titles=titles,
                           vertical_spacing=spacing(60, height), horizontal_spacing=0.07)
    quarters = info.quarters
    for index, key in enumerate(order):
        r, c = index // cols + 1, index % cols + 1
        runs = timing[timing["grouping"] == key]
        figure.add_bar(x=runs["quarter"], y=runs["runs"], marker_color=BLUE, name=key,
                       showlegend=False, row=r, col=c,
                       hovertemplate=f"{key}<br>%{{x}}: %{{y}} runs consolidated<extra></extra>")
        if runs.empty:
            figure.add_annotation(
                text=f"No run consolidated {info.grouping(key).label} by {info.end}",
                xref="x domain", yref="y domain", x=0.5, y=0.5, showarrow=False,
                font={"color": MUTED_TEXT, "size": 13}, row=r, col=c)
            figure.update_yaxes(range=[0, 1], showticklabels=False, row=r, col=c)
        elif runs["runs"].max() < 6:
            figure.update_yaxes(dtick=1, row=r, col=c)
    add_shock_lines(figure, info.shock_quarters(), info.steps, colour="#444444")
    base_layout(
        figure,
        "When consolidation happens: the quarter each grouping became a formal alliance",
        "Number of runs consolidating in each quarter (only runs that consolidated): the "
        f"quarter in which the level had stayed ≥ {info.consolidation_level:g}, every core "
        f"member committed ≥ {info.consolidation_commitment:g}, for "
        f"{info.consolidation_quarters} quarters",
        height=height,
    )
    figure.update_xaxes(**year_ticks(quarters, every=2 if cols > 1 else 1))
    figure.update_xaxes(title_text="quarter of consolidation", row=rows)
    if len(order) % cols and rows > 1:
        figure.update_xaxes(title_text="quarter of consolidation", showticklabels=True,
                            row=rows - 1, col=cols)
    figure.update_yaxes(title_text="runs", rangemode="tozero", col=1)
    figure.update_yaxes(rangemode="tozero", tickformat="d")
    figure.update_annotations(font_size=13, selector={"yref": "paper"})
    if info.shocks:
        legend_on_top(figure)
    return figure


def blocker_figure(shares: pd.DataFrame, info: RunInfo, order: list[str]) -> go.Figure:
    """Stacked horizontal bars: the share of runs in which each state blocked each grouping.

    Args:
        shares: `aggregate.blocker_shares` (shares per grouping sum to 1).
        info: the run's scenario facts.
        order: grouping keys from top to bottom.

    Returns:
        A figure with one bar trace per blocker category (ids = grouping keys); the consolidated
        share comes first.

    """
    totals = shares.groupby("blocker")["share"].sum()
    states = [b for b in totals.sort_values(ascending=False, kind="stable").index
              if b not in (CONSOLIDATED, UNRECORDED)]
    categories = [c for c in (CONSOLIDATED, *states, UNRECORDED) if c in totals.index]
    ticks = [grouping_tick(info, g) for g in order]
    table = shares.pivot_table(index="grouping", columns="blocker", values="share",
                               aggfunc="sum", fill_value=0.0).reindex(order, fill_value=0.0)
    counts = shares.pivot_table(index="grouping", columns="blocker", values="runs",
                                aggfunc="sum", fill_value=0).reindex(order, fill_value=0)
    figure = go.Figure()
    for index, category in enumerate(categories):
        values = table[category].to_numpy()
        if category in (CONSOLIDATED, UNRECORDED):
            colour, name = (NEUTRAL if category == CONSOLIDATED else "#888888"), category
        else:
            colour, name = category_colour(index - 1), info.state_label(category)
        figure.add_bar(
            x=values, y=ticks, ids=list(order), orientation="h", name=name,
            marker_color=colour,
            marker_line={"color": "white", "width": 1},
            text=[f"{v:.0%}" if v >= 0.06 else "" for v in values], textposition="inside",
            insidetextanchor="middle",
            textfont={"color": text_on(colour), "size": 12},
            customdata=counts[category].to_numpy(),
            hovertemplate=f"{name}<br>%{{x:.1%}} of runs (%{{customdata}})<extra></extra>",
        )
    base_layout(
        figure,
        "Who holds each grouping back: the blocking member, as a share of runs",
        "Blocker = the core member with the lowest commitment while the weakest-link rule held "
        "the level down; grey: runs in which the grouping consolidated",
        height=140 + 62 * len(order),
    )
    figure.update_layout(barmode="stack", bargap=0.35, legend_traceorder="normal")
    legend_on_top(figure, top_margin=135)
    figure.update_xaxes(title_text="share of runs", range=[0, 1], tickformat=".0%")
    figure.update_yaxes(autorange="reversed", showgrid=False)
    return figure
