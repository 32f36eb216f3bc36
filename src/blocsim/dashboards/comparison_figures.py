"""Figures comparing named scenarios: probabilities side by side and median level paths."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from blocsim.dashboards.labels import series_colour
from blocsim.dashboards.run_info import GroupingInfo
from blocsim.dashboards.style import (
    base_layout,
    ladder_yaxis,
    legend_on_top,
    spacing,
    year_ticks,
)

THRESHOLD = "#555555"
"""The consolidation threshold's colour: grey, so no scenario's colour is mistaken for it."""

DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
"""Line styles per scenario, so lines that coincide stay distinguishable where they part."""


def scenario_styles(labels: list[str]) -> dict[str, tuple[str, str]]:
    """(colour, dash) of each scenario, in page order."""
    return {label: (series_colour(i), DASHES[i % len(DASHES)]) for i, label in enumerate(labels)}


def grouping_tick(grouping: GroupingInfo) -> str:
    """A two-line axis label: the grouping's short label in bold, its long name below."""
    if grouping.name in (grouping.key, grouping.label):
        return f"<b>{grouping.label}</b>"
    return f"<b>{grouping.label}</b><br><span style='font-size:11px'>{grouping.name}</span>"


def comparison_probability_figure(probabilities: pd.DataFrame, scenarios: list[str],
                                  groupings: dict[str, GroupingInfo], order: list[str],
                                  end: str) -> go.Figure:
    """Grouped horizontal bars: P(consolidation) per grouping, one bar per scenario, with CIs.

    Args:
        probabilities: `comparison_aggregate.scenario_probabilities`.
        scenarios: scenario labels in page order (one trace each, same order).
        groupings: grouping key to its facts (from any scenario that defines it).
        order: grouping keys from top to bottom.
        end: the last quarter simulated, for the title.

    Returns:
        A figure with one bar trace per scenario (name = scenario label, ids = grouping keys,
        x = probability, error bars = 95% Wilson interval).

    """
    styles = scenario_styles(scenarios)
    ticks = {key: grouping_tick(groupings[key]) for key in order}
    figure = go.Figure()
    for label in scenarios:
        mine = (probabilities[probabilities["scenario"] == label].set_index("grouping")
                .reindex([k for k in order if k in set(probabilities.loc[
                    probabilities["scenario"] == label, "grouping"])]))
        p = mine["probability"].to_numpy()
        figure.add_bar(
            x=p, y=[ticks[k] for k in mine.index], ids=list(mine.index), orientation="h",
            name=label, marker_color=styles[label][0],
            error_x={"type": "data", "array": mine["ci_high"].to_numpy() - p,
                     "arrayminus": p - mine["ci_low"].to_numpy(), "color": "#333333",
                     "thickness": 1.2, "width": 3},
            customdata=list(zip(mine["consolidated"], mine["replications"], mine["ci_low"],
                                mine["ci_high"], strict=True)),
            hovertemplate=(f"<b>{label}</b><br>%{{y}}<br>P = %{{x:.3f}} (%{{customdata[0]}} "
                           "of %{customdata[1]} runs)<br>95% interval [%{customdata[2]:.3f}, "
                           "%{customdata[3]:.3f}]<extra></extra>"))
    base_layout(
        figure,
        f"Probability that each grouping consolidates into a formal alliance by {end}, "
        "scenario by scenario",
        "Share of runs in which the grouping consolidated; whiskers: 95% Wilson interval. "
        "Bars of one grouping are the scenarios, in the legend's order",
        height=150 + len(order) * (26 * len(scenarios) + 26),
    )
    legend_on_top(figure, top_margin=130)
    figure.update_layout(barmode="group", bargap=0.22, bargroupgap=0.08,
                         legend_traceorder="normal")
    figure.update_xaxes(title_text="probability of consolidation (share of runs)",
                        range=[0, 1.0], tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0], tickformat=".1f")
    figure.update_yaxes(title_text=None, autorange="reversed", showgrid=False,
                        categoryorder="array", categoryarray=[ticks[k] for k in order])
    return figure


def comparison_level_figure(medians: pd.DataFrame, scenarios: list[str],
                            groupings: dict[str, GroupingInfo], order: list[str],
                            quarters: list[str], threshold: float) -> go.Figure:
    """Small multiples: each grouping's median level over time, one line per scenario.

    Args:
        medians: `comparison_aggregate.median_levels`.
        scenarios: scenario labels in page order.
        groupings: grouping key to its facts.
        order: grouping keys, in the order of the panels.
        quarters: every quarter label on the time axis, in order.
        threshold: the consolidation level, drawn as a dotted line.

    Returns:
        A figure with one line trace per (grouping, scenario): name = scenario label,
        meta = grouping key.

    """
    styles = scenario_styles(scenarios)
    cols = 2 if len(order) > 1 else 1
    rows = max(1, math.ceil(len(order) / cols))
    height = 160 + 250 * rows
    titles = []
    for key in order:
        grouping = groupings[key]
        titles.append(f"<b>{grouping.label}</b>" if grouping.name in (key, grouping.label)
                      else f"<b>{grouping.label}</b>: {grouping.name}")
    figure = make_subplots(rows=rows, cols=cols, shared_xaxes=True, shared_yaxes=True,
                           subplot_titles=titles, vertical_spacing=spacing(55, height),
                           horizontal_spacing=0.03)
    for index, key in enumerate(order):
        r, c = index // cols + 1, index % cols + 1
        for label in scenarios:
            line = medians[(medians["scenario"] == label) & (medians["grouping"] == key)]
            if line.empty:
                continue
            line = line.sort_values("step")
            colour, dash = styles[label]
            figure.add_scatter(
                x=line["quarter"], y=line["median"], mode="lines", name=label, meta=key,
                legendgroup=label, showlegend=index == 0,
                line={"color": colour, "width": 2.2, "dash": dash},
                hovertemplate=f"<b>{label}</b><br>%{{x}}: median level %{{y:.2f}}<extra></extra>",
                row=r, col=c)
        figure.add_hline(y=threshold, line={"color": THRESHOLD, "width": 1, "dash": "dot"},
                         row=r, col=c)
    figure.add_scatter(x=[None], y=[None], mode="lines", name="consolidation threshold",
                       line={"color": THRESHOLD, "width": 1, "dash": "dot"}, hoverinfo="skip")
    base_layout(
        figure,
        "How far the typical run climbs the institutional ladder, scenario by scenario",
        "Median institutional level across each scenario's runs; dotted line = level "
        f"{threshold:g} needed to consolidate. Lines that coincide overlap: their dashes tell "
        "them apart",
        height=height,
    )
    legend_on_top(figure)
    ladder_yaxis(figure)
    figure.update_xaxes(**year_ticks(quarters, every=2 if cols > 1 else 1))
    figure.update_xaxes(title_text="quarter", row=rows)
    if len(order) % cols and rows > 1:
        figure.update_xaxes(title_text="quarter", showticklabels=True, row=rows - 1, col=cols)
    return figure
