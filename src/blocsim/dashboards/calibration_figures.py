"""Figures of a calibration.

Prior against posterior, how much the record pins each parameter, the strongest posterior pairs,
the facts' predictive shares, the test scores against the benchmarks, the generations.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from blocsim.dashboards.calibration_aggregate import (
    BENCHMARKS,
    LOOSE,
    PINNED,
    REPRODUCED,
    effective_sample_size,
)
from blocsim.dashboards.read import CalibrationData
from blocsim.dashboards.style import (
    BLUE,
    GREEN,
    NEUTRAL,
    ORANGE,
    TEXT,
    VERMILLION,
    base_layout,
    rgba,
    small_multiples,
)

BINS = 20
"""Bins of each posterior histogram, over the prior's range."""
VERDICT_COLOURS = {"pinned": BLUE, "partly pinned": ORANGE, "loose": NEUTRAL}
WINDOW_COLOURS = {"fit": BLUE, "test": VERMILLION}
FORECASTERS = {"model": ("the calibrated model", BLUE), "persistence": (
    BENCHMARKS["persistence"], ORANGE), "base_rate": (BENCHMARKS["base_rate"], GREEN)}
HAND_SET = "hand-set value"
AXIS_TITLE = 32
"""Characters per line of a scatter's axis title (longer ones wrap, so none is cut off)."""


def posterior_density(values: np.ndarray, weights: np.ndarray, low: float, high: float,
                      bins: int = BINS) -> tuple[np.ndarray, np.ndarray]:
    """A weighted histogram over [low, high] as a density: (bin centres, density per unit).

    The density integrates to one over the prior's range, so it compares with the uniform
    prior's 1 / (high - low).
    """
    edges = np.linspace(low, high, bins + 1)
    density, _ = np.histogram(np.clip(values, low, high), bins=edges, weights=weights,
                              density=True)
    return (edges[:-1] + edges[1:]) / 2, density


def prior_posterior_figure(data: CalibrationData, table: pd.DataFrame) -> go.Figure:
    """One panel per parameter: the uniform prior's band, the weighted posterior histogram.

    Traces per panel: "prior (uniform)" (a filled rectangle at 1 / (high - low)), "posterior"
    (bars, density over the prior's range; name = path in `meta`), the hand-set value (a dotted
    line) when the case's scenario is readable.
    """
    titles = [f"{row.label}<br>{row.verdict}: sd ratio {row.ratio:.2f}"
              for row in table.itertuples()]
    figure, cells = small_multiples(titles, 170, cols=2, gap=85, top=140)
    weights = data.posterior.weights
    for index, (parameter, (r, c)) in enumerate(zip(data.parameters, cells, strict=True)):
        low, high = parameter.low, parameter.high
        centres, density = posterior_density(
            data.posterior.values[parameter.path].to_numpy(float), weights, low, high)
        height = 1.0 / (high - low)
        figure.add_scatter(x=[low, low, high, high], y=[0, height, height, 0], fill="toself",
                           mode="lines", line={"color": "#888888", "width": 1},
                           fillcolor=rgba(NEUTRAL, 0.35), name="prior (uniform)",
                           legendgroup="prior", showlegend=index == 0, row=r, col=c,
                           hovertemplate=f"prior: uniform on [{low:g}, {high:g}], density "
                                         f"{height:.3g}<extra></extra>")
        figure.add_bar(x=centres, y=density, width=(high - low) / BINS * 0.92,
                       marker={"color": rgba(BLUE, 0.8)}, name="posterior (weighted particles)",
                       legendgroup="posterior", showlegend=index == 0, meta=parameter.path,
                       hovertemplate="%{x:.3g}: posterior density %{y:.3g}<extra></extra>",
                       row=r, col=c)
        if parameter.hand_set is not None:
            top = max(height, float(density.max()) if len(density) else height) * 1.05
            figure.add_scatter(x=[parameter.hand_set] * 2, y=[0, top], mode="lines",
                               line={"color": TEXT, "width": 1.5, "dash": "dot"},
                               name=f"{HAND_SET} ({data.hand_set_from})", legendgroup="hand",
                               showlegend=index == 0, row=r, col=c,
                               hovertemplate=f"{HAND_SET}: {parameter.hand_set:g}<extra></extra>")
        figure.update_xaxes(range=[low - 0.02 * (high - low), high + 0.02 * (high - low)],
                            row=r, col=c)
    ess = effective_sample_size(weights)
    base_layout(figure, "Prior against posterior, parameter by parameter",
                f"Grey: the uniform prior; blue: the posterior, a histogram of the "
                f"{len(weights)} final particles by weight (effective sample size {ess:.0f}), "
                f"as a density over the prior's range", figure.layout.height, legend_top=True,
                top=140)
    figure.update_layout(bargap=0, barmode="overlay")
    figure.update_yaxes(title_text="density", col=1)
    return figure


