"""Running replications: reproducibility, results folders, the command line and the summary."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import t as student_t

import blocsim
from blocsim.analysis.summary import (
    blocked_interval,
    consolidation_summary,
    design_effect,
    format_summary,
    wilson_interval,
)
from blocsim.errors import ResultsError
from blocsim.experiment.arithmetic import ROUNDED_BY_THE_MACHINE
from blocsim.experiment.engine import run_in_memory
from blocsim.experiment.plan import Plan
from blocsim.experiment.store import check_writable, versions
from blocsim.vocabulary import STAGES, stage_name
from tests.conftest import BASELINE


@pytest.fixture(scope="module")
def baseline_runs():
    scenario = blocsim.load(BASELINE)
    return [blocsim.run(scenario, replications=20, seed=5, workers=w) for w in (1, 2)]


@pytest.mark.slow
def test_same_seed_gives_identical_tables_whatever_the_worker_count(baseline_runs):
    single, parallel = baseline_runs
    for name, table in single.tables.items():
        pd.testing.assert_frame_equal(table, parallel.tables[name], check_exact=True, obj=name)


@pytest.mark.slow
@pytest.mark.parametrize("task_runs", [1, 7, 64])
def test_cutting_into_tasks_and_batches_does_not_change_results(task_runs):
    scenario = blocsim.load(BASELINE)
    whole, _ = run_in_memory(Plan(scenario, Plan.single(scenario, 70, 9).points, 70, 9,
                                  task_runs=70))
    split, _ = run_in_memory(Plan(scenario, Plan.single(scenario, 70, 9).points, 70, 9,
                                  task_runs=task_runs))
    for name in whole:
        pd.testing.assert_frame_equal(split[name], whole[name], check_exact=True, obj=name)


def test_different_seeds_give_different_runs():
    scenario = blocsim.load(BASELINE)
    a = blocsim.run(scenario, replications=3, seed=1, workers=1).levels["level"]
    b = blocsim.run(scenario, replications=3, seed=2, workers=1).levels["level"]
    assert not np.allclose(a, b)


def test_tables_have_the_documented_columns_and_sizes(baseline_runs):
    results = baseline_runs[0]
    scenario = blocsim.load(BASELINE)
    steps, reps = scenario.scenario.steps, 20
    groupings, states = len(scenario.groupings), len(scenario.states)
    assert list(results.levels.columns) == ["replication", "step", "quarter", "grouping", "level",
                                            "nato_tie", "suspended"]
    assert len(results.levels) == reps * steps * groupings
    assert list(results.alignment.columns)[-2:] == ["state", "alignment"]
    assert len(results.alignment) == reps * steps * states
    assert {"replication", "step", "state", "grouping", "commitment"} <= set(results.commitments)
    assert {"replication", "grouping", "consolidated", "consolidated_at", "final_level",
            "peak_level", "final_stage", "blocker"} <= set(results.outcomes)
    assert results.levels["quarter"].iloc[0] == "2025Q1"


def test_outcomes_agree_with_the_trajectories(baseline_runs):
    results = baseline_runs[0]
    outcomes, levels = results.outcomes, results.levels
    last = levels[levels.step == levels.step.max()].set_index(["replication", "grouping"])
    joined = outcomes.set_index(["replication", "grouping"])
    assert np.allclose(joined["final_level"], last.loc[joined.index, "level"])
    peak = levels.groupby(["replication", "grouping"], observed=True)["level"].max()
    assert np.allclose(joined["peak_level"], peak.loc[joined.index])
    assert (joined["consolidated"] == joined["consolidated_at"].notna()).all()
    assert (joined["consolidated"] == joined["blocker"].isna()).all()
    assert all(stage_name(lv) == st for lv, st in zip(joined.final_level, joined.final_stage,
                                                      strict=True))
    assert set(joined["final_stage"]) <= set(STAGES)


def test_blocker_is_a_core_member_of_its_grouping(baseline_runs):
    scenario = blocsim.load(BASELINE)
    for row in baseline_runs[0].outcomes.dropna(subset=["blocker"]).itertuples():
        assert row.blocker in scenario.groupings[row.grouping].members


@pytest.mark.slow
def test_saved_folder_reads_back_identical(baseline_runs, tmp_path):
    results = baseline_runs[0]
    folder = results.save(tmp_path / "run")
    again = blocsim.open_results(folder)
    for name, table in results.tables.items():
        pd.testing.assert_frame_equal(table, again.tables[name], obj=name)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["seed"] == 5 and manifest["replications"] == 20
    assert manifest["scenario"]["hash"] == blocsim.load(BASELINE).hash
    assert {"numpy", "mesa", "python", "arithmetic"} <= set(manifest["versions"])
    assert manifest["arithmetic_of_tasks"] == [versions()["arithmetic"]]
    assert manifest["scenario"]["resolved"]["scenario"]["name"] == "baseline"


def test_versions_record_how_the_machine_rounds_the_models_arithmetic():
    """numpy's SIMD target for exp, log and tanh and the BLAS kernel: what the last bits hang on."""
    recorded = versions()["arithmetic"]
    assert recorded.startswith(platform.machine())
    assert all(f" {name} " in recorded for name in ROUNDED_BY_THE_MACHINE)
    assert "BLAS" in recorded and "?" not in recorded.split("; BLAS")[0]


