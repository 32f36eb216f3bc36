"""Groupings that come into being during a run (`formed = "2021Q3"`)."""

from __future__ import annotations

import numpy as np

from blocsim.model import AllianceModel
from blocsim.scenario import load


def formed_late(tiny_path, quarter: str = "2026Q1"):
    scenario = load(tiny_path).with_values({"groupings.TRIO.formed": quarter})
    return scenario, AllianceModel(scenario, rng=[1, 2]).run()


def test_before_it_forms_a_grouping_has_no_level_and_no_commitments(tiny_path):
    scenario, trajectory = formed_late(tiny_path)
    trio = scenario.grouping_names.index("TRIO")
    assert np.all(trajectory.level[:, :4, trio] == 0.0)
    assert np.all(trajectory.commitment[:, :4, :, trio] == 0.0)


def test_a_grouping_starts_from_its_initial_level_when_it_forms(tiny_path):
    scenario, trajectory = formed_late(tiny_path)
    trio = scenario.grouping_names.index("TRIO")
    first = trajectory.level[:, 4, trio]
    assert np.all(np.abs(first - scenario.groupings["TRIO"].initial_level) < 0.5)
    assert np.all(trajectory.commitment[:, 4:, :, trio].sum(axis=-1) > 0)


def test_china_counters_a_grouping_only_once_it_exists(tiny_path):
    scenario = load(tiny_path).with_values({"groupings.PAIR.formed": "2026Q1",
                                            "groupings.TRIO.formed": "2026Q1"})
    trajectory = AllianceModel(scenario, rng=[3]).run()
    acting = trajectory.pressure[0, :, 0]
    scheduled = scenario.pressures["china_assertiveness"]
    ramp = np.linspace(scheduled.start, scheduled.end, scenario.scenario.steps)
    assert np.allclose(acting[:4], ramp[:4])
    assert np.all(acting[4:] > ramp[4:])
