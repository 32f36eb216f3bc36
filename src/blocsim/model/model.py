"""AllianceModel: replications of a scenario, quarter by quarter.

The order of events in a quarter (`step`): groupings that form this quarter appear; the pressures
of the quarter are felt, and the counter-moves (China's, Russia's) answer last quarter's levels;
each state perceives the threats each grouping answers; every member weighs each of its groupings
(the mechanisms' utility terms, its domestic-political mood); members whose utility has stayed
below the exit threshold leave, exited members whose utility turned positive come back and the
organizer relaunches their grouping; every member revises its commitment toward its best
response; each grouping's level follows its members' commitments under the weakest-link rule
(a grouping missing a member decays toward dormant); NATO's ties adjust; every state drifts on
the US-China axis; the quarter is recorded.

A model advances a batch of replications in lockstep (every array has a leading replication
axis), which amortizes numpy's per-call overhead. The replications of a batch may come from
different design points (each carries its own parameters, see `BatchInputs`). Each replication
draws all its randomness from its own stream before the first quarter, so its results do not
depend on which batch it ran in or with whom.
"""

from __future__ import annotations

from collections.abc import Sequence

import mesa
import numpy as np

from blocsim.mechanisms import MECHANISMS, REGISTRY, Mechanism, Membership, Params, Quarter
from blocsim.mechanisms.base import ordered_sum, per_pair, per_state
from blocsim.model import dynamics as dyn
from blocsim.model.agents import GroupingAgent, StateAgent
from blocsim.model.inputs import BatchInputs, compile_batch
from blocsim.model.record import Recorder, Trajectory
from blocsim.scenario.schema import Scenario
from blocsim.vocabulary import ADVERSARIES, ADVERSARY_PRESSURE, ADVERSARY_THREAT, PRESSURE_NAMES

__all__ = ["AllianceModel", "Trajectory"]

OPENING_ROUNDS = 5
"""Rounds of best responses before the first quarter (opening positions settle; a modelling
choice, not a parameter: the first quarters' inertia then takes over)."""

MOOD_TERM = "domestic_politics"
BASELINE_TERM = "baseline_propensity"
"""The recorded term for the dynamics' baseline propensity: in every member's utility, beside the
mechanisms' terms, so that a blocker's terms add up to what held it back (the calibrated
posterior puts it at -1.64 on average, often the largest term of all)."""
"""The utility term of each state's domestic-political mood (not a mechanism: a noise process)."""


HOOKS = ("adjust_pressures", "utility", "nato_offer", "alignment_damping", "participation")


def _blend(new: np.ndarray, old: np.ndarray, enabled: np.ndarray | None) -> np.ndarray:
    """`new` where the mechanism is on for a replication, `old` where it is off (None: all on)."""
    if enabled is None:
        return new
    mask = enabled.astype(bool).reshape((-1,) + (1,) * (np.ndim(new) - 1))
    return np.where(mask, new, old)


def _overrides(mechanism: Mechanism, hook: str) -> bool:
    """Whether a mechanism implements a hook (rather than inheriting the base's no-op)."""
    return getattr(type(mechanism), hook) is not getattr(Mechanism, hook)


