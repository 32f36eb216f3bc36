"""Figures of the analyses beside a sweep: sensitivity bars and PRIM scenario discovery."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from blocsim.analysis.discovery import DiscoveryResult as Discovery
from blocsim.analysis.prim import QP_SIGNIFICANCE
from blocsim.analysis.sensitivity import OUTCOMES, sensitivity_method
from blocsim.dashboards.read import SweepData
from blocsim.dashboards.style import (
    BLUE,
    GRID,
    HEATMAP_SCALE,
    LEGEND_TOP,
    MUTED_TEXT,
    ORANGE,
    VERMILLION,
    base_layout,
    small_multiples,
)

TOP_MARGIN = 170
"""Pixels above the panels: title, subtitle, legend (and the outcome buttons), panel titles."""

RANGE_GREY = "#d9d9d9"
"""The design's range of an axis, behind the box's limits."""


def parameter_label(info: SweepData, path: str, short: bool = False) -> str:
    """The readable label of a sweep parameter (an axis of the sweep, or any dotted path)."""
    name = info.axis(path).name
    return name.short if short else name.label


def _wrap(text: str, width: int = 60) -> str:
    return "<br>".join(textwrap.wrap(text, width))


def _refs(figure: go.Figure, row: int, col: int) -> tuple[str, str]:
    """The layout names of a subplot's axes, e.g. ("xaxis3", "yaxis3")."""
    subplot = figure.get_subplot(row, col)
    return subplot.xaxis.plotly_name, subplot.yaxis.plotly_name


def _hold_subplot(figure: go.Figure, row: int, col: int, **trace: object) -> None:
    """An empty trace on a subplot that shows only a note.

    plotly draws no subplot without a trace (when no other panel has one either), and a note
    placed by the subplot's domain then lands in another panel.
    """
    figure.add_scatter(x=[None], y=[None], row=row, col=col, showlegend=False,
                       hoverinfo="skip", **trace)


def _short_ref(name: str) -> str:
    """"xaxis3" -> "x3", "yaxis" -> "y" (the form annotations and traces use)."""
    return name[0] + name[5:]


# --- sensitivity ----------------------------------------------------------------------------

INDEX_NAMES = {
    "ST": "total effect ST (with interactions)",
    "S1": "first-order S1 (alone)",
    "mu_star": "Morris mu* (mean |elementary effect|)",
}


def _sensitivity_traces(rows: pd.DataFrame, method: str) -> list[tuple[str, str, str]]:
    """(index column, its interval column, colour) of the bars drawn per parameter."""
    if method == "sobol":
        return [("ST", "ST_conf", BLUE), ("S1", "S1_conf", ORANGE)]
    return [("mu_star", "mu_star_conf", BLUE)]


