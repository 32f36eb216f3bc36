"""AllianceModel: replications of a scenario, quarter by quarter.

The order of events in a quarter (`step`): pressures and shocks of the quarter; counter-moves by
China and Russia to last quarter's levels; every member revises its commitment to each of its
groupings (all mechanisms, vectorized over states and groupings); each grouping's level follows its
members' commitments under the weakest-link rule; NATO ties adjust; every state drifts on the
US-China axis; the quarter is recorded.

A model usually holds one replication. Given a list of random streams it holds that many
replications and advances them in lockstep (every array gains a leading replication axis), which
amortizes numpy's per-call overhead. Each replication draws all its randomness from its own stream
before the first quarter, so its results do not depend on which batch it ran in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import mesa
import numpy as np

from blocsim.model import dynamics as dyn
from blocsim.model.agents import GroupingAgent, StateAgent
from blocsim.model.inputs import ModelInputs, compile_inputs
from blocsim.scenario.schema import Scenario
from blocsim.vocabulary import PRESSURE_NAMES

CHINA_PRESSURES = (PRESSURE_NAMES.index("china_assertiveness"),
                   PRESSURE_NAMES.index("china_coercion"))


@dataclass
class Trajectory:
    """What replications recorded, one row per quarter (leading axis: replication).

    Attributes:
        level: `(r, steps, g)` institutional level in [0, 4].
        commitment: `(r, steps, n, g)` commitment in [0, 1] (zero where a state is not involved).
        alignment: `(r, steps, n)` position on the US(+1)-China(-1) axis.
        nato_tie: `(r, steps, g)` NATO's tie to each grouping in [0, 1].
        weakest_binds: `(r, steps, g)` whether the weakest member capped the level that quarter.
        pressure: `(r, steps, k)` pressures as they acted (China's counter-moves included).
    """

    level: np.ndarray
    commitment: np.ndarray
    alignment: np.ndarray
    nato_tie: np.ndarray
    weakest_binds: np.ndarray
    pressure: np.ndarray

    def replication(self, index: int) -> Trajectory:
        """The trajectory of one replication of the batch (leading axis of length one)."""
        return Trajectory(*(getattr(self, f)[index:index + 1] for f in self.__dataclass_fields__))


class AllianceModel(mesa.Model):
    """Alliance formation among the states and groupings of one scenario.

    Args:
        scenario: a validated Scenario, or ModelInputs compiled from one (to share across runs).
        rng: the replication's random stream (a SeedSequence, Generator or integer seed), or a
            sequence of them to run that many replications in lockstep. Each replication's noise
            comes from a generator of its own stream (Mesa's `self.rng` is seeded from the first
            stream but never feeds the dynamics, since Mesa draws from it at start-up).
    """

    def __init__(self, scenario: Scenario | ModelInputs,
                 rng: object | Sequence[object] = None) -> None:
        streams = list(rng) if isinstance(rng, list | tuple) else [rng]
        super().__init__(rng=streams[0])
        self.inputs = scenario if isinstance(scenario, ModelInputs) else compile_inputs(scenario)
        self.spec = self.inputs.scenario
        self.replications = len(streams)
        generators = [np.random.default_rng(stream) for stream in streams]
        self._draw_randomness(generators)
        n, g = self.inputs.core.shape
        r, steps = self.replications, self.spec.scenario.steps
        self.quarter = 0
        self.level = np.tile(self.inputs.initial_level * self.inputs.active[0], (r, 1))
        self.nato_tie = np.zeros((r, g))
        self.utility_terms: dict[str, np.ndarray] = {}
        self._record_steps = dict(
            level=np.zeros((steps, r, g)), commitment=np.zeros((steps, r, n, g)),
            alignment=np.zeros((steps, r, n)), nato_tie=np.zeros((steps, r, g)),
            weakest_binds=np.zeros((steps, r, g), bool),
            pressure=np.zeros((steps, r, len(PRESSURE_NAMES))))
        self.states = [StateAgent(self, code, i) for i, code in enumerate(self.spec.states)]
        self.groupings = [GroupingAgent(self, name, j)
                          for j, name in enumerate(self.spec.groupings)]
        self._initialise_commitments()

    def _draw_randomness(self, generators: list[np.random.Generator]) -> None:
        """Draw every replication's noise up front from its own stream, in a fixed order."""
        n, g = self.inputs.core.shape
        steps, rules = self.spec.scenario.steps, self.spec.dynamics
        draws = [(gen.standard_normal((steps, n, g)), gen.standard_normal((steps, n)),
                  gen.standard_normal((steps, n))) for gen in generators]
        self._commitment_noise = rules.noise * np.stack([d[0] for d in draws], axis=1)
        self._alignment_noise = rules.noise * np.stack([d[1] for d in draws], axis=1)
        self._mood = dyn.political_mood(np.stack([d[2] for d in draws], axis=1),
                                        rules.political_persistence, rules.political_volatility)

    def _initialise_commitments(self) -> None:
        """Start every member at its best response to the opening quarter.

        Computed as if no partner were committed yet (commitments start at zero), with the
        opening quarter's domestic-political mood; the first quarters then adjust.
        """
        n, g = self.inputs.core.shape
        self.commitment = np.zeros((self.replications, n, g))
        self.alignment = np.zeros((self.replications, n))
        felt = self._felt_pressures(0, self._china_pressures(0))
        threat = self.threat(0, felt)
        target, _ = self._best_responses(0, felt, threat)
        self.commitment = target
        self.alignment = self._alignment_target(0, felt, threat)

    def core_at(self, t: int) -> np.ndarray:
        """`(n, g)` core members of the groupings that exist in quarter t."""
        return self.inputs.core & self.inputs.active[t]

    def involved_at(self, t: int) -> np.ndarray:
        """`(n, g)` core members and observers of the groupings that exist in quarter t."""
        return self.inputs.involved & self.inputs.active[t]

    def step(self) -> None:
        """Advance one quarter."""
        t = self.quarter
        inputs, rules = self.inputs, self.spec.dynamics
        born = inputs.active[t] & ~inputs.active[max(t - 1, 0)] if t else np.zeros_like(
            inputs.active[0])
        if born.any():
            self.level[:, born] = inputs.initial_level[born]
        china = self._china_pressures(t)
        felt = self._felt_pressures(t, china)
        threat = self.threat(t, felt)
        target, self.utility_terms = self._best_responses(t, felt, threat)
        if born.any():
            self.commitment[:, :, born] = target[:, :, born]
        self.commitment = dyn.revise_commitment(self.commitment, target, rules.adjustment,
                                                self._commitment_noise[t], self.involved_at(t))
        level_target, binds = dyn.level_target(self.commitment, self.core_at(t),
                                               rules.broad_support, rules.full_support)
        self.level = dyn.next_level(self.level, level_target, rules.level_rise,
                                    rules.level_fall) * inputs.active[t]
        self._update_nato_ties(t, felt)
        self._update_alignment(t, felt, threat)
        self._record(t, china, binds)
        self.quarter += 1
        if self.quarter >= self.spec.scenario.steps:
            self.running = False

    def run(self) -> Trajectory:
        """Run every quarter of the scenario and return the recorded trajectory."""
        while self.running:
            self.step()
        return self.trajectory

    @property
    def trajectory(self) -> Trajectory:
        """Everything recorded so far, replication-major."""
        return Trajectory(**{name: np.swapaxes(values, 0, 1)
                             for name, values in self._record_steps.items()})

    def _china_pressures(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """China's assertiveness and coercion as they act this quarter, one per replication."""
        exogenous = self.inputs.pressures.exogenous[t]
        assertiveness, coercion = (exogenous[i] for i in CHINA_PRESSURES)
        moves = self.inputs.mechanisms.counter_moves
        if not moves.enabled:
            flat = np.ones(self.replications)
            return assertiveness * flat, coercion * flat
        starting = float(dyn.bloc_formality(self.inputs.initial_level * self.inputs.active[0],
                                            self.inputs.us_led))
        return dyn.china_response(assertiveness, coercion, self.level, self.inputs.us_led,
                                  moves.china_response, starting)

    def _felt_pressures(self, t: int, china: tuple[np.ndarray, np.ndarray]
                        ) -> dict[str, np.ndarray]:
        """Each pressure as each state feels it this quarter, `(n,)` or `(r, n)`, in [0, 1]."""
        inputs = self.inputs
        felt = inputs.felt[t]
        by_name = {name: felt[:, k] for k, name in enumerate(PRESSURE_NAMES)}
        offset = inputs.pressures.felt_offset[t]
        for column, value in zip(CHINA_PRESSURES, china, strict=True):
            by_name[PRESSURE_NAMES[column]] = np.minimum(np.maximum(
                value[:, None] + offset[:, column], 0.0), 1.0)
        moves = inputs.mechanisms.counter_moves
        if moves.enabled:
            by_name["russia_courtship"] = dyn.russia_response(
                by_name["russia_courtship"], inputs.attributes["russia_defense_dependence"],
                self.level, self.involved_at(t), moves.russia_response, inputs.initial_level)
        return by_name

    def attribute(self, name: str, t: int) -> np.ndarray:
        """A state attribute this quarter, `(n,)`, shocks included, in [0, 1]."""
        path = self.inputs.attribute_path.get(name)
        return self.inputs.attributes[name] if path is None else path[t]

    def threat(self, t: int, felt: dict[str, np.ndarray]) -> np.ndarray:
        """Threat each state perceives in the Indo-Pacific, `(r, n)`: China and North Korea."""
        from_china = dyn.perceived_threat(self.attribute("threat_china", t),
                                          felt["china_assertiveness"])
        from_dprk = dyn.perceived_threat(self.attribute("threat_dprk", t),
                                         felt["dprk_provocation"])
        return 1.0 - (1.0 - from_china) * (1.0 - from_dprk)

    def grouping_threat(self, t: int, threat: np.ndarray) -> np.ndarray:
        """Threat each grouping answers for each state, `(r, n, g)`.

        Russia's threat counts only for NATO's partner groupings, whose point is to join the
        deterrence of Russia and of China (seed 004); elsewhere the Indo-Pacific threat alone.
        """
        with_russia = 1.0 - (1.0 - threat) * (1.0 - self.attribute("threat_russia", t))
        partner = self.inputs.nato_partner.astype(bool)
        return np.where(partner, with_russia[..., None], threat[..., None])

    def _best_responses(self, t: int, felt: dict[str, np.ndarray], threat: np.ndarray
                        ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Target commitment of every state to every grouping and the utility terms behind it."""
        inputs, mech = self.inputs, self.inputs.mechanisms
        terms: dict[str, np.ndarray] = {}
        if mech.balance_of_threat.enabled:
            reliability = np.ones(len(inputs.asean))
            reliability[inputs.us] = felt["us_reliability"][inputs.us]
            strength = dyn.partner_strength(inputs.attributes["capability"], reliability,
                                            self.commitment, self.core_at(t),
                                            self.involved_at(t))
            strength = strength + self.nato_tie[:, None, :] * inputs.nato_capability
            china_capability = inputs.attributes["capability"][inputs.china]
            terms["balance_of_threat"] = mech.balance_of_threat.weight * dyn.security_value(
                self.grouping_threat(t, threat), strength, china_capability, self.level,
                mech.balance_of_threat.level_credibility)
        if mech.autonomy_cost.enabled:
            terms["autonomy_cost"] = -mech.autonomy_cost.weight * dyn.autonomy_cost(
                self.attribute("autonomy", t), inputs.attributes["domestic_constraint"],
                self.level, mech.autonomy_cost.convexity)
        if mech.economic_exposure.enabled:
            terms["economic_exposure"] = -mech.economic_exposure.weight * dyn.economic_exposure(
                self.attribute("china_trade_dependence", t), felt["china_coercion"], self.level)
        if mech.russia_pull.enabled:
            terms["russia_pull"] = -mech.russia_pull.weight * dyn.russia_pull(
                inputs.attributes["russia_defense_dependence"], felt["russia_courtship"],
                self.level)
        if mech.entrapment_abandonment.enabled:
            fears = mech.entrapment_abandonment
            entrapment = dyn.entrapment_fear(threat, felt["taiwan_tension"], self.level)
            abandonment = dyn.abandonment_fear(threat, self.attribute("us_alliance", t),
                                               felt["us_reliability"])
            terms["entrapment_abandonment"] = fears.weight * (
                fears.abandonment * abandonment[..., None] - fears.entrapment * entrapment)
        if mech.peer_influence.enabled:
            terms["peer_influence"] = mech.peer_influence.weight * dyn.peer_pull(
                self.commitment, inputs.affinity, self.involved_at(t))
        if mech.hedging.enabled:
            deficit = dyn.legitimacy_deficit(self.alignment, inputs.attributes["hedging"],
                                             inputs.asean, self._asean_centrality(felt))
            terms["hedging"] = -mech.hedging.weight * dyn.legitimacy_cost(
                deficit, inputs.attributes["hedging"], self.level)
        terms["domestic_politics"] = self._mood[t][..., None]
        terms["organizer"] = dyn.organizer_propensity(felt["us_engagement"], inputs.us,
                                                      inputs.core.shape)
        utility = self.spec.dynamics.baseline_propensity + sum(terms.values())
        return dyn.best_response(utility) * self.involved_at(t), terms

    def _asean_centrality(self, felt: dict[str, np.ndarray]) -> float:
        """ASEAN centrality as the ASEAN members feel it (everyone's mean if there are none)."""
        asean = self.inputs.asean
        values = felt["asean_centrality"]
        return float(values[asean].mean() if asean.any() else values.mean())

    def _update_nato_ties(self, t: int, felt: dict[str, np.ndarray]) -> None:
        """NATO's ties to its partner groupings move toward what NATO can offer this quarter.

        Outreach is as each grouping's core members feel it, Europe's bandwidth as the European
        states feel it (shocks included); both are the schedule when nobody is shocked.
        """
        inputs, moves = self.inputs, self.inputs.mechanisms.counter_moves
        core = self.core_at(t)
        mean_commitment = dyn.mean_core_commitment(self.commitment, core)
        outreach = (felt["nato_outreach"] @ core) / np.maximum(core.sum(axis=0), 1)
        europe = inputs.europe
        bandwidth = (float(felt["europe_bandwidth"][europe].mean()) if europe.any()
                     else float(felt["europe_bandwidth"].mean()))
        target = dyn.nato_tie_target(outreach, bandwidth, moves.nato_veto_risk,
                                     mean_commitment, inputs.nato_partner, capped=moves.enabled)
        self.nato_tie = self.nato_tie + self.spec.dynamics.nato_tie_rate * (target - self.nato_tie)

    def _alignment_target(self, t: int, felt: dict[str, np.ndarray],
                          threat: np.ndarray) -> np.ndarray:
        inputs = self.inputs
        involved_now = self.involved_at(t)
        involved = involved_now.sum(axis=1)
        belonging = dyn.ordered_sum(self.commitment * involved_now) / np.maximum(involved, 1)
        toward_us = np.clip(inputs.affinity[:, inputs.us], 0.0, 1.0)
        toward_china = np.clip(inputs.affinity[:, inputs.china], 0.0, 1.0)
        us_pull = (self.attribute("us_alliance", t) * felt["us_reliability"]
                   + 0.5 * threat + 0.5 * belonging + 0.5 * toward_us)
        china_pull = (self.attribute("china_trade_dependence", t) * (0.5 + felt["china_coercion"])
                      + 0.5 * inputs.attributes["russia_defense_dependence"]
                      * felt["russia_courtship"] + 0.5 * toward_china)
        hedging = inputs.mechanisms.hedging
        strength = (0.5 + 0.5 * felt["asean_centrality"]) if hedging.enabled else 0.0
        target = dyn.alignment_target(us_pull, china_pull, inputs.attributes["hedging"], strength)
        target[..., inputs.us], target[..., inputs.china] = 1.0, -1.0
        return target

    def _update_alignment(self, t: int, felt: dict[str, np.ndarray],
                          threat: np.ndarray) -> None:
        target = self._alignment_target(t, felt, threat)
        drift = self.inputs.mechanisms.hedging.drift_rate
        moved = self.alignment + drift * (target - self.alignment) + self._alignment_noise[t]
        self.alignment = np.minimum(np.maximum(moved, -1.0), 1.0)
        self.alignment[..., self.inputs.us], self.alignment[..., self.inputs.china] = 1.0, -1.0

    def _record(self, t: int, china: tuple[np.ndarray, np.ndarray], binds: np.ndarray) -> None:
        record = self._record_steps
        record["level"][t] = self.level
        record["commitment"][t] = self.commitment
        record["alignment"][t] = self.alignment
        record["nato_tie"][t] = self.nato_tie
        record["weakest_binds"][t] = binds
        record["pressure"][t] = self.inputs.pressures.exogenous[t]
        for column, value in zip(CHINA_PRESSURES, china, strict=True):
            record["pressure"][t][:, column] = value
