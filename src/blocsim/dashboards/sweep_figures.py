"""Figures of a sweep: probability surfaces, parallel coordinates and per-axis effects.

Each marks the base scenario's own value ("you are here").
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from blocsim.dashboards.read import Axis, SweepData
from blocsim.dashboards.style import (
    HEATMAP_SCALE,
    base_layout,
    bottom_axes,
    here_line,
    rgba,
    series_colour,
    small_multiples,
)

PROBABILITY = "P(consolidation)"
HERE = "this scenario"
COLORBAR = {"title": {"text": PROBABILITY, "side": "right"}, "tickvals": [0, 0.25, 0.5, 0.75, 1],
            "tickformat": ".2f", "thickness": 16, "outlinewidth": 0}


def cell_label(x: float, low: float, high: float) -> str:
    """A category label of a surface axis: the level itself, or a bin's range of values."""
    if low == high:
        return f"{x:.3g}"
    digits = 2 if high - low >= 0.05 else 3
    return f"{low:.{digits}f}–{high:.{digits}f}"


def _here_cell(bins: pd.DataFrame, prefix: str, here: float | None) -> int | None:
    """The index of the bin holding the scenario's value (the nearest bin when none holds it)."""
    if here is None or bins.empty:
        return None
    low, high = bins[f"{prefix}_low"].to_numpy(), bins[f"{prefix}_high"].to_numpy()
    inside = np.flatnonzero((low - 1e-9 <= here) & (here <= high + 1e-9))
    centre = bins[prefix].to_numpy()
    return int(inside[0]) if len(inside) else int(np.argmin(np.abs(centre - here)))


def surface_figure(cells: pd.DataFrame, data: SweepData, x_axis: Axis, y_axis: Axis,
                   order: list[str], pooled_note: str) -> go.Figure:
    """One heatmap of P(consolidation) over two axes per grouping, on one 0-1 colour scale.

    Traces: a heatmap per grouping (name = key; z[y bin][x bin]) and the base scenario's cell
    ringed in white.
    """
    x_bins = cells.drop_duplicates("x_bin").sort_values("x_bin")
    y_bins = cells.drop_duplicates("y_bin").sort_values("y_bin")
    x_labels = [cell_label(r.x, r.x_low, r.x_high) for r in x_bins.itertuples()]
    y_labels = [cell_label(r.y, r.y_low, r.y_high) for r in y_bins.itertuples()]
    here_x, here_y = _here_cell(x_bins, "x", x_axis.here), _here_cell(y_bins, "y", y_axis.here)
    figure, panels = small_multiples([data.facts.title(k) for k in order],
                                     280 if len(y_labels) <= 8 else 340, gap=75, top=120,
                                     shared_xaxes=True, shared_yaxes=True,
                                     horizontal_spacing=0.05)
    for index, (key, (r, c)) in enumerate(zip(order, panels, strict=True)):
        mine = cells[cells["grouping"] == key]
        z = np.full((len(y_labels), len(x_labels)), np.nan)
        custom = np.empty((len(y_labels), len(x_labels), 4), dtype=object)
        for cell in mine.itertuples():
            z[cell.y_bin, cell.x_bin] = cell.probability
            custom[cell.y_bin, cell.x_bin] = (cell.ci_low, cell.ci_high, cell.replications,
                                              cell.points)
        figure.add_heatmap(
            z=z, x=x_labels, y=y_labels, coloraxis="coloraxis", name=key, xgap=1, ygap=1,
            customdata=custom, texttemplate="%{z:.2f}" if z.size <= 80 else None,
            hovertemplate=(f"%{{x}} × %{{y}}<br>{PROBABILITY} = %{{z:.3f}} [%{{customdata[0]:.3f}}"
                           ", %{customdata[1]:.3f}]<br>%{customdata[2]} runs at %{customdata[3]} "
                           "point(s)<extra></extra>"), row=r, col=c)
        if here_x is not None and here_y is not None:
            figure.add_scatter(x=[x_labels[here_x]], y=[y_labels[here_y]], mode="markers",
                               name=f"{HERE} ({x_axis.here:.2f}, {y_axis.here:.2f})",
                               legendgroup=HERE, showlegend=index == 0, hoverinfo="name",
                               marker={"symbol": "circle-open", "size": 38,
                                       "color": "white", "line": {"width": 3}},
                               row=r, col=c)
    base_layout(figure, "Where each grouping consolidates",
                f"{PROBABILITY} over {x_axis.label} (across) and {y_axis.label} (up): share of "
                f"runs that consolidated (0–1, same scale in every panel); {pooled_note}; ○ the "
                "base scenario's own values", figure.layout.height, legend_top=True, top=120)
    figure.update_layout(coloraxis={"colorscale": HEATMAP_SCALE, "cmin": 0, "cmax": 1,
                                    "colorbar": {**COLORBAR, "len": 0.5, "y": 1,
                                                 "yanchor": "top"}})
    figure.update_xaxes(type="category", showgrid=False, ticks="")
    figure.update_yaxes(type="category", showgrid=False, ticks="")
    bottom_axes(figure, panels, x_axis.label)
    figure.update_yaxes(title_text=y_axis.label, col=1)
    return figure


