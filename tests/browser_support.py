"""Opening dashboards in a real browser: Debian's Chromium driven by Playwright.

Shared by the browser tests; the `browser` fixture in conftest.py launches Chromium once per
session and skips with the reason when it is missing.
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
MISSING = (f"{CHROMIUM} is missing: run scripts/ensure_chromium.sh as root to install Debian's "
           f"chromium for the browser tests")


def open_page(browser, path: Path):
    """Open a page from its file:// URL; return (page, errors, requests) it produced."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error"
            else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.resolve().as_uri())
    page.wait_for_selector(".main-svg", timeout=30_000)
    page.wait_for_load_state("load")
    return page, errors, requests


def figures_of(page) -> list[dict]:
    """Every plotly figure on the page: its id, how many traces and how many SVG layers."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
        .map(el => ({id: el.id, traces: (el.data || []).length,
                     svgs: el.querySelectorAll('.main-svg').length}))""")


def marks_of(page) -> list[int]:
    """How many drawn marks (traces, heatmap cells, points, bars, lines) each figure shows."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
        .map(el => el.querySelectorAll(
            '.trace, .hm, image, path.point, .bars path, .parcoords-lines, canvas').length)""")


def overlapping_titles(page) -> list[tuple[str, str]]:
    """Pairs of panel titles (and figure titles) whose boxes overlap in any figure."""
    return page.evaluate("""() => {
        const found = [];
        for (const plot of document.querySelectorAll('.js-plotly-plot')) {
            if (plot.offsetParent === null) continue;
            const boxes = Array.from(plot.querySelectorAll('.annotation-text, .gtitle'))
                .map(el => [el.textContent, el.getBoundingClientRect()])
                .filter(([t, r]) => r.width > 0);
            for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
                const [a, r] = boxes[i], [b, s] = boxes[j];
                if (r.left < s.right - 1 && s.left < r.right - 1 && r.top < s.bottom - 1
                    && s.top < r.bottom - 1) found.push([a, b]);
            }
        }
        return found; }""")


def clipped_titles(page) -> list[str]:
    """Figure titles and subtitles that run past the right edge of their figure."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
        .filter(plot => plot.offsetParent !== null)
        .flatMap(plot => Array.from(plot.querySelectorAll('.gtitle, .gtitle-subtitle'))
            .filter(el => el.getBoundingClientRect().right >
                          plot.getBoundingClientRect().right + 1)
            .map(el => el.textContent))""")
