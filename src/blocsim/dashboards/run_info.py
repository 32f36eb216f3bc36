"""What the dashboard needs to know about a run besides its tables, read from its manifest."""

from __future__ import annotations

from dataclasses import dataclass

from blocsim.calendar import quarter_label, step_of
from blocsim.errors import ResultsError
from blocsim.model.pressures import shock_profile
from blocsim.scenario.schema import Dynamics, Shock


@dataclass(frozen=True)
class GroupingInfo:
    """A grouping as the scenario defines it.

    Attributes:
        key: the scenario's key, e.g. `QUAD` (the `grouping` column of the tables).
        name: the long name, e.g. `Quadrilateral Security Dialogue`.
        members: ISO3 codes of the core members, in the scenario's order.
        observers: ISO3 codes of the observers.

    """

    key: str
    name: str
    members: tuple[str, ...]
    observers: tuple[str, ...]

    @property
    def label(self) -> str:
        """A short label for axes: the key with underscores as dashes (`US-JPN-ROK`)."""
        return self.key.replace("_", "–")


@dataclass(frozen=True)
class ShockInfo:
    """A scenario shock, placed on the run's calendar.

    Attributes:
        name: the shock's name.
        step: the quarter (steps since the start) at which it hits.
        quarter: that quarter's label, e.g. `2027Q3`.
        magnitude: the value it adds at `step` (fading linearly over `decay_quarters`).
        decay_quarters: quarters over which it fades to nothing.
        target: the pressure or state attribute it moves.
        is_pressure: True if `target` is a pressure, False if a state attribute.
        targets: `all` or the comma-joined ISO3 codes of the states that feel it.
        profile: the value it adds in each quarter of the run (the model's own profile).

    """

    name: str
    step: int
    quarter: str
    magnitude: float
    decay_quarters: int
    target: str
    is_pressure: bool
    targets: str
    profile: tuple[float, ...]


@dataclass(frozen=True)
class RunInfo:
    """The scenario facts a run dashboard shows or uses to label its figures.

    Attributes:
        name: the scenario's name.
        description: the scenario's description.
        file: the scenario file the run was made from.
        scenario_hash: the resolved scenario's SHA-256.
        seed: the run's seed.
        replications: the number of replications.
        created: when the run was made (ISO 8601).
        version: the blocsim version that made it.
        start: the first quarter, e.g. `2025Q1`.
        steps: the number of quarters simulated.
        state_names: ISO3 code to the state's name.
        asean: ISO3 codes of the ASEAN members.
        groupings: the groupings in the scenario's order.
        shocks: the scenario's shocks in the order they are listed.
        consolidation_level: the level a grouping must hold to consolidate (`[dynamics]`).
        consolidation_commitment: the commitment every core member must hold meanwhile.
        consolidation_quarters: for how many consecutive quarters both must hold.

    """

    name: str
    description: str
    file: str
    scenario_hash: str
    seed: int
    replications: int
    created: str
    version: str
    start: str
    steps: int
    state_names: dict[str, str]
    asean: frozenset[str]
    groupings: tuple[GroupingInfo, ...]
    shocks: tuple[ShockInfo, ...]
    consolidation_level: float
    consolidation_commitment: float
    consolidation_quarters: int

    @property
    def end(self) -> str:
        """The label of the last quarter simulated."""
        return quarter_label(self.start, self.steps - 1)

    @property
    def quarters(self) -> list[str]:
        """Labels of every quarter of the run, in order."""
        return [quarter_label(self.start, s) for s in range(self.steps)]

    def shock_quarters(self) -> list[tuple[int, str]]:
        """(step, quarter label) of each distinct quarter in which a shock hits."""
        return sorted({(s.step, s.quarter) for s in self.shocks})

    def state_label(self, code: str) -> str:
        """The state's name, or its code if the scenario does not name it."""
        return self.state_names.get(code, code)

    def grouping(self, key: str) -> GroupingInfo:
        """The grouping with this key."""
        return next(g for g in self.groupings if g.key == key)


def run_info(manifest: dict) -> RunInfo:
    """Read a run manifest into RunInfo.

    Args:
        manifest: the `manifest.json` of a run folder (kind `run`).

    Returns:
        The scenario facts the dashboard needs.

    Raises:
        ResultsError: if the manifest is not a run's or lacks the resolved scenario.

    """
    if manifest.get("kind") != "run":
        raise ResultsError(f"the dashboard draws run folders; this one is of kind "
                           f"{manifest.get('kind')!r}")
    try:
        scenario = manifest["scenario"]
        resolved = scenario["resolved"]
        meta = resolved["scenario"]
        start, steps = meta.get("start", "2025Q1"), int(meta.get("steps", 40))
        states = resolved.get("states", {})
        groupings = tuple(
            GroupingInfo(key, spec.get("name") or key, tuple(spec.get("members", ())),
                         tuple(spec.get("observers", ())))
            for key, spec in resolved.get("groupings", {}).items())
        shocks = tuple(_shock(spec, start, steps) for spec in resolved.get("shocks", []))
        return RunInfo(
            name=scenario.get("name") or meta.get("name", "?"),
            description=scenario.get("description") or meta.get("description", ""),
            file=str(scenario.get("file", "")),
            scenario_hash=str(scenario.get("hash", "")),
            seed=int(manifest["seed"]),
            replications=int(manifest["replications"]),
            created=str(manifest.get("created", "")),
            version=str(manifest.get("versions", {}).get("blocsim", "?")),
            start=start,
            steps=steps,
            state_names={code: spec.get("name", code) for code, spec in states.items()},
            asean=frozenset(code for code, spec in states.items() if spec.get("asean")),
            groupings=groupings,
            shocks=shocks,
            consolidation_level=float(_dynamics(resolved, "consolidation_level")),
            consolidation_commitment=float(_dynamics(resolved, "consolidation_commitment")),
            consolidation_quarters=int(_dynamics(resolved, "consolidation_quarters")),
        )
    except (KeyError, TypeError, ValueError) as error:  # pydantic's errors are ValueErrors
        raise ResultsError(f"the run manifest lacks what the dashboard needs ({error!r})") \
            from error


def _dynamics(resolved: dict, key: str) -> float:
    """A `[dynamics]` value of the resolved scenario, or the schema's default."""
    return resolved.get("dynamics", {}).get(key, Dynamics.model_fields[key].default)


def _shock(spec: dict, start: str, steps: int) -> ShockInfo:
    step = step_of(start, spec["at"])
    profile = shock_profile(Shock.model_validate(spec), start, steps)
    targets = spec.get("targets", "all")
    return ShockInfo(
        name=spec["name"],
        step=step,
        quarter=quarter_label(start, step),
        magnitude=float(spec["magnitude"]),
        decay_quarters=int(spec.get("decay_quarters", 4)),
        target=spec.get("pressure") or spec.get("attribute") or "?",
        is_pressure=spec.get("pressure") is not None,
        targets=targets if isinstance(targets, str) else ", ".join(targets),
        profile=tuple(float(v) for v in profile),
    )