def sensitivity_figure(table: pd.DataFrame, info: SweepData, order: list[str]) -> go.Figure:
    """Small multiples of horizontal bars: each parameter's influence on each grouping.

    Sobol: the total index ST with its 95% interval and, beside it, the first-order index S1;
    Morris: mu* with its interval. Parameters are sorted by influence within each panel (most
    influential on top). A grouping whose outcome never varies shows the table's note instead
    of bars. Buttons switch between the outcomes (probability first, then mean peak level).

    Args:
        table: `analysis.sensitivity.read_sensitivity`.
        info: the sweep's facts (labels).
        order: grouping keys in panel order (others in the table follow).

    Returns:
        A figure whose bar traces carry meta = {"grouping", "outcome", "index"} and customdata
        rows [parameter path, value, interval half-width], and an empty trace (index None) in
        each panel that shows a note; traces of every outcome but the first start hidden.

    """
    method = sensitivity_method(table)
    key = "ST" if method == "sobol" else "mu_star"
    present = list(dict.fromkeys(table["grouping"]))
    groupings = [g for g in order if g in present] + [g for g in present if g not in order]
    outcomes = [o for o in OUTCOMES if o in set(table["outcome"])] or \
        list(dict.fromkeys(table["outcome"]))
    parameters = table["parameter"].nunique()
    bars = 2 if method == "sobol" else 1
    panel = max(170, 14 * bars * parameters + 12 * parameters + 40)
    figure, cells = small_multiples([info.facts.title(g) for g in groupings], panel, gap=95,
                                    top=TOP_MARGIN, horizontal_spacing=0.3)
    height = figure.layout.height
    titles = [a.to_plotly_json() for a in figure.layout.annotations]
    for a in titles:
        a["font"] = {"size": 13}
    views: dict[str, dict] = {}
    notes: dict[str, list[dict]] = {}
    for outcome in outcomes:
        layout: dict = {}
        annotations: list[dict] = []
        for index, (grouping, (r, c)) in enumerate(zip(groupings, cells, strict=True)):
            xname, yname = _refs(figure, r, c)
            mine = table[(table["grouping"] == grouping) & (table["outcome"] == outcome)]
            note = next((n for n in mine["note"] if n), "")
            if not note and (mine.empty or mine[key].isna().all()):
                note = f"no indices for {OUTCOMES.get(outcome, outcome)}"
            if note:
                _hold_subplot(figure, r, c, visible=outcome == outcomes[0],
                              meta={"grouping": grouping, "outcome": outcome, "index": None})
                annotations.append({
                    "text": _wrap(note, 52), "showarrow": False, "align": "center",
                    "xref": f"{_short_ref(xname)} domain", "yref": f"{_short_ref(yname)} domain",
                    "x": 0.5, "y": 0.5, "font": {"size": 13, "color": MUTED_TEXT},
                    "bgcolor": "#f7f7f7", "bordercolor": GRID, "borderpad": 8})
                layout[f"{xname}.visible"] = False
                layout[f"{yname}.visible"] = False
                continue
            mine = mine.assign(_rank=mine[key].fillna(-np.inf)).sort_values("_rank")
            labels = [parameter_label(info, p) for p in mine["parameter"]]
            low, high = 0.0, 0.0
            for column, half, colour in reversed(_sensitivity_traces(mine, method)):
                values = mine[column].to_numpy(dtype=float)
                conf = mine[half].to_numpy(dtype=float) if half in mine else np.zeros_like(values)
                low = min(low, float(np.nanmin(values)))
                high = max(high, float(np.nanmax(values)))
                figure.add_bar(
                    x=values, y=labels, orientation="h", name=INDEX_NAMES[column],
                    legendgroup=f"{outcome}-{column}", visible=outcome == outcomes[0],
                    showlegend=index == 0 or not any(
                        tr.showlegend for tr in figure.data
                        if tr.legendgroup == f"{outcome}-{column}"),
                    legendrank=1 if column != "S1" else 2,
                    marker={"color": colour}, meta={"grouping": grouping, "outcome": outcome,
                                                    "index": column},
                    error_x={"type": "data", "array": conf, "color": "#333333",
                             "thickness": 1.2, "width": 3},
                    customdata=np.column_stack([mine["parameter"].to_numpy(), values, conf]),
                    hovertemplate=(f"<b>{grouping}</b> · %{{y}}<br>{column} = "
                                   "%{customdata[1]:.3f} ± %{customdata[2]:.3f} (95%)"
                                   "<br><span style='color:#777'>%{customdata[0]}</span>"
                                   "<extra></extra>"),
                    row=r, col=c)
            if method == "sobol":
                low, high = min(low - 0.05, -0.05), max(high, 1.0) + 0.05
            else:
                high = high * 1.08 if high > 0 else 1.0
            layout[f"{xname}.visible"] = True
            layout[f"{yname}.visible"] = True
            layout[f"{xname}.range"] = [low, high]
            layout[f"{yname}.categoryarray"] = labels
        views[outcome] = layout
        notes[outcome] = annotations
    figure.update_yaxes(type="category", categoryorder="array", showgrid=False, ticks="",
                        tickfont={"size": 12})
    what = ("Sobol index (share of the outcome's variance)" if method == "sobol"
            else "Morris mu* (outcome units)")
    figure.update_xaxes(title_text=what, title_font={"size": 12}, zeroline=True,
                        zerolinecolor="#999999")
    figure.update_layout(barmode="group", bargap=0.25, bargroupgap=0.05)
    if method == "sobol":
        title = "Which parameters drive consolidation? Sobol indices per grouping"
        subtitle = ("Blue: total effect ST (alone and through interactions), with its 95% "
                    "bootstrap interval; orange: first-order effect S1 (alone). Most influential "
                    "on top.<br>Indices are shares of variance (0–1): values below 0 or above 1 "
                    "are estimation noise. Each panel has its own scale")
    else:
        title = "Which parameters drive consolidation? Morris screening per grouping"
        subtitle = ("Bars: mu*, the mean absolute change of the outcome per step of the "
                    "parameter, with its 95% bootstrap interval; most influential on top")
    base_layout(figure, title, subtitle, height, legend_top=True, top=TOP_MARGIN)
    figure.update_layout(annotations=titles + notes[outcomes[0]])
    figure.plotly_relayout(views[outcomes[0]])
    if len(outcomes) > 1:
        figure.update_layout(updatemenus=[{
            "type": "buttons", "direction": "right", "showactive": True,
            "x": 1.0, "xanchor": "right", "yanchor": "top", "pad": {"r": 0},
            "y": 1 + (TOP_MARGIN - LEGEND_TOP + 4) / (height - TOP_MARGIN - 60),
            "bgcolor": "#f0f3f6", "bordercolor": GRID, "font": {"size": 13},
            "buttons": [{
                "label": f"outcome: {OUTCOMES.get(outcome, outcome)}", "method": "update",
                "args": [{"visible": [tr.meta["outcome"] == outcome for tr in figure.data]},
                         {**views[outcome], "annotations": titles + notes[outcome]}]}
                for outcome in outcomes]}])
    return figure


