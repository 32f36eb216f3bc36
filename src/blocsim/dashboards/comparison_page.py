"""The comparison page: scenarios side by side, each read against a reference.

Per grouping, each scenario's probability and its difference from the reference with a 95%
interval (paired by replication when the runs share a seed), a forest plot of those differences,
the median paths, who blocks, and every input that differs with each side's source.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from blocsim.dashboards.aggregate import consolidation_probabilities
from blocsim.dashboards.page import Section, render
from blocsim.dashboards.read import ComparisonData
from blocsim.dashboards.run_figures import tick
from blocsim.dashboards.style import (
    base_layout,
    bottom_axes,
    ladder_yaxis,
    series_colour,
    small_multiples,
    year_ticks,
)

DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
"""Line styles per scenario, so lines that coincide stay distinguishable where they part."""


def _order(data: ComparisonData) -> list[str]:
    """Grouping keys by the reference's probability, then any the reference lacks."""
    table = data.table
    first = table[table["scenario"] == data.reference].sort_values(
        ["probability", "ci_high"], ascending=False, kind="stable")["grouping"].tolist()
    return first + [g for g in dict.fromkeys(table["grouping"]) if g not in first]


def probability_figure(data: ComparisonData, order: list[str]) -> go.Figure:
    """Grouped bars: one trace per scenario (name = label, ids = grouping keys), Wilson whiskers."""
    facts = data.runs[data.reference].facts
    figure = go.Figure()
    for index, label in enumerate(data.runs):
        mine = data.table[data.table["scenario"] == label].set_index("grouping")
        keys = [k for k in order if k in mine.index]
        p = mine.loc[keys, "probability"].to_numpy()
        figure.add_bar(x=p, y=[tick(facts, k) for k in keys], ids=keys, orientation="h",
                       name=label, marker_color=series_colour(index),
                       error_x={"type": "data", "array": mine.loc[keys, "ci_high"].to_numpy() - p,
                                "arrayminus": p - mine.loc[keys, "ci_low"].to_numpy(),
                                "color": "#333333", "thickness": 1.2, "width": 3},
                       hovertemplate=f"{label}<br>%{{y}}: P = %{{x:.3f}}<extra></extra>")
    base_layout(figure, "Probability that each grouping becomes a formal alliance, per scenario",
                "Share of runs that consolidated; whiskers: 95% Wilson interval; bars of a "
                "grouping in the legend's order", 150 + len(order) * (26 * len(data.runs) + 26),
                legend_top=True, top=130)
    figure.update_layout(barmode="group", bargap=0.22, bargroupgap=0.08)
    figure.update_xaxes(title_text="probability of consolidation", range=[0, 1])
    figure.update_yaxes(autorange="reversed", showgrid=False)
    return figure


@dataclass(frozen=True)
class Measure:
    """A quantity the comparison differences: its columns and its words."""

    difference: str
    low: str
    high: str
    title: str
    interval: str
    axis: str


def forest_figure(data: ComparisonData, order: list[str], measure: Measure) -> go.Figure:
    """Forest plot of each scenario's difference from the reference, per grouping.

    One marker trace per scenario (name = label, ids = keys), its 95% interval as whiskers.
    """
    facts = data.runs[data.reference].facts
    others = [label for label in data.runs if label != data.reference]
    figure = go.Figure()
    for index, label in enumerate(others, 1):
        mine = data.table[data.table["scenario"] == label].set_index("grouping")
        keys = [k for k in order
                if k in mine.index and not np.isnan(mine.loc[k, measure.difference])]
        d = mine.loc[keys, measure.difference].to_numpy()
        figure.add_scatter(
            x=d, y=[tick(facts, k) for k in keys], ids=keys, mode="markers", name=label,
            orientation="h",
            marker={"color": series_colour(index), "size": 11, "symbol": "diamond"},
            error_x={"type": "data", "array": mine.loc[keys, measure.high].to_numpy() - d,
                     "arrayminus": d - mine.loc[keys, measure.low].to_numpy(),
                     "color": series_colour(index), "thickness": 2, "width": 5},
            hovertemplate=f"{label}<br>%{{y}}: %{{x:+.3f}}<extra></extra>")
    figure.add_vline(x=0, line={"color": "#555555", "width": 1.2})
    how = "paired by replication (same seed)" if data.paired else "unpaired (different seeds)"
    base_layout(figure, f"{measure.title}, against {data.reference}",
                f"{measure.interval}, {how}; a whisker that crosses zero is within the noise",
                150 + len(order) * (22 * len(others) + 30), legend_top=True, top=130)
    figure.update_layout(scattermode="group")
    figure.update_xaxes(title_text=measure.axis.format(reference=data.reference),
                        zeroline=False)
    figure.update_yaxes(type="category", autorange="reversed")
    return figure


