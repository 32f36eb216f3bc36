"""Shocks act on what they target: every shockable pressure moves the model."""

from __future__ import annotations

import numpy as np
import pytest

from blocsim.model import AllianceModel
from blocsim.scenario import load
from tests.conftest import BASELINE


def ip4_nato_tie(shocks: list[dict]) -> np.ndarray:
    scenario = load(BASELINE).with_values({"shocks": shocks})
    trajectory = AllianceModel(scenario, rng=[1, 2]).run()
    return trajectory.nato_tie[:, :, scenario.grouping_names.index("IP4")]


@pytest.mark.parametrize("pressure, targets, direction", [
    ("europe_bandwidth", ["DEU", "FRA", "GBR", "CAN"], +1),
    ("nato_outreach", ["JPN", "KOR", "AUS", "NZL"], -1),
])
def test_shocks_on_natos_pressures_move_the_ip4_nato_tie(pressure, targets, direction):
    shock = {"name": "x", "at": 0, "targets": targets, "pressure": pressure,
             "magnitude": 0.5 * direction, "decay_quarters": 39}
    shocked, plain = ip4_nato_tie([shock]), ip4_nato_tie([])
    assert np.sign(shocked[:, -1].mean() - plain[:, -1].mean()) == direction
