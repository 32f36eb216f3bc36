"""The run page: how likely, who holds each grouping back and why, what would change it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from blocsim.dashboards import aggregate
from blocsim.dashboards import run_figures as draw
from blocsim.dashboards.facts import ScenarioFacts, parameter
from blocsim.dashboards.page import Section, render
from blocsim.dashboards.read import RunData
from blocsim.model.model import BASELINE_TERM


@dataclass(frozen=True)
class Finding:
    """What a page says about one grouping in a sentence (the words are the template's).

    Attributes:
        row: the grouping's row of `consolidation_summary` (probability, blocker, ...).
        title: the grouping's title.
        blocker: the most frequent blocker's name ("" if none).
        holds: (term, mean value) of the blocker's most negative mechanism term, if recorded.
        pulls: (term, mean value) of its most positive mechanism term, if recorded.
        draws: the posterior draws the runs shared (None: the runs used the file's values).
        holding: whether the grouping starts at or above the consolidation level (a treaty pact):
            its question is whether it holds together, not whether it becomes one.
        lever: the lever row (lever table) clear of zero that raises an unlikely grouping's
            probability most (else that moves it most), with its readable `label` and `tried`,
            the number of steps tried; None if no step moves it beyond noise. Clear of zero by
            the simultaneous interval over all the steps tried (`family_low`, `family_high`):
            the largest of some sixty differences, each at 95%, would be noise one time in
            three or more. A table from before those columns (`tried` 0) is read by each
            step's own interval, and the sentence says so.

    """

    row: pd.Series
    title: str
    blocker: str
    holds: tuple[str, float] | None
    pulls: tuple[str, float] | None
    lever: dict | None
    draws: int | None = None
    holding: bool = False
    baseline: float | None = None
    """The blocker's mean baseline propensity (the dynamics' generic reluctance, not a
    mechanism), if recorded: often the largest term under the calibrated posterior."""

    @property
    def parameter_band(self) -> tuple[float, float] | None:
        """The probability's band across the posterior's draws, where it is wider than noise."""
        low, high = self.row.get("parameter_low"), self.row.get("parameter_high")
        if low is None or high is None or not high - low >= 0.0005:
            return None
        return float(low), float(high)


def findings(data: RunData, probabilities: pd.DataFrame,
             terms: pd.DataFrame | None) -> list[Finding]:
    """One finding per grouping, in the order of the probabilities."""
    found = []
    facts, levers, block = data.facts, data.levers, data.stamp.draw_block
    for _, row in probabilities.iterrows():
        key = row["grouping"]
        holds = pulls = baseline = None
        if terms is not None and (terms["grouping"] == key).any():
            mine = terms[terms["grouping"] == key].sort_values("value")
            general = mine["term"] == BASELINE_TERM
            if general.any():
                baseline = float(mine.loc[general, "value"].iloc[0])
            mine = mine[~general]
            if len(mine):
                holds = (draw.term_label(mine["term"].iloc[0]), float(mine["value"].iloc[0]))
                pulls = (draw.term_label(mine["term"].iloc[-1]), float(mine["value"].iloc[-1]))
        lever = None
        if levers is not None:
            low, high = (("family_low", "family_high") if "family_low" in levers
                         else ("ci_low", "ci_high"))
            mine = levers[(levers["grouping"] == key)
                          & ((levers[low] > 0) | (levers[high] < 0))]
            rising = mine[mine["difference"] > 0]
            if row["probability"] < 0.5 and len(rising):
                mine = rising  # what it would take to make it likely
            if len(mine):
                best = mine.loc[mine["difference"].abs().idxmax()].to_dict()
                lever = {**best, "label": parameter(best["lever"], facts).label,
                         "tried": len(levers[["lever", "direction"]].drop_duplicates())
                         if low == "family_low" else 0}
        found.append(Finding(row, facts.title(key), facts.state_label(row["top_blocker"])
                             if isinstance(row["top_blocker"], str) else "", holds, pulls,
                             lever, math.ceil(row["replications"] / block) if block else None,
                             facts.grouping(key).initial_level
                             >= facts.dynamics.consolidation_level, baseline))
    return found


def run_sections(data: RunData) -> tuple[list[Section], pd.DataFrame, pd.DataFrame | None]:
    """The page's sections in reading order, the probabilities and the blocker terms."""
    facts, tables = data.facts, data.tables
    probabilities = aggregate.consolidation_probabilities(data.outcomes, data.stamp.draw_block)
    order = probabilities["grouping"].tolist()
    terms = (aggregate.blocker_terms(tables["blocker_terms"])
             if "blocker_terms" in tables else None)
    levels = tables.get("levels")
    sections = [
        Section("probability", "Will each grouping become a formal alliance?",
                draw.probability_figure(probabilities, facts)),
        Section("levels", "How far up the institutional ladder?",
                draw.fan_figure(aggregate.level_fans(levels), facts, order)),
        Section("timing", "By when?", draw.timing_figure(
            aggregate.cumulative_consolidation(data.outcomes, facts.steps), facts, order)),
        Section("blockers", "Who holds each grouping back?", draw.blocker_figure(
            aggregate.blocker_shares(data.outcomes), facts, order)),
    ]
    if terms is not None and len(terms):
        sections.append(Section("terms", "Why the blocker holds back",
                                draw.terms_figure(terms, facts, order)))
    if levels is not None and "suspended" in levels and levels["suspended"].any():
        sections.append(Section("suspended", "Who leaves, and when groupings stand suspended",
                                draw.suspension_figure(levels, facts, order)))
    sections.append(Section("commitments", "How committed is each member?",
                            draw.commitment_figure(
                                aggregate.mean_commitments(tables["commitments"]), facts,
                                order)))
    if data.levers is not None and len(data.levers):
        sections.append(Section("levers", "What would change it?", draw.lever_figure(
            aggregate.lever_effects(data.levers), facts, order)))
    else:
        sections.append(Section("levers", "What would change it?"))
    sections.append(Section("alignment", "Where does every state end between the US and China?",
                            draw.alignment_figure(aggregate.final_alignment(tables["alignment"]),
                                                  facts)))
    if "camps" in tables:
        sections.append(Section("camps", "Which camp does every state sort into?",
                                draw.camp_figure(aggregate.camp_shares(tables["camps"]), facts)))
    sections.append(Section("pressures", "What drives the run: pressures and shocks",
                            draw.pressure_figure(aggregate.pressure_paths(tables["pressures"]),
                                                 facts)))
    sections.append(Section("inputs", "Inputs and their sources"))
    return sections, probabilities, terms


def run_page_html(data: RunData) -> str:
    """The complete HTML of a run's page."""
    sections, probabilities, terms = run_sections(data)
    suspended = (aggregate.suspensions(data.outcomes, data.tables["levels"])
                 if "exited" in data.outcomes else None)
    return render("run.html.j2", sections, data=data, facts=data.facts,
                  probabilities=probabilities, findings=findings(data, probabilities, terms),
                  suspended=suspended, inputs=inputs(data.facts),
                  step=(data.levers.attrs.get("step") if data.levers is not None else None))


@dataclass(frozen=True)
class InputRow:
    """One table of the scenario's inputs: its values (changed ones marked) and its source."""

    path: str
    label: str
    values: tuple[tuple[str, str, bool], ...]
    meaning: str
    source: str

    @property
    def changed(self) -> bool:
        """Whether any of its values differs from the file the scenario extends."""
        return any(changed for _, _, changed in self.values)


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value)
    return str(value)


