"""The run page's figures.

How likely, the path, who holds back and why, what would change it, and the context (alignment,
camps, pressures).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from blocsim.dashboards.aggregate import UNRECORDED
from blocsim.dashboards.facts import ScenarioFacts, parameter, pressure_name
from blocsim.dashboards.style import (
    BLUE,
    CHINA_SIDE,
    GREEN,
    HEATMAP_SCALE,
    MUTED_TEXT,
    ORANGE,
    US_SIDE,
    VERMILLION,
    add_shock_lines,
    base_layout,
    bottom_axes,
    ladder_yaxis,
    rgba,
    series_colour,
    small_multiples,
    text_on,
    year_ticks,
)
from blocsim.vocabulary import PRESSURE_NAMES

MEDIAN = "median run"


def tick(facts: ScenarioFacts, key: str) -> str:
    """A two-line axis label: the grouping's label in bold, its long name below."""
    grouping = facts.grouping(key)
    name = f"<br><span style='font-size:11px'>{grouping.name}</span>" \
        if grouping.title != grouping.label else ""
    return f"<b>{grouping.label}</b>{name}"


def _quarter(facts: ScenarioFacts, steps: pd.Series) -> list[str]:
    return [facts.quarters[int(s)] for s in steps]


def probability_figure(probabilities: pd.DataFrame, facts: ScenarioFacts) -> go.Figure:
    """Bars of P(consolidation) per grouping (first trace, ids = keys) with Wilson intervals."""
    p = probabilities["probability"].to_numpy()
    low, high = probabilities["ci_low"].to_numpy(), probabilities["ci_high"].to_numpy()
    ticks = [tick(facts, g) for g in probabilities["grouping"]]
    figure = go.Figure(go.Bar(
        x=p, y=ticks, ids=probabilities["grouping"].tolist(), orientation="h",
        marker_color=BLUE, showlegend=False, name="probability",
        error_x={"type": "data", "array": high - p, "arrayminus": p - low, "color": "#333333",
                 "thickness": 1.5, "width": 6},
        customdata=np.column_stack([probabilities["consolidated"],
                                    probabilities["replications"]]),
        hovertemplate="P = %{x:.3f} (%{customdata[0]} of %{customdata[1]} runs)<extra></extra>"))
    figure.add_scatter(x=high, y=ticks, mode="text", textposition="middle right",
                       text=[f"  {v:.3f}  [{a:.3f}, {b:.3f}]" for v, a, b in zip(p, low, high,
                                                                                  strict=True)],
                       showlegend=False, hoverinfo="skip", name="labels")
    runs = int(probabilities["replications"].max()) if len(probabilities) else 0
    base_layout(figure, f"Probability that each grouping becomes a formal alliance by {facts.end}",
                f"Share of {runs:,} runs in which the grouping consolidated; whiskers and "
                "brackets: 95% Wilson interval", height=120 + 62 * len(probabilities))
    figure.update_xaxes(title_text="probability of consolidation (share of runs)",
                        range=[0, 1.22], tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0])
    figure.update_yaxes(autorange="reversed", showgrid=False)
    return figure


