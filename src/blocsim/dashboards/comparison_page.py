"""The comparison page: named scenarios (run folders) side by side."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from blocsim.dashboards import comparison_aggregate as agg
from blocsim.dashboards.comparison_aggregate import ComparedRun
from blocsim.dashboards.comparison_figures import (
    comparison_level_figure,
    comparison_probability_figure,
)
from blocsim.dashboards.folders import run_subfolders
from blocsim.dashboards.page import Section, render_page
from blocsim.dashboards.run_info import GroupingInfo


@dataclass(frozen=True)
class Comparison:
    """The runs compared and the small tables drawn from them.

    Attributes:
        runs: the runs, in page order (reference first).
        probabilities: `comparison_aggregate.scenario_probabilities`.
        medians: `comparison_aggregate.median_levels`.
        groupings: every grouping key of any run to its facts.
        order: grouping keys, by the reference scenario's probability.

    """

    runs: list[ComparedRun]
    probabilities: pd.DataFrame
    medians: pd.DataFrame
    groupings: dict[str, GroupingInfo]
    order: list[str]

    @property
    def labels(self) -> list[str]:
        """The scenarios' labels in page order."""
        return [run.label for run in self.runs]

    @property
    def quarters(self) -> list[str]:
        """Every quarter any run simulated, in order."""
        return sorted({q for run in self.runs for q in run.info.quarters})

    def state_label(self, code: str) -> str:
        """A state's name from the first run that names it."""
        for run in self.runs:
            if code in run.info.state_names:
                return run.info.state_names[code]
        return code


def compare(runs: list[ComparedRun]) -> Comparison:
    """Reduce the runs' tables to what the comparison page draws."""
    probabilities = agg.scenario_probabilities({r.label: r.outcomes for r in runs})
    medians = agg.median_levels({r.label: r.levels for r in runs})
    groupings: dict[str, GroupingInfo] = {}
    for run in runs:
        for grouping in run.info.groupings:
            groupings.setdefault(grouping.key, grouping)
    order = agg.grouping_order(probabilities, runs[0].label)
    return Comparison(runs, probabilities, medians, groupings, order)


def comparison_figures(comparison: Comparison) -> tuple[go.Figure, go.Figure]:
    """The page's two figures: probabilities side by side and median level paths."""
    first = comparison.runs[0].info
    ends = {run.info.end for run in comparison.runs}
    end = first.end if len(ends) == 1 else "the end of each run"
    probability = comparison_probability_figure(comparison.probabilities, comparison.labels,
                                                comparison.groupings, comparison.order, end)
    levels = comparison_level_figure(comparison.medians, comparison.labels,
                                     comparison.groupings, comparison.order,
                                     comparison.quarters, first.consolidation_level)
    return probability, levels


def seed_note(runs: list[ComparedRun]) -> str:
    """Whether the runs share a seed (common random numbers) and replications, in words."""
    seeds = {run.info.seed for run in runs}
    replications = {run.info.replications for run in runs}
    if len(seeds) == 1:
        text = (f"All {len(runs)} scenarios ran with the same seed ({seeds.pop()}): common "
                f"random numbers, so each replication meets the same random draws in every "
                f"scenario and the differences between scenarios are mostly the scenarios' "
                f"doing, not noise (more reliable than the intervals suggest).")
    else:
        listed = ", ".join(f"{html.escape(r.label)} {r.info.seed}" for r in runs)
        text = (f"The scenarios ran with different seeds ({listed}): their differences include "
                f"sampling noise, so read them against the 95% intervals.")
    if len(replications) > 1:
        text += (" They ran different numbers of replications, so their intervals differ in "
                 "width.")
    return text


