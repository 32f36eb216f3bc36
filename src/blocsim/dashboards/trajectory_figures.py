"""Figures of the groupings' paths over time: institutional level and members' commitment."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from blocsim.dashboards.run_info import RunInfo
from blocsim.dashboards.style import (
    BLUE,
    HEATMAP_SCALE,
    VERMILLION,
    add_shock_lines,
    base_layout,
    ladder_yaxis,
    legend_on_top,
    rgba,
    spacing,
    year_ticks,
)

BAND_90 = "90% of runs"
BAND_50 = "50% of runs"
MEDIAN = "median run"


def _title(info: RunInfo, key: str) -> str:
    """A subplot title: the grouping's label in bold, then its long name if it differs."""
    grouping = info.grouping(key)
    if grouping.name in (grouping.key, grouping.label):
        return f"<b>{grouping.label}</b>"
    return f"<b>{grouping.label}</b>: {grouping.name}"


def _fan(figure: go.Figure, fan: pd.DataFrame, row: int, col: int, legend: bool) -> None:
    """Draw one grouping's 90% band, 50% band and median into a subplot."""
    x = fan["quarter"].tolist()
    for low, high, name, alpha in (("q05", "q95", BAND_90, 0.18), ("q25", "q75", BAND_50, 0.38)):
        figure.add_scatter(x=x, y=fan[low], mode="lines", line={"width": 0},
                           showlegend=False, hoverinfo="skip", legendgroup=name, row=row,
                           col=col)
        figure.add_scatter(x=x, y=fan[high], mode="lines", line={"width": 0}, fill="tonexty",
                           fillcolor=rgba(BLUE, alpha), name=name, legendgroup=name,
                           showlegend=legend, customdata=fan[low],
                           hovertemplate=(f"{name}: %{{customdata:.2f}} to %{{y:.2f}}"
                                          "<extra></extra>"),
                           row=row, col=col)
    figure.add_scatter(x=x, y=fan["q50"], mode="lines", line={"color": BLUE, "width": 2.5},
                       name=MEDIAN, legendgroup=MEDIAN, showlegend=legend,
                       hovertemplate="%{x}<br>median level %{y:.2f}<extra></extra>",
                       row=row, col=col)


def level_fan_figure(fans: pd.DataFrame, info: RunInfo, order: list[str]) -> go.Figure:
    """Small multiples: each grouping's institutional level over time, median and bands.

    Args:
        fans: `aggregate.level_fans` (q05, q25, q50, q75, q95 per grouping and step).
        info: the run's scenario facts.
        order: grouping keys in the order of the panels.

    Returns:
        A figure with, per grouping, five traces: the 90% band's edges, the 50% band's edges
        and the median (the fifth, named `MEDIAN`).

    """
    cols = 2 if len(order) > 1 else 1
    rows = max(1, math.ceil(len(order) / cols))
    height = 150 + 250 * rows
    titles = [_title(info, k) for k in order]
    figure = make_subplots(rows=rows, cols=cols, shared_xaxes=True, shared_yaxes=True,
                           subplot_titles=titles, vertical_spacing=spacing(55, height),
                           horizontal_spacing=0.03)
    for index, key in enumerate(order):
        r, c = index // cols + 1, index % cols + 1
        fan = fans[fans["grouping"] == key].sort_values("step")
        _fan(figure, fan, r, c, legend=index == 0)
        figure.add_hline(y=info.consolidation_level, line={"color": VERMILLION, "width": 1,
                                                            "dash": "dot"}, row=r, col=c)
    figure.add_scatter(x=[None], y=[None], mode="lines", name="consolidation threshold",
                       line={"color": VERMILLION, "width": 1, "dash": "dot"}, hoverinfo="skip")
    add_shock_lines(figure, info.shock_quarters(), info.steps, colour="#444444")
    base_layout(
        figure,
        "How far each grouping climbs the institutional ladder, quarter by quarter",
        "Institutional level across runs: line = median run, dark band = middle 50% of runs, "
        f"light band = middle 90%; dotted line = level {info.consolidation_level:g} needed to "
        "consolidate",
        height=height,
    )
    legend_on_top(figure)
    ladder_yaxis(figure)
    figure.update_xaxes(**year_ticks(info.quarters, every=2 if cols > 1 else 1))
    figure.update_xaxes(title_text="quarter", row=rows)
    if len(order) % cols and rows > 1:
        figure.update_xaxes(title_text="quarter", showticklabels=True, row=rows - 1, col=cols)
    return figure