def fan_figure(fans: pd.DataFrame, facts: ScenarioFacts, order: list[str]) -> go.Figure:
    """Per grouping, the level's median run and its 50% and 90% bands over the quarters."""
    figure, cells = small_multiples([facts.title(k) for k in order], 230, gap=55,
                                    shared_xaxes=True, shared_yaxes=True,
                                    horizontal_spacing=0.03)
    for index, (key, (r, c)) in enumerate(zip(order, cells, strict=True)):
        fan = fans[fans["grouping"] == key].sort_values("step")
        x = _quarter(facts, fan["step"])
        for low, high, name, alpha in (("q05", "q95", "90% of runs", 0.18),
                                       ("q25", "q75", "50% of runs", 0.38)):
            figure.add_scatter(x=x, y=fan[low], mode="lines", line={"width": 0},
                               showlegend=False, hoverinfo="skip", row=r, col=c)
            figure.add_scatter(x=x, y=fan[high], mode="lines", line={"width": 0},
                               fill="tonexty", fillcolor=rgba(BLUE, alpha), name=name,
                               legendgroup=name, showlegend=index == 0, customdata=fan[low],
                               hovertemplate=f"{name}: %{{customdata:.2f}} to %{{y:.2f}}"
                                             "<extra></extra>", row=r, col=c)
        figure.add_scatter(x=x, y=fan["q50"], mode="lines", line={"color": BLUE, "width": 2.5},
                           name=MEDIAN, legendgroup=MEDIAN, showlegend=index == 0,
                           hovertemplate="%{x}: median level %{y:.2f}<extra></extra>",
                           row=r, col=c)
        figure.add_hline(y=facts.dynamics.consolidation_level, row=r, col=c,
                         line={"color": VERMILLION, "width": 1, "dash": "dot"})
    figure.add_scatter(x=[None], y=[None], mode="lines", name="consolidation threshold",
                       line={"color": VERMILLION, "width": 1, "dash": "dot"}, hoverinfo="skip")
    add_shock_lines(figure, facts.shock_quarters(), facts.steps, colour="#444444")
    base_layout(figure, "How far each grouping climbs the institutional ladder",
                "Level across runs: line = median run, dark band = middle 50%, light band = "
                f"middle 90%; dotted = level {facts.dynamics.consolidation_level:g} needed to "
                "consolidate", figure.layout.height, legend_top=True)
    ladder_yaxis(figure)
    figure.update_xaxes(**year_ticks(facts.quarters, every=2))
    bottom_axes(figure, cells, "quarter")
    return figure


def timing_figure(cumulative: pd.DataFrame, facts: ScenarioFacts, order: list[str]) -> go.Figure:
    """One line per grouping: the share of all runs consolidated by each quarter (0-1)."""
    figure = go.Figure()
    for index, key in enumerate(order):
        mine = cumulative[cumulative["grouping"] == key].sort_values("step")
        figure.add_scatter(x=_quarter(facts, mine["step"]), y=mine["share"], mode="lines",
                           name=facts.label(key), meta=key, customdata=mine["runs"],
                           line={"color": series_colour(index), "width": 2.4, "shape": "hv"},
                           hovertemplate=f"{facts.label(key)}<br>%{{x}}: %{{y:.3f}} "
                                         "(%{customdata} runs)<extra></extra>")
    add_shock_lines(figure, facts.shock_quarters(), facts.steps, colour="#444444")
    base_layout(figure, "When consolidation happens: the chance a grouping is a formal "
                "alliance by each quarter", "Share of all runs consolidated by then (the same "
                "0–1 scale for every grouping; each line ends at its probability in section 1)",
                480, legend_top=True)
    figure.update_xaxes(**year_ticks(facts.quarters), title_text="quarter")
    figure.update_yaxes(title_text="P(consolidated by then)", rangemode="tozero",
                        range=[0, max(0.05, float(cumulative["share"].max()) * 1.1)])
    return figure


