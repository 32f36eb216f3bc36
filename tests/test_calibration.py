"""Calibration on the record: the file format, the facts as predicates, the posterior runs draw
from, and a small ABC-SMC end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import blocsim
from blocsim.analysis.calibration.facts import condition_holds, fact_holds
from blocsim.analysis.calibration.simulate import RecordModel, particle_key, shortfall
from blocsim.analysis.calibration.smc import prepare_folder
from blocsim.analysis.calibration.spec import (
    CalibrationError,
    Condition,
    Fact,
    file_sha256,
    load_calibration,
)
from blocsim.experiment.kernel import simulate_runs
from blocsim.experiment.posterior import Posterior
from blocsim.experiment.store import MANIFEST
from blocsim.model.inputs import CompiledScenario
from tests.conftest import BASELINE, ROOT, SCENARIOS

RECORD = SCENARIOS / "calibration" / "record.toml"
TEST_FACTS = SCENARIOS / "calibration" / "test_facts.toml"


def test_the_shipped_calibration_loads_with_its_cases_and_pinned_test_facts():
    calibration = load_calibration(RECORD)
    assert set(calibration.cases) == {"history", "seato", "anzus"}
    assert 8 <= len(calibration.spec.parameters) <= 12
    assert all(f.window == "fit" for f in calibration.fit_facts)
    assert {f.id for f in calibration.test_facts.facts} == {"H5", "H6", "H7", "H8", "H9",
                                                            "H10"}
    assert calibration.spec.test_facts_sha256 == file_sha256(TEST_FACTS)


def copy_calibration(tmp_path: Path) -> Path:
    """The shipped calibration and its test facts in a folder of their own (cases by path)."""
    text = RECORD.read_text().replace('"../history_2007.toml"',
                                      f'"{SCENARIOS / "history_2007.toml"}"')
    text = text.replace('"../cases/', f'"{SCENARIOS / "cases"}/')
    shutil.copy(TEST_FACTS, tmp_path / "test_facts.toml")
    path = tmp_path / "record.toml"
    path.write_text(text)
    return path


def test_a_changed_test_facts_file_is_refused(tmp_path):
    path = copy_calibration(tmp_path)
    facts = tmp_path / "test_facts.toml"
    facts.write_text(facts.read_text().replace("at_least = 1.5", "at_least = 1.0", 1))
    with pytest.raises(CalibrationError, match="test_facts_sha256"):
        load_calibration(path)


def test_a_fit_fact_cannot_look_into_the_test_window(tmp_path):
    path = copy_calibration(tmp_path)
    path.write_text(path.read_text().replace('to = "2016Q4"\nbelow = 1.0',
                                             'to = "2019Q4"\nbelow = 1.0'))
    with pytest.raises(CalibrationError, match="2007Q1-2016Q4"):
        load_calibration(path)


def test_a_fact_naming_an_unknown_grouping_suggests_the_nearest(tmp_path):
    path = copy_calibration(tmp_path)
    path.write_text(path.read_text().replace('grouping = "SEATO"', 'grouping = "SEAT0"', 1))
    with pytest.raises(CalibrationError, match="SEATO"):
        load_calibration(path)


def test_a_prior_outside_what_the_scenario_accepts_is_refused(tmp_path):
    path = copy_calibration(tmp_path)
    path.write_text(path.read_text().replace("prior = [-5.0, -0.5]", "prior = [-5.0, 0.5]"))
    with pytest.raises(CalibrationError, match="participation.exit_threshold"):
        load_calibration(path)


@pytest.fixture(scope="module")
def batch():
    scenario = blocsim.load(BASELINE).with_values({"scenario.steps": 12})
    compiled = CompiledScenario(scenario)
    streams = np.random.SeedSequence(4).spawn(16)
    return simulate_runs(compiled, [compiled.base] * 16, np.zeros(16, int), np.arange(16),
                         streams)


def condition(**values) -> Condition:
    return Condition.model_validate(values)


def test_a_mean_level_condition_reads_the_trajectory(batch):
    held = condition_holds(condition(kind="mean_level", grouping="QUAD", **{"from": "2025Q1"},
                                     to="2025Q4", below=2.0), batch)
    expected = batch.trajectory.level[:, 0:4, 0].mean(axis=1) < 2.0
    assert np.array_equal(held, expected)


def test_a_consolidation_condition_agrees_with_the_outcomes(batch):
    any_by_end = condition_holds(condition(kind="consolidated", grouping="any", by="2027Q4",
                                           **{"is": True}), batch)
    assert np.array_equal(any_by_end, batch.outcomes.consolidated.any(axis=1))


def test_an_exit_condition_reads_each_members_first_exit(batch):
    stayed = condition_holds(condition(kind="exited", grouping="QUAD", state="IND",
                                       by="2027Q4", **{"is": False}), batch)
    india = blocsim.load(BASELINE).state_codes.index("IND")
    assert np.array_equal(stayed, batch.trajectory.member_exited_at[:, india, 0] < 0)


def test_a_fact_holds_only_where_all_its_conditions_do(batch):
    parts = [condition(kind="level", grouping="QUAD", at="2027Q4", at_least=1.0),
             condition(kind="level", grouping="AUKUS", at="2027Q4", below=3.5)]
    fact = Fact(id="X", case="c", window="fit", statement="s", source="s", conditions=parts)
    both = condition_holds(parts[0], batch) & condition_holds(parts[1], batch)
    assert np.array_equal(fact_holds(fact, batch), both)


def test_the_distance_is_the_mean_shortfall_from_the_record():
    assert shortfall({"a": 1.0, "b": 0.5}, {"a": 1.0, "b": 1.0}) == pytest.approx(0.25)
    assert shortfall({"a": 1.0, "b": 1.0}, {"a": 1.0, "b": 1.0}) == 0.0


def test_a_particles_streams_depend_on_its_values_only():
    assert particle_key({"x": 1.0, "y": 2.0}) == particle_key({"y": 2.0, "x": 1.0})
    assert particle_key({"x": 1.0}) != particle_key({"x": 1.0000001})


@pytest.mark.slow
def test_the_record_model_is_a_function_of_the_particle():
    calibration = load_calibration(RECORD)
    model = RecordModel(calibration, calibration.fit_facts, 4)
    values = {p.path: float(np.mean(p.prior)) for p in calibration.spec.parameters}
    first = model.shares(values)
    assert first == model.shares(values)
    assert set(first) == {f.id for f in calibration.fit_facts}
    assert all(0.0 <= share <= 1.0 for share in first.values())


def write_posterior(path: Path, weights: list[float]) -> Path:
    table = pd.DataFrame({"mechanisms.balance_of_threat.weight": [6.0, 18.0][:len(weights)],
                          "weight": weights})
    table.to_parquet(path, index=False)
    return path


def test_a_posterior_draw_is_fixed_by_seed_stream_and_block(tmp_path):
    posterior = Posterior.read(write_posterior(tmp_path / "p.parquet", [0.5, 0.5]))
    draws = [posterior.index(7, 0, block) for block in range(200)]
    assert draws == [posterior.index(7, 0, block) for block in range(200)]
    assert 60 < sum(draws) < 140


def test_a_posterior_is_read_again_when_its_file_is_rewritten_and_never_shared(tmp_path):
    path = write_posterior(tmp_path / "p.parquet", [0.5, 0.5])
    first = Posterior.read(path)
    first.weights[:] = [1.0, 0.0]  # a caller changing its copy changes no one else's
    first.values.iloc[:, 0] = 0.0
    second = Posterior.read(path)
    assert list(second.weights) == [0.5, 0.5] and list(second.values.iloc[:, 0]) == [6.0, 18.0]
    write_posterior(path, [1.0])  # a calibration writing its posterior again
    assert list(Posterior.read(path).weights) == [1.0]


def test_a_particle_without_weight_is_never_drawn(tmp_path):
    posterior = Posterior.read(write_posterior(tmp_path / "p.parquet", [0.0, 1.0]))
    assert {posterior.index(1, 0, block) for block in range(50)} == {1}


def test_a_run_naming_a_posterior_draws_from_it_and_point_ignores_it(tmp_path):
    write_posterior(tmp_path / "posterior.parquet", [0.0, 1.0])
    variant = tmp_path / "drawn.toml"
    variant.write_text(f'extends = "{BASELINE}"\n[scenario]\nname = "drawn"\n'
                       f'posterior = "posterior.parquet"\nsteps = 8\n')
    drawn = blocsim.run(variant, replications=20, seed=3, workers=1)
    point = blocsim.run(variant, replications=20, seed=3, workers=1, point=True)
    fixed = blocsim.run(blocsim.load(variant).with_values(
        {"mechanisms.balance_of_threat.weight": 18.0}), replications=20, seed=3, workers=1,
        point=True)
    assert drawn.manifest["posterior"]["particles"] == 2
    assert point.manifest["posterior"] is None
    pd.testing.assert_frame_equal(drawn.levels, fixed.levels)
    assert not drawn.levels.equals(point.levels)
    assert "parameter_low" in drawn.summary()


def test_a_variant_that_sets_a_drawn_weight_keeps_it_in_every_run(tmp_path):
    pd.DataFrame({"mechanisms.balance_of_threat.weight": [6.0, 18.0],
                  "mechanisms.autonomy_cost.weight": [1.0, 1.0], "weight": [0.0, 1.0]}
                 ).to_parquet(tmp_path / "posterior.parquet", index=False)
    (tmp_path / "named.toml").write_text(
        f'extends = "{BASELINE}"\n[scenario]\nname = "named"\nposterior = "posterior.parquet"\n'
        f'steps = 8\n')
    variant = tmp_path / "pinned.toml"
    variant.write_text('extends = "named.toml"\n[scenario]\nname = "pinned"\n'
                       '[mechanisms.balance_of_threat]\nweight = 1.0\n')
    pinned = blocsim.run(variant, replications=20, seed=3, workers=1)
    fixed = blocsim.run(blocsim.load(variant).with_values(
        {"mechanisms.autonomy_cost.weight": 1.0}), replications=20, seed=3, workers=1,
        point=True)
    assert pinned.manifest["posterior"]["pinned"] == ["mechanisms.balance_of_threat.weight"]
    assert pinned.manifest["posterior"]["paths"] == ["mechanisms.autonomy_cost.weight"]
    pd.testing.assert_frame_equal(pinned.levels, fixed.levels)
    named = blocsim.run(tmp_path / "named.toml", replications=20, seed=3, workers=1)
    assert named.manifest["posterior"]["pinned"] == []
    assert not named.levels.equals(pinned.levels)


def test_a_variant_that_pins_every_drawn_value_runs_at_its_own_values(tmp_path):
    write_posterior(tmp_path / "posterior.parquet", [0.0, 1.0])
    (tmp_path / "named.toml").write_text(
        f'extends = "{BASELINE}"\n[scenario]\nname = "named"\nposterior = "posterior.parquet"\n'
        f'steps = 8\n')
    variant = tmp_path / "pinned.toml"
    variant.write_text('extends = "named.toml"\n[mechanisms.balance_of_threat]\nweight = 1.0\n')
    pinned = blocsim.run(variant, replications=20, seed=3, workers=1)
    assert pinned.manifest["posterior"] is None  # nothing left to draw: no draw blocks either
    pd.testing.assert_frame_equal(
        pinned.levels, blocsim.run(variant, replications=20, seed=3, workers=1, point=True).levels)


def test_a_variant_varied_in_code_keeps_the_values_it_pinned(tmp_path):
    """The what-if view varies a scenario with `with_values`: its pins must survive that."""
    write_posterior(tmp_path / "posterior.parquet", [0.5, 0.5])
    (tmp_path / "named.toml").write_text(
        f'extends = "{BASELINE}"\n[scenario]\nname = "named"\nposterior = "posterior.parquet"\n')
    variant = tmp_path / "pinned.toml"
    variant.write_text('extends = "named.toml"\n[mechanisms.balance_of_threat]\nweight = 1.0\n')
    scenario = blocsim.load(variant)
    autonomy = scenario.states["IND"].autonomy
    varied = scenario.with_values({"states.IND.autonomy": autonomy})
    paths = ["mechanisms.balance_of_threat.weight"]
    assert scenario.pinned(paths) == varied.pinned(paths) == paths
    assert blocsim.load(tmp_path / "named.toml").with_values(
        {"states.IND.autonomy": autonomy}).pinned(paths) == []


def test_the_parameter_band_follows_the_skew_of_probabilities_across_draws():
    """A tenth of the draws at P = 0.5, the rest at 0: mean 0.05, sd 0.15 across draws. The
    normal rule's band stopped at 0.34; the draws reach 0.5."""
    from blocsim.analysis.summary import parameter_band

    low, high = parameter_band(0.05, 0.15)
    assert low == pytest.approx(0.0, abs=1e-3) and high > 0.5
    assert parameter_band(0.5, 0.05) == pytest.approx((0.402, 0.598), abs=1e-3)
    assert parameter_band(0.3, 0.5) == (0.0, 1.0)  # as spread as a yes-or-no outcome
    assert parameter_band(0.2, 0.0) == (0.2, 0.2)


