"""The sweep dashboard: which figures, in which order, with which words around them."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from blocsim.analysis.sweeps import point_probabilities
from blocsim.dashboards import sweep_aggregate as agg
from blocsim.dashboards.analysis_sections import analysis_sections
from blocsim.dashboards.page import Section, render_page
from blocsim.dashboards.sweep_figures import effect_figure, parallel_figure, surface_figure
from blocsim.dashboards.sweep_info import AxisInfo, SweepInfo, sweep_info
from blocsim.errors import ResultsError
from blocsim.experiment.sweep import read_sweep_manifest

OUTCOME_COLUMNS = ["point", "grouping", "consolidated", "peak_level"]
"""The only columns of the (large) outcomes dataset the page reads."""


@dataclass(frozen=True)
class SweepData:
    """A sweep's design and its per-point probabilities, the page's only data.

    Attributes:
        info: the sweep's facts.
        points: the design (`point` and one column per axis).
        probabilities: `point_probabilities(outcomes, points)`.

    """

    info: SweepInfo
    points: pd.DataFrame
    probabilities: pd.DataFrame


def read_sweep(folder: Path) -> SweepData:
    """Read what the page needs from a finished sweep folder (four columns of the outcomes).

    Raises:
        ResultsError: if the folder is not a finished sweep.

    """
    try:
        manifest = read_sweep_manifest(folder)
    except (KeyError, ValueError) as error:
        raise ResultsError(f"{folder} holds an unfinished or incomplete sweep: its manifest "
                           f"lacks {error}") from error
    info = sweep_info(manifest)
    try:
        points = pd.read_parquet(folder / "points.parquet")
        outcomes = pd.read_parquet(folder / "outcomes.parquet", columns=OUTCOME_COLUMNS)
    except (OSError, ValueError, KeyError) as error:
        raise ResultsError(f"{folder} is a sweep folder whose tables cannot be read: "
                           f"{error}") from error
    outcomes["grouping"] = outcomes["grouping"].astype(str)
    return SweepData(info, points, point_probabilities(outcomes, points))


WEAK_EFFECT = 0.1
"""Below this range of the focus grouping's probability along every axis, the page says that
the choice of the surface's axes is weak."""


@dataclass(frozen=True)
class SurfaceChoice:
    """Which two axes the probability surfaces show, and why.

    Attributes:
        x: the axis across.
        y: the axis up.
        reason: one sentence on how they were chosen and what happened to the others.
        pooled_note: a short phrase for the figure's subtitle.

    """

    x: AxisInfo
    y: AxisInfo
    reason: str
    pooled_note: str


def choose_surface_axes(info: SweepInfo, sizes: pd.Series) -> SurfaceChoice:
    """The surface's axes: a 2-axis grid's own, else the two that move the focus grouping most.

    Args:
        info: the sweep's facts.
        sizes: `sweep_aggregate.effect_sizes` for the focus grouping (largest first).

    Returns:
        The choice, with the words that explain it.

    """
    focus = info.base.grouping(info.focus).label
    if len(info.axes) == 1:
        axis = info.axes[0]
        return SurfaceChoice(axis, axis, "The sweep has one axis: the surface is its diagonal.",
                             "one axis")
    if info.design == "grid" and len(info.axes) == 2:
        x, y = info.axes
        return SurfaceChoice(x, y, "Each cell is one design point of the grid.",
                             "each cell is one design point")
    x, y = (info.axis(p) for p in sizes.index[:2])
    others = len(info.axes) - 2
    binned = "" if info.design == "grid" else " (sampled axes cut into quantile bins)"
    reason = (f"The two axes with the largest effect on {focus} (the widest range of its "
              f"probability across the axis' values in section 3): <b>{html.escape(x.label)}"
              f"</b> ({sizes.iloc[0]:.2f}) and <b>{html.escape(y.label)}</b> "
              f"({sizes.iloc[1]:.2f}). Each cell pools the runs of every design point that "
              f"falls in it{binned}, so the other {others} ax{'es' if others > 1 else 'is'} "
              f"{'are' if others > 1 else 'is'} averaged over.")
    if sizes.iloc[0] < WEAK_EFFECT:
        reason += (f" Note: {focus}'s probability hardly varies across this sweep (by at most "
                   f"{sizes.iloc[0]:.2f} along any axis), so this choice is close to noise; "
                   f"section 3 shows which axes move the other groupings.")
    return SurfaceChoice(x, y, reason,
                         f"cells pool the points in them, the other {others} "
                         f"ax{'es' if others > 1 else 'is'} averaged over")


@dataclass(frozen=True)
class SweepFigures:
    """The sweep dashboard's figures and the tables behind them.

    Attributes:
        surface: heatmaps of P(consolidation) over two axes, one per grouping.
        parallel: parallel coordinates over every axis and the focus grouping's probability.
        effects: P(consolidation) against each axis, one panel per axis.
        choice: which axes the surfaces show and why.
        effect_sizes: the range of the focus grouping's effect curve per axis.

    """

    surface: go.Figure
    parallel: go.Figure
    effects: go.Figure
    choice: SurfaceChoice
    effect_sizes: pd.Series