def commitment_figure(means: pd.DataFrame, facts: ScenarioFacts, order: list[str]) -> go.Figure:
    """One heatmap per grouping: each member's (then observer's) mean commitment per quarter."""
    blocks = []
    for key in order:
        table = means[means["grouping"] == key]
        present, grouping = set(table["state"]), facts.grouping(key)
        rows = [(c, facts.state_label(c)) for c in grouping.members if c in present]
        rows += [(c, f"{facts.state_label(c)} (observer)") for c in grouping.observers
                 if c in present]
        blocks.append((key, table, rows or [("", "")]))
    figure, cells = small_multiples([facts.title(k) for k, _, _ in blocks],
                                    [26 * len(r) for _, _, r in blocks], cols=1, gap=48,
                                    top=100, shared_xaxes=True)
    for (key, table, rows), (r, c) in zip(blocks, cells, strict=True):
        grid = (table.pivot_table(index="state", columns="step", values="commitment",
                                  observed=True)
                .reindex(index=[code for code, _ in rows], columns=range(facts.steps)))
        figure.add_heatmap(z=grid.to_numpy(), x=facts.quarters, y=[label for _, label in rows],
                           coloraxis="coloraxis", name=key, ygap=1, row=r, col=c,
                           hovertemplate="%{y}<br>%{x}: mean commitment %{z:.2f}<extra></extra>")
    add_shock_lines(figure, facts.shock_quarters(), facts.steps, colour="white", legend=False)
    base_layout(figure, "How committed each member is to each grouping, quarter by quarter",
                "Mean commitment across runs (0 none, 1 full); the weakest core member caps the "
                "level; white dashes: shocks", figure.layout.height)
    figure.update_layout(coloraxis={"colorscale": HEATMAP_SCALE, "cmin": 0, "cmax": 1,
                                    "colorbar": {"title": {"text": "commitment"}, "len": 0.5,
                                                 "y": 1, "yanchor": "top", "thickness": 14}},
                         margin={"l": 170})
    figure.update_xaxes(**year_ticks(facts.quarters), showgrid=False)
    figure.update_yaxes(autorange="reversed", showgrid=False, ticks="")
    return figure


def blocker_figure(shares: pd.DataFrame, facts: ScenarioFacts, order: list[str]) -> go.Figure:
    """Stacked bars: who blocked each grouping, as shares of its stalled runs (ids = keys)."""
    totals = shares.groupby("blocker")["share"].sum().sort_values(ascending=False, kind="stable")
    categories = [b for b in totals.index if b != UNRECORDED] + \
        [UNRECORDED] * (UNRECORDED in totals.index)
    keys = [k for k in order if k in set(shares["grouping"])]
    table = shares.pivot_table(index="grouping", columns="blocker", values="share",
                               aggfunc="sum", fill_value=0.0).reindex(keys, fill_value=0.0)
    figure = go.Figure()
    for index, category in enumerate(categories):
        colour = "#888888" if category == UNRECORDED else series_colour(index)
        name = category if category == UNRECORDED else facts.state_label(category)
        values = table[category].to_numpy()
        figure.add_bar(x=values, y=[tick(facts, k) for k in keys], ids=keys, orientation="h",
                       name=name, marker={"color": colour, "line": {"color": "white", "width": 1}},
                       text=[f"{v:.0%}" if v >= 0.06 else "" for v in values],
                       textposition="inside", insidetextanchor="middle",
                       textfont={"color": text_on(colour)},
                       hovertemplate=f"{name}: %{{x:.1%}} of stalled runs<extra></extra>")
    base_layout(figure, "Who holds each grouping back: the blocking member",
                "Share of the runs in which the grouping did not consolidate; blocker = the core "
                "member with the lowest commitment while the weakest-link rule held the level "
                "down", 140 + 62 * max(len(keys), 1), legend_top=True, top=135)
    figure.update_layout(barmode="stack", bargap=0.35)
    figure.update_xaxes(title_text="share of stalled runs", range=[0, 1], tickformat=".0%")
    figure.update_yaxes(autorange="reversed", showgrid=False)
    return figure


def term_label(name: str) -> str:
    """A utility term's words on the pages (the mechanism's name; entrapment/abandonment)."""
    return name.replace("entrapment_", "entrapment/").replace("_", " ")


