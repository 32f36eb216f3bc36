"""Pages run no one's script: a scenario whose keys, names, descriptions and sources are HTML or
script builds pages that open with no dialog, no console error and no request, and show the text
as text.

The hostile folders are written directly (a run's tables and manifest with their keys renamed), so
the test holds whatever the scenario schema accepts as a key.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest

import blocsim
from blocsim.dashboards import write_dashboard
from blocsim.dashboards.report import write_report
from blocsim.experiment.store import write_results
from tests.conftest import TINY

pytestmark = pytest.mark.slow  # whole pages: each module builds runs and sweeps first

KEY = "<script>alert(1)</script>"
NAME = '"><img src=x onerror=alert(2)>'
SOURCE = "<svg onload=alert(3)><a href=javascript:alert(4)>x</a>"
DESCRIPTION = "<iframe src=javascript:alert(5)></iframe>"
TITLE = "</title><script>alert(6)</script>"


def _rename(table: pd.DataFrame) -> pd.DataFrame:
    table = table.copy()
    for column in ("grouping", "blocker"):
        if column in table:
            table[column] = table[column].astype(object).replace("PAIR", KEY)
    return table


def hostile_run(folder: Path, name: str = TITLE) -> Path:
    """A tiny run whose grouping key, names, description and sources are hostile HTML."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    source = folder.parent / f"{folder.name}.toml"
    source.write_text(textwrap.dedent(TINY))
    results = blocsim.run(source, replications=6, seed=1, workers=1)
    manifest = results.manifest
    resolved = manifest["scenario"]["resolved"]
    pair = resolved["groupings"].pop("PAIR")
    resolved["groupings"][KEY] = {**pair, "name": NAME, "source": SOURCE}
    resolved["states"]["JPN"].update(name=NAME, source=SOURCE)
    resolved["shocks"] = [{"name": NAME, "at": 2, "pressure": "china_coercion",
                           "magnitude": 0.2, "source": SOURCE}]
    manifest["scenario"].update(name=name, description=DESCRIPTION)
    manifest["scenario"]["changes"] = [{"path": f"groupings.{KEY}.initial_level", "old": KEY,
                                        "new": NAME, "old_source": SOURCE, "new_source": SOURCE}]
    tables = {k: _rename(t) for k, t in results.tables.items()}
    tables["levers"] = pd.DataFrame([{
        "lever": f"states.JPN.{KEY}", "direction": d, "before": 0.5, "after": 0.5 + d / 10,
        "grouping": KEY, "replications": 6, "reference": 0.0, "probability": 0.5,
        "difference": 0.5, "ci_low": 0.1, "ci_high": 0.8} for d in (1, -1)])
    tables["blocker_terms"] = pd.DataFrame([{"replication": 0, "grouping": KEY, "state": "JPN",
                                             "term": KEY, "value": -1.0}])
    return blocsim.Results(tables, manifest).save(folder)


def hostile_tipping(folder: Path) -> Path:
    evaluations = pd.DataFrame({"value": [0.0, 0.5, 1.0], "runs": 20, "successes": 0,
                                "round": 0})
    verdict = pd.DataFrame([{"status": "never crosses in range", "target": 0.5,
                             "estimate": float("nan"), "ci_low": float("nan"),
                             "ci_high": float("nan"), "runs": 60, "note": SOURCE,
                             "vary": f"states.JPN.{KEY}", "grouping": KEY, "low": 0.0,
                             "high": 1.0}])
    return write_results(folder, {"tipping": verdict, "evaluations": evaluations},
                         {"kind": "tipping", "scenario": {"name": TITLE, "file": NAME},
                          "vary": f"states.JPN.{KEY}", "grouping": KEY, "target": 0.5,
                          "range": [0, 1], "created": DESCRIPTION,
                          "versions": {"blocsim": NAME}})


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hostile")
    run = hostile_run(root / "runs" / "first")
    hostile_run(root / "runs" / "second", name=NAME)
    return {"run": run / "dashboard.html",
            "comparison": write_dashboard(root / "runs"),
            "tipping": write_dashboard(hostile_tipping(root / "tip")),
            "report": write_report(run)}


@pytest.mark.parametrize("name", ["run", "comparison", "tipping"])
def test_a_hostile_scenario_runs_no_script(browser, pages, name):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    events: list[str] = []
    page.on("dialog", lambda dialog: (events.append(f"dialog {dialog.message}"),
                                      dialog.dismiss()))
    page.on("console", lambda m: events.append(f"console {m.text}") if m.type == "error"
            else None)
    page.on("pageerror", lambda error: events.append(f"page error {error}"))
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:"))
            else events.append(f"request {r.url}"))
    page.goto(pages[name].resolve().as_uri())
    page.wait_for_selector(".main-svg", timeout=30_000)
    page.wait_for_timeout(800)
    page.mouse.move(300, 400)
    text = page.inner_text("body")
    page.close()
    assert events == []
    assert KEY in text or "alert(1)" in text  # shown as text, not run


def test_the_hostile_text_is_escaped_in_the_html(pages):
    html = pages["run"].read_text()
    for hostile in (KEY, NAME, SOURCE, DESCRIPTION):
        assert hostile not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_brief_escapes_the_hostile_text_too(pages):
    text = pages["report"].read_text()
    assert "<script" not in text and "<img" not in text and "<svg" not in text
    assert "&lt;script>alert(1)&lt;/script>" in text


def test_only_the_page_shell_marks_text_as_safe():
    """One place that cannot be forgotten: no other module writes unescaped markup."""
    package = Path(blocsim.__file__).parent / "dashboards"
    marked = [p.name for p in package.glob("*.py") if "Markup(" in p.read_text()]
    assert marked == ["page.py"]
    templates = [p.name for p in (package / "templates").iterdir() if "|safe" in p.read_text()]
    assert templates == []