def spread_figure(table: pd.DataFrame) -> go.Figure:
    """Posterior sd over prior sd per parameter, narrowest first, coloured by verdict.

    One bar trace per verdict present (name = verdict); lines at PINNED and LOOSE.
    """
    ordered = table.sort_values("ratio", kind="stable")
    figure = go.Figure()
    for name, colour in VERDICT_COLOURS.items():
        mine = ordered[ordered["verdict"] == name]
        if len(mine):
            figure.add_bar(x=mine["ratio"], y=mine["label"], orientation="h", name=name,
                           marker={"color": colour},
                           customdata=mine[["q05", "q95", "low", "high"]].to_numpy(),
                           hovertemplate="%{y}: sd ratio %{x:.2f}<br>90% of the posterior in "
                                         "%{customdata[0]:.3g}–%{customdata[1]:.3g} (prior "
                                         "%{customdata[2]:g}–%{customdata[3]:g})<extra></extra>")
    for x, text in ((PINNED, f"pinned below {PINNED:g}"), (LOOSE, f"loose above {LOOSE:g}")):
        figure.add_vline(x=x, line={"color": TEXT, "width": 1.2, "dash": "dot"},
                         annotation={"text": text, "font": {"size": 11}},
                         annotation_position="top")
    base_layout(figure, "Which parameters does the record pin?",
                "Posterior sd / prior sd (uniform prior: (high − low) / √12); 1 means the record "
                "says nothing beyond the prior", 150 + 34 * len(table), legend_top=True)
    figure.update_yaxes(categoryorder="array", categoryarray=list(ordered["label"])[::-1])
    figure.update_xaxes(title_text="posterior sd / prior sd",
                        range=[0, max(1.1, float(table["ratio"].max()) + 0.05)])
    figure.update_layout(barmode="overlay")
    return figure


def pairs_figure(data: CalibrationData, pairs: pd.DataFrame) -> go.Figure:
    """A scatter of the posterior particles for each pair, marker area by weight.

    One trace per pair (name "a × b", meta = r); axes span the two priors' ranges.
    """
    by_path = {p.path: p for p in data.parameters}
    titles = [f"{by_path[a].label} × {by_path[b].label}: r = {r:+.2f}".replace("-", "−")
              for a, b, r in pairs.itertuples(index=False)]
    figure, cells = small_multiples(titles, 300, cols=2, gap=110, top=110,
                                    horizontal_spacing=0.12)
    weights = data.posterior.weights
    largest = float(np.clip(40 / len(weights) ** 0.25, 6, 22))  # smaller dots for more particles
    size = largest * (0.25 + 0.75 * np.sqrt(weights / weights.max()))
    for (a, b, r), (row, col) in zip(pairs.itertuples(index=False), cells, strict=True):
        x, y = data.posterior.values[a], data.posterior.values[b]
        figure.add_scatter(x=x, y=y, mode="markers", name=f"{a} × {b}", meta=r,
                           showlegend=False, customdata=weights, row=row, col=col,
                           marker={"size": size, "color": rgba(BLUE, 0.4),
                                   "line": {"color": rgba("#1f3b57", 0.6), "width": 0.6}},
                           hovertemplate="(%{x:.3g}, %{y:.3g}), weight %{customdata:.3f}"
                                         "<extra></extra>")
        for axis, parameter in (("x", by_path[a]), ("y", by_path[b])):
            pad = 0.03 * (parameter.high - parameter.low)
            getattr(figure, f"update_{axis}axes")(
                title_text="<br>".join(textwrap.wrap(parameter.name.short, AXIS_TITLE)),
                row=row, col=col,
                range=[parameter.low - pad, parameter.high + pad])
    base_layout(figure, "Which parameters trade off?",
                "Each dot a particle of the final population, its area by its weight; axes span "
                "the priors' ranges; r is the weighted correlation", figure.layout.height,
                top=110)
    return figure


def facts_figure(facts: pd.DataFrame) -> go.Figure:
    """Each fact's posterior predictive probability with its two intervals, fit then test.

    Per window one trace of thin bars (the parameter interval, name "... parameter interval")
    and one of dots with the Monte Carlo interval as error bars (name = window); a dotted line
    at REPRODUCED.
    """
    ordered = pd.concat([facts[facts["window"] == w] for w in ("fit", "test")])
    labels = [f"{row.fact} ({row.case}, {row.window})" for row in ordered.itertuples()]
    figure = go.Figure()
    for window, colour in WINDOW_COLOURS.items():
        mine = ordered[ordered["window"] == window]
        if mine.empty:
            continue
        ys = [f"{row.fact} ({row.case}, {row.window})" for row in mine.itertuples()]
        figure.add_bar(x=(mine["parameter_high"] - mine["parameter_low"]).to_numpy(),
                       base=mine["parameter_low"].to_numpy(), y=ys, orientation="h",
                       width=0.5, marker={"color": rgba(colour, 0.22)}, hoverinfo="skip",
                       name=f"{window} facts: parameter interval (±1.96 sd across draws)")
        figure.add_scatter(
            x=mine["probability"], y=ys, mode="markers", name=f"{window} facts: P, with the "
            "Monte Carlo 95% interval",
            marker={"size": 11, "color": colour, "line": {"color": "white", "width": 1}},
            error_x={"type": "data", "array": (mine["mc_high"] - mine["probability"]).to_numpy(),
                     "arrayminus": (mine["probability"] - mine["mc_low"]).to_numpy(),
                     "color": colour, "thickness": 2, "width": 5},
            customdata=mine[["statement", "mc_low", "mc_high", "parameter_low",
                             "parameter_high", "runs"]].to_numpy(),
            hovertemplate="%{customdata[0]}<br>P = %{x:.3f} (%{customdata[5]} runs); Monte Carlo "
                          "%{customdata[1]:.3f}–%{customdata[2]:.3f}; parameters "
                          "%{customdata[3]:.3f}–%{customdata[4]:.3f}<extra></extra>")
    figure.add_vline(x=REPRODUCED, line={"color": TEXT, "width": 1.2, "dash": "dot"},
                     annotation={"text": f"reproduced from P = {REPRODUCED:g}",
                                 "font": {"size": 11}}, annotation_position="top")
    base_layout(figure, "Which facts does the calibrated model reproduce?",
                "Share of posterior predictive runs in which each fact holds; dot and whiskers: "
                "P and its Monte Carlo 95% interval; pale band: the spread the parameters carry",
                170 + 30 * len(ordered), legend_top=True)
    figure.update_yaxes(categoryorder="array", categoryarray=labels[::-1], type="category")
    figure.update_xaxes(title_text="P(fact holds)", range=[-0.02, 1.02])
    figure.update_layout(barmode="overlay")
    return figure


