"""Each run reports the region's two-camp structure by landscape theory."""

from __future__ import annotations

import numpy as np
import pytest

import blocsim
from blocsim.landscape.energy import is_local_minimum, spins, weight_matrix
from blocsim.model.camps import camp_structure, propensity_of_the_moment
from tests.conftest import BASELINE


def test_two_friendly_blocs_at_odds_split_into_the_expected_camps():
    affinity = np.array([[0, .8, -.6, -.6], [.8, 0, -.6, -.6], [-.6, -.6, 0, .8],
                         [-.6, -.6, .8, 0]])
    camps = camp_structure(np.ones(4), affinity, np.array([0.9, 0.2, -0.1, -0.9]), us=0)
    assert camps.tolist() == [True, True, False, False]


def test_a_state_leaning_the_wrong_way_is_pulled_into_its_friends_camp():
    affinity = np.array([[0, .9, -.5], [.9, 0, -.5], [-.5, -.5, 0]])
    camps = camp_structure(np.array([1.0, 0.5, 1.0]), affinity, np.array([1.0, -0.1, -1.0]), 0)
    assert camps.tolist() == [True, True, False]


def test_reported_camps_are_a_local_minimum_of_the_landscape():
    rng = np.random.default_rng(3)
    raw = rng.uniform(-1, 1, (9, 9))
    affinity = (raw + raw.T) / 2
    alignment = rng.uniform(-1, 1, 9)
    capability = rng.uniform(0.1, 1, 9)
    camps = camp_structure(capability, affinity, alignment, us=0)
    weights = weight_matrix(capability, propensity_of_the_moment(affinity, alignment))
    assert is_local_minimum(weights, spins(camps.astype(int)))


def test_runs_report_camps_with_the_us_and_china_apart():
    camps = blocsim.run(blocsim.load(BASELINE), replications=8, seed=2, workers=1).camps
    assert len(camps) == 8 * 23
    by_state = camps.groupby("state", observed=True).with_us.mean()
    assert by_state["USA"] == 1.0 and by_state["CHN"] == 0.0 and by_state["JPN"] == 1.0


@pytest.mark.slow
def test_run_dashboard_shows_each_states_share_of_runs_in_the_us_camp(tmp_path):
    from blocsim.dashboards.read import read_run
    from blocsim.dashboards.run_page import run_sections

    results = blocsim.run(blocsim.load(BASELINE), replications=8, seed=2, workers=1)
    data = read_run(results.save(tmp_path / "run", dashboard=False))
    figure = next(s.figure for s in run_sections(data)[0] if s.anchor == "camps")
    shares = results.camps.groupby("state", observed=True).with_us.mean()
    names = {data.facts.state_label(code): code for code in shares.index}
    bar = figure.data[0]
    assert bar.name == "US camp"
    assert np.allclose(bar.x, [shares[names[label.removesuffix(" ◆")]] for label in bar.y])
