"""Figures of a sweep: probability surfaces, parallel coordinates and per-axis effects."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from blocsim.dashboards.labels import series_colour
from blocsim.dashboards.style import (
    HEATMAP_SCALE,
    base_layout,
    legend_on_top,
    rgba,
    spacing,
)
from blocsim.dashboards.sweep_info import AxisInfo, SweepInfo

PROBABILITY = "P(consolidation)"

_COLORBAR = {"title": {"text": PROBABILITY, "side": "right"},
             "tickvals": [0, 0.25, 0.5, 0.75, 1], "tickformat": ".2f", "thickness": 16,
             "outlinewidth": 0}


def cell_label(x: float, low: float, high: float) -> str:
    """A category label of a surface axis: the level itself, or a bin's range of values."""
    if low == high:
        return f"{x:.3g}"
    digits = 2 if high - low >= 0.05 else 3
    return f"{low:.{digits}f}–{high:.{digits}f}"


def _subplot_title(info: SweepInfo, key: str) -> str:
    grouping = info.base.grouping(key)
    if grouping.name in (grouping.key, grouping.label):
        return f"<b>{grouping.label}</b>"
    return f"<b>{grouping.label}</b>: {grouping.name}"


def _grid(count: int, wide: int = 3) -> tuple[int, int]:
    cols = 1 if count == 1 else 2 if count in (2, 4) else wide
    return math.ceil(count / cols), cols