def test_a_missing_posterior_file_is_a_clear_error(tmp_path):
    variant = tmp_path / "drawn.toml"
    variant.write_text(f'extends = "{BASELINE}"\n[scenario]\nname = "drawn"\n'
                       f'posterior = "nowhere.parquet"\n')
    with pytest.raises(blocsim.api.ScenarioError, match="scenario.posterior"):
        blocsim.load(variant)


def test_overwriting_a_calibration_removes_all_the_old_fit_wrote_and_only_that(tmp_path):
    """A re-fit interrupted before its report must not leave the old fit's facts beside it."""
    calibration = load_calibration(copy_calibration(tmp_path))
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / MANIFEST).write_text(json.dumps({"kind": "calibration"}))
    for name in ("abc.db", "posterior.parquet", "generations.parquet", "facts.parquet",
                 "test_scores.parquet", "dashboard.html", "notes.md"):
        (folder / name).write_text("old")
    assert not prepare_folder(calibration, folder, resume=False, overwrite=True)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.md"]


@pytest.mark.slow
def test_a_small_calibration_runs_end_to_end_and_reports_the_test_facts(tmp_path):
    path = copy_calibration(tmp_path)
    text = path.read_text()
    for old, new in (("population = 150", "population = 10"), ("replications = 12",
                                                               "replications = 2"),
                     ("max_generations = 8", "max_generations = 2"),
                     ("predictive_draws = 200", "predictive_draws = 10"),
                     ("predictive_replications = 10", "predictive_replications = 2")):
        assert old in text, f"record.toml no longer says {old!r}"
        text = text.replace(old, new)
    path.write_text(text)
    manifest = blocsim.api.calibrate(path, out=tmp_path / "out", workers=1)
    folder = tmp_path / "out"
    posterior = pd.read_parquet(folder / "posterior.parquet")
    assert len(posterior) == 10 and posterior["weight"].sum() == pytest.approx(1.0)
    facts = pd.read_parquet(folder / "facts.parquet")
    assert set(facts.window) == {"fit", "test"}
    scores = pd.read_parquet(folder / "test_scores.parquet")
    assert set(scores.fact) == {"H5", "H6", "H7", "H8", "H9", "H10"}
    assert manifest["status"] == "complete" and manifest["generations"] >= 1
    again = blocsim.api.calibrate(path, out=folder, workers=1, resume=True)
    assert again["generations"] == manifest["generations"]


def test_the_calibration_file_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    assert "blocsim calibrate" in readme and "test_facts_sha256" in readme


def test_effective_particles_count_equal_weights_fully_and_one_heavy_weight_once():
    from blocsim.analysis.calibration.smc import effective_sample_size

    assert effective_sample_size(np.full(150, 3.0)) == pytest.approx(150)
    assert effective_sample_size(np.array([1.0, 1e-12, 1e-12])) == pytest.approx(1.0)
