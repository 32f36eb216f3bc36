"""A Markdown brief of a run folder: the findings in words, caveats, citations, static figures.

The figures are SVG drawn by matplotlib (already installed with SALib): it needs no browser, so a
brief can be written offline on any machine, and its SVG is reproducible (no date, a fixed hash
salt). The words are the run page's own findings (`run_page.findings`), written from
`templates/report.md.j2` by the Markdown environment (`page.MARKDOWN`), which escapes `<` in
every value, so a name read from a file cannot smuggle HTML into a Markdown viewer either.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from blocsim.dashboards import aggregate
from blocsim.dashboards.facts import parameter
from blocsim.dashboards.page import MARKDOWN, write_atomically
from blocsim.dashboards.read import RunData, read_run
from blocsim.dashboards.run_page import findings
from blocsim.dashboards.style import BLUE, ORANGE
from blocsim.scenario.sources import source_at

REPORT = "report.md"
FIGURE_STYLE = {"svg.hashsalt": "blocsim", "font.size": 9, "axes.spines.top": False,
                "axes.spines.right": False}
"""matplotlib settings of the brief's figures, applied while they are drawn (`rc_context`): the
caller's own matplotlib (a notebook's backend and style) is as it was before and after."""
_DRAWING = threading.Lock()


@contextmanager
def _new_figure(width: float, height: float) -> Iterator[Figure]:
    """A figure drawn in the brief's style and measured by Agg, whatever the caller's settings.

    matplotlib's rc settings are one per process: the lock keeps two briefs drawn in threads from
    restoring each other's style (a thread drawing its own figure meanwhile still sees it).
    """
    with _DRAWING, rc_context(FIGURE_STYLE):
        figure = Figure(figsize=(width, height))
        FigureCanvasAgg(figure)  # text measured as by Agg, not by the caller's savefig.format
        yield figure


def _save(figure: Figure, path: Path) -> str:
    figure.tight_layout()
    figure.savefig(path, format="svg", metadata={"Date": None})
    return path.name


def probability_chart(data: RunData, probabilities, path: Path) -> str:
    """Horizontal bars of P(consolidation) per grouping with 95% intervals; returns the name."""
    labels = [data.facts.label(g) for g in probabilities["grouping"]]
    p = probabilities["probability"].to_numpy()
    with _new_figure(7, 0.45 * len(probabilities) + 1.2) as figure:
        axes = figure.subplots()
        axes.barh(labels, p, color=BLUE, xerr=[p - probabilities["ci_low"].to_numpy(),
                                              probabilities["ci_high"].to_numpy() - p],
                  capsize=3)
        axes.invert_yaxis()
        axes.set_xlim(0, 1)
        axes.set_xlabel(f"P(formal alliance by {data.facts.end}), 95% Wilson interval")
        return _save(figure, path)


def lever_chart(data: RunData, keys: list[str], path: Path) -> str:
    """Per grouping, its five strongest levers one step up and down; returns the file name."""
    effects = aggregate.lever_effects(data.levers, top=5)
    with _new_figure(7, 1.9 * len(keys) + 0.3) as figure:
        grid = figure.subplots(len(keys), 1, squeeze=False)
        for axes, key in zip(grid[:, 0], keys, strict=True):
            mine = effects[effects["grouping"] == key].sort_values("rank", ascending=False)
            names = list(dict.fromkeys(mine["lever"]))
            for direction, colour, marker, offset in ((1, BLUE, "^", 0.15),
                                                      (-1, ORANGE, "v", -0.15)):
                part = mine[mine["direction"] == direction]
                y = [names.index(lever) + offset for lever in part["lever"]]
                d = part["difference"].to_numpy()
                axes.errorbar(d, y, xerr=[d - part["ci_low"].to_numpy(),
                                          part["ci_high"].to_numpy() - d], fmt=marker,
                              color=colour, capsize=2, label="up" if direction > 0 else "down")
            axes.set_yticks(range(len(names)), [parameter(n, data.facts).label for n in names])
            axes.axvline(0, color="#999999", linewidth=0.8)
            axes.set_title(data.facts.title(key), fontsize=9, loc="left")
        grid[-1, 0].set_xlabel("change in P(consolidation), one step (paired 95% interval)")
        grid[0, 0].legend(loc="lower right", fontsize=8)
        return _save(figure, path)


def write_report(folder: Path, output: Path | None = None) -> Path:
    """Write the brief of a run folder (figures beside it); return the Markdown file's path.

    Raises:
        ResultsError: if the folder is not a readable run folder.

    """
    data = read_run(Path(folder))
    output = Path(output) if output is not None else data.folder / REPORT
    output.parent.mkdir(parents=True, exist_ok=True)
    probabilities = aggregate.consolidation_probabilities(data.outcomes, data.stamp.draw_block)
    terms = (aggregate.blocker_terms(data.tables["blocker_terms"])
             if "blocker_terms" in data.tables else None)
    found = findings(data, probabilities, terms)
    figures = {"probability": probability_chart(data, probabilities,
                                                output.with_name(f"{output.stem}-probability.svg"))}
    if data.levers is not None and len(data.levers):
        figures["levers"] = lever_chart(data, probabilities["grouping"].tolist()[:4],
                                        output.with_name(f"{output.stem}-levers.svg"))
    return write_atomically(output, MARKDOWN.get_template("report.md.j2").render(
        data=data, facts=data.facts, findings=found, probabilities=probabilities,
        figures=figures, sources=citations(data, found)))


def citations(data: RunData, found: list) -> dict[str, str]:
    """The sources behind the findings: each blocker's and each lever's table, by label."""
    facts, cited = data.facts, {}
    for finding in found:
        blocker = finding.row["top_blocker"]
        if isinstance(blocker, str) and blocker in facts.states:
            cited[f"{facts.state_label(blocker)} (states.{blocker})"] = \
                facts.states[blocker].source
        if finding.lever:
            path = finding.lever["lever"]
            table = path if path.count(".") == 1 else path.rpartition(".")[0]
            cited[f"{parameter(path, facts).label} ({table})"] = source_at(facts.raw, table + ".x")
    return {label: text or "no source given" for label, text in cited.items()}
