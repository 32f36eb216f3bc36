"""Dashboards: self-contained HTML pages that show what a results folder says.

    from blocsim.dashboards import write_dashboard
    write_dashboard(Path("results/baseline"))          # -> results/baseline/dashboard.html

The page embeds plotly.js and every figure's (aggregated) data, so it opens offline from a
`file://` URL and its size does not grow with the number of replications.
"""

from __future__ import annotations

from pathlib import Path

from blocsim.api import open_results
from blocsim.dashboards.page import write_atomically
from blocsim.dashboards.run_page import run_page_html
from blocsim.errors import ResultsError

__all__ = ["DASHBOARD", "write_dashboard"]

DASHBOARD = "dashboard.html"
"""The page's file name inside the results folder, unless another output is given."""


def write_dashboard(results_dir: Path, output: Path | None = None) -> Path:
    """Write the dashboard of a run's results folder as one self-contained HTML page.

    Args:
        results_dir: a results folder written by `blocsim run` or `Results.save` (kind `run`).
        output: where to write the page; `results_dir / "dashboard.html"` by default.

    Returns:
        The path of the page written (atomically: a temporary file renamed into place).

    Raises:
        ResultsError: if `results_dir` is not a run's results folder, or its tables cannot be
            read.

    """
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise ResultsError(f"{results_dir} is not a blocsim results folder (not a folder)")
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
