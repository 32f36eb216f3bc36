"""Dashboards: self-contained HTML pages that show what a results folder says.

    from blocsim.dashboards import write_dashboard
    write_dashboard(Path("results/baseline"))      # a run -> results/baseline/dashboard.html
    write_dashboard(Path("results/quad_tipping"))  # a sweep (with its analyses) -> dashboard.html
    write_dashboard(Path("results/cmp"))           # a comparison -> results/cmp/comparison.html
    write_dashboard(Path("results/calib"))         # a calibration -> dashboard.html

The folder decides the page (`read.folder_kind`): a run, a sweep, a tipping search, a comparison
(`blocsim compare`), a calibration (`blocsim calibrate`) or a plain folder holding two or more run
folders. Each page is read once into typed objects (`read`), drawn (`*_figures`) and written from
an autoescaping template (`page`, `templates/`); it embeds plotly.js and every figure's
aggregated data, so it opens offline and its size does not grow with the number of replications.
"""

from __future__ import annotations

from pathlib import Path

from blocsim.dashboards.calibration_page import calibration_page_html
from blocsim.dashboards.comparison_page import comparison_page_html
from blocsim.dashboards.page import write_atomically
from blocsim.dashboards.read import (
    CALIBRATION,
    COMPARISON,
    SWEEP,
    TIPPING,
    folder_kind,
    read_calibration,
    read_comparison,
    read_run,
    read_sweep,
    read_tipping_folder,
)
from blocsim.dashboards.run_page import run_page_html
from blocsim.dashboards.sweep_page import sweep_page_html
from blocsim.dashboards.tipping_page import tipping_page_html
from blocsim.errors import ResultsError

__all__ = ["COMPARISON_PAGE", "DASHBOARD", "write_dashboard"]

DASHBOARD = "dashboard.html"
"""The page's file name inside a run, sweep, tipping or calibration folder."""

COMPARISON_PAGE = "comparison.html"
"""The comparison page's file name inside the comparison folder."""


def write_dashboard(results_dir: Path, output: Path | None = None) -> Path:
    """Write the page of a results folder, atomically; return its path.

    Args:
        results_dir: a run, sweep, tipping, comparison or calibration folder, or a folder of
            run folders.
        output: where to write the page (default: `dashboard.html`, or `comparison.html` for a
            comparison, inside `results_dir`).

    Raises:
        ResultsError: if `results_dir` is none of these, or its tables cannot be read.

    """
    folder = Path(results_dir)
    if not folder.is_dir():
        raise ResultsError(f"{folder} is not a blocsim results folder (not a folder)")
    kind = folder_kind(folder)
    name = COMPARISON_PAGE if kind == COMPARISON else DASHBOARD
    if kind == SWEEP:
        text = sweep_page_html(read_sweep(folder))
    elif kind == TIPPING:
        text = tipping_page_html(read_tipping_folder(folder))
    elif kind == COMPARISON:
        text = comparison_page_html(read_comparison(folder))
    elif kind == CALIBRATION:
        text = calibration_page_html(read_calibration(folder))
    else:
        text = run_page_html(read_run(folder))
    return write_atomically(Path(output) if output is not None else folder / name, text)