def _member_rows(info: RunInfo, key: str, present: set[str]) -> list[tuple[str, str]]:
    """(code, label) of a grouping's core members then observers, as far as the data has them."""
    grouping = info.grouping(key)
    rows = [(code, info.state_label(code)) for code in grouping.members if code in present]
    rows += [(code, f"{info.state_label(code)} (observer)") for code in grouping.observers
             if code in present]
    listed = {code for code, _ in rows}
    rows += [(code, info.state_label(code)) for code in sorted(present - listed)]
    return rows


def commitment_heatmap_figure(means: pd.DataFrame, info: RunInfo,
                              order: list[str]) -> go.Figure:
    """One heatmap per grouping: each member's mean commitment (0-1) in each quarter.

    Args:
        means: `aggregate.mean_commitments` (mean commitment per grouping, state and step).
        info: the run's scenario facts.
        order: grouping keys from top to bottom.

    Returns:
        A figure with one heatmap trace per grouping (rows: members then observers; columns:
        quarters) sharing one colour axis from 0 to 1.

    """
    quarters = info.quarters
    blocks = []
    for key in order:
        table = means[means["grouping"] == key]
        members = _member_rows(info, key, set(table["state"]))
        blocks.append((key, table, members))
    state_rows = sum(max(1, len(m)) for _, _, m in blocks)
    height = 160 + 26 * state_rows + 62 * len(blocks)
    figure = make_subplots(
        rows=len(blocks), cols=1, shared_xaxes=True,
        row_heights=[max(1, len(m)) for _, _, m in blocks],
        vertical_spacing=spacing(48, height),
        subplot_titles=[_title(info, k) for k, _, _ in blocks])
    for index, (key, table, members) in enumerate(blocks):
        grid = (table.pivot_table(index="state", columns="quarter", values="commitment",
                                  observed=True)
                .reindex(index=[code for code, _ in members], columns=quarters))
        figure.add_heatmap(
            z=grid.to_numpy(), x=quarters, y=[label for _, label in members],
            coloraxis="coloraxis", name=key, xgap=0, ygap=1,
            hovertemplate=(f"{key}<br>%{{y}}<br>%{{x}}: mean commitment %{{z:.2f}}"
                           "<extra></extra>"),
            row=index + 1, col=1)
    add_shock_lines(figure, info.shock_quarters(), info.steps, colour="white", legend=False)
    shocks = ", ".join(quarter for _, quarter in info.shock_quarters())
    base_layout(
        figure,
        "How committed each member is to each grouping, quarter by quarter",
        "Mean commitment across runs (0 = none, 1 = full); the weakest core member caps the "
        "grouping's level" + (f"; white dashes: shocks ({shocks})" if shocks else ""),
        height=height,
    )
    figure.update_layout(
        coloraxis={"colorscale": HEATMAP_SCALE, "cmin": 0, "cmax": 1,
                   "colorbar": {"title": {"text": "commitment", "side": "right"},
                                "tickvals": [0, 0.25, 0.5, 0.75, 1], "len": 0.6, "y": 1,
                                "yanchor": "top", "thickness": 16,
                                "outlinewidth": 0}},
        margin={"l": 170, "r": 40})
    figure.update_xaxes(**year_ticks(quarters), showgrid=False)
    figure.update_xaxes(title_text="quarter", row=len(blocks))
    figure.update_yaxes(autorange="reversed", showgrid=False, ticks="")
    figure.update_annotations(font={"color": "#222222"})
    return figure
