"""The run dashboard: which figures, in which order, with which words around them."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

import plotly.graph_objects as go

from blocsim.api import Results
from blocsim.dashboards import aggregate
from blocsim.dashboards.context_figures import alignment_figure, camp_figure, pressure_figure
from blocsim.dashboards.outcome_figures import blocker_figure, probability_figure, timing_figure
from blocsim.dashboards.page import Section, render_page
from blocsim.dashboards.run_info import RunInfo, run_info
from blocsim.dashboards.trajectory_figures import commitment_heatmap_figure, level_fan_figure
from blocsim.vocabulary import PRESSURES


@dataclass(frozen=True)
class RunFigures:
    """The run dashboard's figures, each built from the aggregated tables.

    Attributes:
        probability: P(consolidation) per grouping with 95% intervals.
        levels: fan charts of each grouping's level over time.
        timing: when consolidation happens, per grouping.
        commitments: heatmaps of members' mean commitment over time.
        blockers: who blocks each grouping, as shares of runs.
        alignment: each state's final US-China alignment.
        pressures: the pressures over time with the shocks.
        camps: each state's share of runs in the US's camp (None for folders without camps).

    """

    probability: go.Figure
    levels: go.Figure
    timing: go.Figure
    commitments: go.Figure
    blockers: go.Figure
    alignment: go.Figure
    pressures: go.Figure
    camps: go.Figure | None = None


def run_figures(results: Results, info: RunInfo | None = None) -> RunFigures:
    """Aggregate a run's tables and draw every figure of its dashboard.

    Args:
        results: a run's results (tables and manifest).
        info: the run's scenario facts; read from the manifest when not given.

    Returns:
        The figures, groupings in order of their probability of consolidation.

    """
    info = info or run_info(results.manifest)
    probabilities = aggregate.consolidation_probabilities(results.outcomes)
    order = probabilities["grouping"].tolist()
    return RunFigures(
        probability=probability_figure(probabilities, info),
        levels=level_fan_figure(aggregate.level_fans(results.levels), info, order),
        timing=timing_figure(aggregate.consolidation_timing(results.outcomes),
                             aggregate.timing_summary(results.outcomes), info, order),
        commitments=commitment_heatmap_figure(aggregate.mean_commitments(results.commitments),
                                              info, order),
        blockers=blocker_figure(aggregate.blocker_shares(results.outcomes), info, order),
        alignment=alignment_figure(aggregate.final_alignment(results.alignment), info),
        pressures=pressure_figure(aggregate.pressure_paths(results.pressures), info),
        camps=(camp_figure(aggregate.camp_shares(results.tables["camps"]), info)
               if "camps" in results.tables else None),
    )


def _date(created: str) -> str:
    try:
        return datetime.fromisoformat(created).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return created or "unknown"


def header_html(info: RunInfo) -> str:
    """The page header: the scenario, the run's facts and how to read the page."""
    digest = html.escape(info.scenario_hash)
    facts = [
        ("scenario", html.escape(info.name)),
        ("runs (replications)", f"{info.replications:,}"),
        ("seed", str(info.seed)),
        ("quarters", f"{info.start}–{info.end} ({info.steps})"),
        ("scenario hash", f"<code title='{digest}'>{digest[:12]}</code>"),
        ("run on", html.escape(_date(info.created))),
        ("blocsim", html.escape(info.version)),
    ]
    items = "".join(f"<div><dt>{k}:</dt><dd>{v}</dd></div>" for k, v in facts)
    howto = (
        f"<b>How to read this page.</b> Each run simulates the scenario quarter by quarter from "
        f"{info.start} to {info.end} with its own random draws (domestic politics, noise); the "
        f"page summarises {info.replications:,} runs. A grouping <i>consolidates</i> into a "
        f"formal bloc when its institutional level stays at {info.consolidation_level:g} or "
        f"above with every core member's commitment at {info.consolidation_commitment:g} or "
        f"above for {info.consolidation_quarters} consecutive quarters. Section 1 answers "
        f"<i>how likely</i>; 2 and 3 show the path and the timing; 4 and 5 show <i>who holds "
        f"each grouping back</i>; 6 shows where every other state ends between the US and "
        f"China; 7 shows the pressures and shocks driving it all. Two kinds of uncertainty "
        f"appear: the 95% intervals on probabilities reflect the finite number of runs (more "
        f"runs shrink them); the bands and whiskers elsewhere show the spread between runs, the "
        f"model's own randomness, which more runs do not shrink. The probabilities rest on "
        f"calibrated mechanism weights: trust differences between scenarios run with the same "
        f"seed more than absolute levels. Hover over any figure for exact values."
    )
    file_note = (f"<p class='description'>{html.escape(info.description)}</p>"
                 if info.description else "")
    return (f"<h1><span class='kind'>blocsim run</span> · {html.escape(info.name)}</h1>"
            f"{file_note}<dl class='facts'>{items}</dl>"
            f"<div class='howto'>{howto}</div>")