PROBABILITY = Measure("difference", "diff_low", "diff_high",
                      "How each scenario changes the probability",
                      "Difference in P(consolidation) with its 95% interval",
                      "P(scenario) − P({reference})")
LEVEL = Measure("level_difference", "level_low", "level_high",
                "How each scenario changes how far each grouping climbs",
                "Difference in the mean final level (0 dormant to 4 formal alliance) with its 95% "
                "interval", "mean final level: scenario − {reference}")


def level_figure(data: ComparisonData, order: list[str]) -> go.Figure:
    """Per grouping, the median level over time, one line per scenario (meta = grouping key)."""
    facts = data.runs[data.reference].facts
    figure, cells = small_multiples([facts.title(k) for k in order], 230, gap=55,
                                    shared_xaxes=True, shared_yaxes=True,
                                    horizontal_spacing=0.03)
    quarters = sorted({q for run in data.runs.values() for q in run.facts.quarters})
    for index, (label, run) in enumerate(data.runs.items()):
        levels = run.tables["levels"]
        medians = levels.groupby(["grouping", "step"], observed=True)["level"].median()
        for number, (key, (r, c)) in enumerate(zip(order, cells, strict=True)):
            if key not in medians.index.get_level_values(0):
                continue
            line = medians.loc[key]
            figure.add_scatter(x=[run.facts.quarters[s] for s in line.index], y=line.to_numpy(),
                               mode="lines", name=label, meta=key, legendgroup=label,
                               showlegend=number == 0, hovertemplate=f"{label}: %{{y:.2f}}"
                                                                     "<extra></extra>",
                               line={"color": series_colour(index), "width": 2.2,
                                     "dash": DASHES[index % len(DASHES)]}, row=r, col=c)
    base_layout(figure, "How far the typical run climbs the ladder, scenario by scenario",
                "Median level across each scenario's runs; lines that coincide overlap (their "
                "dashes tell them apart)", figure.layout.height, legend_top=True)
    ladder_yaxis(figure)
    figure.update_xaxes(**year_ticks(quarters, every=2))
    bottom_axes(figure, cells, "quarter")
    return figure


def comparison_page_html(data: ComparisonData) -> str:
    """The complete HTML of a comparison's page."""
    order = _order(data)
    sections = [
        Section("probability", "How likely is each grouping to consolidate, per scenario?",
                probability_figure(data, order)),
        Section("differences", f"What does each scenario change, against {data.reference}?",
                forest_figure(data, order, PROBABILITY)),
        Section("level_differences", "How far does each scenario move each grouping up or down "
                f"the ladder, against {data.reference}?", forest_figure(data, order, LEVEL)),
        Section("levels", "How far up the institutional ladder, per scenario?",
                level_figure(data, order)),
        Section("blockers", "Who holds each grouping back, per scenario?"),
        Section("inputs", f"Which inputs differ from {data.reference}, and on what sources?"),
    ]
    summaries = {label: consolidation_probabilities(run.outcomes, run.stamp.draw_block)
                 .set_index("grouping") for label, run in data.runs.items()}
    table = data.table.set_index(["grouping", "scenario"])
    drawn = max((run.stamp.draw_block or 0 for run in data.runs.values()), default=0)
    drawn = drawn if drawn > 1 else 0  # a draw per run leaves the runs independent
    pinned = {label: run.stamp.pinned for label, run in data.runs.items() if run.stamp.pinned}
    return render("comparison.html.j2", sections, data=data, order=order, drawn=drawn,
                  pinned=pinned,
                  facts=data.runs[data.reference].facts,
                  cell=lambda key, label: table.loc[(key, label)]
                  if (key, label) in table.index else None,
                  blocker=lambda key, label: summaries[label].loc[key]
                  if key in summaries[label].index else None)
