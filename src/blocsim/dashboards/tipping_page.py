"""The tipping page: where a grouping's probability crosses a target, and where runs went.

It also says how far the crossing is from the scenario's own value.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from blocsim.analysis.tipping import pooled_shares
from blocsim.dashboards.page import Section, render
from blocsim.dashboards.read import TippingData
from blocsim.dashboards.style import (
    BLUE,
    GREEN,
    HEATMAP_SCALE,
    VERMILLION,
    base_layout,
    here_line,
    rgba,
)

CROSSES, NEVER, UNRESOLVED = "crosses", "never crosses in range", "not resolved"
STATUS_COLOURS = {CROSSES: BLUE, NEVER: VERMILLION, UNRESOLVED: "#777777"}


def peak(data: TippingData) -> tuple[float, float]:
    """Where the probability tops out (bottoms out when it stays above the target): (value, P).

    The search's own peak fields (`peak_value`, `peak_probability`) when it recorded them, else
    the value tried whose pooled share is furthest on the far side from the target.
    """
    details = data.result.details
    if "peak_value" in details and "peak_probability" in details:
        return float(details["peak_value"]), float(details["peak_probability"])
    pooled = pooled_shares(data.result.evaluations)
    above = bool((pooled["ci_low"] > data.result.target).all())
    row = pooled.loc[pooled["share"].idxmin() if above else pooled["share"].idxmax()]
    return float(row["value"]), float(row["share"])


def _window(data: TippingData) -> tuple[float, float]:
    low, high = data.range
    pad = 0.03 * (high - low)
    return low - pad, high + pad


def share_figure(data: TippingData) -> go.Figure:
    """Observed shares per value tried, the target, the fit, the crossing, the scenario's value.

    Traces: "observed share ...", the target, "fitted logistic curve" (when the curve crosses),
    the crossing's estimate and 95% interval.
    """
    result, (left, right) = data.result, _window(data)
    pooled = pooled_shares(result.evaluations)
    colour = STATUS_COLOURS.get(result.status, BLUE)
    figure = go.Figure()
    if not math.isnan(result.estimate) and left <= result.estimate <= right:
        a, b = max(result.low, left), min(result.high, right)
        figure.add_scatter(x=[a, a, b, b, a], y=[0, 1, 1, 0, 0], fill="toself", mode="lines",
                           fillcolor=rgba(colour, 0.16), line={"width": 0}, hoverinfo="skip",
                           name=f"95% interval of the crossing ({result.low:.3f} to "
                                f"{result.high:.3f})")
        figure.add_scatter(x=[result.estimate] * 2, y=[0, 1], mode="lines",
                           name=f"estimate {result.estimate:.3f}",
                           line={"color": colour, "width": 2,
                                 "dash": "solid" if result.status == CROSSES else "dash"})
    figure.add_scatter(x=[left, right], y=[result.target] * 2, mode="lines", hoverinfo="skip",
                       name=f"target P = {result.target:g}",
                       line={"color": GREEN, "width": 1.6, "dash": "dot"})
    slope, intercept = (float(result.details.get(k, math.nan)) for k in ("slope", "intercept"))
    if result.status == CROSSES and not (math.isnan(slope) or math.isnan(intercept)):
        fitted = (float(result.details.get("fit_low", data.range[0])),
                  float(result.details.get("fit_high", data.range[1])))
        xs = np.linspace(*fitted, 201)  # the fit is local: drawn where it was fitted
        figure.add_scatter(x=xs, y=1 / (1 + np.exp(-(intercept + slope * xs))), mode="lines",
                           name="fitted logistic curve", line={"color": "#333333", "width": 2},
                           hovertemplate="%{x:.3f}: fitted P = %{y:.3f}<extra></extra>")
    figure.add_scatter(
        x=pooled["value"], y=pooled["share"], mode="markers",
        name="observed share (pooled per value; size ∝ runs)",
        marker={"size": pooled["runs"].to_numpy(), "sizemode": "area", "sizemin": 4,
                "sizeref": 2.0 * float(pooled["runs"].max()) / 26.0**2,
                "color": rgba(BLUE, 0.75), "line": {"color": "#1f3b57", "width": 1}},
        error_y={"type": "data", "array": (pooled["ci_high"] - pooled["share"]).to_numpy(),
                 "arrayminus": (pooled["share"] - pooled["ci_low"]).to_numpy(),
                 "color": rgba("#1f3b57", 0.6), "thickness": 1.2, "width": 3},
        customdata=pooled[["successes", "runs"]].to_numpy(),
        hovertemplate="%{x:.4g}: share %{y:.3f} (%{customdata[0]} of %{customdata[1]} runs)"
                      "<extra></extra>")
    here_line(figure, data.here, f"this scenario: {data.here:.2f}" if data.here is not None
              else "")
    base_layout(figure, f"Where does P({data.grouping} consolidates) cross {result.target:g}?",
                "Dots: share of runs that consolidated at each value tried (all rounds pooled), "
                "whiskers: 95% Wilson interval; dotted: the scenario's own value", 560,
                legend_top=True)
    figure.update_xaxes(title_text=data.vary.label, range=[left, right])
    figure.update_yaxes(title_text=f"P({data.grouping} consolidates)", range=[-0.03, 1.03])
    return figure


def runs_figure(data: TippingData) -> go.Figure:
    """Runs at each value tried, stacked by round (one bar trace per round, meta = round)."""
    evaluations, (left, right) = data.result.evaluations, _window(data)
    rounds = sorted(int(r) for r in evaluations["round"].unique())
    colours = sample_colorscale(HEATMAP_SCALE, [0.85 * i / max(len(rounds) - 1, 1)
                                                for i in range(len(rounds))])
    figure = go.Figure()
    for colour, number in zip(colours, rounds, strict=True):
        mine = (evaluations[evaluations["round"] == number]
                .groupby("value", as_index=False)[["runs", "successes"]].sum())
        figure.add_bar(x=mine["value"], y=mine["runs"], width=(right - left) / 200, meta=number,
                       name=f"round {number}", marker={"color": colour}, showlegend=False,
                       customdata=mine[["successes"]].to_numpy(),
                       hovertemplate=(f"round {number}<br>%{{x:.4g}}: %{{y}} runs, "
                                      "%{customdata[0]} consolidated<extra></extra>"))
    here_line(figure, data.here, "this scenario" if data.here is not None else "")
    base_layout(figure, "Where the runs were spent", f"Runs at each value tried, stacked by "
                f"round (colour: round 0, the coarse look, darkest); {data.result.runs:,} runs in "
                f"all over {len(rounds)} round(s)", 360)
    figure.update_layout(barmode="stack", margin={"t": 90})
    figure.update_xaxes(title_text=data.vary.label, range=[left, right])
    figure.update_yaxes(title_text="runs")
    return figure


def tipping_page_html(data: TippingData) -> str:
    """The complete HTML of a tipping folder's page."""
    sections = [Section("shares", f"Where does P({data.grouping}) cross "
                                  f"{data.result.target:g}?", share_figure(data)),
                Section("runs", "Where were the runs spent?", runs_figure(data))]
    return render("tipping.html.j2", sections, data=data, result=data.result,
                  colour=STATUS_COLOURS.get(data.result.status, BLUE),
                  title=(data.facts.title(data.grouping) if data.facts else data.grouping),
                  peak=peak(data), rounds=data.result.evaluations["round"].nunique())