# --- scenario discovery ---------------------------------------------------------------------

def _same_scale(box: pd.DataFrame) -> bool:
    """Whether every axis' sampled range lies within [0, 1], so one x axis in real units fits."""
    return bool(len(box)) and bool((box["data_low"] >= -1e-9).all()
                                   and (box["data_high"] <= 1 + 1e-9).all())


def _segments(table: pd.DataFrame, low: str, high: str, labels: list[str],
              scale: bool) -> tuple[list, list, list]:
    """x, y and customdata of line segments (one per row, separated by None)."""
    xs: list = []
    ys: list = []
    custom: list = []
    for (_, row), label in zip(table.iterrows(), labels, strict=True):
        lo, hi = float(row[low]), float(row[high])
        if not scale:
            span = (row["data_high"] - row["data_low"]) or 1.0
            x0, x1 = (lo - row["data_low"]) / span, (hi - row["data_low"]) / span
        else:
            x0, x1 = lo, hi
        xs += [x0, x1, None]
        ys += [label, label, None]
        custom += [[lo, hi, row["qp"]], [lo, hi, row["qp"]], [None, None, None]]
    return xs, ys, custom


def _qp_text(qp: float) -> str:
    if qp is None or (isinstance(qp, float) and math.isnan(qp)):
        return ""
    value = f"{qp:.2g}"
    return f"  qp {value} (weak)" if qp >= QP_SIGNIFICANCE else f"  qp {value}"