def terms_figure(terms: pd.DataFrame, facts: ScenarioFacts, order: list[str]) -> go.Figure:
    """Per grouping, its main blocker's mean utility terms: what pulls it in, what holds it back."""
    keys = [k for k in order if k in set(terms["grouping"])]
    titles = []
    for key in keys:
        mine = terms[terms["grouping"] == key]
        titles.append(f"{facts.label(key)}: {facts.state_label(mine['state'].iloc[0])} "
                      f"({int(mine['runs'].iloc[0])} runs)")
    most = terms.groupby("grouping")["term"].nunique().max()
    figure, cells = small_multiples(titles, 24 * int(most) + 30, gap=70,
                                    horizontal_spacing=0.25)
    for key, (r, c) in zip(keys, cells, strict=True):
        mine = terms[terms["grouping"] == key].sort_values("value")
        values = mine["value"].to_numpy()
        figure.add_bar(x=values, y=[term_label(t) for t in mine["term"]],
                       orientation="h", meta=key, showlegend=False,
                       marker_color=[GREEN if v >= 0 else VERMILLION for v in values],
                       text=[f"{v:+.2f}" for v in values], textposition="outside",
                       cliponaxis=False,
                       hovertemplate="%{y}: %{x:+.2f} logit<extra></extra>", row=r, col=c)
        reach = max(float(np.abs(values).max()), 0.1)
        low, high = min(float(values.min()), 0.0), max(float(values.max()), 0.0)
        figure.update_xaxes(range=[low - 0.35 * reach, high + 0.35 * reach], row=r, col=c)
    base_layout(figure, "Why the blocker holds back: its utility terms for the grouping",
                "Mean term (logit units) of the most frequent blocker over the quarters the "
                "weakest link bound, in the runs it blocked; green pulls it in, red holds it "
                "back", figure.layout.height, top=110)
    bottom_axes(figure, cells, "utility term (logit)")
    figure.update_xaxes(zeroline=True, zerolinecolor="#999999")
    return figure


def suspension_figure(levels: pd.DataFrame, facts: ScenarioFacts, order: list[str]) -> go.Figure:
    """One line per grouping ever suspended: the share of runs suspended in each quarter."""
    share = levels.groupby(["grouping", "step"])["suspended"].mean().reset_index()
    figure = go.Figure()
    for index, key in enumerate(k for k in order if share.loc[share["grouping"] == k,
                                                               "suspended"].any()):
        mine = share[share["grouping"] == key].sort_values("step")
        figure.add_scatter(x=_quarter(facts, mine["step"]), y=mine["suspended"], mode="lines",
                           name=facts.label(key), line={"color": series_colour(index)},
                           hovertemplate="%{x}: %{y:.1%} of runs suspended<extra></extra>")
    add_shock_lines(figure, facts.shock_quarters(), facts.steps, colour="#444444")
    base_layout(figure, "When groupings stand suspended after a member leaves",
                "Share of runs in which the grouping is suspended (a core member has left and "
                "it has not been relaunched) in each quarter", 420, legend_top=True)
    figure.update_xaxes(**year_ticks(facts.quarters), title_text="quarter")
    figure.update_yaxes(title_text="share of runs suspended", tickformat=".0%", rangemode="tozero")
    return figure


def lever_figure(effects: pd.DataFrame, facts: ScenarioFacts, order: list[str]) -> go.Figure:
    """Per grouping, the levers that move its probability most.

    Paired differences with 95% intervals for one step up (▲) and one step down (▼).
    """
    keys = [k for k in order if k in set(effects["grouping"])]
    most = int(effects.groupby("grouping")["lever"].nunique().max())
    figure, cells = small_multiples([facts.title(k) for k in keys], 26 * most + 30, gap=80,
                                    horizontal_spacing=0.3)
    for index, (key, (r, c)) in enumerate(zip(keys, cells, strict=True)):
        mine = effects[effects["grouping"] == key]
        labels = {lever: parameter(lever, facts).label
                  for lever in mine.sort_values("rank")["lever"].unique()}
        for direction, colour, symbol, name in ((1, BLUE, "triangle-up", "one step up"),
                                                (-1, ORANGE, "triangle-down", "one step down")):
            part = mine[mine["direction"] == direction]
            d = part["difference"].to_numpy()
            figure.add_scatter(
                x=d, y=[labels[lever] for lever in part["lever"]], mode="markers", name=name,
                orientation="h",
                legendgroup=name, showlegend=index == 0, meta=key,
                marker={"color": colour, "symbol": symbol, "size": 10},
                error_x={"type": "data", "array": part["ci_high"].to_numpy() - d,
                         "arrayminus": d - part["ci_low"].to_numpy(), "color": colour,
                         "thickness": 1.4, "width": 3},
                customdata=np.column_stack([part["before"], part["after"], part["reference"],
                                            part["probability"]]),
                hovertemplate=("%{y}: %{customdata[0]:.2f} → %{customdata[1]:.2f}<br>P "
                               "%{customdata[2]:.3f} → %{customdata[3]:.3f} (%{x:+.3f})"
                               "<extra></extra>"), row=r, col=c)
        figure.update_yaxes(type="category", categoryorder="array",
                            categoryarray=list(reversed(labels.values())), row=r, col=c)
        figure.add_vline(x=0, line={"color": "#999999", "width": 1}, row=r, col=c)
    figure.update_layout(scattermode="group", scattergap=0.5)
    base_layout(figure, "What would change it: one step of each lever, one at a time",
                "Change in P(consolidation) when a pressure or a blocker's attribute moves one "
                "step (same random draws, paired by run); whiskers: 95% interval. Strongest "
                "levers on top", figure.layout.height, legend_top=True)
    bottom_axes(figure, cells, "change in probability")
    return figure


