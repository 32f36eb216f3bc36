"""The tipping-point dashboard: where a grouping's consolidation probability crosses a target.

Drawn from a `blocsim tip` folder (manifest kind "tipping"): `tipping.parquet` (the verdict: status,
estimate and interval, the logistic fit) and `evaluations.parquet` (every batch of runs: value,
runs, successes, round).
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from blocsim.analysis.summary import wilson_interval
from blocsim.dashboards.labels import axis_label
from blocsim.dashboards.page import Section, render_page
from blocsim.dashboards.style import (
    BLUE,
    GREEN,
    HEATMAP_SCALE,
    VERMILLION,
    base_layout,
    legend_on_top,
    rgba,
)
from blocsim.errors import ResultsError
from blocsim.experiment.store import MANIFEST

CROSSES = "crosses"
NEVER = "never crosses in range"
UNRESOLVED = "not resolved"

STATUS_COLOURS = {CROSSES: BLUE, NEVER: VERMILLION, UNRESOLVED: "#777777"}


@dataclass(frozen=True)
class TippingData:
    """What a tipping folder holds, ready to draw.

    Attributes:
        folder: the folder.
        manifest: its manifest.
        result: the one-row verdict as a dict (status, target, estimate, ci_low, ci_high, runs,
            note, slope, intercept, scenario, vary, grouping, low, high).
        evaluations: every batch (value, runs, successes, round).
        label: the varied parameter's readable label.
        grouping_name: the grouping's long name ("" when unknown).

    """

    folder: Path
    manifest: dict
    result: dict
    evaluations: pd.DataFrame
    label: str
    grouping_name: str

    @property
    def status(self) -> str:
        """"crosses", "never crosses in range" or "not resolved"."""
        return str(self.result.get("status", ""))

    @property
    def grouping(self) -> str:
        """The grouping key."""
        return str(self.result.get("grouping") or self.manifest.get("grouping", "?"))

    @property
    def vary(self) -> str:
        """The varied dotted path."""
        return str(self.result.get("vary") or self.manifest.get("vary", "?"))

    @property
    def target(self) -> float:
        """The probability whose crossing was sought."""
        return float(self.result.get("target", self.manifest.get("target", 0.5)))

    @property
    def range(self) -> tuple[float, float]:
        """The searched range (low, high)."""
        low, high = self.result.get("low"), self.result.get("high")
        if low is None or high is None or _nan(low) or _nan(high):
            low, high = self.manifest.get("range", [0.0, 1.0])
        return float(low), float(high)

    @property
    def estimate(self) -> tuple[float, float, float]:
        """(estimate, ci_low, ci_high), NaN where absent."""
        return tuple(_float(self.result.get(k)) for k in ("estimate", "ci_low", "ci_high"))  # type: ignore[return-value]

    @property
    def runs(self) -> int:
        """Runs spent."""
        return int(self.evaluations["runs"].sum())


def _float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _nan(value: object) -> bool:
    return math.isnan(_float(value))


def _names(scenario_file: str) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """State names, grouping labels and grouping long names from the scenario file, if loadable."""
    try:
        from blocsim.scenario.loading import load

        scenario = load(scenario_file)
    except Exception:  # noqa: BLE001 - labels are a nicety; the page works without them
        return {}, {}, {}
    states = {code: state.name for code, state in scenario.states.items()}
    labels = {key: key.replace("_", "–") for key in scenario.groupings}
    names = {key: grouping.name for key, grouping in scenario.groupings.items()}
    return states, labels, names


def read_tipping(folder: Path) -> TippingData:
    """Read a `blocsim tip` folder.

    Raises:
        ResultsError: if the folder is not a tipping folder or its tables cannot be read.

    """
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("kind") != "tipping":
            raise ResultsError(f"{folder} holds a {manifest.get('kind')!r} folder, not a "
                               f"tipping folder (`blocsim tip`)")
        result = pd.read_parquet(folder / "tipping.parquet").iloc[0].to_dict()
        evaluations = pd.read_parquet(folder / "evaluations.parquet")
    except ResultsError:
        raise
    except (OSError, ValueError, KeyError, IndexError) as error:
        raise ResultsError(f"{folder} is not a readable tipping folder: {error}") from error
    missing = {"value", "runs", "successes"} - set(evaluations.columns)
    if missing:
        raise ResultsError(f"{folder}/evaluations.parquet lacks {', '.join(sorted(missing))}")
    if "round" not in evaluations.columns:
        evaluations = evaluations.assign(round=0)
    scenario = manifest.get("scenario", {}) if isinstance(manifest.get("scenario"), dict) else {}
    states, labels, names = _names(str(scenario.get("file", "")))
    vary = str(result.get("vary") or manifest.get("vary", "?"))
    grouping = str(result.get("grouping") or manifest.get("grouping", "?"))
    return TippingData(folder, manifest, result, evaluations, axis_label(vary, states,
                                                                         labels).label,
                       names.get(grouping, ""))


def pooled_shares(evaluations: pd.DataFrame) -> pd.DataFrame:
    """Runs and successes pooled per evaluated value, with the share and its Wilson interval.

    Returns:
        One row per value, in value order: value, runs, successes, share, ci_low, ci_high.

    """
    pooled = (evaluations.groupby("value", as_index=False)[["runs", "successes"]].sum()
              .sort_values("value").reset_index(drop=True))
    pooled["share"] = pooled["successes"] / pooled["runs"]
    bounds = [wilson_interval(int(s), int(n)) for s, n in zip(pooled["successes"],
                                                              pooled["runs"], strict=True)]
    pooled["ci_low"] = [b[0] for b in bounds]
    pooled["ci_high"] = [b[1] for b in bounds]
    return pooled


def _p(data: TippingData) -> str:
    return f"P({data.grouping} consolidates)"


def verdict_text(data: TippingData) -> str:
    """The result in one or two plain sentences (HTML)."""
    target, (estimate, low, high) = data.target, data.estimate
    lo_range, hi_range = data.range
    label = html.escape(data.label)
    p = html.escape(_p(data))
    note = html.escape(str(data.result.get("note", "") or ""))
    if data.status == CROSSES:
        slope = _float(data.result.get("slope"))
        if math.isnan(slope):
            direction = ""
        elif slope < 0:
            direction = (f" Below it {html.escape(data.grouping)} consolidates in more than "
                         f"{target:.0%} of runs, above it in fewer.")
        else:
            direction = (f" Below it {html.escape(data.grouping)} consolidates in fewer than "
                         f"{target:.0%} of runs, above it in more.")
        return (f"<b>Tipping point found.</b> {p} crosses {target:g} at <b>{label} = "
                f"{estimate:.3f}</b> (95% interval {low:.3f} to {high:.3f}).{direction}")
    if data.status == NEVER:
        pooled = pooled_shares(data.evaluations)
        if len(pooled) and (pooled["ci_high"] < target).all():
            bound = (f"stays below {target:g} at every value tried: the highest upper 95% bound "
                     f"of any value's share is {pooled['ci_high'].max():.3f}")
        elif len(pooled) and (pooled["ci_low"] > target).all():
            bound = (f"stays above {target:g} at every value tried: the lowest lower 95% bound "
                     f"of any value's share is {pooled['ci_low'].min():.3f}")
        else:
            bound = f"stays on one side of {target:g} ({note})"
        return (f"<b>No tipping point in this range.</b> {p} never crosses {target:g} while "
                f"{label} goes from {lo_range:g} to {hi_range:g}: it {bound}.")
    if data.status == UNRESOLVED:
        where = (f" The best estimate so far is {estimate:.3f} (95% interval {low:.3f} to "
                 f"{high:.3f}), too wide to report." if not math.isnan(estimate) else "")
        return (f"<b>Not resolved.</b> The search stopped before it could locate where {p} "
                f"crosses {target:g} ({note}).{where}")
    return f"<b>{html.escape(data.status)}</b>: {note}"


def share_figure(data: TippingData) -> go.Figure:
    """Observed consolidation shares against the varied value, the fit, target and estimate.

    Returns:
        A figure with traces named "observed share" (x = pooled values, y = pooled successes /
        runs, error bars = Wilson 95%, marker area proportional to runs), "fitted logistic
        curve" (only when the status is "crosses"), "target", and, when there is an estimate,
        "estimate" and "95% interval of the crossing".

    """
    pooled = pooled_shares(data.evaluations)
    low, high = data.range
    pad = 0.03 * (high - low)
    estimate, ci_low, ci_high = data.estimate
    figure = go.Figure()
    colour = STATUS_COLOURS.get(data.status, BLUE)
    if not math.isnan(estimate) and low - pad <= estimate <= high + pad:
        band_low = max(ci_low, low - pad) if not math.isnan(ci_low) else estimate
        band_high = min(ci_high, high + pad) if not math.isnan(ci_high) else estimate
        figure.add_scatter(
            x=[band_low, band_low, band_high, band_high, band_low], y=[0, 1, 1, 0, 0],
            fill="toself", fillcolor=rgba(colour, 0.16), line={"width": 0}, mode="lines",
            name=f"95% interval of the crossing ({ci_low:.3f} to {ci_high:.3f})",
            hoverinfo="skip")
        figure.add_scatter(
            x=[estimate, estimate], y=[0, 1], mode="lines", name=f"estimate {estimate:.3f}",
            line={"color": colour, "width": 2, "dash": "solid" if data.status == CROSSES
                  else "dash"},
            hovertemplate=f"estimate {estimate:.3f} [{ci_low:.3f}, {ci_high:.3f}]"
                          "<extra></extra>")
    figure.add_scatter(
        x=[low - pad, high + pad], y=[data.target, data.target], mode="lines",
        name=f"target P = {data.target:g}", line={"color": GREEN, "width": 1.6, "dash": "dot"},
        hoverinfo="skip")
    if data.status == CROSSES:
        slope, intercept = _float(data.result.get("slope")), _float(data.result.get("intercept"))
        if not (math.isnan(slope) or math.isnan(intercept)):
            xs = np.linspace(low, high, 201)
            figure.add_scatter(x=xs, y=1 / (1 + np.exp(-(intercept + slope * xs))),
                               mode="lines", name="fitted logistic curve",
                               line={"color": "#333333", "width": 2},
                               hovertemplate="%{x:.3f}: fitted P = %{y:.3f}<extra></extra>")
    biggest = float(pooled["runs"].max()) if len(pooled) else 1.0
    figure.add_scatter(
        x=pooled["value"], y=pooled["share"], mode="markers", name="observed share (pooled "
        "per value; size ∝ runs)",
        marker={"size": pooled["runs"].to_numpy(), "sizemode": "area",
                "sizeref": 2.0 * biggest / 26.0**2, "sizemin": 4, "color": rgba(BLUE, 0.75),
                "line": {"color": "#1f3b57", "width": 1}},
        error_y={"type": "data", "array": (pooled["ci_high"] - pooled["share"]).to_numpy(),
                 "arrayminus": (pooled["share"] - pooled["ci_low"]).to_numpy(),
                 "color": rgba("#1f3b57", 0.6), "thickness": 1.2, "width": 3},
        customdata=pooled[["successes", "runs", "ci_low", "ci_high"]].to_numpy(),
        hovertemplate=(f"{data.label} = %{{x:.4g}}<br>share %{{y:.3f}} [%{{customdata[2]:.3f}}"
                       ", %{customdata[3]:.3f}]<br>%{customdata[0]} of %{customdata[1]} runs "
                       "consolidated<extra></extra>"))
    base_layout(
        figure, f"Where does {_p(data)} cross {data.target:g}?",
        "Dots: share of runs that consolidated at each value tried (all rounds pooled), "
        "whiskers: 95% Wilson interval, dot area ∝ runs",
        height=560)
    legend_on_top(figure, top_margin=150)
    status = {CROSSES: f"crosses {data.target:g} at {estimate:.3f}",
              NEVER: "never crosses in range", UNRESOLVED: "not resolved"}.get(
                  data.status, data.status)
    figure.add_annotation(
        text=f"<b>{html.escape(status)}</b>", xref="paper", yref="paper", x=0.99, y=0.97,
        xanchor="right", yanchor="top", showarrow=False, font={"size": 16, "color": colour},
        bgcolor="rgba(255,255,255,0.92)", bordercolor=colour, borderwidth=1.5, borderpad=6)
    figure.update_xaxes(title_text=data.label, range=[low - pad, high + pad])
    figure.update_yaxes(title_text=_p(data), range=[-0.03, 1.03], tickformat=".1f")
    return figure


def runs_figure(data: TippingData) -> go.Figure:
    """Where the runs were spent: runs at each value, stacked by round (one trace per round)."""
    evaluations = data.evaluations
    low, high = data.range
    pad = 0.03 * (high - low)
    rounds = sorted(int(r) for r in evaluations["round"].unique())
    colours = sample_colorscale(HEATMAP_SCALE, [0.85 * i / max(len(rounds) - 1, 1)
                                                for i in range(len(rounds))])
    width = (high - low) / 200
    figure = go.Figure()
    for colour, round_ in zip(colours, rounds, strict=True):
        mine = (evaluations[evaluations["round"] == round_]
                .groupby("value", as_index=False)[["runs", "successes"]].sum())
        name = f"round {round_}" + (" (coarse look)" if round_ == 0 else "")
        figure.add_bar(x=mine["value"], y=mine["runs"], name=name, width=width,
                       showlegend=False,
                       marker={"color": colour, "line": {"width": 0}}, meta=round_,
                       customdata=mine[["successes"]].to_numpy(),
                       hovertemplate=(f"{name}<br>{data.label} = %{{x:.4g}}<br>%{{y}} runs, "
                                      "%{customdata[0]} consolidated<extra></extra>"))
    if len(rounds) > 1:
        figure.add_scatter(
            x=[None], y=[None], mode="markers", showlegend=False, hoverinfo="skip",
            marker={"color": [rounds[0]], "cmin": rounds[0], "cmax": rounds[-1],
                    "colorscale": [[i / max(len(colours) - 1, 1), c]
                                   for i, c in enumerate(colours)],
                    "showscale": True, "colorbar": {"title": {"text": "round", "side": "right"},
                                                    "thickness": 14, "outlinewidth": 0,
                                                    "dtick": 1 if len(rounds) <= 15 else None}})
    estimate = data.estimate[0]
    if not math.isnan(estimate) and low - pad <= estimate <= high + pad:
        figure.add_vline(x=estimate, line={"color": STATUS_COLOURS.get(data.status, BLUE),
                                           "width": 1.5, "dash": "dash"},
                         annotation_text=f"estimate {estimate:.3f}",
                         annotation_position="top right", annotation_font_size=12)
    base_layout(figure, "Where the runs were spent",
                f"Runs at each value tried, stacked by round; {data.runs:,} runs in all over "
                f"{len(rounds)} round{'s' if len(rounds) != 1 else ''}",
                height=360)
    figure.update_layout(barmode="stack", margin={"t": 90})
    figure.update_xaxes(title_text=data.label, range=[low - pad, high + pad])
    figure.update_yaxes(title_text="runs")
    return figure


def _date(created: str) -> str:
    try:
        return datetime.fromisoformat(created).strftime("%Y-%m-%d %H:%M UTC")
    except (TypeError, ValueError):
        return created or "unknown"


def header_html(data: TippingData) -> str:
    """The page header: what was searched, over which range, and the verdict."""
    manifest = data.manifest
    scenario = manifest.get("scenario", {}) if isinstance(manifest.get("scenario"), dict) else {}
    name = str(data.result.get("scenario") or scenario.get("name", "?"))
    low, high = data.range
    grouping = html.escape(data.grouping) + (f" ({html.escape(data.grouping_name)})"
                                             if data.grouping_name else "")
    rounds = data.evaluations["round"].nunique()
    facts = [
        ("scenario", html.escape(name)),
        ("grouping", grouping),
        ("varied", f"{html.escape(data.label)} <code>{html.escape(data.vary)}</code>"),
        ("range", f"{low:g} to {high:g}"),
        ("target", f"P = {data.target:g}"),
        ("runs", f"{data.runs:,} in {rounds} round{'s' if rounds != 1 else ''} at "
                 f"{data.evaluations['value'].nunique()} values"),
    ]
    if "precision" in manifest:
        facts.append(("precision sought", f"{float(manifest['precision']):g}"))
    facts += [("run on", html.escape(_date(str(manifest.get("created", ""))))),
              ("blocsim", html.escape(str(manifest.get("versions", {}).get("blocsim", "?"))))]
    items = "".join(f"<div><dt>{k}:</dt><dd>{v}</dd></div>" for k, v in facts)
    colour = STATUS_COLOURS.get(data.status, BLUE)
    verdict = (f"<div class='verdict' style='border-left: 6px solid {colour}; background: "
               f"{rgba(colour, 0.07)}; padding: 10px 16px; margin: 14px 0 0; font-size: 17px; "
               f"max-width: 1150px'>{verdict_text(data)}</div>")
    howto = (
        f"<b>How to read this page.</b> <code>blocsim tip</code> searched for the value of "
        f"{html.escape(data.label)} at which the share of runs in which "
        f"{html.escape(data.grouping)} becomes a formal alliance crosses {data.target:g}. "
        f"It first ran a coarse look across "
        f"the range (round 0), then spent further rounds of runs where a logistic curve fitted to "
        f"all runs so far crosses the target, until the 95% interval of the crossing was "
        f"narrow enough (or the budget ran out, or the observed shares stayed on one side of the "
        f"target everywhere). The search assumes the probability moves one way across the range.")
    return (f"<h1><span class='kind'>blocsim tipping point</span> · {html.escape(data.grouping)}"
            f" in {html.escape(name)}</h1><dl class='facts'>{items}</dl>{verdict}"
            f"<div class='howto'>{howto}</div>")


def runs_intro(data: TippingData) -> str:
    """What the search did with its runs, in a sentence."""
    rounds = data.evaluations["round"].nunique()
    if rounds <= 1:
        return ("The search stopped after its coarse, even look across the range: the observed "
                "shares already settled the question, so no further runs were needed.")
    return ("The adaptive search spends its runs near the crossing: a coarse, even look first "
            f"(round 0), then {rounds - 1} round{'s' if rounds > 2 else ''} of batches at the "
            "current estimate and either side of its interval.")


def tipping_sections(data: TippingData) -> list[Section]:
    """The page's sections, in reading order."""
    fitted = ("The black curve is the logistic fit to every run; where it meets the green "
              "target line is the estimate, the shaded band its 95% interval (delta method)."
              if data.status == CROSSES else
              "No curve is drawn: the search did not report a crossing, so the fit would "
              "suggest a precision the data do not have.")
    return [
        Section("shares", f"Where does {_p(data)} cross {data.target:g}?", share_figure(data),
                intro=(f"The share of runs in which {html.escape(data.grouping)} consolidated, "
                       f"at each value of {html.escape(data.label)} the search tried, against "
                       f"the target {data.target:g}."),
                notes=(f"Each dot pools every run made at that value of {html.escape(data.label)}"
                       f" (several rounds may revisit a value). {fitted}")),
        Section("runs", "Where were the runs spent?", runs_figure(data),
                intro=runs_intro(data),
                notes="Colour: the round in which the runs were made (round 0 is the coarse "
                      "look). Hover a bar for its value, runs and consolidations."),
    ]


def footer_html(data: TippingData) -> str:
    """Where the data came from."""
    scenario = data.manifest.get("scenario", {})
    file = scenario.get("file", "") if isinstance(scenario, dict) else ""
    return (f"Made by blocsim from the tipping folder <code>{html.escape(str(data.folder))}</code>"
            f" (scenario file <code>{html.escape(str(file))}</code>). The page is "
            f"self-contained and works offline.")


def tipping_page_html(folder: Path) -> str:
    """The complete HTML of a tipping folder's dashboard.

    Raises:
        ResultsError: if the folder is not a readable tipping folder.

    """
    data = read_tipping(Path(folder))
    title = f"blocsim tipping point: {data.grouping}, {data.label} ({data.status})"
    return render_page(title, header_html(data), tipping_sections(data), footer_html(data))
