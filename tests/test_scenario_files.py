"""Scenario files: loading, `extends`, and errors that name the file, the key path and the fix."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

import blocsim
from blocsim.errors import ScenarioError
from blocsim.scenario import load
from tests.conftest import BASELINE, SCENARIOS, TINY

SHIPPED = sorted(SCENARIOS.glob("*.toml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenario_validates(path):
    scenario = load(path)
    assert scenario.scenario.name == path.stem


def test_baseline_has_the_states_and_groupings_the_seeds_name():
    scenario = load(BASELINE)
    required = {"USA", "CHN", "RUS", "JPN", "IND", "AUS", "GBR", "KOR", "NZL", "PRK", "DEU", "FRA"}
    assert required <= set(scenario.states)
    assert sum(s.asean for s in scenario.states.values()) >= 6
    assert len(scenario.states) >= 20
    assert {"QUAD", "AUKUS", "IP4", "US_JPN_ROK"} <= set(scenario.groupings)


def test_every_state_parameter_in_a_shipped_file_has_a_source():
    for path in SHIPPED:
        data = tomllib.loads(path.read_text())
        for code, state in data.get("states", {}).items():
            assert str(state.get("source", "")).strip(), f"{path.name}: states.{code}"
        for name, schedule in data.get("pressures", {}).items():
            assert str(schedule.get("source", "")).strip(), f"{path.name}: pressures.{name}"


def test_extends_overrides_only_the_keys_it_names(write_scenario, tiny_path):
    child = write_scenario('extends = "tiny.toml"\n[states.IND]\nautonomy = 0.97\n'
                           'source = "override"\n', "child.toml")
    scenario = load(child)
    assert scenario.states["IND"].autonomy == 0.97
    assert scenario.states["IND"].threat_china == load(tiny_path).states["IND"].threat_china


def test_a_variant_that_names_no_scenario_is_named_after_its_file(write_scenario, tiny_path):
    """Not after its base: it would share the base's title and default results folder."""
    change = '[states.IND]\nautonomy = 0.97\nsource = "override"\n'
    unnamed = write_scenario('extends = "tiny.toml"\n' + change, "hawkish_india.toml")
    named = write_scenario('extends = "tiny.toml"\n[scenario]\nname = "mine"\n' + change,
                           "named.toml")
    odd = write_scenario('extends = "tiny.toml"\n' + change, "my variant.toml")
    long = write_scenario('extends = "tiny.toml"\n' + change, "v" * 70 + ".toml")
    assert load(unnamed).scenario.name == "hawkish_india"
    assert load(named).scenario.name == "mine"
    base_name = load(tiny_path).scenario.name
    assert load(odd).scenario.name == load(long).scenario.name == base_name


def test_naming_a_variant_after_its_file_leaves_its_hash_as_it_was(write_scenario, tiny_path):
    """Folders started before variants were named after their files still resume."""
    change = '[states.IND]\nautonomy = 0.97\nsource = "override"\n'
    unnamed = load(write_scenario('extends = "tiny.toml"\n' + change, "hawkish.toml"))
    as_before = load(write_scenario(f'extends = "tiny.toml"\n[scenario]\nname = '
                                    f'"{load(tiny_path).scenario.name}"\n' + change,
                                    "spelt_out.toml"))
    assert unnamed.hash == as_before.hash


def test_extends_adds_shocks_to_the_inherited_ones(write_scenario, tiny_path):
    shock = '[[shocks]]\nname = "{0}"\nat = 2\npressure = "china_coercion"\nmagnitude = 0.3\n'
    write_scenario('extends = "tiny.toml"\n' + shock.format("first"), "middle.toml")
    leaf = write_scenario('extends = "middle.toml"\n' + shock.format("second"), "leaf.toml")
    assert [s.name for s in load(leaf).shocks] == ["first", "second"]


def error_of(path) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        load(path)
    return caught.value


def test_malformed_toml_names_the_file(write_scenario):
    error = error_of(write_scenario("[scenario\nname = 'x'\n", "broken.toml"))
    assert "broken.toml" in str(error) and "valid TOML" in str(error)


def test_unknown_key_suggests_the_nearest_valid_key(write_scenario, tiny_path):
    error = error_of(write_scenario('extends = "tiny.toml"\n[states.JPN]\nautonmy = 0.5\n'))
    assert error.key_path == "states.JPN.autonmy"
    assert error.suggestion == "autonomy"


