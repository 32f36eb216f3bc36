"""The calibration page: what the record says about the parameters, and how the fit does.

Which parameters the record pins and which it leaves loose, which pairs trade off, which facts
the calibrated model reproduces in and out of sample, how it scores against the benchmarks, and
how the posterior was estimated.
"""

from __future__ import annotations

import pandas as pd

from blocsim.analysis.calibration.predictive import score_summary
from blocsim.dashboards.calibration_aggregate import (
    BENCHMARKS,
    CREDIBLE,
    EDGE,
    LOOSE,
    PINNED,
    REPRODUCED,
    WEAK_CORRELATION,
    effective_sample_size,
    losses,
    parameter_table,
    stop_reasons,
    strongest_pairs,
    weighted_correlations,
)
from blocsim.dashboards.calibration_figures import (
    facts_figure,
    generations_figure,
    pairs_figure,
    prior_posterior_figure,
    scores_figure,
    spread_figure,
)
from blocsim.dashboards.page import Section, render
from blocsim.dashboards.read import CalibrationData


def fact_rows(data: CalibrationData) -> list[dict]:
    """The facts' table rows, fit facts first: the predictive columns, source, reproduced."""
    if data.facts is None:
        return []
    sources = data.sources
    ordered = pd.concat([data.facts[data.facts["window"] == w] for w in ("fit", "test")])
    return [{**row, "source": sources.get(row["fact"], ""),
             "reproduced": row["probability"] >= REPRODUCED}
            for row in ordered.to_dict("records")]


def score_rows(data: CalibrationData) -> list[dict]:
    """The test scores' table rows, each with its losses and the benchmarks' stated reasons."""
    if data.scores is None:
        return []
    found = losses(data.scores)
    reasons = {f.id: {"persistence": f.persistence.reason, "base_rate": f.base_rate.reason}
               for f in (data.test_facts.facts if data.test_facts is not None else [])}
    return [{**row, "losses": [loss for loss in found if loss.fact == row["fact"]],
             "reasons": reasons.get(row["fact"], {})}
            for row in data.scores.to_dict("records")]


def calibration_sections(data: CalibrationData) -> tuple[list[Section], dict]:
    """The page's sections in reading order, and what its template says around them."""
    table = parameter_table(data)
    paths = [p.path for p in data.parameters]
    correlations = weighted_correlations(data.posterior.values[paths], data.posterior.weights)
    pairs = strongest_pairs(correlations)
    sections = [
        Section("parameters", "What does the record say about each parameter?",
                prior_posterior_figure(data, table)),
        Section("pinned", "Which parameters does the record pin, and which does it leave loose?",
                spread_figure(table)),
    ]
    if len(pairs):
        sections.append(Section("pairs", "Which parameters trade off?", pairs_figure(data, pairs)))
    if data.facts is not None:
        sections.append(Section("facts", "Which facts does the calibrated model reproduce?",
                                facts_figure(data.facts)))
    if data.scores is not None and len(data.scores):
        sections.append(Section("scores", "How does it score out of sample?",
                                scores_figure(data.scores)))
    sections.append(Section("run", "How was the posterior estimated?", generations_figure(data)))
    facts = fact_rows(data)
    labels = {p.path: p.label for p in data.parameters}
    return sections, dict(
        data=data, spec=data.spec, parameters=table.to_dict("records"),
        pinned=[r.label for r in table.itertuples() if r.verdict == "pinned"],
        loose=[r.label for r in table.itertuples() if r.verdict == "loose"],
        pairs=[{"a": labels[a], "b": labels[b], "r": r}
               for a, b, r in pairs.itertuples(index=False)],
        facts=facts, fit=[f for f in facts if f["window"] == "fit"],
        test=[f for f in facts if f["window"] == "test"],
        scores=score_rows(data),
        summary=score_summary(data.scores) if data.scores is not None and len(data.scores)
        else None,
        losses=losses(data.scores) if data.scores is not None else [],
        generations=data.generations.sort_values("generation").to_dict("records"),
        stops=stop_reasons(data), ess=effective_sample_size(data.posterior.weights),
        benchmarks=BENCHMARKS, rules={"pinned": PINNED, "loose": LOOSE, "edge": EDGE,
                                      "reproduced": REPRODUCED, "credible": CREDIBLE,
                                      "weak": WEAK_CORRELATION})


def calibration_page_html(data: CalibrationData) -> str:
    """The complete HTML of a calibration folder's page."""
    sections, context = calibration_sections(data)
    return render("calibration.html.j2", sections, **context)