def test_the_recorded_arithmetic_does_not_depend_on_what_else_the_process_loaded():
    """SciPy brings its own BLAS; a process that loaded it rounds numpy's products no otherwise."""
    def recorded(first: str) -> str:
        return subprocess.run(
            [sys.executable, "-c", f"{first}from blocsim.experiment.arithmetic import arithmetic; "
             "print(arithmetic())"], capture_output=True, text=True, check=True).stdout

    assert recorded("") == recorded("import scipy.linalg; ")


@pytest.mark.slow
def test_existing_results_folder_is_never_overwritten_silently(baseline_runs, tmp_path):
    folder = baseline_runs[0].save(tmp_path / "run")
    with pytest.raises(ResultsError, match="already exists"):
        baseline_runs[1].save(folder)
    baseline_runs[1].save(folder, overwrite=True)
    with pytest.raises(ResultsError):
        check_writable(folder, overwrite=False)


def test_no_partial_folder_is_left_when_writing_fails(baseline_runs, tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", fail)
    with pytest.raises(OSError):
        baseline_runs[0].save(tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_summary_gives_probabilities_within_their_intervals(baseline_runs):
    summary = baseline_runs[0].summary()
    assert (summary.ci_low <= summary.probability).all()
    assert (summary.probability <= summary.ci_high).all()
    outcomes = baseline_runs[0].outcomes
    quad = summary.set_index("grouping").loc["QUAD"]
    assert quad.probability == outcomes[outcomes.grouping == "QUAD"].consolidated.mean()


def test_wilson_interval_matches_known_values():
    low, high = wilson_interval(0, 100)
    assert low == 0.0 and high == pytest.approx(0.0370, abs=1e-4)
    low, high = wilson_interval(50, 100)
    assert low == pytest.approx(0.4038, abs=1e-4) and high == pytest.approx(0.5962, abs=1e-4)


def blocked_outcomes(hits_per_block: list[int], block: int = 10) -> pd.DataFrame:
    """Outcomes of one grouping in blocks of `block` runs, the first `hits` of each consolidated."""
    held = np.concatenate([np.arange(block) < hits for hits in hits_per_block])
    return pd.DataFrame({"grouping": "QUAD", "replication": np.arange(len(held)),
                         "consolidated": held, "peak_level": 2.0, "final_level": 2.0,
                         "blocker": None, "final_nato_tie": 0.0})


def test_runs_whose_draw_decides_the_outcome_count_as_one_run_per_draw():
    summary = consolidation_summary(blocked_outcomes([10, 0] * 5), draw_block=10).iloc[0]
    assert summary.design_effect == 10.0
    five_draws = student_t.ppf(0.975, 5)  # the variance rests on the 5 draws that consolidate
    assert (summary.ci_low, summary.ci_high) == pytest.approx(wilson_interval(5, 10, five_draws))


def test_blocks_no_more_alike_than_chance_keep_every_run_with_the_draws_quantile():
    summary = consolidation_summary(blocked_outcomes([5] * 10), draw_block=10).iloc[0]
    assert summary.design_effect == 1.0
    assert (summary.ci_low, summary.ci_high) == pytest.approx(
        wilson_interval(50, 100, student_t.ppf(0.975, 9)))


def test_two_consolidating_draws_do_not_narrow_the_interval_of_none_fivefold():
    """Review: 2 runs in 2 of 100 draws read 0.0005-0.0073 where none read 0 to 0.037, the
    variance resting on two draws but Student's quantile counting all 100."""
    none = blocked_interval(np.zeros(1000, bool), np.arange(1000) // 10, 10)
    two = np.zeros(1000, bool)
    two[[5, 505]] = True
    assert blocked_interval(two, np.arange(1000) // 10, 10)[1] > none[1] / 2


@pytest.mark.parametrize(("draws", "seed"), [(20, 5), (5, 7)])
def test_a_probability_drawn_in_blocks_gets_an_interval_that_covers_about_95_percent(draws, seed):
    """Half the draws give P 0.05, half 0.5 (truth 0.275); few draws lean on Student's quantile."""
    rng = np.random.default_rng(seed)
    covered, trials = 0, 600
    for _ in range(trials):
        hits = rng.random(draws * 10) < np.repeat(rng.choice([0.05, 0.5], draws), 10)
        low, high, _, _ = blocked_interval(hits, np.arange(draws * 10) // 10, 10)
        covered += low <= 0.275 <= high
    assert 0.91 <= covered / trials <= 0.99


def test_a_short_last_block_does_not_by_itself_inflate_the_design_effect():
    held = np.array([True] * 5 + [False] * 5 + [True])  # a block of 10, then one of 1
    assert design_effect(held, np.arange(11) // 10, 10) == 1.0


def test_no_consolidation_in_blocks_counts_each_draw_as_one_run():
    summary = consolidation_summary(blocked_outcomes([0] * 20), draw_block=10).iloc[0]
    assert summary.design_effect == 10.0 and summary.ci_high == pytest.approx(
        wilson_interval(0, 20)[1])


def test_consolidation_in_one_draw_does_not_narrow_the_interval_of_none():
    none = consolidation_summary(blocked_outcomes([0] * 20), draw_block=10).iloc[0]
    one = consolidation_summary(blocked_outcomes([1] + [0] * 19), draw_block=10).iloc[0]
    assert one.ci_high >= none.ci_high


def test_every_run_consolidating_in_blocks_counts_each_draw_as_one_run():
    summary = consolidation_summary(blocked_outcomes([10] * 20), draw_block=10).iloc[0]
    assert summary.design_effect == 10.0 and summary.ci_low == pytest.approx(
        wilson_interval(20, 20)[0])


def test_a_rare_draw_that_decides_the_outcome_is_covered_about_95_percent():
    """A tenth of the draws give P 0.5, the rest 0 (truth 0.05): in one trial of eight no run
    consolidates, where the binomial interval on all 200 runs (0 to 0.019) missed the truth."""
    rng = np.random.default_rng(11)
    covered, trials = 0, 600
    for _ in range(trials):
        hits = rng.random(200) < np.repeat(np.where(rng.random(20) < 0.1, 0.5, 0.0), 10)
        low, high, _, _ = blocked_interval(hits, np.arange(200) // 10, 10)
        covered += low <= 0.05 <= high
    assert 0.93 <= covered / trials <= 0.995


@pytest.mark.slow
def test_run_command_writes_folder_and_prints_summary(tmp_path):
    out = tmp_path / "baseline"
    command = [sys.executable, "-m", "blocsim.cli", "run", str(BASELINE), "--replications", "6",
               "--workers", "2", "--out", str(out), "--quiet"]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "QUAD" in done.stdout and "95% Monte Carlo" in done.stdout
    assert {p.name for p in out.iterdir()} >= {"levels.parquet", "commitments.parquet",
                                               "alignment.parquet", "outcomes.parquet",
                                               "manifest.json", "dashboard.html"}
    again = subprocess.run(command, capture_output=True, text=True)
    assert again.returncode == 1 and "already exists" in again.stderr
    assert "Traceback" not in again.stderr


@pytest.mark.slow
def test_run_command_rejects_a_bad_scenario_cleanly(write_scenario):
    bad = write_scenario("[scenario]\nname = 'x'\nsteps = 'many'\n")
    done = subprocess.run([sys.executable, "-m", "blocsim.cli", "run", str(bad)],
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert "scenario.steps" in done.stderr and "Traceback" not in done.stderr


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "blocsim.cli", *args], capture_output=True,
                          text=True, cwd=cwd)


@pytest.mark.slow
def test_out_path_through_dot_dot_never_deletes_the_current_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("precious")
    for extra in ([], ["--overwrite"]):
        done = run_cli("run", str(BASELINE), "--replications", "2", "--out", "newdir/..",
                       "--quiet", *extra, cwd=tmp_path)
        assert done.returncode == 1 and "current folder" in done.stderr
        assert (tmp_path / "notes.txt").read_text() == "precious"


@pytest.mark.slow
def test_scenario_named_dot_dot_is_refused(write_scenario):
    bad = write_scenario(f'extends = "{BASELINE}"\n[scenario]\nname = ".."\n')
    done = run_cli("validate", str(bad))
    assert done.returncode == 1 and "scenario.name" in done.stderr


@pytest.mark.slow
def test_overwrite_never_replaces_a_folder_that_blocsim_did_not_write(tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep")
    done = run_cli("run", str(BASELINE), "--replications", "2", "--out", str(precious),
                   "--overwrite", "--quiet")
    assert done.returncode == 1 and "not a blocsim results folder" in done.stderr
    assert (precious / "notes.txt").read_text() == "keep"


@pytest.mark.slow
def test_failed_overwrite_leaves_the_previous_results_in_place(baseline_runs, tmp_path,
                                                               monkeypatch):
    folder = baseline_runs[0].save(tmp_path / "run")
    before = (folder / "manifest.json").read_text()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", fail)
    with pytest.raises(OSError):
        baseline_runs[1].save(folder, overwrite=True)
    assert (folder / "manifest.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.slow
def test_results_folder_gets_the_usual_permissions(baseline_runs, tmp_path):
    import os
    import stat

    umask = os.umask(0)
    os.umask(umask)
    folder = baseline_runs[0].save(tmp_path / "run")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~umask


@pytest.mark.slow
def test_dashboard_command_rewrites_the_page_and_run_can_skip_it(tmp_path):
    out = tmp_path / "run"
    done = run_cli("run", str(BASELINE), "--replications", "4", "--out", str(out), "--quiet",
                   "--no-dashboard")
    assert done.returncode == 0 and not (out / "dashboard.html").exists()
    page = tmp_path / "page.html"
    done = run_cli("dashboard", str(out), "-o", str(page))
    assert done.returncode == 0 and page.stat().st_size > 100_000
    done = run_cli("dashboard", str(tmp_path))
    assert done.returncode == 1 and "Traceback" not in done.stderr


def test_the_summary_counts_who_left_a_grouping_first_and_when():
    outcomes = blocked_outcomes([0] * 4)
    outcomes["exited"] = ["NZL"] * 3 + ["USA"] + [None] * 36
    outcomes["exited_at"] = pd.array([3, 3, 5, 4] + [None] * 36, dtype="Int64")
    outcomes["exited_quarter"] = ["1984Q4", "1984Q4", "1985Q2", "1985Q1"] + [None] * 36
    summary = consolidation_summary(outcomes)
    row = summary.iloc[0]
    assert (row.exits, row.top_exiter, row.top_exiter_runs) == (4, "NZL", 3)
    assert (row.first_exit_from, row.first_exit_to) == ("1984Q4", "1985Q2")
    assert ("a member left in 4 of 40 runs; NZL first in 3 (8% of runs); first exits from 1984Q4 "
            "to 1985Q2") in format_summary(summary)


def test_a_summary_without_exits_says_nothing_of_them():
    outcomes = blocked_outcomes([2] * 4)
    outcomes["exited"], outcomes["exited_at"], outcomes["exited_quarter"] = None, None, None
    assert "first member to leave" not in format_summary(consolidation_summary(outcomes))


def test_the_blocker_s_terms_include_the_baseline_propensity_that_holds_every_member_back():
    """Walkthrough: a blocker's mechanism terms summed to +1.7 against -0.46 while it blocked;
    the baseline propensity (-0.5 hand-set, -1.6 under the posterior) was left out."""
    results = blocsim.run(blocsim.load(BASELINE), replications=4, seed=1, workers=1, point=True)
    terms = results.tables["blocker_terms"]
    baseline = terms.loc[terms["term"] == "baseline_propensity", "value"]
    assert len(baseline) == terms[["replication", "grouping"]].drop_duplicates().shape[0]
    assert baseline.median() == pytest.approx(-0.5) and baseline.between(-0.5, 0.0).all()