def scenarios_table_html(runs: list[ComparedRun]) -> str:
    """A table of the scenarios: name, file, description, runs, seed, hash, shocks."""
    rows = []
    for run in runs:
        info = run.info
        shocks = ", ".join(f"{s.name} ({s.quarter})" for s in info.shocks) or "–"
        rows.append(
            f"<tr><td><b>{html.escape(run.label)}</b></td>"
            f"<td>{html.escape(info.description) or '–'}</td>"
            f"<td>{html.escape(shocks)}</td>"
            f"<td class='num'>{info.replications:,}</td><td class='num'>{info.seed}</td>"
            f"<td>{info.start}–{info.end}</td>"
            f"<td><code title='{html.escape(info.scenario_hash)}'>"
            f"{html.escape(info.scenario_hash[:12])}</code></td>"
            f"<td><code>{html.escape(run.folder.name)}</code></td></tr>")
    return ("<table class='data'><thead><tr><th>scenario</th><th>what it assumes</th>"
            "<th>shocks</th><th>runs</th><th>seed</th><th>quarters</th><th>scenario hash</th>"
            f"<th>folder</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def header_html(comparison: Comparison, folder: Path) -> str:
    """The page header: what is compared, the seeds, and how to read the page."""
    runs = comparison.runs
    seeds = {run.info.seed for run in runs}
    replications = sorted({run.info.replications for run in runs})
    facts = [
        ("folder", f"<code>{html.escape(folder.name or str(folder))}</code>"),
        ("scenarios", str(len(runs))),
        ("runs per scenario", " / ".join(f"{n:,}" for n in replications)),
        ("seed", str(next(iter(seeds))) if len(seeds) == 1 else "differs"),
        ("common random numbers", "yes" if len(seeds) == 1 else "no"),
        ("blocsim", html.escape(runs[0].info.version)),
    ]
    items = "".join(f"<div><dt>{k}:</dt><dd>{v}</dd></div>" for k, v in facts)
    reference = html.escape(runs[0].label)
    howto = (
        f"<b>How to read this page.</b> Each scenario below is a results folder of "
        f"<code>blocsim run</code>: the same model under different assumptions. Section 1 "
        f"compares how likely each grouping is to consolidate into a formal alliance, with 95% "
        f"Wilson intervals for the finite number of runs; section 2 the path of the typical run "
        f"up the institutional ladder; section 3 who holds each grouping back. The first "
        f"scenario, <i>{reference}</i>, is the reference the others read against. "
        f"{seed_note(runs)} Hover over any figure for exact values; click a scenario in a "
        f"legend to hide it.")
    return (f"<h1><span class='kind'>blocsim comparison</span> · "
            f"{' vs '.join(html.escape(label) for label in comparison.labels)}</h1>"
            f"<dl class='facts'>{items}</dl>{scenarios_table_html(runs)}"
            f"<div class='howto'>{howto}</div>")


def scenario_grid_html(comparison: Comparison, cell: Callable[[str, str, pd.Series], str]) -> str:
    """A table with a row per grouping and a column per scenario; `cell` renders one entry.

    `cell(grouping, scenario, row)` gets that grouping's row of the comparison's probabilities;
    a grouping a scenario does not have reads "not in scenario".
    """
    table = comparison.probabilities.set_index(["grouping", "scenario"])
    heads = "".join(f"<th>{html.escape(label)}</th>" for label in comparison.labels)
    rows = []
    for key in comparison.order:
        cells = "".join(cell(key, label, table.loc[(key, label)])
                        if (key, label) in table.index else "<td>not in scenario</td>"
                        for label in comparison.labels)
        rows.append(f"<tr><td><b>{html.escape(comparison.groupings[key].label)}</b></td>"
                    f"{cells}</tr>")
    return ("<table class='data'><thead><tr><th>grouping</th>"
            f"{heads}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def probability_table_html(comparison: Comparison) -> str:
    """P(consolidation) and interval per grouping (rows) and scenario (columns)."""
    table = comparison.probabilities.set_index(["grouping", "scenario"])
    reference = comparison.labels[0]

    def cell(key: str, label: str, row: pd.Series) -> str:
        change = ""
        if label != reference and (key, reference) in table.index:
            delta = row["probability"] - table.loc[(key, reference), "probability"]
            change = f" <span style='color:#555'>({delta:+.3f})</span>" if delta else ""
        return (f"<td class='num'><b>{row['probability']:.3f}</b>{change}<br>"
                f"[{row['ci_low']:.3f}, {row['ci_high']:.3f}]</td>")

    return (scenario_grid_html(comparison, cell)
            + f"<p>In brackets: change from <i>{html.escape(reference)}</i>; below: the 95% "
              "interval.</p>")


def blocker_table_html(comparison: Comparison) -> str:
    """The most frequent blocker per grouping (rows) and scenario (columns)."""

    def cell(key: str, label: str, row: pd.Series) -> str:
        blocker = row["top_blocker"]
        if not isinstance(blocker, str):
            return "<td>none (consolidated in every run)</td>"
        return (f"<td>{html.escape(comparison.state_label(blocker))} "
                f"<span style='color:#555'>({row['top_blocker_share']:.0%} of runs)</span></td>")

    return scenario_grid_html(comparison, cell)


def comparison_sections(comparison: Comparison, figures: tuple[go.Figure, go.Figure]
                        ) -> list[Section]:
    """The page's sections, in reading order."""
    probability, levels = figures
    return [
        Section("probability", "How likely is each grouping to consolidate, per scenario?",
                probability,
                intro=("The share of each scenario's runs in which each grouping became a formal "
                       "alliance, with its 95% Wilson interval; groupings in the order of the "
                       f"reference scenario, <i>{html.escape(comparison.labels[0])}</i>."),
                notes=probability_table_html(comparison)),
        Section("levels", "How far up the institutional ladder, per scenario?", levels,
                intro=("The median run's institutional level, from 0 (dormant) to 4 (formal "
                       "alliance), one line per scenario."),
                notes=("A median below the dotted line means the typical run never reaches the "
                       "formal-alliance threshold in that scenario. Each scenario's own "
                       "dashboard shows the spread between its runs.")),
        Section("blockers", "Who holds each grouping back, per scenario?", None,
                intro=("The core member that most often held each grouping back (lowest "
                       "commitment while the weakest-link rule capped the level), with the share "
                       "of all runs in which it did."),
                notes=blocker_table_html(comparison)),
    ]


def footer_html(comparison: Comparison, folder: Path) -> str:
    """The page footer: where the data came from."""
    version = html.escape(comparison.runs[0].info.version)
    return (f"Made by blocsim {version} from the run folders in "
            f"<code>{html.escape(str(folder))}</code>: "
            + ", ".join(f"<code>{html.escape(r.folder.name)}</code>" for r in comparison.runs)
            + ". The page is self-contained and works offline.")


def comparison_page_html(folder: Path) -> str:
    """The complete HTML of the comparison of the run folders inside `folder`.

    Args:
        folder: a folder without a manifest holding two or more run folders.

    Returns:
        A self-contained HTML document.

    Raises:
        ResultsError: if a run folder cannot be read.

    """
    folder = Path(folder)
    comparison = compare(agg.read_runs(run_subfolders(folder)))
    figures = comparison_figures(comparison)
    title = f"blocsim comparison: {', '.join(comparison.labels)}"
    return render_page(title, header_html(comparison, folder),
                       comparison_sections(comparison, figures), footer_html(comparison, folder))