def discovery_figure(discoveries: dict[str, Discovery], info: SweepData,
                     order: list[str]) -> go.Figure:
    """Per grouping: PRIM's coverage-density trade-off and the chosen box's limits.

    Left: the peeling trajectory (x coverage, y density), points coloured by the number of
    restricted axes, the reported box marked and annotated. Right: on each restricted axis, the
    box's limits (blue; orange and dotted for weak restrictions, quasi-p >= 0.05) over the
    design's range (grey). With `step_boxes` (`discovery_<G>_boxes.parquet`), each point of the
    trade-off shows its box on hover, and a slider under each grouping picks another step: the
    right panel then shows that step's box after pasting and pruning, and a ring marks it on
    the curve.

    Args:
        discoveries: the sweep's PRIM results (`analysis.discovery.read_discoveries`).
        info: the sweep (labels, and `step_boxes`: every step's peeled and refined box).
        order: grouping keys in row order (others follow).

    Returns:
        A figure with, per grouping (meta = grouping key): "peeling trajectory" (the peel rows'
        coverage and density), "chosen box", and the box traces "box limits" and "weak box
        limits" (x pairs low, high separated by None), "design range"; with step boxes, also
        "picked box" and one slider per grouping (name = grouping key).

    """
    step_boxes = info.step_boxes
    groupings = [g for g in order if g in discoveries] + \
        [g for g in discoveries if g not in order]
    most = max(max(len(_picker_axes(d, step_boxes.get(d.grouping))) for d in
                   discoveries.values()), 1)
    panel = max(320, 34 * most + 60)
    titles = []
    for g in groupings:
        which = "picked" if g in step_boxes else "chosen"
        titles += [f"{info.facts.label(g)} · coverage–density trade-off",
                   f"{info.facts.label(g)} · the {which} box on each axis it restricts"]
    figure, _ = small_multiples(titles, panel, gap=90 + (100 if step_boxes else 0), top=170,
                                column_widths=[0.42, 0.58], horizontal_spacing=0.24)
    height = figure.layout.height
    top = max((int(d.trajectory["n_restricted"].max()) for d in discoveries.values()),
              default=1)
    sliders = []
    for index, grouping in enumerate(groupings):
        found = discoveries[grouping]
        row = index + 1
        steps = step_boxes.get(grouping)
        _tradeoff(figure, found, row, first=index == 0, steps=steps, info=info)
        box_traces = _box(figure, found, info, row, first=index == 0,
                          axes=_picker_axes(found, steps))
        if steps is not None and box_traces:
            sliders.append(_picker(figure, found, info, row, steps, box_traces))
    domain = figure.layout.xaxis.domain
    base_layout(
        figure,
        "Scenario discovery (PRIM): where in the design does each grouping consolidate?",
        "Left: each peel trims the box; coverage = share of the cases of interest still inside,"
        " density = share of the box's points that are cases.<br>Right: the reported box's "
        "limits (blue) against the range sampled (grey); orange dotted limits are weak "
        "(quasi-p ≥ 0.05)",
        height, legend_top=True, top=170)
    figure.update_layout(coloraxis={
        "colorscale": HEATMAP_SCALE, "cmin": 0, "cmax": max(top, 1),
        "colorbar": {"title": {"text": "axes restricted", "side": "right"},
                     "x": domain[1] + 0.012, "xanchor": "left", "thickness": 12,
                     "len": min(1.0, (panel + 20) / (height - 250)), "y": 1, "yanchor": "top",
                     "dtick": 1 if top <= 10 else None, "outlinewidth": 0}})
    if sliders:
        figure.update_layout(sliders=sliders)
    return figure