def sweep_figures(data: SweepData) -> SweepFigures:
    """Aggregate a sweep's per-point probabilities and draw every figure of its page."""
    info = data.info
    paths = [a.path for a in info.axes]
    effects = agg.axis_effects(data.probabilities, data.points, paths, info.design)
    sizes = agg.effect_sizes(effects, info.focus)
    choice = choose_surface_axes(info, sizes)
    order = agg.grouping_order(data.probabilities, info.focus)
    cells = agg.surface(data.probabilities, data.points, choice.x.path, choice.y.path,
                        info.design, agg.surface_bins(info.points))
    design = data.points.set_index("point")
    binned = {p: not agg.is_discrete(design[p], info.design) for p in paths}
    return SweepFigures(
        surface=surface_figure(cells, info, choice.x, choice.y, order, choice.pooled_note),
        parallel=parallel_figure(data.probabilities, data.points, info, info.focus),
        effects=effect_figure(effects, info, order, binned),
        choice=choice,
        effect_sizes=sizes,
    )


def _date(created: str) -> str:
    try:
        return datetime.fromisoformat(created).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return created or "unknown"


DESIGNS = {"grid": "full grid: every combination of the axes' values",
           "lhs": "Latin hypercube: points spread evenly over the axes' ranges",
           "sobol": "Sobol (Saltelli) sample for variance-based sensitivity",
           "morris": "Morris screening: one-at-a-time trajectories through the axes' ranges"}


def axes_table_html(info: SweepInfo) -> str:
    """A table of the axes: readable label, dotted path, what it visits and what it means."""
    rows = "".join(
        f"<tr><td><b>{html.escape(a.label)}</b></td><td><code>{html.escape(a.path)}</code></td>"
        f"<td>{html.escape(a.extent(info.design))}</td>"
        f"<td>{html.escape(a.name.meaning) or '–'}</td></tr>" for a in info.axes)
    return ("<table class='data'><thead><tr><th>axis</th><th>parameter</th><th>values</th>"
            f"<th>meaning</th></tr></thead><tbody>{rows}</tbody></table>")


def header_html(info: SweepInfo) -> str:
    """The page header: the sweep, its design, the axes and how to read the page."""
    base = info.base
    digest = html.escape(info.sweep_hash)
    facts = [
        ("sweep", html.escape(info.name)),
        ("base scenario", html.escape(base.name)),
        ("design", html.escape(info.design)),
        ("axes", str(len(info.axes))),
        ("design points", f"{info.points:,}"),
        ("runs per point", f"{info.replications:,}"),
        ("runs in all", f"{info.runs:,}"),
        ("seed", str(info.seed)),
        ("quarters", f"{base.start}–{base.end} ({base.steps})"),
        ("sweep hash", f"<code title='{digest}'>{digest[:12]}</code>"),
        ("run on", html.escape(_date(info.created))),
        ("blocsim", html.escape(base.version)),
    ]
    items = "".join(f"<div><dt>{k}:</dt><dd>{v}</dd></div>" for k, v in facts)
    focus = base.grouping(info.focus).label
    design = html.escape(DESIGNS.get(info.design, info.design))
    howto = (
        f"<b>How to read this page.</b> A sweep runs the base scenario <i>{html.escape(base.name)}"
        f"</i> at {info.points:,} design points ({design}), "
        f"each with the axes listed above set to the point's values and simulated "
        f"{info.replications:,} times from {base.start} to {base.end}. At each point, "
        f"P(consolidation) is the share of its runs in which the grouping became a formal "
        f"alliance (level ≥ {base.consolidation_level:g} with every core member committed ≥ "
        f"{base.consolidation_commitment:g} for {base.consolidation_quarters} quarters). "
        f"Section 1 maps that probability over the two most telling axes; 2 follows every point "
        f"across all axes; 3 shows each axis' own effect with the others averaged over; 4 lists "
        f"the points most and least favourable to {html.escape(focus)}. Intervals are 95% Wilson "
        f"intervals: they reflect the finite number of runs, and pooling points (a bin, a "
        f"marginal) narrows them. The colour scale is always 0–1, so panels compare directly. "
        f"Hover over any figure for exact values.")
    description = (f"<p class='description'>{html.escape(info.description)}</p>"
                   if info.description else "")
    return (f"<h1><span class='kind'>blocsim sweep</span> · {html.escape(info.name)}</h1>"
            f"{description}<dl class='facts'>{items}</dl>"
            f"{axes_table_html(info)}<div class='howto'>{howto}</div>")


