"""One command does the whole job: compare, levers, tip, analyze and report write their pages;
validate knows every kind of file and warns about unsourced changes; variants name themselves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import matplotlib
import pandas as pd
import pytest

import blocsim
from blocsim.cli import main
from blocsim.dashboards.report import write_report
from blocsim.scenario.sources import unsourced_changes
from tests.conftest import BASELINE, LHS_SWEEP, SCENARIOS, copy_baseline, make_sweep


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "blocsim.cli", *args], capture_output=True,
                          text=True, timeout=600)


# --- compare ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_command_whose_errors_go_to_a_log_prints_no_progress_bar(tmp_path):
    done = cli("run", str(BASELINE), "--replications", "4", "--workers", "1", "--no-dashboard",
               "--out", str(tmp_path / "run"))
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr and "run/s" not in done.stderr, done.stderr


@pytest.mark.slow
def test_compare_runs_scenarios_with_one_seed_and_writes_page_and_table(tmp_path):
    out = tmp_path / "cmp"
    done = cli("compare", str(BASELINE), str(SCENARIOS / "india_tilt.toml"), "--replications",
               "6", "--workers", "1", "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    assert "paired by replication" in done.stdout
    table = pd.read_parquet(out / "comparison.parquet")
    assert set(table.scenario) == {"baseline", "india_tilt"} and table.paired.all()
    manifests = [json.loads((out / n / "manifest.json").read_text()) for n in
                 ("baseline", "india_tilt")]
    assert manifests[0]["seed"] == manifests[1]["seed"] == 20250101
    assert (out / "comparison.html").is_file() and (out / "india_tilt" / "dashboard.html").is_file()


def test_the_same_scenario_twice_differs_by_exactly_zero():
    comparison = blocsim.compare(BASELINE, BASELINE, replications=10, workers=1)
    other = comparison.table[comparison.table.scenario == "baseline-2"]
    assert (other.difference == 0).all() and (other.diff_low < 0).all()
    assert comparison.parameters == {"baseline-2": []}


@pytest.mark.slow
def test_compare_reads_existing_run_folders_and_diffs_their_inputs(tmp_path):
    base = blocsim.run(BASELINE, replications=4, seed=2, workers=1).save(tmp_path / "a")
    tilt = blocsim.run(SCENARIOS / "india_tilt.toml", replications=4, seed=2,
                       workers=1).save(tmp_path / "b")
    comparison = blocsim.compare(base, tilt, reference="baseline")
    changes = {c.path: c for c in comparison.parameters["india_tilt"]}
    autonomy = changes["states.IND.autonomy"]
    assert (autonomy.old, autonomy.new) == (0.9, 0.97)
    assert "autonomy 0.9: highest" in autonomy.old_source
    assert "autonomy 0.97 (baseline 0.9)" in autonomy.new_source
    assert comparison.table.paired.all()


def test_compare_refuses_an_unknown_reference():
    with pytest.raises(blocsim.api.ResultsError, match="--reference 'nope'"):
        blocsim.compare(BASELINE, BASELINE, reference="nope", replications=2, workers=1)


@pytest.mark.slow
def test_compare_is_in_the_help():
    text = " ".join(cli("compare", "--help").stdout.split())
    assert "--reference" in text and "same random stream" in text
    assert "comparison.html" in text and "comparison.parquet" in text


# --- levers, run ------------------------------------------------------------------------------

@pytest.mark.slow
def test_run_computes_levers_and_the_page_shows_them(tmp_path):
    out = tmp_path / "run"
    done = cli("run", str(BASELINE), "--replications", "4", "--workers", "1", "--out", str(out),
               "--quiet")
    assert done.returncode == 0, done.stderr
    assert (out / "levers.parquet").is_file()
    assert 'id="figure-levers"' in (out / "dashboard.html").read_text()
    assert "NATO tie" in done.stdout and "linked" in done.stdout


@pytest.mark.slow
def test_levers_command_adds_levers_to_a_folder_and_refreshes_its_page(tmp_path):
    folder = blocsim.run(BASELINE, replications=4, seed=1, workers=1).save(tmp_path / "run")
    assert main(["levers", str(folder), "--replications", "3", "--workers", "1",
                 "--quiet"]) == 0
    assert 'id="figure-levers"' in (folder / "dashboard.html").read_text()


# --- tip, analyze, report ---------------------------------------------------------------------

@pytest.mark.slow
def test_tip_writes_its_page(tmp_path, tiny_path):
    out = tmp_path / "tip"
    done = cli("tip", str(tiny_path), "--vary", "states.IND.autonomy", "--grouping", "TRIO",
               "--max-runs", "120", "--workers", "1", "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    page = (out / "dashboard.html").read_text()
    assert "this scenario" in page and "India: autonomy" in page


def test_analyze_without_an_analysis_says_so_before_loading_the_engine(tmp_path):
    """It took 2.8 s (the commands and the engine loaded) to say what a glance at the
    arguments tells."""
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from blocsim.cli import main; "
         f"code = main(['analyze', {str(tmp_path)!r}]); "
         "print(code, 'blocsim.commands' in sys.modules)"],
        capture_output=True, text=True)
    assert done.stdout.split() == ["2", "False"]
    assert "say what to analyze: --sensitivity and/or --discover" in done.stderr


@pytest.mark.slow
def test_analyze_refreshes_the_sweep_page(tmp_path):
    folder = make_sweep(tmp_path / "lhs", LHS_SWEEP)
    assert 'id="discovery"' not in (folder / "dashboard.html").read_text() \
        if (folder / "dashboard.html").exists() else True
    done = cli("analyze", str(folder), "--discover", "AUKUS", "--threshold", "0.2", "--quiet")
    assert done.returncode == 0, done.stderr
    assert 'id="discovery"' in (folder / "dashboard.html").read_text()


@pytest.mark.slow
def test_report_writes_a_brief_with_findings_sources_and_figures(tmp_path):
    results = blocsim.run(SCENARIOS / "india_tilt.toml", replications=6, seed=1, workers=1)
    blocsim.levers(results, replications=6, workers=1)
    folder = results.save(tmp_path / "tilt")
    assert main(["report", str(folder)]) == 0
    text = (folder / "report.md").read_text()
    assert "## Findings" in text and "QUAD: Quadrilateral Security Dialogue" in text
    assert "## Caveats" in text and "## Sources" in text and "SIPRI" in text
    assert "India: autonomy (`states.IND.autonomy`): 0.9 → 0.97" in text
    for name in ("report-probability.svg", "report-levers.svg"):
        assert f"]({name})" in text
        assert (folder / name).read_text().startswith("<?xml")
    assert matplotlib.rcParams["font.size"] == 10.0, "the brief's style leaked into the caller's"
    drawn = {name: (folder / name).read_bytes()
             for name in ("report-probability.svg", "report-levers.svg")}
    threads = [threading.Thread(target=write_report, args=(folder, folder / f"r{k}.md"))
               for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for k in range(3):
        for name, svg in drawn.items():
            assert (folder / name.replace("report", f"r{k}")).read_bytes() == svg, "threads"
    assert matplotlib.rcParams["font.size"] == 10.0, "threads restored each other's style"
    settings = tmp_path / "rc"
    settings.mkdir()
    (settings / "matplotlibrc").write_text("savefig.format: pdf\n")
    subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; from "
                    "blocsim.dashboards.report import write_report; "
                    "write_report(Path(sys.argv[1]), Path(sys.argv[1]) / 'pdf.md')", str(folder)],
                   check=True, env={**os.environ, "MATPLOTLIBRC": str(settings)})
    for name, svg in drawn.items():
        assert (folder / name.replace("report", "pdf")).read_bytes() == svg, "caller's rc"


@pytest.mark.slow
def test_report_on_a_run_without_levers_writes_a_brief_without_them(tmp_path):
    folder = blocsim.run(BASELINE, replications=4, seed=1, workers=1).save(tmp_path / "run")
    assert main(["report", str(folder)]) == 0
    text = (folder / "report.md").read_text()
    assert "## Findings" in text and "has no levers" in text and "`blocsim levers`" in text
    assert "Levers move one parameter" not in text


# --- validate and variants --------------------------------------------------------------------

@pytest.mark.slow
def test_validate_accepts_scenario_sweep_and_landscape_files():
    files = [BASELINE, SCENARIOS / "sweeps" / "quad_tipping.toml",
             SCENARIOS / "landscape" / "syria_2016.toml"]
    done = cli("validate", *map(str, files))
    assert done.returncode == 0, done.stderr
    assert "sweep quad_tipping" in done.stdout and "landscape: 11 actors" in done.stdout


@pytest.mark.slow
def test_validate_reads_a_scenario_without_loading_the_engine():
    """`validate` took 3 s a file loading what the other commands need; a scenario needs 0.3."""
    check = ("import sys; from blocsim.cli import main; "
             f"code = main(['validate', {str(BASELINE)!r}]); "
             "heavy = sorted({'mesa', 'plotly', 'pyabc', 'distributed'} & set(sys.modules)); "
             "print('loaded', heavy); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "loaded []" in done.stdout


def test_validate_knows_a_calibration_s_pre_registered_test_facts(capsys):
    """Review: the shipped test-facts file was read as a scenario and refused."""
    assert main(["validate", str(SCENARIOS / "calibration" / "test_facts.toml")]) == 0
    out, err = capsys.readouterr()
    assert "pre-registered test facts: 6 facts" in out and "calibration file that pins it" in err


@pytest.mark.slow
def test_validate_into_a_pipe_closed_early_ends_quietly():
    """Review: the lighter validate path printed a BrokenPipeError traceback (exit 1)."""
    script = (f"{sys.executable} -m blocsim validate "
              + " ".join([str(BASELINE)] * 300) + " | head -c 10")
    done = subprocess.run(["bash", "-o", "pipefail", "-c", script], capture_output=True,
                          text=True, timeout=300)
    assert "Traceback" not in done.stderr and done.returncode == 0, done.stderr


@pytest.mark.slow
def test_validate_warns_when_a_variant_changes_a_value_without_a_new_source(write_scenario,
                                                                            tmp_path):
    copy_baseline(tmp_path)
    variant = write_scenario('''
        extends = "baseline.toml"
        [scenario]
        name = "quiet_change"
        [states.IND]
        autonomy = 0.97
    ''', "variant.toml")
    done = cli("validate", str(variant))
    assert done.returncode == 0
    assert "warning:" in done.stderr and "states.IND.autonomy changes 0.9 -> 0.97" in done.stderr
    assert "states.IND.source" in done.stderr


def test_no_warning_when_the_variant_gives_its_own_source():
    assert unsourced_changes(SCENARIOS / "india_tilt.toml") == []
    assert all(unsourced_changes(path) == [] for path in SCENARIOS.glob("*.toml"))


def test_with_values_names_the_variant_after_its_changes():
    scenario = blocsim.load(BASELINE).with_values({"states.IND.autonomy": 0.97,
                                                   "pressures.china_assertiveness.end": 0.9})
    assert scenario.scenario.name == "baseline_IND.autonomy-0.97_china_assertiveness.end-0.9"
    named = blocsim.load(BASELINE).with_values({"scenario.name": "mine",
                                                "states.IND.autonomy": 0.5})
    assert named.scenario.name == "mine"


def test_a_runs_manifest_records_what_it_changes_from_the_file_it_extends():
    results = blocsim.run(SCENARIOS / "europe_freed.toml", replications=2, seed=1, workers=1)
    changes = results.manifest["scenario"]["changes"]
    assert [c["path"] for c in changes] == ["pressures.europe_bandwidth.end"]
    assert (changes[0]["old"], changes[0]["new"]) == (0.3, 0.8)


def test_a_kept_weight_outside_the_posterior_s_particles_is_warned_about(tmp_path, capsys):
    """Walkthrough: autonomy cost 0 was kept where the calibration's particles span 1-9.5."""
    copy_baseline(tmp_path)
    variant = tmp_path / "free.toml"
    variant.write_text('extends = "baseline.toml"\n[mechanisms.autonomy_cost]\nweight = 0.0\n'
                       'source = "Counterfactual: autonomy costs nothing."\n')
    assert main(["validate", str(variant)]) == 0
    assert "mechanisms.autonomy_cost.weight = 0 is kept (not drawn) outside the range" in (
        capsys.readouterr().err)
    inside = tmp_path / "inside.toml"
    inside.write_text('extends = "baseline.toml"\n[mechanisms.autonomy_cost]\nweight = 5.0\n'
                      'source = "Counterfactual: the posterior median."\n')
    assert main(["validate", str(inside)]) == 0
    assert "outside the range" not in capsys.readouterr().err


def test_a_kept_weight_s_old_side_says_what_the_base_s_runs_draw_instead(tmp_path):
    """Walkthrough: the run page read 'autonomy cost 4.5 -> 0.0', but the baseline's runs never
    used 4.5: they draw the weight from the posterior."""
    copy_baseline(tmp_path)
    variant = tmp_path / "free.toml"
    variant.write_text('extends = "baseline.toml"\n[mechanisms.autonomy_cost]\nweight = 3.0\n'
                       'source = "Counterfactual."\n')
    results = blocsim.run(variant, replications=2, workers=1)
    [change] = results.manifest["scenario"]["changes"]
    assert change["old"] == 4.5 and change["old_drawn"].startswith(
        "drawn from the posterior: weighted median")
    point = blocsim.run(variant, replications=2, workers=1, point=True)
    assert point.manifest["scenario"]["changes"][0]["old_drawn"] == ""