def _tradeoff(figure: go.Figure, found: Discovery, row: int, first: bool,
              steps: pd.DataFrame | None = None, info: SweepData | None = None) -> None:
    peel = found.peel
    chosen = found.chosen
    limits = [_limits_text(steps, int(step), "peeled", info) if steps is not None and
              info is not None else "" for step in peel["step"]]
    figure.add_scatter(
        x=peel["coverage"].to_numpy(), y=peel["density"].to_numpy(), mode="lines+markers",
        name="peeling trajectory (colour: axes restricted)", legendgroup="peel",
        showlegend=first, meta=found.grouping,
        line={"color": "#aaaaaa", "width": 1.2},
        marker={"color": peel["n_restricted"].to_numpy(), "coloraxis": "coloraxis", "size": 8,
                "line": {"color": "#555555", "width": 0.6}},
        customdata=np.column_stack([peel[["step", "mass", "points", "of_interest",
                                          "n_restricted"]].to_numpy(dtype=object), limits]),
        hovertemplate=("step %{customdata[0]}<br>coverage %{x:.2f} · density %{y:.2f}<br>mass "
                       "%{customdata[1]:.2f} (%{customdata[2]} points, %{customdata[3]} of "
                       "interest)<br>%{customdata[4]} axes restricted%{customdata[5]}"
                       "<extra></extra>"),
        row=row, col=1)
    others = found.trajectory[(found.trajectory["phase"] != "peel")
                              & ~found.trajectory["chosen"].astype(bool)]
    if len(others):
        figure.add_scatter(
            x=others["coverage"].to_numpy(), y=others["density"].to_numpy(), mode="markers",
            name="after pasting / pruning", legendgroup="refined", showlegend=first,
            meta=found.grouping, marker={"symbol": "diamond", "size": 10, "color": "#666666"},
            text=others["phase"].to_numpy(),
            hovertemplate="after %{text}<br>coverage %{x:.2f} · density %{y:.2f}<extra></extra>",
            row=row, col=1)
    if len(peel):
        base = float(peel["density"].iloc[0])
        figure.add_scatter(
            x=[0, 1], y=[base, base], mode="lines", name="density of the whole design",
            legendgroup="base", showlegend=first, meta=found.grouping, hoverinfo="skip",
            line={"color": "#777777", "dash": "dot", "width": 1.2}, row=row, col=1)
    figure.add_scatter(
        x=[chosen["coverage"]], y=[chosen["density"]], mode="markers", name="chosen box",
        legendgroup="chosen", showlegend=first, meta=found.grouping,
        marker={"symbol": "star", "size": 20, "color": VERMILLION,
                "line": {"color": "#222222", "width": 1}},
        hovertemplate=(f"chosen box ({chosen['phase']})<br>coverage %{{x:.2f}} · density "
                       f"%{{y:.2f}}<br>mass {chosen['mass']:.2f}, {int(chosen['points'])} points"
                       "<extra></extra>"),
        row=row, col=1)
    xname, yname = _refs(figure, row, 1)
    phase = {"peel": "", "paste": " after pasting", "prune": " after pruning"}.get(
        str(chosen["phase"]), "")
    peeled = peel[peel["step"] == chosen["step"]]
    if chosen["phase"] == "paste" and len(peeled) and \
            int(peeled["points"].iloc[0]) == int(chosen["points"]):
        phase = " (pasting added no points)"
    left = chosen["coverage"] > 0.8
    figure.add_annotation(
        x=chosen["coverage"], y=chosen["density"], xref=_short_ref(xname),
        yref=_short_ref(yname),
        text=(f"<b>chosen box</b>{phase}<br>coverage {chosen['coverage']:.2f} · density "
              f"{chosen['density']:.2f}<br>{int(chosen['points'])} points, "
              f"{int(chosen['n_restricted'])} axes restricted"),
        showarrow=True, arrowhead=2, arrowcolor="#444444", ax=-160 if left else 110,
        ay=50 if chosen["density"] > 0.6 else -50, align="left", bgcolor="rgba(255,255,255,0.9)",
        bordercolor="#999999", font={"size": 12})
    figure.update_xaxes(range=[-0.02, 1.04], title_text="coverage (share of the cases inside)",
                        title_font={"size": 12}, row=row, col=1)
    figure.update_yaxes(range=[-0.02, 1.04], title_text="density (share of box that are cases)",
                        title_font={"size": 12}, row=row, col=1)


