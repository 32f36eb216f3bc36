"""The what-if view's logic without a browser: inputs, the paired readout, save as scenario."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import blocsim
from blocsim.analysis.summary import wilson_interval
from blocsim.api import paired_difference
from blocsim.cli import main
from blocsim.explore.inputs import pressure_inputs, state_inputs, title
from blocsim.explore.readout import Run, readout
from blocsim.explore.simulator import SimulationError, Simulator
from blocsim.explore.variant import Change, VariantError, save_variant
from tests.conftest import BASELINE, copy_baseline

OWN_SOURCES = {"states.IND": "the baseline's grounds for India",
               "pressures.china_assertiveness": "the baseline's grounds for assertiveness"}


@pytest.fixture
def original(tmp_path: Path) -> Path:
    """A copy of the baseline in its own folder (the variant goes into a sibling folder)."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    return copy_baseline(folder)


def changes(autonomy_source: str = "2027 white paper (assumed)") -> list[Change]:
    return [Change("states.IND.autonomy", 0.9, 0.75, autonomy_source),
            Change("pressures.china_assertiveness.end", 0.6, 0.95, "a Taiwan crisis (assumed)")]


def test_saved_variant_extends_the_original_by_a_relative_path(original: Path, tmp_path: Path):
    (tmp_path / "variants").mkdir()
    written = save_variant(original, tmp_path / "variants" / "hawk.toml", "hawk", changes(),
                           OWN_SOURCES)
    content = tomllib.loads(written.read_text())
    assert content["extends"] == "../scenarios/baseline.toml"
    assert content["scenario"] == {"name": "hawk"}


def test_saved_variant_sets_only_the_changed_values(original: Path, tmp_path: Path):
    written = save_variant(original, tmp_path / "hawk.toml", "hawk", changes(), OWN_SOURCES)
    content = tomllib.loads(written.read_text())
    assert set(content) == {"extends", "scenario", "states", "pressures"}
    assert set(content["states"]["IND"]) == {"autonomy", "source"}
    assert set(content["pressures"]["china_assertiveness"]) == {"end", "source"}
    base, variant = blocsim.load(original), blocsim.load(written)
    assert variant.states["IND"].autonomy == 0.75
    assert variant.pressures["china_assertiveness"].end == 0.95
    assert variant.pressures["china_assertiveness"].start == base.pressures[
        "china_assertiveness"].start
    assert variant.states["JPN"] == base.states["JPN"]
    assert variant.groupings == base.groupings


def test_saved_variant_passes_blocsim_validate(original: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture):
    written = save_variant(original, tmp_path / "hawk.toml", "hawk", changes(), OWN_SOURCES)
    assert main(["validate", str(written)]) == 0
    printed = capsys.readouterr()
    assert "ok:" in printed.out
    assert "warning" not in printed.err


def test_saved_source_gives_each_new_ground_and_keeps_the_files_own(original: Path,
                                                                    tmp_path: Path):
    written = save_variant(original, tmp_path / "hawk.toml", "hawk", changes(), OWN_SOURCES)
    source = blocsim.load(written).states["IND"].source
    assert "autonomy 0.75 (baseline.toml: 0.9): 2027 white paper (assumed)." in source
    assert source.endswith(OWN_SOURCES["states.IND"])


def test_a_change_without_a_source_is_refused_and_nothing_written(original: Path,
                                                                   tmp_path: Path):
    with pytest.raises(VariantError, match="missing for: states.IND.autonomy"):
        save_variant(original, tmp_path / "hawk.toml", "hawk", changes(autonomy_source="  "),
                     OWN_SOURCES)
    assert list(tmp_path.iterdir()) == [original.parent]


def test_nothing_changed_is_refused(original: Path, tmp_path: Path):
    with pytest.raises(VariantError, match="nothing to save"):
        save_variant(original, tmp_path / "hawk.toml", "hawk", [], OWN_SOURCES)


def test_an_existing_file_is_never_replaced(original: Path, tmp_path: Path):
    target = tmp_path / "hawk.toml"
    target.write_text("# mine\n")
    with pytest.raises(VariantError, match="exists"):
        save_variant(original, target, "hawk", changes(), OWN_SOURCES)
    assert target.read_text() == "# mine\n"


def test_a_variant_that_would_not_validate_is_not_written(original: Path, tmp_path: Path):
    target = tmp_path / "hawk.toml"
    with pytest.raises(VariantError, match=r"hawk\.toml: scenario\.name: expected a name"):
        save_variant(original, target, "no spaces allowed", changes(), OWN_SOURCES)
    assert list(tmp_path.iterdir()) == [original.parent]


def test_constant_pressures_move_by_value_and_ramps_by_their_end(write_scenario):
    path = write_scenario(f'extends = "{BASELINE.as_posix()}"\n'
                          '[scenario]\nname = "forms"\n'
                          '[pressures.china_coercion]\nvalue = 0.5\nsource = "constant"\n'
                          '[pressures.us_engagement]\npoints = [["2026Q1", 0.4]]\n'
                          'source = "dated"\n')
    inputs = {i.owner: i for i in pressure_inputs(blocsim.load(path))}
    assert inputs["pressures.china_coercion"].path == "pressures.china_coercion.value"
    assert inputs["pressures.china_assertiveness"].path == "pressures.china_assertiveness.end"
    assert not inputs["pressures.us_engagement"].movable
    assert inputs["pressures.china_coercion"].source == "constant"