class AllianceModel(mesa.Model):
    """Alliance formation among the states and groupings of one scenario.

    Args:
        scenario: a validated Scenario (every replication at its values), or BatchInputs (one
            design point per replication, compiled by the experiment layer).
        rng: the replications' random streams (SeedSequence, Generator or integer seed each); a
            single stream runs one replication. Each replication's noise comes from a generator
            of its own stream (Mesa's `self.rng` is seeded from the first stream but never feeds
            the dynamics, since Mesa draws from it at start-up).
    """

    def __init__(self, scenario: Scenario | BatchInputs,
                 rng: object | Sequence[object] = None) -> None:
        streams = list(rng) if isinstance(rng, list | tuple) else [rng]
        super().__init__(rng=streams[0])
        if isinstance(scenario, Scenario):
            scenario = compile_batch(scenario, len(streams))
        if scenario.replications != len(streams):
            raise ValueError(f"{scenario.replications} replications but {len(streams)} streams")
        self.inputs = scenario
        self.structure = scenario.structure
        self.replications = len(streams)
        self.params: dict[str, Params] = {name: scenario.mechanism(name) for name in MECHANISMS}
        self._hooks = self._active_hooks()
        s = self.structure
        n, g = s.core.shape
        r = self.replications
        self._draw_randomness([np.random.default_rng(stream) for stream in streams])
        self.quarter = 0
        self.level = np.broadcast_to(scenario.initial_level * scenario.active_at(0),
                                     (r, g)).copy()
        self.nato_tie = np.zeros((r, g))
        self.membership = Membership.everyone_in((r, n, g))
        self.utility_terms: dict[str, np.ndarray] = {}
        self.record = Recorder(r, s.steps, n, g, len(PRESSURE_NAMES))
        self._attributes = {name: scenario.attribute_series(name) for name in scenario.attributes}
        felt = scenario.felt_series()
        self._felt = np.broadcast_to(felt, (r, *felt.shape[1:]))
        self._affinity = scenario.affinity_series()
        self._capability_moves = self._attributes["capability"].shape[1] > 1
        self._capabilities = self._capability_sums(self._attributes["capability"][:, 0])
        self._starting_level = scenario.initial_level * (scenario.formed == 0)
        self.states = [StateAgent(self, code, i) for i, code in enumerate(s.state_codes)]
        self.groupings = [GroupingAgent(self, name, j)
                          for j, name in enumerate(s.grouping_names)]
        self._initialise_commitments()

    def _active_hooks(self) -> dict[str, list[tuple[Mechanism, Params, np.ndarray | None]]]:
        """Per hook, the mechanisms that implement it and are on in some replication.

        Each comes with its parameters and its on/off mask (None when on in every replication).
        """
        hooks: dict[str, list[tuple[Mechanism, Params, np.ndarray | None]]] = {
            hook: [] for hook in HOOKS}
        for mechanism in REGISTRY:
            params = self.params[mechanism.name]
            if not params.enabled.any():
                continue
            mask = None if params.enabled.all() else params.enabled
            for hook in HOOKS:
                if _overrides(mechanism, hook):
                    hooks[hook].append((mechanism, params, mask))
        return hooks

    def _capability_sums(self, capability: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Adversaries' combined capability per grouping `(r|1, g)`, and NATO's `(r|1,)`.

        NATO's is the sum over the European states; `capability` is `(r|1, n)`.
        """
        s = self.structure
        present = s.adversary >= 0
        adversaries = np.where(present, capability[..., np.maximum(s.adversary, 0)], 0.0)
        nato = (ordered_sum(capability[..., s.europe]) if s.europe.any()
                else np.zeros(capability.shape[0]))
        return adversaries @ s.answers.T, nato

    def _draw_randomness(self, generators: list[np.random.Generator]) -> None:
        """Draw every replication's noise up front from its own stream, in a fixed order."""
        n, g = self.structure.core.shape
        steps, inputs = self.structure.steps, self.inputs
        draws = [(gen.standard_normal((steps, n, g)), gen.standard_normal((steps, n)),
                  gen.standard_normal((steps, n))) for gen in generators]
        noise = inputs.rule("dynamics", "noise")
        self._commitment_noise = per_pair(noise) * np.stack([d[0] for d in draws], axis=1)
        self._alignment_noise = per_state(noise) * np.stack([d[1] for d in draws], axis=1)
        self._mood = dyn.political_mood(np.stack([d[2] for d in draws], axis=1),
                                        inputs.rule("dynamics", "political_persistence"),
                                        inputs.rule("dynamics", "political_volatility"))

    def _initialise_commitments(self) -> None:
        """Start every member near mutual best responses to the opening quarter.

        The opening level of a grouping says how committed its members are: each core member
        starts at the commitment that sustains it (`level / 4 * full_support`), then everyone
        takes OPENING_ROUNDS best responses to the others, with the opening quarter's
        domestic-political mood. A treaty at level 4 thus opens with committed partners, not
        with each member alone and ready to leave.
        """
        n, g = self.structure.core.shape
        r = self.replications
        self.alignment = np.zeros((r, n))
        supported = np.clip(self.level / 4.0 * per_state(self._rules("full_support")), 0.0, 1.0)
        self.commitment = np.broadcast_to(supported[:, None, :] * self.structure.core,
                                          (r, n, g)).copy()
        for _ in range(OPENING_ROUNDS):
            quarter = self.quarter_state(0)
            utility, _ = self.utility(quarter, 0)
            self.commitment = dyn.best_response(utility) * quarter.involved
        quarter.commitment = self.commitment
        self.alignment = self._alignment_target(quarter)

    def step(self) -> None:
        """Advance one quarter."""
        t = self.quarter
        inputs, rules = self.inputs, self._rules
        active = np.broadcast_to(inputs.active_at(t), self.level.shape)
        born = active & ~inputs.active_at(t - 1) if t else np.zeros_like(active)
        if born.any():
            self.level = np.where(born, inputs.initial_level, self.level)
        quarter = self.quarter_state(t)
        utility, self.utility_terms = self.utility(quarter, t)
        target = dyn.best_response(utility) * quarter.involved
        if born.any():
            self.commitment = np.where(born[:, None, :], target, self.commitment)
        suspended_before = self.membership.exited.any(axis=-2)
        self._update_membership(quarter, utility - per_pair(rules("baseline_propensity")), t)
        suspended = self.membership.exited.any(axis=-2)
        relaunched = suspended_before & ~suspended
        if relaunched.any():
            relaunch = per_state(self.params["participation"].relaunch_level)
            self.level = np.where(relaunched, np.maximum(self.level, relaunch), self.level)
            self.record.relaunches(t, relaunched)
        core = quarter.members * ~self.membership.exited
        involved = np.maximum(core, quarter.observer)
        self.commitment = dyn.revise_commitment(self.commitment, target, rules("adjustment"),
                                                self._commitment_noise[t], involved)
        level_target, binds = dyn.level_target(self.commitment, core, rules("broad_support"),
                                               rules("full_support"),
                                               rules("weakest_link_floor"))
        level_target = np.where(suspended, 0.0, level_target)
        binds = binds & ~suspended & active
        self.level = dyn.next_level(self.level, level_target, rules("level_rise"),
                                    rules("level_fall")) * active
        quarter.commitment, quarter.core, quarter.involved = self.commitment, core, involved
        self._update_nato_ties(quarter)
        self._update_alignment(quarter, t)
        baseline = per_pair(rules("baseline_propensity")) * quarter.involved
        self.record.terms({**self.utility_terms, BASELINE_TERM: baseline}, binds, active)
        self.record.quarter(t, level=self.level, commitment=self.commitment,
                            alignment=self.alignment, nato_tie=self.nato_tie,
                            weakest_binds=binds, suspended=suspended & active,
                            pressure=self._acting_pressures)
        self.quarter += 1
        if self.quarter >= self.structure.steps:
            self.running = False

    def run(self) -> Trajectory:
        """Run every quarter of the scenario and return the recorded trajectory."""
        while self.running:
            self.step()
        return self.trajectory

    @property
    def trajectory(self) -> Trajectory:
        """Everything recorded so far, replication-major."""
        return self.record.trajectory()

    def _rules(self, name: str) -> np.ndarray:
        """A `[dynamics]` parameter, `(r,)`."""
        return self.inputs.rule("dynamics", name)

    def quarter_state(self, t: int) -> Quarter:
        """The arrays every mechanism may read this quarter, counter-moves applied."""
        s, inputs = self.structure, self.inputs
        active = inputs.active_at(t).astype(float)
        members = s.core[None] * active[:, None, :]
        core = members * ~self.membership.exited
        observer = s.observer[None] * active[:, None, :]
        felt_now = self._felt[:, t]
        felt = {name: felt_now[..., k] for k, name in enumerate(PRESSURE_NAMES)}
        attributes = {name: series[:, min(t, series.shape[1] - 1)]
                      for name, series in self._attributes.items()}
        if self._capability_moves:
            self._capabilities = self._capability_sums(attributes["capability"])
        adversary_capability, nato_capability = self._capabilities
        affinity = self._affinity[:, min(t, self._affinity.shape[1] - 1)]
        quarter = Quarter(
            level=self.level, commitment=self.commitment, alignment=self.alignment,
            nato_tie=self.nato_tie, members=members, core=core, observer=observer,
            involved=np.maximum(core, observer), hub=s.hub, china=s.china, hub_led=s.hub_led,
            nato_partner=s.nato_partner, capability=attributes["capability"],
            attributes=attributes, felt=felt, threat={}, grouping_threat=np.zeros(0),
            adversary_capability=adversary_capability, affinity=affinity,
            nato_capability=nato_capability, asean=s.asean, europe=s.europe,
            starting_level=self._starting_level)
        shift = np.zeros((self.replications, len(PRESSURE_NAMES)))
        for mechanism, params, mask in self._hooks["adjust_pressures"]:
            for name, value in mechanism.adjust_pressures(quarter, params).items():
                moved = _blend(value, quarter.felt[name], mask)
                k = PRESSURE_NAMES.index(name)
                shift[:, k] = shift[:, k] + (moved - quarter.felt[name]).max(axis=-1)
                quarter.felt[name] = moved
        self._acting_pressures = inputs.exogenous[:, t] + shift
        quarter.threat = {
            adversary: (quarter.attributes[ADVERSARY_THREAT[adversary]]
                        if ADVERSARY_PRESSURE[adversary] is None else dyn.perceived_threat(
                            quarter.attributes[ADVERSARY_THREAT[adversary]],
                            quarter.felt[ADVERSARY_PRESSURE[adversary]]))
            for adversary in ADVERSARIES}
        threats = np.empty((*self.alignment.shape, len(ADVERSARIES)))
        for k, adversary in enumerate(ADVERSARIES):
            threats[..., k] = quarter.threat[adversary]
        quarter.grouping_threat = dyn.answered_threat(threats, s.answers)
        return quarter

    def utility(self, quarter: Quarter, t: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Each state's utility of each grouping `(r, n, g)` and the terms that make it up."""
        terms: dict[str, np.ndarray] = {}
        stake = per_pair(self._rules("observer_stake"))
        observed = bool(quarter.observer.any())
        for mechanism, params, mask in self._hooks["utility"]:
            term = mechanism.utility(quarter, params)
            if term is None:
                continue
            if mechanism.binding and observed:
                term = np.where(quarter.observer > 0, stake * term, term)
            if mask is not None:
                term = term * per_pair(mask)
            terms[mechanism.name] = term
        terms[MOOD_TERM] = self._mood[t][..., None] * quarter.involved
        utility = per_pair(self._rules("baseline_propensity")) + sum(terms.values())
        return utility, terms

    def _update_membership(self, quarter: Quarter, utility: np.ndarray, t: int) -> None:
        """Exits and returns this quarter (the participation mechanism).

        `utility` is each member's participation utility: the sum of the mechanisms' terms and
        its mood, without the baseline propensity that sets how much it invests: the net value
        of belonging at the grouping's level, against 0 for staying out.
        """
        before = self.membership
        after = before
        for mechanism, params, mask in self._hooks["participation"]:
            moved = mechanism.participation(quarter, params, utility, after)
            after = moved if mask is None else moved.where(mask, after)
        leaving = after.exited & ~before.exited
        if leaving.any():
            self.record.exits(t, leaving)
        self.membership = after

    def _update_nato_ties(self, quarter: Quarter) -> None:
        """NATO's ties to its partner groupings move toward what NATO can offer this quarter.

        Outreach is as each grouping's core members feel it; the mechanisms may cap it (Europe's
        bandwidth and a veto risk); the offer is outreach times the members' mean commitment.
        """
        core = quarter.core
        count = np.maximum(core.sum(axis=-2), 1.0)
        outreach = ordered_sum(quarter.felt["nato_outreach"][..., :, None] * core,
                               axis=-2) / count
        for mechanism, params, mask in self._hooks["nato_offer"]:
            outreach = _blend(mechanism.nato_offer(quarter, params, outreach), outreach, mask)
        target = (outreach * dyn.mean_core_commitment(self.commitment, core)
                  * self.structure.nato_partner)
        rate = per_state(self._rules("nato_tie_rate"))
        self.nato_tie = self.nato_tie + rate * (target - self.nato_tie)

    def _alignment_target(self, quarter: Quarter) -> np.ndarray:
        """Where each state would settle on the US-China axis this quarter, `(r, n)`."""
        s = self.structure
        rule = self.inputs.rule
        involved = quarter.involved
        belonging = ordered_sum(self.commitment * involved) / np.maximum(
            ordered_sum(involved), 1.0)
        affinity = quarter.affinity
        toward_us = np.clip(affinity[..., :, s.hub], 0.0, 1.0)
        toward_china = np.clip(affinity[..., :, s.china], 0.0, 1.0)
        attributes, felt = quarter.attributes, quarter.felt
        regional_threat = 1.0 - (1.0 - quarter.threat["china"]) * (
            1.0 - quarter.threat["north_korea"])

        def weight(name: str) -> np.ndarray:
            return per_state(rule("alignment", name))

        us_pull = (weight("treaty_pull") * attributes["us_alliance"] * felt["us_reliability"]
                   + weight("threat_pull") * regional_threat
                   + weight("belonging_pull") * belonging + weight("affinity_pull") * toward_us)
        china_pull = (weight("trade_pull") * attributes["china_trade_dependence"]
                      * (weight("coercion_floor") + felt["china_coercion"])
                      + weight("arms_pull") * attributes["russia_defense_dependence"]
                      * felt["russia_courtship"] + weight("affinity_pull") * toward_china)
        damping = np.zeros_like(us_pull)
        for mechanism, params, mask in self._hooks["alignment_damping"]:
            pulled = mechanism.alignment_damping(quarter, params)
            if pulled is not None:
                damping = _blend(pulled, damping, mask)
        target = dyn.alignment_target(us_pull, china_pull, rule("alignment", "steepness"),
                                      damping)
        target[..., s.hub], target[..., s.china] = 1.0, -1.0
        return target

    def _update_alignment(self, quarter: Quarter, t: int) -> None:
        target = self._alignment_target(quarter)
        drift = per_state(self.inputs.rule("alignment", "drift_rate"))
        moved = self.alignment + drift * (target - self.alignment) + self._alignment_noise[t]
        self.alignment = np.minimum(np.maximum(moved, -1.0), 1.0)
        s = self.structure
        self.alignment[..., s.hub], self.alignment[..., s.china] = 1.0, -1.0