def _box(figure: go.Figure, found: Discovery, info: SweepData, row: int, first: bool,
         axes: list[str] | None = None) -> list[int]:
    """Draw the reported box; return the indices of its restylable traces.

    With `axes` (the picker's fixed rows), those are the strong limits, weak limits and qp
    texts; without, none.
    """
    xname, yname = _refs(figure, row, 2)
    restricted = found.restricted.copy()
    if axes:
        rows = found.limits.set_index("axis").loc[axes].reset_index()
        return _picker_box(figure, found, info, row, first, rows)
    if restricted.empty:
        _hold_subplot(figure, row, 2, meta={"placeholder": True})
        figure.add_annotation(
            text=_wrap("No axis restricted: the cases of interest are spread over the whole "
                       "design.", 50), showarrow=False, x=0.5, y=0.5,
            xref=f"{_short_ref(xname)} domain", yref=f"{_short_ref(yname)} domain",
            font={"size": 13, "color": MUTED_TEXT})
        figure.update_xaxes(visible=False, row=row, col=2)
        figure.update_yaxes(visible=False, row=row, col=2)
        return []
    restricted["_qp"] = restricted["qp"].fillna(1.0)
    restricted = restricted.sort_values("_qp", kind="stable")
    weak = restricted["_qp"] >= QP_SIGNIFICANCE
    labels = [parameter_label(info, a, short=True) + (" (weak)" if w else "")
              for a, w in zip(restricted["axis"], weak, strict=True)]
    scale = _same_scale(found.limits)
    label_of = dict(zip(restricted["axis"], labels, strict=True))
    xs, ys, _ = _segments(restricted, "data_low", "data_high", labels, scale)
    figure.add_scatter(x=xs, y=ys, mode="lines", name="range sampled by the design",
                       legendgroup="range", showlegend=first, meta=found.grouping,
                       line={"color": RANGE_GREY, "width": 14}, hoverinfo="skip", row=row, col=2)
    for name, part, colour, dash, group in (
            ("box limits (quasi-p < 0.05)", restricted[~weak], BLUE, "solid", "strong"),
            ("weak box limits (quasi-p ≥ 0.05: may be noise)", restricted[weak], ORANGE, "dot",
             "weak")):
        if part.empty:
            continue
        xs, ys, custom = _segments(part, "low", "high", [label_of[a] for a in part["axis"]],
                                   scale)
        figure.add_scatter(
            x=xs, y=ys, mode="lines+markers", name=name, legendgroup=group,
            showlegend=first or not any(t.legendgroup == group for t in figure.data),
            meta={"grouping": found.grouping, "axes": part["axis"].tolist()},
            line={"color": colour, "width": 6, "dash": dash},
            marker={"symbol": "line-ns", "size": 16, "line": {"width": 3, "color": colour}},
            customdata=custom,
            hovertemplate=("%{y}<br>box %{customdata[0]:.3g} to %{customdata[1]:.3g}<br>"
                           "quasi-p %{customdata[2]:.2g}<extra></extra>"),
            row=row, col=2)
    ends = [1.0 if not scale else float(h) for h in restricted["data_high"]]
    figure.add_scatter(
        x=ends, y=labels, mode="text", text=[_qp_text(q) for q in restricted["qp"]],
        textposition="middle right", textfont={"size": 11, "color": MUTED_TEXT},
        showlegend=False, hoverinfo="skip", meta=found.grouping, row=row, col=2)
    low = 0.0 if not scale else float(min(restricted["data_low"].min(), 0.0))
    high = 1.0 if not scale else float(max(restricted["data_high"].max(), 1.0))
    figure.update_xaxes(range=[low - 0.03 * (high - low), high + 0.3 * (high - low)],
                        tickmode="array", tickvals=[float(v) for v in np.linspace(low, high, 6)],
                        title_text="axis value" if scale else
                        "position in the axis' sampled range (0 = lowest, 1 = highest)",
                        title_font={"size": 12}, row=row, col=2)
    figure.update_yaxes(type="category", categoryorder="array",
                        categoryarray=list(reversed(labels)), showgrid=False, ticks="",
                        range=[-0.7, len(labels) - 0.3], tickfont={"size": 12}, row=row, col=2)
    return []