def test_a_misspelt_required_key_is_reported_as_the_misspelling(write_scenario, tiny_path):
    """Missing `autonomy` and unknown `autonmy` are one mistake: the unknown key says which."""
    text = tiny_path.read_text()
    at = text.index("autonomy", text.index("[states.JPN]"))
    error = error_of(write_scenario(text[:at] + "autonmy" + text[at + len("autonomy"):],
                                    "typo.toml"))
    assert error.key_path == "states.JPN.autonmy" and error.suggestion == "autonomy"
    assert "more problem" not in str(error), "the missing autonomy is the same mistake"


def test_a_misspelt_state_code_is_reported_as_an_unknown_state_with_the_nearest(
        write_scenario, tiny_path):
    """`[states.JAP]` in a variant is a new state with only an autonomy, not Japan's."""
    error = error_of(write_scenario('extends = "tiny.toml"\n[states.JAP]\nautonomy = 0.5\n',
                                    "typo.toml"))
    assert error.key_path == "states.JAP" and error.suggestion == "JPN"
    assert error.file.name == "typo.toml" and "sets only autonomy" in error.found
    assert "more problem" not in str(error), "its missing keys are the same mistake"


def test_a_new_state_short_of_its_name_is_told_the_missing_key(write_scenario, tiny_path):
    text = tiny_path.read_text()
    table = text[text.index("[states.JPN]"):].split("\n\n")[0]
    brazil = "\n".join(line for line in table.replace("[states.JPN]", "[states.BRA]").splitlines()
                       if not line.startswith("name"))
    error = error_of(write_scenario(f'extends = "tiny.toml"\n{brazil}\n', "new.toml"))
    assert error.key_path == "states.BRA.name" and error.expected == "this required key"


def test_unknown_pressure_suggests_the_nearest_pressure(write_scenario, tiny_path):
    error = error_of(write_scenario('extends = "tiny.toml"\n'
                                    '[pressures.china_asertiveness]\nvalue = 0.3\n'))
    assert error.key_path == "pressures.china_asertiveness"
    assert error.suggestion == "china_assertiveness"


def test_wrong_type_names_key_expected_and_found(write_scenario, tiny_path):
    error = error_of(write_scenario('extends = "tiny.toml"\n[states.JPN]\ncapability = "high"\n'))
    assert error.key_path == "states.JPN.capability"
    assert error.found == "'high'"
    assert "number" in error.expected


def test_value_out_of_range_is_refused(write_scenario, tiny_path):
    error = error_of(write_scenario('extends = "tiny.toml"\n[states.IND]\nautonomy = 1.4\n'))
    assert error.key_path == "states.IND.autonomy" and error.found == "1.4"


def test_grouping_naming_an_unknown_state_is_refused(write_scenario, tiny_path):
    error = error_of(write_scenario('extends = "tiny.toml"\n[groupings.PAIR]\n'
                                    'members = ["USA", "JNP"]\n'))
    assert error.key_path == "groupings.PAIR.members[1]"
    assert error.suggestion == "JPN"


def test_missing_extends_file_is_named(write_scenario):
    error = error_of(write_scenario('extends = "nowhere.toml"\n', "child.toml"))
    assert error.key_path == "extends" and "nowhere.toml" in str(error)


def test_cyclic_extends_is_refused(write_scenario):
    write_scenario('extends = "b.toml"\n', "a.toml")
    error = error_of(write_scenario('extends = "a.toml"\n', "b.toml"))
    assert "cycle" in str(error)


@pytest.mark.parametrize("key, value", [("steps", -3), ("steps", 0), ("steps", 100_000),
                                         ("replications", 0), ("replications", 10**9)])
def test_absurd_run_sizes_are_refused(write_scenario, key, value):
    text = TINY.replace("steps = 12", f"steps = {value}" if key == "steps" else "steps = 12")
    text = text.replace("replications = 4",
                        f"replications = {value}" if key == "replications" else "replications = 4")
    error = error_of(write_scenario(text))
    assert error.key_path == f"scenario.{key}"


def test_error_in_an_inherited_key_names_the_parent_file(write_scenario):
    write_scenario(TINY.replace("autonomy = 0.9", "autonomy = 9"), "parent.toml")
    error = error_of(write_scenario('extends = "parent.toml"\n', "child.toml"))
    assert error.file.name == "parent.toml"