def scores_figure(scores: pd.DataFrame) -> go.Figure:
    """Brier and log scores per test fact: the model against the two benchmarks (lower wins).

    Two panels (Brier, log); in each one bar trace per forecaster (name = its words, meta =
    its column prefix), facts on the y axis.
    """
    figure, cells = small_multiples(["Brier score (1 − p)², lower is better",
                                     "log score −ln p, lower is better"],
                                    90 + 34 * len(scores), cols=2, top=130,
                                    shared_yaxes=True, horizontal_spacing=0.06)
    facts = list(scores["fact"])
    for score, (r, c) in zip(("brier", "log"), cells, strict=True):
        for who, (name, colour) in reversed(FORECASTERS.items()):  # the model's bar on top
            figure.add_bar(x=scores[f"{who}_{score}"], y=facts, orientation="h", name=name,
                           meta=who, legendgroup=who, showlegend=score == "brier",
                           marker={"color": colour}, row=r, col=c,
                           customdata=scores[[who]].to_numpy(),
                           hovertemplate=f"%{{y}}: {name} gave P = %{{customdata[0]:.3f}}, "
                                         f"{score} score %{{x:.3f}}<extra></extra>")
    base_layout(figure, "Out of sample: the model against the benchmarks",
                "Each pre-registered test fact held in the record; a forecaster's score on it is "
                "lower the more probability it gave the fact", figure.layout.height,
                legend_top=True, top=130)
    figure.update_yaxes(categoryorder="array", categoryarray=facts[::-1], type="category")
    figure.update_layout(barmode="group", bargap=0.25, legend={"traceorder": "reversed"})
    return figure


def generations_figure(data: CalibrationData) -> go.Figure:
    """Tolerance and acceptance rate by generation, each with its stopping threshold.

    Traces: "tolerance", "acceptance rate" (lines with markers), and the thresholds (dotted).
    """
    table, spec = data.generations.sort_values("generation"), data.spec
    figure, cells = small_multiples(["tolerance (the largest distance a particle may have)",
                                     "acceptance rate (particles accepted / simulated)"],
                                    260, cols=2, top=110, horizontal_spacing=0.1)
    for (column, name, colour, stop), (r, c) in zip(
            (("tolerance", "tolerance", BLUE, spec.min_tolerance),
             ("acceptance_rate", "acceptance rate", ORANGE, spec.min_acceptance)), cells,
            strict=True):
        figure.add_scatter(x=table["generation"], y=table[column], mode="lines+markers",
                           name=name, line={"color": colour, "width": 2}, marker={"size": 8},
                           customdata=table[["simulations"]].to_numpy(), row=r, col=c,
                           hovertemplate=f"generation %{{x}}: {name} %{{y:.3f}} "
                                         "(%{customdata[0]} particles simulated)<extra></extra>")
        figure.add_scatter(x=[table["generation"].min() - 0.3, table["generation"].max() + 0.3],
                           y=[stop, stop], mode="lines", line={"color": TEXT, "width": 1.2,
                                                                "dash": "dot"},
                           name=f"stop at {name} {'≤' if column == 'tolerance' else '<'} {stop:g}",
                           row=r, col=c, hoverinfo="name")
        figure.update_yaxes(range=[0, 1.05], title_text=name, row=r, col=c)
        figure.update_xaxes(title_text="generation", dtick=1, row=r, col=c)
    base_layout(figure, "The ABC-SMC run, generation by generation",
                f"{len(table)} generation(s) of {spec.population} particles, each particle "
                f"{spec.replications} run(s) per case", figure.layout.height, top=110)
    figure.update_layout(legend={"orientation": "h", "y": -0.25, "x": 0})
    return figure