def extremes_table_html(data: SweepData, count: int = 5) -> str:
    """Tables of the points with the highest and the lowest P(consolidation) of the focus."""
    info = data.info
    focus = info.base.grouping(info.focus).label
    top, bottom = agg.extreme_points(data.probabilities, info.focus, count)
    heads = "".join(f"<th>{html.escape(a.label)}</th>" for a in info.axes)

    def rows(table: pd.DataFrame) -> str:
        out = []
        for row in table.to_dict("records"):
            values = "".join(f"<td class='num'>{_value(row[a.path])}</td>" for a in info.axes)
            out.append(f"<tr><td class='num'>{int(row['point'])}</td>{values}"
                       f"<td class='num'><b>{row['probability']:.3f}</b></td>"
                       f"<td class='num'>[{row['ci_low']:.3f}, {row['ci_high']:.3f}]</td>"
                       f"<td class='num'>{int(row['consolidated'])} / "
                       f"{int(row['replications'])}</td>"
                       f"<td class='num'>{row['mean_peak_level']:.2f}</td></tr>")
        return "".join(out)

    head = (f"<thead><tr><th>point</th>{heads}<th>P({html.escape(focus)})</th>"
            "<th>95% interval</th><th>runs consolidated</th><th>mean peak level</th></tr>"
            "</thead>")
    wide = " style='display:block; overflow-x:auto'" if len(info.axes) > 5 else ""
    return (f"<h3>Highest P({html.escape(focus)} consolidates)</h3>"
            f"<table class='data'{wide}>{head}<tbody>{rows(top)}</tbody></table>"
            f"<h3>Lowest P({html.escape(focus)} consolidates)</h3>"
            f"<table class='data'{wide}>{head}<tbody>{rows(bottom)}</tbody></table>")


def _value(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return f"{float(value):.3g}"  # type: ignore[arg-type]


def effect_notes_html(info: SweepInfo, sizes: pd.Series) -> str:
    """A sentence ranking the axes by their effect on the focus grouping."""
    focus = html.escape(info.base.grouping(info.focus).label)
    ranked = ", ".join(f"{html.escape(info.axis(p).label)} ({v:.2f})"
                       for p, v in sizes.items())
    return (f"Axes ranked by their effect on {focus} (max − min of its pooled probability "
            f"across the axis): {ranked}. A flat line means the axis barely matters once the "
            f"others are averaged over; but an axis can still matter through an interaction "
            f"that the surfaces in section 1 show. Click a grouping in the legend to hide it.")


def sweep_sections(data: SweepData, figures: SweepFigures) -> list[Section]:
    """The page's sections, in reading order."""
    info = data.info
    focus = html.escape(info.base.grouping(info.focus).label)
    return [
        Section("surfaces", "Where does each grouping consolidate?", figures.surface,
                intro=(f"P(consolidation by {info.base.end}) of every grouping over two axes. "
                       f"{figures.choice.reason}"),
                notes=("Yellow: nearly every run consolidates; dark purple: almost none. Empty "
                       "(white) cells have no design point.")),
        Section("parallel", "Every design point across all axes", figures.parallel,
                intro=(f"Each line is a design point: where it sits on every axis and, on the "
                       f"right, the share of its runs in which {focus} consolidated (the line's "
                       f"colour)."),
                notes=("Drag vertically along any axis to highlight the points in a range: "
                       f"e.g. brush the top of the {focus} axis to see which combinations give "
                       f"the highest probabilities. Drag an axis' title to reorder.")),
        Section("effects", "How much does each axis matter?", figures.effects,
                intro=("P(consolidation) of every grouping against each axis, pooling the runs "
                       "of all points at each value (grid) or in each of about eight quantile "
                       "bins (sampled designs), whatever the other axes."),
                notes=effect_notes_html(info, figures.effect_sizes)),
        Section("extremes", f"Which points favour {info.base.grouping(info.focus).label} most "
                "and least?", None,
                intro=(f"The five design points with the highest and the five with the lowest "
                       f"share of runs in which {focus} consolidated, each point from its own "
                       f"{info.replications:,} runs."),
                notes=extremes_table_html(data)),
    ]


def footer_html(info: SweepInfo, folder: Path) -> str:
    """The page footer: where the data came from."""
    return (f"Made by blocsim {html.escape(info.base.version)} from the sweep folder "
            f"<code>{html.escape(str(folder))}</code> (sweep file "
            f"<code>{html.escape(info.file)}</code>, base scenario file "
            f"<code>{html.escape(info.base.file)}</code>). The page is self-contained and works "
            f"offline.")


def sweep_page_html(folder: Path) -> str:
    """The complete HTML of a sweep's dashboard.

    Args:
        folder: a finished sweep folder (`blocsim sweep`).

    Returns:
        A self-contained HTML document.

    Raises:
        ResultsError: if the folder is not a finished sweep.

    """
    folder = Path(folder)
    data = read_sweep(folder)
    figures = sweep_figures(data)
    info = data.info
    title = (f"blocsim sweep: {info.name} ({info.points:,} points x {info.replications:,} runs,"
             f" {info.design})")
    sections = sweep_sections(data, figures)
    sections += analysis_sections(folder, info, agg.grouping_order(data.probabilities,
                                                                    info.focus))
    return render_page(title, header_html(info), sections, footer_html(info, folder))