def summary_table_html(results: Results, info: RunInfo) -> str:
    """A table of the groupings: members, P(consolidation), interval, peak stage, top blocker."""
    summary = aggregate.consolidation_probabilities(results.outcomes)
    rows = []
    for row in summary.itertuples():
        grouping = info.grouping(row.grouping)
        members = ", ".join(info.state_label(c) for c in grouping.members)
        observers = ", ".join(info.state_label(c) for c in grouping.observers) or "–"
        blocker = (f"{info.state_label(row.top_blocker)} ({row.top_blocker_share:.0%} of runs)"
                   if isinstance(row.top_blocker, str) else "none")
        rows.append(
            f"<tr><td><b>{html.escape(grouping.label)}</b><br>{html.escape(grouping.name)}</td>"
            f"<td>{html.escape(members)}</td><td>{html.escape(observers)}</td>"
            f"<td class='num'>{row.probability:.3f}</td>"
            f"<td class='num'>[{row.ci_low:.3f}, {row.ci_high:.3f}]</td>"
            f"<td>{html.escape(row.median_peak_stage)}</td><td>{html.escape(blocker)}</td></tr>")
    return ("<table class='data'><thead><tr><th>grouping</th><th>core members</th>"
            "<th>observers</th><th>P(consolidate)</th><th>95% interval</th>"
            "<th>median peak stage</th><th>most frequent blocker</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def pressure_notes_html(info: RunInfo) -> str:
    """What each pressure means, and each shock's details."""
    meanings = "".join(f"<tr><td><code>{p.name}</code></td><td>{html.escape(p.meaning)}</td></tr>"
                       for p in PRESSURES)
    text = ("Shocks do not change the common pressure lines: they add to a pressure (or a state "
            "attribute) as the targeted states feel it, fading linearly to nothing. ")
    if info.shocks:
        shocks = "".join(
            f"<tr><td>{html.escape(s.name)}</td><td>{s.quarter}</td>"
            f"<td><code>{html.escape(s.target)}</code>"
            f"{'' if s.is_pressure else ' (state attribute)'}</td>"
            f"<td class='num'>{s.magnitude:+g}</td><td class='num'>{s.decay_quarters}</td>"
            f"<td>{html.escape(s.targets)}</td></tr>" for s in info.shocks)
        text += ("<table class='data'><thead><tr><th>shock</th><th>quarter</th><th>moves</th>"
                 "<th>magnitude</th><th>fades over (quarters)</th><th>felt by</th></tr></thead>"
                 f"<tbody>{shocks}</tbody></table>")
    else:
        text += "This scenario has no shocks."
    return (f"{text}<details><summary>What each pressure means</summary>"
            f"<table class='data'><tbody>{meanings}</tbody></table></details>")


def run_sections(results: Results, info: RunInfo, figures: RunFigures) -> list[Section]:
    """The page's sections, in reading order."""
    end = info.end
    timing = aggregate.timing_summary(results.outcomes)
    none = [info.grouping(g).label for g in timing.loc[timing["consolidated"] == 0, "grouping"]]
    none_note = (f" No run consolidated {', '.join(none)}." if none else "")
    return [
        Section("probability", "Will each grouping consolidate into a formal bloc?",
                figures.probability,
                intro=(f"The share of runs in which each grouping became a formal alliance by "
                       f"{end}, with its 95% Wilson interval (the uncertainty due to the number "
                       f"of runs), most likely first."),
                notes=summary_table_html(results, info)),
        Section("levels", "How far up the institutional ladder?", figures.levels,
                intro=("Each grouping's institutional level from 0 (dormant) to 4 (formal "
                       "alliance): where the typical run goes and how widely runs differ."),
                notes=("Levels rise slowly and fall more slowly (institutions are sticky). A "
                       "median that stalls below the dotted line means the typical run never "
                       "reaches the formal-alliance threshold; a wide band means the outcome "
                       "hinges on the run's random draws.")),
        Section("timing", "When does consolidation happen?", figures.timing,
                intro="The quarter in which consolidation was reached, over the runs that "
                      f"reached it.{none_note}"),
        Section("commitments", "How committed is each member?", figures.commitments,
                intro=("Each member's mean commitment to each grouping over time. Look for the "
                       "darkest row of a grouping: its weakest member holds the level down."),
                notes=("Observers are listed after the core members; only core members count "
                       "for the weakest-link rule and for consolidation.")),
        Section("blockers", "Who holds each grouping back?", figures.blockers,
                intro=("In the runs where a grouping did not consolidate, the core member that "
                       "held it back; the grey share is the runs in which it consolidated."),
                notes=("Each bar sums to 100% of runs. The blocker is the core member with the "
                       "lowest mean commitment over the quarters in which the weakest-link rule "
                       "held the level down (over the whole run if it never did).")),
        Section("alignment", "Where does every state end up between the US and China?",
                figures.alignment,
                intro=(f"Each state's position on the US–China axis in {end}, "
                       "from −1 (aligned with China) to +1 (aligned with the US)."),
                notes=("ASEAN members are orange diamonds: hedgers that the model pulls toward "
                       "neutrality by ASEAN centrality.")),
        *([Section("camps", "Which camp does every state sort into?", figures.camps,
                   intro=("Axelrod & Bennett's landscape theory on the last quarter: states "
                          "weighted by capability, drawn together by affinity and by leaning the "
                          "same way on the US–China axis, sort into the two camps that "
                          "minimize their frustration, starting from where they stand."),
                   notes=("Unlike the alignment above, every state must choose a camp: a "
                          "hedger near 0 still lands on one side. Read a share near 50% as a "
                          "state the run's draws can tip either way."))]
          if figures.camps is not None else []),
        Section("pressures", "What drives the run: pressures and shocks", figures.pressures,
                intro=("The exogenous pressures as they acted (China's counter-moves included), "
                       "with the scenario's shocks marked at their quarter so the cause sits "
                       "beside its effect in the sections above."),
                notes=pressure_notes_html(info)),
    ]


def footer_html(info: RunInfo, results: Results) -> str:
    """The page footer: where the data came from."""
    folder = html.escape(str(results.folder)) if results.folder else "(not saved)"
    return (f"Made by blocsim {html.escape(info.version)} from the results folder "
            f"<code>{folder}</code> (scenario file <code>{html.escape(info.file)}</code>). "
            f"The page is self-contained and works offline.")


def run_page_html(results: Results) -> str:
    """The complete HTML of a run's dashboard.

    Args:
        results: a run's results (tables and manifest of kind `run`).

    Returns:
        A self-contained HTML document.

    Raises:
        ResultsError: if the manifest is not a run's.

    """
    info = run_info(results.manifest)
    figures = run_figures(results, info)
    sections = run_sections(results, info, figures)
    title = f"blocsim run: {info.name} ({info.replications:,} runs, {info.start}–{info.end})"
    return render_page(title, header_html(info), sections, footer_html(info, results))
