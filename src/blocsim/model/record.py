"""What a batch of replications records: the quarterly trajectory and the run's events."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass
class Trajectory:
    """What replications recorded, one row per quarter (leading axis: replication).

    Attributes:
        level: `(r, steps, g)` institutional level in [0, 4].
        commitment: `(r, steps, n, g)` commitment in [0, 1] (zero where a state is not involved
            or has exited).
        alignment: `(r, steps, n)` position on the US(+1)-China(-1) axis.
        nato_tie: `(r, steps, g)` NATO's tie to each grouping in [0, 1].
        weakest_binds: `(r, steps, g)` whether the weakest member capped the level that quarter.
        suspended: `(r, steps, g)` whether a core member had left the grouping that quarter.
        pressure: `(r, steps, k)` pressures as they acted: the schedule plus the largest shift
            counter-moves gave any state.
        member_exited_at: `(r, n, g)` quarter each core member first left each grouping, -1.
        relaunched_at: `(r, g)` first quarter the grouping was relaunched after an exit, -1.
        terms_binding: term -> `(r, n, g)` sum of each utility term over the quarters in which
            the weakest link bound the grouping; terms_all: over every quarter it existed.
        quarters_binding, quarters_all: `(r, g)` the number of those quarters.

    """

    level: np.ndarray
    commitment: np.ndarray
    alignment: np.ndarray
    nato_tie: np.ndarray
    weakest_binds: np.ndarray
    suspended: np.ndarray
    pressure: np.ndarray
    member_exited_at: np.ndarray
    relaunched_at: np.ndarray
    terms_binding: dict[str, np.ndarray]
    terms_all: dict[str, np.ndarray]
    quarters_binding: np.ndarray
    quarters_all: np.ndarray

    @property
    def replications(self) -> int:
        """How many replications the trajectory holds."""
        return self.level.shape[0]

    @property
    def exited_at(self) -> np.ndarray:
        """`(r, g)` quarter of the first exit from each grouping, -1 if none."""
        left = np.where(self.member_exited_at >= 0, self.member_exited_at, np.iinfo(int).max)
        first = left.min(axis=-2)
        return np.where(first == np.iinfo(int).max, -1, first)

    @property
    def exiter(self) -> np.ndarray:
        """`(r, g)` index of the state that left first (the lowest index on a tie), -1 if none."""
        left = np.where(self.member_exited_at >= 0, self.member_exited_at, np.iinfo(int).max)
        return np.where(self.exited_at >= 0, left.argmin(axis=-2), -1)

    def replication(self, index: int) -> Trajectory:
        """The trajectory of one replication of the batch (leading axis of length one)."""
        cut = slice(index, index + 1)
        values = {}
        for field in fields(self):
            value = getattr(self, field.name)
            values[field.name] = ({k: v[cut] for k, v in value.items()}
                                  if isinstance(value, dict) else value[cut])
        return Trajectory(**values)


class Recorder:
    """Collects a batch's quarters into step-major arrays, and its events as they happen."""

    def __init__(self, replications: int, steps: int, states: int, groupings: int,
                 pressures: int) -> None:
        r, n, g = replications, states, groupings
        self.steps = dict(
            level=np.zeros((steps, r, g)), commitment=np.zeros((steps, r, n, g)),
            alignment=np.zeros((steps, r, n)), nato_tie=np.zeros((steps, r, g)),
            weakest_binds=np.zeros((steps, r, g), bool), suspended=np.zeros((steps, r, g), bool),
            pressure=np.zeros((steps, r, pressures)))
        self.member_exited_at = np.full((r, n, g), -1)
        self.relaunched_at = np.full((r, g), -1)
        self._term_names: list[str] | None = None
        self._binding_sums = np.zeros(0)
        self._all_sums = np.zeros(0)
        self.quarters_binding = np.zeros((r, g))
        self.quarters_all = np.zeros((r, g))

    def quarter(self, t: int, **values: np.ndarray) -> None:
        """Record quarter t's arrays (level, commitment, alignment, ...)."""
        for name, value in values.items():
            self.steps[name][t] = value

    def exits(self, t: int, leaving: np.ndarray) -> None:
        """Note each member's first exit: `leaving` `(r, n, g)` members leaving now."""
        first = (self.member_exited_at < 0) & leaving
        self.member_exited_at = np.where(first, t, self.member_exited_at)

    def relaunches(self, t: int, relaunched: np.ndarray) -> None:
        """Note the first relaunch of each grouping, `relaunched` `(r, g)`."""
        self.relaunched_at = np.where((self.relaunched_at < 0) & relaunched, t,
                                      self.relaunched_at)

    def terms(self, terms: dict[str, np.ndarray], binds: np.ndarray, active: np.ndarray) -> None:
        """Add the quarter's utility terms, over binding quarters and over all active quarters."""
        binding = binds[:, None, :].astype(float)
        existing = active[:, None, :].astype(float)
        names = list(terms)
        if self._term_names is None:
            self._term_names = names
            size = (len(names), *self.relaunched_at.shape[:1], *self.member_exited_at.shape[1:])
            self._binding_sums, self._all_sums = np.zeros(size), np.zeros(size)
        stacked = np.empty(self._binding_sums.shape)
        for k, name in enumerate(self._term_names):
            stacked[k] = terms[name]
        self._binding_sums += stacked * binding
        self._all_sums += stacked * existing
        self.quarters_binding += binds
        self.quarters_all += active

    def trajectory(self) -> Trajectory:
        """Everything recorded, replication-major."""
        arrays = {name: np.swapaxes(values, 0, 1) for name, values in self.steps.items()}
        names = self._term_names or []
        return Trajectory(**arrays, member_exited_at=self.member_exited_at,
                          relaunched_at=self.relaunched_at,
                          terms_binding={n: self._binding_sums[k] for k, n in enumerate(names)},
                          terms_all={n: self._all_sums[k] for k, n in enumerate(names)},
                          quarters_binding=self.quarters_binding,
                          quarters_all=self.quarters_all)
