"""The sweep page's optional sections: sensitivity indices and scenario discovery (PRIM).

Each appears only when `blocsim analyze` has written its files beside the sweep.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from blocsim.dashboards.analysis_figures import (
    discovery_figure,
    parameter_label,
    sensitivity_figure,
)
from blocsim.dashboards.page import Section
from blocsim.dashboards.sweep_analyses import (
    OUTCOMES,
    QP_SIGNIFICANCE,
    Discovery,
    read_discoveries,
    read_sensitivity,
    sensitivity_method,
)
from blocsim.dashboards.sweep_info import SweepInfo

WIDE_INTERVAL = 0.3
"""A Sobol total index whose 95% half-width exceeds this is too uncertain to rank by."""


def _label(info: SweepInfo, key: str) -> str:
    try:
        return info.base.grouping(key).label
    except StopIteration:
        return key


def sensitivity_notes_html(table: pd.DataFrame, info: SweepInfo) -> str:
    """What the bars say in words: the top parameter per grouping, notes, and a caveat."""
    method = sensitivity_method(table)
    key, half = ("ST", "ST_conf") if method == "sobol" else ("mu_star", "mu_star_conf")
    probability = table[table["outcome"] == "probability"]
    items = []
    for grouping, rows in probability.groupby("grouping", sort=False):
        note = next((n for n in rows["note"] if n), "")
        if note:
            items.append(f"<li><b>{html.escape(_label(info, grouping))}</b>: "
                         f"{html.escape(note)}</li>")
            continue
        ranked = rows.sort_values(key, ascending=False)
        if ranked.empty or pd.isna(ranked[key].iloc[0]):
            continue
        best = ranked.iloc[0]
        items.append(f"<li><b>{html.escape(_label(info, grouping))}</b>: "
                     f"{html.escape(parameter_label(info, best['parameter']))} "
                     f"({key} {best[key]:.2f} ± {best.get(half, float('nan')):.2f})</li>")
    parts = []
    if items:
        parts.append("Most influential parameter on P(consolidation), per grouping:"
                     f"<ul style='margin:4px 0'>{''.join(items)}</ul>")
    if method == "sobol":
        wide = probability[probability.get("ST_conf", pd.Series(dtype=float)) > WIDE_INTERVAL]
        parts.append(
            "ST counts a parameter's effect alone and through its interactions with the others; "
            "S1 its effect alone. A large gap between them means the parameter matters mostly "
            "in combination. Indices are estimated from the design points' probabilities "
            "(each from a finite number of runs), so replication noise inflates them.")
        if len(wide):
            parts.append(
                f"<b>Caution:</b> {len(wide)} of the {len(probability)} total indices have a "
                f"95% interval wider than ±{WIDE_INTERVAL:g}; rankings within those overlapping "
                f"intervals are not reliable. More <code>samples</code> (and replications) "
                f"narrow them.")
    else:
        parts.append("mu* is the mean absolute change of the outcome when a parameter moves one "
                     "Morris step; sigma (in the hover) large next to mu* signals interactions "
                     "or non-linearity.")
    return "<p>" + "</p><p>".join(parts) + "</p>"


def discovery_table_html(discoveries: dict[str, Discovery], info: SweepInfo,
                         order: list[str]) -> str:
    """One row per grouping: the cases of interest and the chosen box's statistics."""
    groupings = [g for g in order if g in discoveries] + \
        [g for g in discoveries if g not in order]
    rows = []
    for grouping in groupings:
        found = discoveries[grouping]
        chosen = found.chosen
        restricted = found.restricted
        strong = [parameter_label(info, a, short=True) for a, q in
                  zip(restricted["axis"], restricted["qp"].fillna(1.0), strict=True)
                  if q < QP_SIGNIFICANCE]
        weak = len(restricted) - len(strong)
        limits = ", ".join(html.escape(s) for s in strong) or "none"
        threshold = (f"P ≥ {found.threshold:g}" if found.threshold is not None else "–")
        rows.append(
            f"<tr><td><b>{html.escape(_label(info, grouping))}</b></td><td>{threshold}</td>"
            f"<td class='num'>{found.cases} / {found.points}</td>"
            f"<td class='num'><b>{chosen['coverage']:.2f}</b></td>"
            f"<td class='num'><b>{chosen['density']:.2f}</b></td>"
            f"<td class='num'>{chosen['mass']:.2f}</td>"
            f"<td class='num'>{int(chosen['points'])} ({int(chosen['of_interest'])} of interest)"
            f"</td><td>{limits}{f'; {weak} weak' if weak else ''}</td></tr>")
    head = ("<thead><tr><th>grouping</th><th>case of interest</th><th>cases / points</th>"
            "<th>coverage</th><th>density</th><th>mass</th><th>points in the box</th>"
            "<th>firm limits (quasi-p &lt; 0.05)</th></tr></thead>")
    return f"<table class='data'>{head}<tbody>{''.join(rows)}</tbody></table>"


