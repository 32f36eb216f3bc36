"""The sweep page's sections for the analyses beside it (`blocsim analyze`), when they exist.

The words around them are in `templates/sweep.html.j2`; the tables they show are read from the
sensitivity and discovery results (`blocsim.analysis`).
"""

from __future__ import annotations

import pandas as pd

from blocsim.analysis.prim import QP_SIGNIFICANCE
from blocsim.analysis.sensitivity import OUTCOMES, sensitivity_method
from blocsim.dashboards.analysis_figures import discovery_figure, sensitivity_figure
from blocsim.dashboards.page import Section
from blocsim.dashboards.read import SweepData

WIDE_INTERVAL = 0.3
"""A Sobol total index whose 95% half-width exceeds this is too uncertain to rank by."""


def analysis_sections(data: SweepData, order: list[str]) -> list[Section]:
    """A sensitivity section and a discovery section, each only when its files exist."""
    sections = []
    if data.sensitivity is not None and len(data.sensitivity):
        sections.append(Section("sensitivity", "Which parameters matter most?",
                                sensitivity_figure(data.sensitivity, data, order)))
    if data.discoveries:
        sections.append(Section("discovery", "Scenario discovery: which combinations lead to "
                                "consolidation?", discovery_figure(data.discoveries, data,
                                                                   order)))
    return sections


def sensitivity_summary(data: SweepData) -> dict:
    """What the sensitivity section says in words.

    Returns the method, per grouping its note or its most influential parameter on
    P(consolidation) with the replication noise (Sobol: its share of the variance, taken out of
    the indices; Morris: the mu* it alone gives; NaN where not estimated), and how many total
    indices are too uncertain to rank by.
    """
    table = data.sensitivity
    method = sensitivity_method(table)
    key, half = ("ST", "ST_conf") if method == "sobol" else ("mu_star", "mu_star_conf")
    probability = table[table["outcome"] == "probability"]
    rows = []
    for grouping, mine in probability.groupby("grouping", sort=False):
        note = next((n for n in mine["note"] if n), "")
        best = mine.sort_values(key, ascending=False).iloc[0]
        noise = best.get("noise_share" if method == "sobol" else "mu_star_noise",
                         float("nan"))
        rows.append({"grouping": data.facts.label(grouping), "note": note,
                     "parameter": data.axis(best["parameter"]).label, "value": best[key],
                     "half": best.get(half, float("nan")), "noise": noise})
    ranked = probability[probability["note"] == ""]
    wide = int((ranked.get("ST_conf", pd.Series(dtype=float)) > WIDE_INTERVAL).sum())
    outcomes = [OUTCOMES[o] for o in OUTCOMES if o in set(table["outcome"])]
    return {"method": method, "key": key, "rows": rows, "wide": wide,
            "indices": len(ranked), "outcomes": outcomes}


def discovery_rows(data: SweepData, order: list[str]) -> list[dict]:
    """Per grouping analysed: its PRIM result, the firm limits (quasi-p < 0.05) and weak ones."""
    rows = []
    for key in [g for g in order if g in data.discoveries] + \
            [g for g in data.discoveries if g not in order]:
        found = data.discoveries[key]
        restricted = found.restricted
        firm = [data.axis(a).name.short for a, q in
                zip(restricted["axis"], restricted["qp"].fillna(1.0), strict=True)
                if q < QP_SIGNIFICANCE]
        rows.append({"label": data.facts.label(key), "found": found, "chosen": found.chosen,
                     "firm": firm, "weak": len(restricted) - len(firm)})
    return rows
