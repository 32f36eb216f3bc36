"""The sweep page: where each grouping consolidates, which axes matter, the analyses beside it.

The reader picks the focus grouping (parallel coordinates, extreme points); the default is the
grouping whose probability varies most across the design.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from blocsim.dashboards import sweep_aggregate as agg
from blocsim.dashboards.analysis_sections import (
    analysis_sections,
    discovery_rows,
    sensitivity_summary,
)
from blocsim.dashboards.page import (
    PLOTLY_CONFIG,
    Section,
    render,
    script_json,
)
from blocsim.dashboards.read import Axis, SweepData
from blocsim.dashboards.sweep_figures import effect_figure, parallel_figure, surface_figure

WEAK_EFFECT = 0.1
"""Below this range of the focus grouping's probability along every axis, the page says that the
choice of the surface's axes is close to noise."""

DESIGNS = {"grid": "full grid: every combination of the axes' values",
           "lhs": "Latin hypercube: points spread evenly over the axes' ranges",
           "sobol": "Sobol (Saltelli) sample for variance-based sensitivity",
           "morris": "Morris screening: one-at-a-time trajectories through the axes' ranges"}


@dataclass(frozen=True)
class SurfaceChoice:
    """The surface's two axes and how they were chosen (`how`: one-axis, grid or effect)."""

    x: Axis
    y: Axis
    how: str


def choose_surface_axes(data: SweepData, sizes: pd.Series) -> SurfaceChoice:
    """A 2-axis grid's own axes, else the two that move the default focus grouping most."""
    if len(data.axes) == 1:
        return SurfaceChoice(data.axes[0], data.axes[0], "one-axis")
    if data.design == "grid" and len(data.axes) == 2:
        return SurfaceChoice(*data.axes, "grid")
    return SurfaceChoice(data.axis(sizes.index[0]), data.axis(sizes.index[1]), "effect")


@dataclass(frozen=True)
class Extremes:
    """One focus grouping's most and least favourable points, and how many tie at each end."""

    key: str
    top: pd.DataFrame
    bottom: pd.DataFrame
    top_ties: int
    bottom_ties: int


def sweep_sections(data: SweepData, count: int = 5) -> tuple[list[Section], dict]:
    """The page's sections in reading order, and what its template says around them."""
    order = data.order
    focus = order[0]
    paths = [a.path for a in data.axes]
    effects = agg.axis_effects(data.probabilities, data.points, paths, data.design)
    sizes = agg.effect_sizes(effects, focus)
    choice = choose_surface_axes(data, sizes)
    cells = agg.surface(data.probabilities, data.points, choice.x.path, choice.y.path,
                        data.design, agg.surface_bins(len(data.points)))
    design = data.points.set_index("point")
    binned = {p: not agg.is_discrete(design[p], data.design) for p in paths}
    pooled = ("each cell is one design point" if choice.how == "grid" else
              f"cells pool the points in them, the other {len(paths) - 2} axes averaged over"
              if choice.how == "effect" else "one axis")
    sections = [
        Section("surfaces", "Where does each grouping consolidate?",
                surface_figure(cells, data, choice.x, choice.y, order, pooled)),
        Section("parallel", "Every design point across all axes"),
        Section("effects", "How much does each axis matter?",
                effect_figure(effects, data, order, binned)),
        Section("extremes", "Which points favour the focus grouping most and least?"),
        *analysis_sections(data, order),
    ]
    figures = [parallel_figure(data, key) for key in order]
    parallel = {"height": figures[0].layout.height or 450,
                "figures": script_json("[" + ",".join(f.to_json() for f in figures) + "]"),
                "config": script_json(json.dumps(PLOTLY_CONFIG))}
    extremes = [Extremes(key, *agg.extreme_points(data.probabilities, key, count))
                for key in order]
    return sections, dict(
        data=data, facts=data.facts, order=order, choice=choice, sizes=sizes,
        weak=sizes.iloc[0] < WEAK_EFFECT, parallel=parallel, extremes=extremes, count=count,
        design=DESIGNS.get(data.design, data.design), discoveries=discovery_rows(data, order),
        sensitivity=(sensitivity_summary(data) if data.sensitivity is not None
                     and len(data.sensitivity) else None))


def sweep_page_html(data: SweepData) -> str:
    """The complete HTML of a sweep's page."""
    sections, context = sweep_sections(data)
    return render("sweep.html.j2", sections, **context)