def alignment_figure(final: pd.DataFrame, facts: ScenarioFacts) -> go.Figure:
    """Each state's final position on the US(+1)–China(−1) axis (ASEAN members as diamonds)."""
    labels = [facts.state_label(c) + (" ◆" if c in facts.asean else "") for c in final["state"]]
    asean = final["state"].isin(facts.asean).to_numpy()
    colours = np.where(final["mean"] >= 0, US_SIDE, CHINA_SIDE)
    figure = go.Figure()
    for name, mask, symbol in (("other state", ~asean, "circle"), ("ASEAN member ◆", asean,
                                                                   "diamond")):
        rows = final[mask]
        figure.add_scatter(x=[None], y=[None], mode="markers", name=name,
                           marker={"color": "#777777", "symbol": symbol, "size": 11})
        figure.add_scatter(
            x=rows["mean"], y=[lab for lab, m in zip(labels, mask, strict=True) if m],
            mode="markers", name=name, showlegend=False,
            marker={"color": colours[mask], "symbol": symbol,
                                               "size": 11, "line": {"color": "white"}},
            error_x={"type": "data", "array": rows["high"] - rows["mean"],
                     "arrayminus": rows["mean"] - rows["low"], "color": "#777777",
                     "thickness": 1.5, "width": 3},
            customdata=np.column_stack([rows["low"], rows["high"]]),
            hovertemplate=("%{y}: mean %{x:.2f}, 90% of runs [%{customdata[0]:.2f}, "
                           "%{customdata[1]:.2f}]<extra></extra>"))
    figure.add_vline(x=0, line={"color": "#999999", "width": 1, "dash": "dash"})
    base_layout(figure, f"Where every state ends between the US and China in {facts.end}",
                "Final alignment: marker = mean across runs, whisker = middle 90%; blue leans "
                "to the US, wine to China; ◆ ASEAN member", 170 + 25 * len(final),
                legend_top=True, top=135)
    figure.update_layout(margin={"l": 160})
    figure.update_xaxes(title_text="alignment (−1 China … 0 neutral … +1 US)",
                        range=[-1.08, 1.08], tickvals=[-1, -0.5, 0, 0.5, 1],
                        ticktext=["−1 China", "−0.5", "0", "+0.5", "+1 US"])
    figure.update_yaxes(type="category", categoryorder="array", categoryarray=labels)
    return figure