# --- picking another box of the trade-off ---------------------------------------------------

def _picker_axes(found: Discovery, steps: pd.DataFrame | None) -> list[str]:
    """The axes the picker's box panel lists (design order; empty without step boxes).

    Those any step's refined box restricts, and the reported box's.
    """
    if steps is None or steps.empty:
        return []
    refined = steps[(steps["stage"] == "refined") & steps["restricted"].astype(bool)]
    wanted = set(refined["axis"]) | set(found.restricted["axis"])
    return [a for a in found.limits["axis"] if a in wanted]


def _limits_text(steps: pd.DataFrame, step: int, stage: str, info: SweepData | None) -> str:
    """"<br>china assertiveness ≥ 0.59 (qp 3e-04)<br>..." for one step's box, or ""."""
    rows = steps[(steps["step"] == step) & (steps["stage"] == stage)
                 & steps["restricted"].astype(bool)]
    parts = []
    for _, r in rows.iterrows():
        name = parameter_label(info, r["axis"], short=True) if info is not None else r["axis"]
        limits = []
        if not pd.isna(r.get("qp_low")):
            limits.append(f"≥ {r['low']:.3g} (qp {r['qp_low']:.1g})")
        if not pd.isna(r.get("qp_high")):
            limits.append(f"≤ {r['high']:.3g} (qp {r['qp_high']:.1g})")
        parts.append(f"{name} " + ", ".join(limits))
    return "".join(f"<br>{p}" for p in parts)


def _picker_segments(box: pd.DataFrame, labels: dict[str, str], scale: bool) -> dict:
    """x, y and customdata of the strong and weak limit traces and the qp texts of one box.

    Rows are the picker's axes, in order; unrestricted rows draw nothing.
    """
    restricted = box[box["restricted"].astype(bool)]
    weak = restricted["qp"].fillna(1.0) >= QP_SIGNIFICANCE
    parts = {}
    for name, part in (("strong", restricted[~weak]), ("weak", restricted[weak])):
        xs, ys, custom = _segments(part, "low", "high", [labels[a] for a in part["axis"]],
                                   scale) if len(part) else ([], [], [])
        parts[name] = (xs, ys, custom)
    ends = [1.0 if not scale else float(h) for h in box["data_high"]]
    texts = [_qp_text(q) if r else "" for q, r in zip(box["qp"], box["restricted"], strict=True)]
    parts["text"] = (ends, [labels[a] for a in box["axis"]], texts)
    return parts


def _picker_box(figure: go.Figure, found: Discovery, info: SweepData, row: int, first: bool,
                rows: pd.DataFrame) -> list[int]:
    """The box panel with fixed rows (every axis some step restricts) and restylable traces."""
    labels = {a: parameter_label(info, a, short=True) for a in rows["axis"]}
    scale = _same_scale(found.limits)
    xs, ys, _ = _segments(rows, "data_low", "data_high", [labels[a] for a in rows["axis"]],
                          scale)
    figure.add_scatter(x=xs, y=ys, mode="lines", name="range sampled by the design",
                       legendgroup="range", showlegend=first, meta=found.grouping,
                       line={"color": RANGE_GREY, "width": 14}, hoverinfo="skip", row=row, col=2)
    parts = _picker_segments(rows, labels, scale)
    ids = []
    for key, name, colour, dash in (
            ("strong", "box limits (quasi-p < 0.05)", BLUE, "solid"),
            ("weak", "weak box limits (quasi-p ≥ 0.05: may be noise)", ORANGE, "dot")):
        xs, ys, custom = parts[key]
        ids.append(len(figure.data))
        figure.add_scatter(
            x=xs, y=ys, mode="lines+markers", name=name, legendgroup=key,
            showlegend=first and key == "strong" or (key == "weak" and first),
            meta={"grouping": found.grouping, "axes": list(rows["axis"])},
            line={"color": colour, "width": 6, "dash": dash},
            marker={"symbol": "line-ns", "size": 16, "line": {"width": 3, "color": colour}},
            customdata=custom,
            hovertemplate=("%{y}<br>box %{customdata[0]:.3g} to %{customdata[1]:.3g}<br>"
                           "quasi-p (weakest limit) %{customdata[2]:.2g}<extra></extra>"),
            row=row, col=2)
    ends, ys, texts = parts["text"]
    ids.append(len(figure.data))
    figure.add_scatter(
        x=ends, y=ys, mode="text", text=texts, textposition="middle right",
        textfont={"size": 11, "color": MUTED_TEXT}, showlegend=False, hoverinfo="skip",
        meta=found.grouping, row=row, col=2)
    low = 0.0 if not scale else float(min(rows["data_low"].min(), 0.0))
    high = 1.0 if not scale else float(max(rows["data_high"].max(), 1.0))
    figure.update_xaxes(range=[low - 0.03 * (high - low), high + 0.3 * (high - low)],
                        tickmode="array", tickvals=[float(v) for v in np.linspace(low, high, 6)],
                        title_text="axis value" if scale else
                        "position in the axis' sampled range (0 = lowest, 1 = highest)",
                        title_font={"size": 12}, row=row, col=2)
    names = [labels[a] for a in rows["axis"]]
    figure.update_yaxes(type="category", categoryorder="array",
                        categoryarray=list(reversed(names)), showgrid=False, ticks="",
                        range=[-0.7, len(names) - 0.3], tickfont={"size": 12}, row=row, col=2)
    return ids


