"""Dashboards: self-contained HTML pages that show what a results folder says.

    from blocsim.dashboards import write_dashboard
    write_dashboard(Path("results/baseline"))          # -> results/baseline/dashboard.html
    write_dashboard(Path("results/quad_tipping"))      # a sweep -> .../dashboard.html
    write_dashboard(Path("results"))                   # run folders side by side
                                                       # -> results/comparison.html

Which page is drawn depends on the folder (`folders.folder_kind`): a run folder, a sweep folder
(with sections for `blocsim analyze`'s sensitivity and discovery files when present), a tipping
folder (`blocsim tip`), or a folder holding two or more run folders.

The page embeds plotly.js and every figure's (aggregated) data, so it opens offline from a
`file://` URL and its size does not grow with the number of replications.
"""

from __future__ import annotations

from pathlib import Path

from blocsim.api import open_results
from blocsim.dashboards.comparison_page import comparison_page_html
from blocsim.dashboards.folders import COMPARISON, SWEEP, TIPPING, folder_kind
from blocsim.dashboards.page import write_atomically
from blocsim.dashboards.run_page import run_page_html
from blocsim.dashboards.sweep_page import sweep_page_html
from blocsim.dashboards.tipping_page import tipping_page_html
from blocsim.errors import ResultsError

__all__ = ["COMPARISON_PAGE", "DASHBOARD", "write_dashboard"]

DASHBOARD = "dashboard.html"
"""The page's file name inside a run or sweep folder, unless another output is given."""

COMPARISON_PAGE = "comparison.html"
"""The comparison page's file name inside the folder holding the runs."""


def write_dashboard(results_dir: Path, output: Path | None = None) -> Path:
    """Write the dashboard of a results folder as one self-contained HTML page.

    The folder decides the page: a run's folder (`blocsim run`, `Results.save`) gets the run
    page; a finished sweep's folder (`blocsim sweep`) the sweep page; a tipping folder
    (`blocsim tip`) the tipping page; a folder without a
    manifest that holds two or more run folders the comparison of those runs side by side.

    Args:
        results_dir: a run folder, a sweep folder, a tipping folder or a folder of run folders.
        output: where to write the page; `results_dir / "dashboard.html"` by default
            (`results_dir / "comparison.html"` for a comparison).

    Returns:
        The path of the page written (atomically: a temporary file renamed into place).

    Raises:
        ResultsError: if `results_dir` is none of these, or its tables cannot be read.

    """
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise ResultsError(f"{results_dir} is not a blocsim results folder (not a folder)")
    kind = folder_kind(results_dir)
    if kind == SWEEP:
        output = Path(output) if output is not None else results_dir / DASHBOARD
        return write_atomically(output, sweep_page_html(results_dir))
    if kind == TIPPING:
        output = Path(output) if output is not None else results_dir / DASHBOARD
        return write_atomically(output, tipping_page_html(results_dir))
    if kind == COMPARISON:
        output = Path(output) if output is not None else results_dir / COMPARISON_PAGE
        return write_atomically(output, comparison_page_html(results_dir))
    try:
        results = open_results(results_dir)
    except ResultsError:
        raise
    except (OSError, ValueError, KeyError) as error:
        raise ResultsError(f"{results_dir} is not a readable blocsim results folder: "
                           f"{error}") from error
    if results.manifest.get("kind") != "run":
        raise ResultsError(f"{results_dir} holds a {results.manifest.get('kind')!r} results "
                           f"folder; the dashboard draws the folder of a single run "
                           f"(`blocsim run`)")
    output = Path(output) if output is not None else results_dir / DASHBOARD
    return write_atomically(output, run_page_html(results))