def test_schedule_takes_exactly_one_form(write_scenario, tiny_path):
    error = error_of(write_scenario('extends = "tiny.toml"\n[pressures.china_coercion]\n'
                                    'value = 0.3\nstart = 0.1\nend = 0.2\n'))
    assert error.key_path == "pressures.china_coercion"


def test_conflicting_affinities_are_refused(write_scenario, tiny_path):
    error = error_of(write_scenario('extends = "tiny.toml"\n[affinities.JPN]\nUSA = -0.5\n'
                                    'source = "x"\n'))
    assert error.key_path in ("affinities.JPN.USA", "affinities.USA.JPN")


def test_shock_outside_the_run_is_refused(write_scenario, tiny_path):
    error = error_of(write_scenario('extends = "tiny.toml"\n[[shocks]]\nname = "late"\n'
                                    'at = "2040Q1"\npressure = "china_coercion"\n'
                                    'magnitude = 0.3\n'))
    assert error.key_path == "shocks[0].at"


def test_with_values_returns_a_new_validated_scenario(tiny_path):
    scenario = load(tiny_path)
    changed = scenario.with_values({"states.IND.autonomy": 0.5,
                                    "mechanisms.peer_influence.weight": 0.0})
    assert changed.states["IND"].autonomy == 0.5
    assert changed.mechanisms.peer_influence.weight == 0.0
    assert scenario.states["IND"].autonomy == 0.9
    assert changed.hash != scenario.hash


def test_with_values_validates_the_new_value(tiny_path):
    with pytest.raises(ScenarioError):
        load(tiny_path).with_values({"states.IND.autonomy": 2.0})


def test_scenario_is_immutable(tiny_path):
    scenario = load(tiny_path)
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        scenario.states["IND"].autonomy = 0.1  # type: ignore[misc]


@pytest.mark.slow
def test_validate_command_reports_errors_without_traceback(write_scenario, tiny_path):
    bad = write_scenario('extends = "tiny.toml"\n[states.JPN]\nautonmy = 0.5\n', "bad.toml")
    done = subprocess.run([sys.executable, "-m", "blocsim.cli", "validate", str(tiny_path),
                           str(bad)], capture_output=True, text=True)
    assert done.returncode == 1
    assert "ok: " in done.stdout
    assert "bad.toml: states.JPN.autonmy" in done.stderr and "autonomy" in done.stderr
    assert "Traceback" not in done.stderr


def test_variant_can_turn_an_inherited_constant_pressure_into_a_ramp(write_scenario, tiny_path):
    write_scenario(TINY + '[pressures.china_coercion]\nvalue = 0.4\n', "parent.toml")
    child = write_scenario('extends = "parent.toml"\n[pressures.china_coercion]\nstart = 0.4\n'
                           'end = 0.9\n', "child.toml")
    schedule = load(child).pressures["china_coercion"]
    assert (schedule.value, schedule.start, schedule.end) == (None, 0.4, 0.9)


def test_badly_written_quarter_is_explained_in_words(write_scenario, tiny_path):
    error = error_of(write_scenario('extends = "tiny.toml"\n[scenario]\nstart = "2025-Q1"\n'))
    assert error.key_path == "scenario.start" and "2025Q1" in error.expected


def test_with_values_error_names_the_override_not_the_file(tiny_path):
    with pytest.raises(ScenarioError) as caught:
        load(tiny_path).with_values({"states.IND.autonomy": 2.0})
    assert "with_values('states.IND.autonomy')" in str(caught.value)


def test_grouping_formed_outside_the_run_is_refused(write_scenario, tiny_path):
    error = error_of(write_scenario('extends = "tiny.toml"\n[groupings.TRIO]\n'
                                    'formed = "2040Q1"\n'))
    assert error.key_path == "groupings.TRIO.formed"


def test_a_loaded_scenario_survives_plain_pickle_as_a_spawned_worker_needs():
    import pickle

    scenario = load(BASELINE)
    assert pickle.loads(pickle.dumps(scenario)).hash == scenario.hash