def camp_figure(shares: pd.DataFrame, facts: ScenarioFacts) -> go.Figure:
    """Per state, the shares of runs in the US's camp and in the other (each bar spans 100%)."""
    labels = [facts.state_label(c) + (" ◆" if c in facts.asean else "") for c in shares["state"]]
    figure = go.Figure()
    for name, values, colour in (("US camp", shares["share"], US_SIDE),
                                 ("other camp (China's)", 1 - shares["share"], CHINA_SIDE)):
        figure.add_bar(x=values, y=labels, orientation="h", name=name, marker_color=colour,
                       text=[f"{v:.0%}" if v >= 0.08 else "" for v in values],
                       textposition="inside", textfont={"color": "white"},
                       hovertemplate=f"%{{y}}: {name} in %{{x:.0%}} of runs<extra></extra>")
    base_layout(figure, f"Which camp every state sorts into in {facts.end} (landscape theory)",
                "Share of runs in the US's camp (blue) and in the other camp (wine); ◆ ASEAN "
                "member", 170 + 25 * len(shares), legend_top=True, top=135)
    figure.update_layout(barmode="stack", margin={"l": 170}, legend_traceorder="normal")
    figure.add_vline(x=0.5, line={"color": "white", "width": 1.5, "dash": "dash"})
    figure.update_xaxes(title_text="share of runs", range=[0, 1], tickformat=".0%")
    figure.update_yaxes(type="category", categoryorder="array", categoryarray=labels)
    return figure


def pressure_figure(paths: pd.DataFrame, facts: ScenarioFacts) -> go.Figure:
    """Every pressure over time (median, 90% band), shocks marked in the panel they move."""
    names = [p for p in PRESSURE_NAMES if p in set(paths["pressure"])]
    figure, cells = small_multiples([pressure_name(n) for n in names], 170, gap=50,
                                    shared_xaxes=True, shared_yaxes=True,
                                    horizontal_spacing=0.04)
    where = dict(zip(names, cells, strict=True))
    for index, name in enumerate(names):
        path = paths[paths["pressure"] == name].sort_values("step")
        x, (r, c) = _quarter(facts, path["step"]), where[name]
        figure.add_scatter(x=x, y=path["q05"], mode="lines", line={"width": 0},
                           showlegend=False, hoverinfo="skip", row=r, col=c)
        figure.add_scatter(x=x, y=path["q95"], mode="lines", line={"width": 0}, fill="tonexty",
                           fillcolor=rgba(BLUE, 0.2), name="90% of runs", legendgroup="band",
                           showlegend=index == 0, hoverinfo="skip", row=r, col=c)
        figure.add_scatter(x=x, y=path["q50"], mode="lines", line={"color": BLUE, "width": 2.2},
                           name="median across runs", legendgroup="median",
                           showlegend=index == 0, meta=name,
                           hovertemplate="%{x}: %{y:.2f}<extra></extra>", row=r, col=c)
    for stack, shock in enumerate(facts.shocks):
        cell = where.get(shock.target) if shock.shock.pressure else cells[0]
        if cell is None or not 0 <= shock.step < facts.steps:
            continue
        figure.add_vline(x=shock.step, line={"color": VERMILLION, "width": 1.2, "dash": "dash"},
                         row=cell[0], col=cell[1])
        felt = "" if shock.shock.pressure else f" {shock.target}"
        figure.add_annotation(x=shock.step, y=0.04 + 0.17 * (stack % 4), xref="x",
                              yref="y domain", xanchor="left", yanchor="bottom", xshift=4,
                              text=f"{shock.shock.name}: {shock.shock.magnitude:+g}{felt} "
                                   f"({shock.targets})", showarrow=False,
                              font={"color": VERMILLION, "size": 11},
                              bgcolor="rgba(255,255,255,0.8)", row=cell[0], col=cell[1])
    base_layout(figure, "The pressures driving the run, with the scenario's shocks",
                "Each pressure as it acted (0–1; China's counter-moves included): median and "
                "middle 90% of runs; red dashes: shocks, in the panel of what they move",
                figure.layout.height, legend_top=True)
    figure.update_yaxes(range=[-0.03, 1.03], tickvals=[0, 0.5, 1])
    figure.update_xaxes(**year_ticks(facts.quarters, every=2))
    bottom_axes(figure, cells, "quarter")
    figure.update_annotations(font_color=MUTED_TEXT, selector={"yref": "paper"})
    return figure