def probability_scale_top(highest: float) -> float:
    """The top of a probability's colour scale.

    1, or, where no point exceeds 0.5, the highest probability rounded up to the next 0.05 (at
    least 0.05), so that a grouping whose P stays below 0.2 does not read all dark on a scale to 1.
    """
    if highest > 0.5:
        return 1.0
    return max(math.ceil(round(highest * 20, 9)) / 20, 0.05)


def parallel_figure(data: SweepData, grouping: str) -> go.Figure:
    """One Parcoords trace: a dimension per axis (sweep order), then the grouping's P."""
    label = data.facts.label(grouping)
    probabilities = data.probabilities
    outcome = (probabilities[probabilities["grouping"] == grouping]
               .set_index("point")["probability"])
    design = data.points.set_index("point").loc[outcome.index]
    dimensions = []
    for axis in data.axes:
        values = design[axis.path].astype(float)
        low, high = axis.range or (values.min(), values.max())
        low, high = (low - 0.5, high + 0.5) if low == high else (low, high)
        dimensions.append({"label": axis.name.short, "values": values.to_numpy(),
                           "range": [float(low), float(high)]})
    top = probability_scale_top(float(outcome.max()) if len(outcome) else 0.0)
    step = 0.25 if top == 1 else 0.1 if top > 0.25 else 0.05 if top > 0.05 else 0.01
    dimensions.append({"label": f"<b>P({label})</b>", "values": outcome.to_numpy(),
                       "range": [0, top], "tickvals": [round(step * k, 2) for k in
                                                       range(round(top / step) + 1)]})
    tilted = len(dimensions) > 5
    scale_note = ("" if top == 1 else
                  f"; P is 0 at every point (colours and P axis to {top:g})" if outcome.max() == 0
                  else f"; the colours and the P axis end at {top:g}, near the highest P")
    figure = go.Figure(go.Parcoords(
        dimensions=dimensions, name=grouping, domain={"x": [0.0, 0.92]},
        line={"color": outcome.to_numpy(), "colorscale": HEATMAP_SCALE, "cmin": 0, "cmax": top,
              "showscale": True, "colorbar": {**COLORBAR, "title": {"text": f"P({label})"},
                                              "len": 0.8, "x": 0.97}},
        labelangle=-22 if tilted else 0, labelside="top", labelfont={"size": 12},
        rangefont={"size": 1, "color": "rgba(0,0,0,0)"}))
    base_layout(figure, f"Every design point across all axes, coloured by P({label} "
                "consolidates)", f"One line per design point ({len(outcome):,}); drag along an "
                f"axis to keep only the points in that range{scale_note}", 560)
    figure.update_layout(margin={"l": 150 if tilted else 120, "r": 40,
                                 "t": 230 if tilted else 170, "b": 40})
    return figure


def effect_figure(effects: pd.DataFrame, data: SweepData, order: list[str],
                  binned: dict[str, bool]) -> go.Figure:
    """P(consolidation) of every grouping against each axis, pooled over the other axes.

    One line per (axis, grouping): name = label, meta = axis path; the base value marked.
    """
    figure, panels = small_multiples([a.label for a in data.axes], 260, gap=95,
                                     shared_yaxes=True, horizontal_spacing=0.05)
    for index, (axis, (r, c)) in enumerate(zip(data.axes, panels, strict=True)):
        for number, key in enumerate(order):
            mine = effects[(effects["axis"] == axis.path) & (effects["grouping"] == key)]
            mine = mine.sort_values("x")
            p, colour = mine["probability"].to_numpy(), series_colour(number)
            figure.add_scatter(
                x=mine["x"], y=p, mode="lines+markers", name=data.facts.label(key), meta=axis.path,
                legendgroup=key, showlegend=index == 0, line={"color": colour, "width": 2},
                error_y={"type": "data", "array": mine["ci_high"].to_numpy() - p,
                         "arrayminus": p - mine["ci_low"].to_numpy(),
                         "color": rgba(colour, 0.55), "thickness": 1.2, "width": 3},
                customdata=np.column_stack([mine["ci_low"], mine["ci_high"],
                                            mine["replications"]]),
                hovertemplate=("%{x:.3g}: P = %{y:.3f} [%{customdata[0]:.3f}, "
                               "%{customdata[1]:.3f}], %{customdata[2]} runs<extra></extra>"),
                row=r, col=c)
        here_line(figure, axis.here, f"scenario {axis.here:.2f}" if axis.here is not None
                  else "", row=r, col=c)
        figure.update_xaxes(title_text="axis value (bin means)" if binned.get(axis.path)
                            else "axis value", title_font={"size": 12}, row=r, col=c)
    base_layout(figure, f"How each axis moves {PROBABILITY}, the other axes averaged over",
                "Pooled share of runs that consolidated at each value (grid) or quantile bin "
                "(sampled design); whiskers: 95% Wilson interval; dotted: the base scenario's "
                "value", figure.layout.height, legend_top=True)
    figure.update_yaxes(range=[-0.03, 1.03], tickformat=".1f")
    figure.update_yaxes(title_text=PROBABILITY, col=1)
    return figure