def surface_figure(cells: pd.DataFrame, info: SweepInfo, x_axis: AxisInfo, y_axis: AxisInfo,
                   order: list[str], pooled_note: str) -> go.Figure:
    """Small multiples: one heatmap of P(consolidation) over two axes per grouping.

    Args:
        cells: `sweep_aggregate.surface` for these two axes.
        info: the sweep's facts.
        x_axis: the axis across.
        y_axis: the axis up.
        order: grouping keys, in the order of the panels.
        pooled_note: how the other axes were treated, for the subtitle.

    Returns:
        A figure with one heatmap trace per grouping (name = grouping key; z[row][col] for
        y bin `row` and x bin `col`), sharing one colour axis fixed to 0-1.

    """
    rows, cols = _grid(len(order))
    x_bins = cells.drop_duplicates("x_bin").sort_values("x_bin")
    y_bins = cells.drop_duplicates("y_bin").sort_values("y_bin")
    x_labels = [cell_label(r.x, r.x_low, r.x_high) for r in x_bins.itertuples()]
    y_labels = [cell_label(r.y, r.y_low, r.y_high) for r in y_bins.itertuples()]
    show_text = len(x_labels) * len(y_labels) <= 80
    panel = 300 if len(y_labels) <= 8 else 360
    height = 190 + panel * rows
    figure = make_subplots(rows=rows, cols=cols, shared_xaxes=True, shared_yaxes=True,
                           subplot_titles=[_subplot_title(info, k) for k in order],
                           vertical_spacing=spacing(70, height), horizontal_spacing=0.035)
    for index, key in enumerate(order):
        mine = cells[cells["grouping"] == key]
        z = np.full((len(y_labels), len(x_labels)), np.nan)
        custom = np.empty((len(y_labels), len(x_labels), 4), dtype=object)
        for r in mine.itertuples():
            z[r.y_bin, r.x_bin] = r.probability
            custom[r.y_bin, r.x_bin] = (r.ci_low, r.ci_high, r.replications, r.points)
        figure.add_heatmap(
            z=z, x=x_labels, y=y_labels, coloraxis="coloraxis", name=key, xgap=1, ygap=1,
            customdata=custom, texttemplate="%{z:.2f}" if show_text else None,
            textfont={"size": 11},
            hovertemplate=(f"<b>{key}</b><br>{x_axis.label}: %{{x}}<br>{y_axis.label}: %{{y}}"
                           f"<br>{PROBABILITY} = %{{z:.3f}} [%{{customdata[0]:.3f}}, "
                           "%{customdata[1]:.3f}]<br>%{customdata[2]} runs at "
                           "%{customdata[3]} point(s)<extra></extra>"),
            row=index // cols + 1, col=index % cols + 1)
    base_layout(
        figure,
        f"Where each grouping consolidates: {PROBABILITY} over {x_axis.label} and "
        f"{y_axis.label}",
        f"Colour: share of runs that consolidated (0–1, same scale in every panel); "
        f"{pooled_note}. Hover a cell for its 95% interval and number of runs",
        height=height,
    )
    figure.update_layout(
        coloraxis={"colorscale": HEATMAP_SCALE, "cmin": 0, "cmax": 1,
                   "colorbar": {**_COLORBAR, "len": min(1.0, 420 / height), "y": 1,
                                "yanchor": "top"}},
        margin={"t": 120, "r": 40})
    figure.update_xaxes(type="category", showgrid=False, ticks="")
    figure.update_yaxes(type="category", showgrid=False, ticks="")
    figure.update_xaxes(title_text=x_axis.label, row=rows)
    if len(order) % cols and rows > 1:
        for col in range(len(order) % cols + 1, cols + 1):
            figure.update_xaxes(title_text=x_axis.label, showticklabels=True, row=rows - 1,
                                col=col)
    figure.update_yaxes(title_text=y_axis.label, col=1)
    figure.update_annotations(font={"size": 13}, selector={"yref": "paper"})
    return figure


def parallel_figure(probabilities: pd.DataFrame, points: pd.DataFrame, info: SweepInfo,
                    grouping: str) -> go.Figure:
    """Parallel coordinates: one line per design point across every axis, coloured by outcome.

    Args:
        probabilities: `point_probabilities(outcomes, points)`.
        points: the design (column `point` and one column per axis).
        info: the sweep's facts.
        grouping: the grouping whose P(consolidation) colours the lines and ends each line.

    Returns:
        A figure with one Parcoords trace: one dimension per axis (in the sweep's order), then
        the outcome dimension.

    """
    label = info.base.grouping(grouping).label
    outcome = (probabilities[probabilities["grouping"] == grouping]
               .set_index("point")["probability"])
    design = points.set_index("point").loc[outcome.index]
    dimensions = []
    for axis in info.axes:
        values = design[axis.path].astype(float)
        low, high = axis.range if axis.range is not None else (values.min(), values.max())
        if low == high:
            low, high = low - 0.5, high + 0.5
        dimensions.append({"label": axis.name.short, "values": values.to_numpy(),
                           "range": [float(low), float(high)]})
    dimensions.append({"label": f"<b>P({label} consolidates)</b>", "values": outcome.to_numpy(),
                       "range": [0, 1], "tickvals": [0, 0.25, 0.5, 0.75, 1]})
    figure = go.Figure(go.Parcoords(
        dimensions=dimensions, name=grouping,
        line={"color": outcome.to_numpy(), "colorscale": HEATMAP_SCALE, "cmin": 0, "cmax": 1,
              "showscale": True, "colorbar": {**_COLORBAR, "title": {
                  "text": f"P({label})", "side": "right"}, "len": 0.8, "x": 0.97}},
        domain={"x": [0.0, 0.92]}, labelangle=-22 if len(dimensions) > 5 else 0,
        labelside="top", labelfont={"size": 12}, tickfont={"size": 11},
        rangefont={"size": 1, "color": "rgba(0,0,0,0)"}))
    base_layout(
        figure,
        f"Every design point across all axes, coloured by P({label} consolidates)",
        f"One line per design point ({len(outcome):,}); drag along an axis to keep only the "
        f"points in that range, click outside the selection to clear it",
        height=560,
    )
    tilted = len(dimensions) > 5
    figure.update_layout(margin={"l": 150 if tilted else 120, "r": 40,
                                 "t": 230 if tilted else 170, "b": 40})
    return figure


def effect_figure(effects: pd.DataFrame, info: SweepInfo, order: list[str],
                  binned: dict[str, bool]) -> go.Figure:
    """Small multiples: P(consolidation) of every grouping against each axis, with intervals.

    Args:
        effects: `sweep_aggregate.axis_effects`.
        info: the sweep's facts.
        order: grouping keys, in legend order.
        binned: per axis path, whether its values were binned (sampled axes).

    Returns:
        A figure with one line trace per (axis, grouping), name = grouping key, meta = axis
        path; y = pooled probability, error bars = the Wilson interval of the pooled runs.

    """
    paths = [a.path for a in info.axes]
    rows, cols = _grid(len(paths), wide=3)
    height = 190 + 300 * rows
    figure = make_subplots(rows=rows, cols=cols, shared_yaxes=True,
                           subplot_titles=[f"<b>{info.axis(p).label}</b>" for p in paths],
                           vertical_spacing=spacing(95, height), horizontal_spacing=0.04)
    colours = {key: series_colour(i) for i, key in enumerate(order)}
    for index, path in enumerate(paths):
        r, c = index // cols + 1, index % cols + 1
        axis = info.axis(path)
        for key in order:
            mine = effects[(effects["axis"] == path) & (effects["grouping"] == key)]
            mine = mine.sort_values("x")
            p = mine["probability"].to_numpy()
            ranges = [cell_label(x, lo, hi) for x, lo, hi in
                      zip(mine["x"], mine["low"], mine["high"], strict=True)]
            figure.add_scatter(
                x=mine["x"], y=p, mode="lines+markers", name=info.base.grouping(key).label,
                legendgroup=key, showlegend=index == 0, meta=path,
                line={"color": colours[key], "width": 2}, marker={"size": 6},
                error_y={"type": "data", "array": mine["ci_high"].to_numpy() - p,
                         "arrayminus": p - mine["ci_low"].to_numpy(),
                         "color": rgba(colours[key], 0.55), "thickness": 1.2, "width": 3},
                customdata=list(zip(ranges, mine["ci_low"], mine["ci_high"],
                                    mine["replications"], mine["points"], strict=True)),
                hovertemplate=(f"<b>{info.base.grouping(key).label}</b><br>{axis.label}: "
                               "%{customdata[0]}<br>P = %{y:.3f} [%{customdata[1]:.3f}, "
                               "%{customdata[2]:.3f}]<br>%{customdata[3]} runs at "
                               "%{customdata[4]} point(s)<extra></extra>"),
                row=r, col=c)
        title = ("axis value (mean of each quantile bin)" if binned.get(path)
                 else "axis value")
        figure.update_xaxes(title_text=title, row=r, col=c, title_font={"size": 12})
    base_layout(
        figure,
        f"How each axis moves {PROBABILITY}, the other axes averaged over",
        "Pooled share of runs that consolidated at each value (grid) or in each quantile bin "
        "(sampled design) of the axis, whatever the other axes; whiskers: 95% Wilson interval "
        "of the pooled runs",
        height=height,
    )
    legend_on_top(figure, top_margin=150)
    figure.update_yaxes(range=[-0.03, 1.03], tickformat=".1f")
    figure.update_yaxes(title_text=PROBABILITY, col=1)
    figure.update_annotations(font={"size": 13}, selector={"yref": "paper"})
    return figure

