"""Figures of the run's context: where every state ends on the US-China axis, and the pressures."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from blocsim.dashboards.run_info import RunInfo
from blocsim.dashboards.style import (
    BLUE,
    MUTED_TEXT,
    ORANGE,
    VERMILLION,
    base_layout,
    legend_on_top,
    rgba,
    spacing,
    year_ticks,
)
from blocsim.vocabulary import PRESSURE_NAMES

US_SIDE = "aligned with the US"
CHINA_SIDE = "aligned with China"
ASEAN = "ASEAN member"
OTHER = "other state"


def alignment_figure(final: pd.DataFrame, info: RunInfo) -> go.Figure:
    """Each state's final position on the US(+1)-China(-1) axis: mean and 90% interval.

    Args:
        final: `aggregate.final_alignment` (state, mean, low, high), sorted by mean.
        info: the run's scenario facts (state names, ASEAN membership).

    Returns:
        A figure with two marker traces, `ASEAN` members and `OTHER` states, on one shared
        category axis ordered by mean alignment (China-aligned at the bottom).

    """
    labels = [info.state_label(code) for code in final["state"]]
    figure = go.Figure()
    is_asean = final["state"].isin(info.asean).to_numpy()
    for name, mask, colour, symbol in ((OTHER, ~is_asean, BLUE, "circle"),
                                       (ASEAN, is_asean, ORANGE, "diamond")):
        rows = final[mask]
        figure.add_scatter(
            x=rows["mean"], y=[lab for lab, m in zip(labels, mask, strict=True) if m],
            mode="markers", name=name,
            marker={"color": colour, "symbol": symbol, "size": 11,
                    "line": {"color": "white", "width": 1}},
            error_x={"type": "data", "array": rows["high"] - rows["mean"],
                     "arrayminus": rows["mean"] - rows["low"], "color": colour,
                     "thickness": 2, "width": 4},
            customdata=np.column_stack([rows["low"], rows["high"], rows["state"]]),
            hovertemplate=("%{y} (%{customdata[2]})<br>mean %{x:.2f}, 90% of runs "
                           "[%{customdata[0]:.2f}, %{customdata[1]:.2f}]<extra></extra>"),
        )
    figure.add_vline(x=0, line={"color": "#999999", "width": 1, "dash": "dash"})
    for x, text, anchor in ((-1, f"◀ {CHINA_SIDE} (−1)", "left"),
                            (1, f"{US_SIDE} (+1) ▶", "right")):
        figure.add_annotation(x=x, y=1.0, xref="x", yref="paper", yanchor="bottom",
                              xanchor=anchor, text=f"<b>{text}</b>", showarrow=False,
                              font={"color": MUTED_TEXT, "size": 13})
    figure.add_annotation(x=0, y=1.0, xref="x", yref="paper", yanchor="bottom",
                          text="neutral", showarrow=False, font={"color": MUTED_TEXT})
    base_layout(
        figure,
        f"Where every state ends up between the US and China in {info.end}",
        "Final alignment across runs: marker = mean, whisker = middle 90% of runs; "
        "ASEAN members as orange diamonds",
        height=170 + 25 * len(final),
    )
    legend_on_top(figure, top_margin=135)
    figure.update_layout(margin={"l": 150})
    ticks = [-1, -0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 1]
    figure.update_xaxes(title_text="alignment on the US–China axis (−1 China … 0 neutral … "
                                   "+1 US)", range=[-1.08, 1.08], tickmode="array",
                        tickvals=ticks,
                        ticktext=[f"{t:+.2f}".replace("-", "−") if t else "0" for t in ticks])
    figure.update_yaxes(type="category", categoryorder="array", categoryarray=labels,
                        showgrid=True)
    return figure


def camp_figure(shares: pd.DataFrame, info: RunInfo) -> go.Figure:
    """Share of runs in which each state sorts into the US's camp (landscape theory).

    Args:
        shares: `aggregate.camp_shares` (state, share, runs), sorted by share.
        info: the run's scenario facts (state names, ASEAN membership).

    Returns:
        A horizontal bar figure, one bar per state (ASEAN members marked "◆ ASEAN").

    """
    labels = [info.state_label(code) + (" ◆" if code in info.asean else "")
              for code in shares["state"]]
    colours = [BLUE if share >= 0.5 else ORANGE for share in shares["share"]]
    figure = go.Figure(go.Bar(
        x=shares["share"], y=labels, orientation="h", marker={"color": colours},
        customdata=np.column_stack([shares["runs"], shares["state"]]),
        text=[f"{share:.0%}" for share in shares["share"]], textposition="outside",
        hovertemplate=("%{y} (%{customdata[1]}): in the US's camp in %{x:.0%} of "
                       "%{customdata[0]} runs<extra></extra>"),
        showlegend=False))
    figure.add_vline(x=0.5, line={"color": "#999999", "width": 1, "dash": "dash"})
    base_layout(
        figure,
        f"Which camp every state sorts into in {info.end} (landscape theory)",
        "Share of runs in which the state ends in the US's camp; blue: mostly with the US, "
        "orange: mostly in the other camp; ◆ ASEAN member",
        height=170 + 25 * len(shares),
    )
    figure.update_layout(margin={"l": 170})
    figure.update_xaxes(title_text="share of runs in the US's camp", range=[0, 1.12],
                        tickformat=".0%")
    figure.update_yaxes(type="category", categoryorder="array", categoryarray=labels)
    return figure


def pressure_figure(paths: pd.DataFrame, info: RunInfo) -> go.Figure:
    """Small multiples: every pressure over time (median and 90% band), shocks marked.

    A shock appears as a dashed vertical line at its quarter in every panel, labelled in the
    panel of the pressure it moves, where a dotted line shows the pressure as the shock's
    targets feel it (median plus the shock's fading jolt, within 0-1).

    Args:
        paths: `aggregate.pressure_paths` (q05, q50, q95 per pressure and step).
        info: the run's scenario facts (shocks).

    Returns:
        A figure with, per pressure, a band (two traces) and a median line, plus one dotted
        line per pressure shock.

    """
    names = [p for p in PRESSURE_NAMES if p in set(paths["pressure"])]
    cols = 2
    rows = max(1, math.ceil(len(names) / cols))
    height = 170 + 185 * rows
    figure = make_subplots(rows=rows, cols=cols, shared_xaxes=True, shared_yaxes=True,
                           subplot_titles=[f"<b>{n}</b>" for n in names],
                           vertical_spacing=spacing(48, height), horizontal_spacing=0.04)
    quarters = info.quarters
    cells = {name: (i // cols + 1, i % cols + 1) for i, name in enumerate(names)}
    for index, name in enumerate(names):
        r, c = cells[name]
        path = paths[paths["pressure"] == name].sort_values("step")
        x = path["quarter"].tolist()
        figure.add_scatter(x=x, y=path["q05"], mode="lines", line={"width": 0},
                           showlegend=False, hoverinfo="skip", legendgroup="band", row=r, col=c)
        figure.add_scatter(x=x, y=path["q95"], mode="lines", line={"width": 0}, fill="tonexty",
                           fillcolor=rgba(BLUE, 0.2), name="90% of runs", legendgroup="band",
                           showlegend=index == 0, customdata=path["q05"],
                           hovertemplate=("90% of runs: %{customdata:.2f} to %{y:.2f}"
                                          "<extra></extra>"), row=r, col=c)
        figure.add_scatter(x=x, y=path["q50"], mode="lines", line={"color": BLUE, "width": 2.2},
                           name="median across runs", legendgroup="median",
                           showlegend=index == 0,
                           hovertemplate=f"{name}<br>%{{x}}: %{{y:.2f}}<extra></extra>",
                           row=r, col=c)
    _mark_shocks(figure, paths, info, cells)
    shocked = ", ".join(f"{s.name} ({s.quarter})" for s in info.shocks) or "none"
    base_layout(
        figure,
        "The pressures driving the run, with the scenario's shocks",
        f"Each pressure as it acted (0–1; China's counter-moves included): median and middle "
        f"90% of runs. Shocks: {shocked}",
        height=height,
    )
    legend_on_top(figure)
    figure.update_yaxes(range=[-0.03, 1.03], tickvals=[0, 0.25, 0.5, 0.75, 1])
    figure.update_yaxes(title_text="value (0–1)", col=1)
    figure.update_xaxes(**year_ticks(quarters, every=2))
    figure.update_xaxes(title_text="quarter", row=rows)
    if len(names) % cols and rows > 1:
        figure.update_xaxes(title_text="quarter", showticklabels=True, row=rows - 1, col=cols)
    return figure


def _mark_shocks(figure: go.Figure, paths: pd.DataFrame, info: RunInfo,
                 cells: dict[str, tuple[int, int]]) -> None:
    """Draw each shock: vertical lines in every panel, label and felt path in its own panel."""
    quarters = info.quarters
    first_legend = True
    labelled: dict[tuple[int, int], int] = {}
    for shock in info.shocks:
        if not 0 <= shock.step < len(quarters):
            continue
        for r, c in cells.values():
            figure.add_vline(x=shock.step, line={"color": VERMILLION, "width": 1.2,
                                                 "dash": "dash"}, row=r, col=c)
        cell = cells.get(shock.target) if shock.is_pressure else next(iter(cells.values()))
        if cell is None:
            continue
        stack = labelled.get(cell, 0)
        labelled[cell] = stack + 1
        sign = "+" if shock.magnitude >= 0 else "−"
        where = "" if shock.targets == "all" else f" for {shock.targets}"
        text = (f"{shock.name}: {sign}{abs(shock.magnitude):g} {shock.target}{where}"
                if not shock.is_pressure else f"{shock.name}: {sign}{abs(shock.magnitude):g}"
                f"{where}")
        figure.add_annotation(x=shock.step, y=0.04 + 0.17 * stack, xref="x", yref="y domain",
                              text=text, showarrow=False, xanchor="left", yanchor="bottom",
                              xshift=4,
                              font={"color": VERMILLION, "size": 11},
                              bgcolor="rgba(255,255,255,0.8)", row=cell[0], col=cell[1])
        if shock.is_pressure:
            path = paths[paths["pressure"] == shock.target].sort_values("step")
            felt = np.clip(path["q50"].to_numpy() + np.asarray(shock.profile), 0.0, 1.0)
            active = np.asarray(shock.profile) != 0
            # one quarter either side of the jolt, at the median, so the line leaves and
            # rejoins it
            edges = np.flatnonzero(active)
            lo, hi = max(edges.min() - 1, 0), min(edges.max() + 1, len(felt) - 1)
            shown = np.full(len(felt), np.nan)
            shown[lo:hi + 1] = felt[lo:hi + 1]
            figure.add_scatter(x=path["quarter"].tolist(), y=shown, mode="lines",
                               line={"color": VERMILLION, "width": 2, "dash": "dot",
                                     "shape": "hv"},
                               name="as felt by the shock's targets", legendgroup="felt",
                               showlegend=first_legend, connectgaps=False,
                               hovertemplate=(f"{shock.name}<br>%{{x}}: felt %{{y:.2f}}"
                                              "<extra></extra>"), row=cell[0], col=cell[1])
            first_legend = False
    figure.add_scatter(x=[None], y=[None], mode="lines", name="shock",
                       line={"color": VERMILLION, "width": 1.2, "dash": "dash"},
                       hoverinfo="skip", showlegend=bool(info.shocks))