def test_a_state_attribute_on_a_dated_path_is_not_movable():
    history = blocsim.load(BASELINE.parent / "history_2007.toml")
    dated = set(history.raw["states"]["IND"].get("paths", {}))
    for item in state_inputs(history, "IND"):
        assert item.movable == (item.key not in dated)
        assert item.source == history.raw["states"]["IND"]["source"]


def test_each_state_attribute_shows_the_part_of_the_source_that_grounds_it():
    india = {i.key: i for i in state_inputs(blocsim.load(BASELINE), "IND")}
    assert india["autonomy"].ground.startswith("autonomy 0.9: highest of all")
    assert "threat_china" not in india["autonomy"].ground
    assert india["domestic_constraint"].ground.startswith("domestic_constraint 0.3:")


def test_a_variants_ground_is_its_own_where_it_gives_one(original: Path, tmp_path: Path):
    written = save_variant(original, tmp_path / "hawk.toml", "hawk", changes(),
                           {"states.IND": blocsim.load(original).raw["states"]["IND"]["source"]})
    india = {i.key: i for i in state_inputs(blocsim.load(written), "IND")}
    assert india["autonomy"].ground == ("autonomy 0.75 (baseline.toml: 0.9): 2027 white paper "
                                        "(assumed).")
    assert india["hedging"].ground.startswith("hedging 0.6: moderately high")


def test_titles_spell_names_and_acronyms():
    assert title("us_engagement") == "US engagement"
    assert title("threat_china") == "Threat China"


def test_the_change_is_the_paired_difference_of_the_two_runs():
    reference = [True] * 30 + [False] * 70
    current = [True] * 30 + [True] * 10 + [False] * 60

    def run(consolidated: list[bool]) -> Run:
        share = sum(consolidated) / 100
        return Run(pd.DataFrame([{"grouping": "QUAD", "replications": 100, "probability": share,
                                  "ci_low": 0.0, "ci_high": 1.0, "median_peak_level": 2.0,
                                  "median_peak_stage": "coordinated", "mean_final_level": 2.0,
                                  "top_blocker": "IND"}]),
                   pd.DataFrame({"QUAD": consolidated}),
                   pd.DataFrame({"QUAD": ["IND"] * 100}), 1.0)

    row = readout(run(reference), run(current)).iloc[0]
    expected = paired_difference(np.array(reference), np.array(current))
    assert (row.change, row.change_low, row.change_high) == (
        expected.value, expected.low, expected.high)
    assert row.change_low > 0  # ten more runs consolidate, none fewer: clear of noise


def test_blocker_share_counts_only_the_runs_that_did_not_consolidate():
    consolidated = [True] * 6 + [False] * 4
    run = Run(pd.DataFrame([{"grouping": "QUAD", "replications": 10, "consolidated": 6,
                             "probability": 0.6, "ci_low": 0.3, "ci_high": 0.8,
                             "median_peak_level": 3.6, "median_peak_stage": "formal alliance",
                             "mean_final_level": 3.4, "top_blocker": "IND"}]),
              pd.DataFrame({"QUAD": consolidated}),
              pd.DataFrame({"QUAD": [None] * 6 + ["IND", "IND", "IND", "JPN"]}), 1.0)
    row = readout(run, run).iloc[0]
    assert row.blocker_share == pytest.approx(0.75)
    assert row.change == 0 and row.change_low < 0 < row.change_high


def test_a_run_keeps_who_consolidated_and_who_blocked_in_each_replication(tiny_path: Path):
    results = blocsim.run(tiny_path, replications=6, seed=1, workers=1)
    run = Run.of(results, 0.1)
    outcomes = results.outcomes
    first = outcomes[outcomes["replication"] == outcomes["replication"].min()]
    for row in first.itertuples():
        assert run.consolidated.loc[row.replication, row.grouping] == row.consolidated
        assert run.blocked_by.loc[row.replication, row.grouping] == row.blocker
    assert list(run.consolidated.columns) == sorted(results.summary()["grouping"])


def _summary(successes: int, trials: int) -> tuple[float, float, float]:
    low, high = wilson_interval(successes, trials)
    return successes / trials, low, high


@pytest.mark.slow
def test_the_helper_runs_settings_once_and_reports_invalid_ones(tiny_path: Path):
    simulator = Simulator(tiny_path, replications=4, seed=1, workers=1)
    try:
        first = simulator.run({"states.IND.autonomy": 0.5})
        assert simulator.run({"states.IND.autonomy": 0.5}) is first
        direct = blocsim.run(blocsim.load(tiny_path).with_values({"states.IND.autonomy": 0.5}),
                             replications=4, seed=1, workers=1, point=True)
        pd.testing.assert_frame_equal(first.summary, direct.summary())
        with pytest.raises(SimulationError, match=r"states\.IND\.autonomy"):
            simulator.run({"states.IND.autonomy": 1.5})
    finally:
        simulator.close()