def read_step_boxes(folder: Path, groupings: list[str]) -> dict[str, pd.DataFrame]:
    """Every step's box per grouping (`discovery_<G>_boxes.parquet`), where written and readable.

    Older analyses did not write the file; a page without it simply has no box picker.
    """
    found = {}
    for grouping in groupings:
        path = Path(folder) / f"discovery_{grouping}_boxes.parquet"
        try:
            table = pd.read_parquet(path)
        except (OSError, ValueError):
            continue
        needed = {"step", "stage", "axis", "low", "high", "restricted", "qp", "coverage",
                  "density"}
        if needed <= set(table.columns):
            found[grouping] = table.assign(axis=table["axis"].astype(str))
    return found


def analysis_sections(folder: Path, info: SweepInfo, order: list[str]) -> list[Section]:
    """The sections for the analyses found beside the sweep (none when there are none)."""
    sections = []
    table = read_sensitivity(folder)
    if table is not None and len(table):
        method = sensitivity_method(table)
        outcomes = [OUTCOMES.get(o, o) for o in OUTCOMES if o in set(table["outcome"])]
        toggle = (" The buttons at the top right switch between the outcomes: "
                  + " and ".join(outcomes) + "." if len(outcomes) > 1 else "")
        what = ("Sobol indices" if method == "sobol" else "Morris elementary effects")
        sections.append(Section(
            "sensitivity", "Which parameters matter most?",
            sensitivity_figure(table, info, order),
            intro=(f"{what} of each grouping's outcome over the sweep's design "
                   f"(<code>sensitivity.parquet</code>, from <code>blocsim analyze "
                   f"--sensitivity</code>): how much of the variation of P(consolidation) "
                   f"across design points each parameter accounts for.{toggle}"),
            notes=sensitivity_notes_html(table, info)))
    discoveries = read_discoveries(folder)
    if discoveries:
        thresholds = {d.threshold for d in discoveries.values() if d.threshold is not None}
        case = (f"P(consolidation) ≥ {thresholds.pop():g}" if len(thresholds) == 1
                else "P(consolidation) at or above the analysis' threshold")
        sections.append(Section(
            "discovery", "Scenario discovery: which combinations lead to consolidation?",
            discovery_figure(discoveries, info, order,
                             read_step_boxes(folder, list(discoveries))),
            intro=(f"PRIM (<code>blocsim analyze --discover</code>) searches for a box of axis "
                   f"values that holds the design points where a grouping consolidates often "
                   f"(cases of interest: {case}). It peels the box step by step, trading "
                   f"coverage (how many of the cases stay inside) for density (how pure the box "
                   f"is), and reports one box on that trade-off; hover over a point of the "
                   f"curve to see its box, and pick another with the slider under the row "
                   f"(<code>DiscoveryResult.box(step)</code> in Python)."),
            notes=(discovery_table_html(discoveries, info, order)
                   + "<p>Mass is the share of all design points inside the box. A weak limit "
                     "(quasi-p ≥ 0.05) could arise by chance from a random box of the same "
                     "size: read it as a hint, not a finding. Few cases of interest make the "
                     "box a sketch of a handful of points.</p>")))
    return sections