def test_a_variants_changes_follow_an_edit_of_the_file_it_extends(tmp_path):
    """The origin a manifest lists changes against is cached per file, and an edit of any file
    of the chain is seen (the cache is keyed on their modification times and sizes)."""
    from blocsim.scenario.sources import origin

    base = tmp_path / "base.toml"
    base.write_text(TINY)
    variant = tmp_path / "variant.toml"
    variant.write_text('extends = "base.toml"\n[scenario]\nname = "variant"\n')
    assert origin(variant)["scenario"]["steps"] == 12
    base.write_text(TINY.replace("steps = 12", "steps = 120"))
    assert origin(variant)["scenario"]["steps"] == 120


def test_a_change_of_a_value_left_to_its_default_reads_from_that_default(tmp_path):
    """Defect: a variant setting a mechanism weight the base never writes read 'None -> 0.0'."""
    from blocsim.scenario.sources import changes, origin

    (tmp_path / "base.toml").write_text(TINY)
    variant = tmp_path / "variant.toml"
    variant.write_text('extends = "base.toml"\n[mechanisms.autonomy_cost]\nweight = 0.0\n')
    default = load(tmp_path / "base.toml").mechanisms.autonomy_cost.weight
    found = [c for c in changes(origin(variant), load(variant).raw)
             if c.path == "mechanisms.autonomy_cost.weight"]
    assert [(c.old, c.new) for c in found] == [(default, 0.0)] and default != 0.0


def test_a_variant_that_changes_a_calibrated_weight_is_asked_for_a_source(tmp_path):
    from blocsim.scenario.sources import unsourced_changes

    (tmp_path / "base.toml").write_text(TINY)
    variant = tmp_path / "variant.toml"
    variant.write_text('extends = "base.toml"\n[mechanisms.autonomy_cost]\nweight = 0.0\n')
    [change] = unsourced_changes(variant)
    assert change.path == "mechanisms.autonomy_cost.weight" and change.calibrated


def test_a_mechanism_table_s_source_answers_for_its_changed_weight(tmp_path):
    from blocsim.scenario.sources import unsourced_changes

    (tmp_path / "base.toml").write_text(TINY)
    variant = tmp_path / "variant.toml"
    variant.write_text('extends = "base.toml"\n[mechanisms.autonomy_cost]\nweight = 0.0\n'
                       'source = "Counterfactual: autonomy costs nothing (our question)."\n')
    assert unsourced_changes(variant) == []
    assert load(variant).mechanisms.autonomy_cost.source.startswith("Counterfactual")


def test_a_table_s_source_is_not_a_parameter_of_the_model(tmp_path):
    from blocsim.model.inputs import flat_parameters

    (tmp_path / "base.toml").write_text(TINY)
    variant = tmp_path / "variant.toml"
    variant.write_text('extends = "base.toml"\n[dynamics]\nsource = "Why these rules."\n'
                       '[mechanisms.hedging]\nsource = "Why this weight."\n')
    assert flat_parameters(load(variant)) == flat_parameters(load(tmp_path / "base.toml"))


def test_an_edit_of_a_file_that_only_extends_another_is_seen(tmp_path):
    from blocsim.scenario.sources import origin

    (tmp_path / "base.toml").write_text(TINY)
    alias = tmp_path / "alias.toml"
    alias.write_text('extends = "base.toml"\n')
    (tmp_path / "mid.toml").write_text('extends = "alias.toml"\n')
    variant = tmp_path / "variant.toml"
    variant.write_text('extends = "mid.toml"\n[scenario]\nname = "variant"\n')
    assert origin(variant)["scenario"]["steps"] == 12
    alias.write_text('extends = "base.toml"\n[scenario]\nsteps = 99\n')
    assert origin(variant)["scenario"]["steps"] == 99


def test_a_variant_resolves_the_posterior_against_the_file_that_names_it(tmp_path):
    variant = tmp_path / "variant.toml"
    variant.write_text(f'extends = "{BASELINE}"\n[scenario]\nname = "variant"\n')
    changed = blocsim.load(variant).with_values({"states.IND.autonomy": 0.8})
    assert changed.posterior_path == blocsim.load(BASELINE).posterior_path


def test_a_saved_run_of_a_variant_elsewhere_reads_back_its_scenario(tmp_path):
    variant = tmp_path / "variant.toml"
    variant.write_text(f'extends = "{BASELINE}"\n[scenario]\nname = "variant"\nsteps = 4\n')
    blocsim.run(variant, replications=2, workers=1).save(tmp_path / "out", dashboard=False)
    again = blocsim.open_results(tmp_path / "out").resolved
    assert again.posterior_path == blocsim.load(BASELINE).posterior_path