def _picker(figure: go.Figure, found: Discovery, info: SweepData, row: int,
            steps: pd.DataFrame, box_traces: list[int]) -> dict:
    """A ring on the curve and a slider under the row.

    Picking a step restyles the ring and the box panel to that step's refined box.
    """
    axes = _picker_axes(found, steps)
    labels = {a: parameter_label(info, a, short=True) for a in axes}
    scale = _same_scale(found.limits)
    refined = steps[steps["stage"] == "refined"]
    chosen = int(found.chosen["step"])
    first_row = refined[refined["step"] == chosen]
    ring = len(figure.data)
    figure.add_scatter(
        x=[float(first_row["coverage"].iloc[0])] if len(first_row) else [],
        y=[float(first_row["density"].iloc[0])] if len(first_row) else [],
        mode="markers", name="picked box (after pasting and pruning)", legendgroup="picked",
        showlegend=row == 1, meta=found.grouping,
        marker={"symbol": "circle-open", "size": 22, "color": "#222222",
                "line": {"width": 2.5}},
        hovertemplate="picked box<br>coverage %{x:.2f} · density %{y:.2f}<extra></extra>",
        row=row, col=1)
    options = []
    for step, box in refined.groupby("step", sort=True):
        box = box.set_index("axis").loc[axes].reset_index()
        parts = _picker_segments(box, labels, scale)
        coverage, density = float(box["coverage"].iloc[0]), float(box["density"].iloc[0])
        options.append({
            "label": str(step), "method": "restyle",
            "args": [{"x": [parts["strong"][0], parts["weak"][0], parts["text"][0], [coverage]],
                      "y": [parts["strong"][1], parts["weak"][1], parts["text"][1], [density]],
                      "customdata": [parts["strong"][2], parts["weak"][2], None, None],
                      "text": [None, None, parts["text"][2], None]},
                     [*box_traces, ring]]})
    domain = figure.get_subplot(row, 1).yaxis.domain
    active = [int(o["label"]) for o in options].index(chosen) if options else 0
    return {"name": found.grouping, "active": active, "steps": options,
            "x": 0.0, "len": 1.0, "y": domain[0], "yanchor": "top",
            "pad": {"t": 62, "b": 0}, "font": {"size": 11},
            "currentvalue": {"prefix": f"{found.grouping}: box of peeling step ",
                             "suffix": " (pasted and pruned; the reported box is step "
                                       f"{chosen})", "font": {"size": 12}}}