def inputs(facts: ScenarioFacts) -> dict[str, list[InputRow]]:
    """The scenario's inputs by table, each row with its values, meaning and source.

    Tables: pressures, states, groupings, affinities, mechanisms, dynamics, shocks; in each,
    rows with a changed value first.
    """
    changed = {c.path for c in facts.changes}
    tables: dict[str, list[InputRow]] = {}
    raw = facts.raw
    for table in ("pressures", "states", "groupings", "affinities", "mechanisms", "dynamics"):
        entries = raw.get(table, {})
        if table == "dynamics":
            entries = {"dynamics": entries}
        rows = []
        for key, spec in entries.items():
            prefix = table if table == "dynamics" else f"{table}.{key}"
            values = tuple((name, _shown(value), f"{prefix}.{name}" in changed)
                           for name, value in spec.items() if name not in ("source", "name"))
            label = parameter(prefix, facts).label if table == "pressures" else \
                facts.state_label(key) if table in ("states", "affinities") else \
                facts.title(key) if table == "groupings" else key.replace("_", " ")
            meaning = parameter(prefix, facts).meaning if table == "pressures" else ""
            source = spec.get("source") or ("calibrated: the schema's defaults where not set"
                                            if table in ("mechanisms", "dynamics") else "")
            rows.append(InputRow(prefix, label, values, meaning, str(source)))
        tables[table] = sorted(rows, key=lambda r: not r.changed)
    tables["shocks"] = [
        InputRow(f"shocks[{i}]", s.shock.name, tuple(
            (k, _shown(v), f"shocks[{i}]" in changed)
            for k, v in raw["shocks"][i].items() if k not in ("source", "name")), "",
            s.shock.source) for i, s in enumerate(facts.shocks)]
    return tables
