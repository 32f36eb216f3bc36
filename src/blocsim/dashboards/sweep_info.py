"""What the sweep dashboard needs to know besides its tables, read from the sweep's manifest."""

from __future__ import annotations

from dataclasses import dataclass

from blocsim.dashboards.labels import AxisLabel, axis_label
from blocsim.dashboards.run_info import RunInfo, run_info
from blocsim.errors import ResultsError

FOCUS = "QUAD"
"""The grouping the sweep page ranks axes and points by, when the scenario has it."""


@dataclass(frozen=True)
class AxisInfo:
    """One axis of the sweep: its path, readable label and the values it takes.

    Attributes:
        path: the dotted path (the `points` table's column).
        name: the readable labels (`labels.AxisLabel`).
        values: the listed values, or None for a range.
        range: (low, high), or None for listed values.
        steps: a grid range's number of evenly spaced values (None otherwise).

    """

    path: str
    name: AxisLabel
    values: tuple[float | int | bool, ...] | None
    range: tuple[float, float] | None
    steps: int | None

    @property
    def label(self) -> str:
        """The readable label, e.g. "India: autonomy"."""
        return self.name.label

    def extent(self, design: str) -> str:
        """What the axis visits, in words: listed values, a grid's steps or a sampled range."""
        if self.values is not None:
            return "values " + ", ".join(f"{v:g}" if not isinstance(v, bool) else str(v).lower()
                                         for v in self.values)
        low, high = self.range  # type: ignore[misc]
        if design == "grid":
            return f"{low:g} to {high:g} in {self.steps} even steps"
        return f"{low:g} to {high:g}, sampled ({design.upper() if design == 'lhs' else design})"


@dataclass(frozen=True)
class SweepInfo:
    """The facts a sweep dashboard shows or uses to label its figures.

    Attributes:
        name: the sweep's name.
        description: the sweep's description.
        file: the sweep file.
        sweep_hash: the sweep's SHA-256 (spec and resolved base scenario).
        design: `grid`, `lhs` or `sobol`.
        seed: the sweep's seed.
        points: the number of design points.
        replications: replications per point.
        created: when the sweep was started (ISO 8601).
        axes: the axes in the sweep file's order.
        base: the base scenario's facts (names, groupings, calendar, thresholds).

    """

    name: str
    description: str
    file: str
    sweep_hash: str
    design: str
    seed: int
    points: int
    replications: int
    created: str
    axes: tuple[AxisInfo, ...]
    base: RunInfo

    @property
    def runs(self) -> int:
        """Runs in all: points x replications."""
        return self.points * self.replications

    @property
    def focus(self) -> str:
        """The grouping the page ranks by: QUAD, or the scenario's first grouping without it."""
        keys = [g.key for g in self.base.groupings]
        return FOCUS if FOCUS in keys else keys[0]

    def axis(self, path: str) -> AxisInfo:
        """The axis with this path."""
        return next(a for a in self.axes if a.path == path)


def sweep_info(manifest: dict) -> SweepInfo:
    """Read a sweep manifest into SweepInfo.

    Args:
        manifest: the `manifest.json` of a finished sweep folder (kind `sweep`).

    Returns:
        The facts the dashboard needs.

    Raises:
        ResultsError: if the manifest lacks the sweep's spec or the resolved base scenario.

    """
    try:
        sweep = manifest["sweep"]
        spec = sweep["spec"]
        base = run_info({**manifest, "kind": "run"})
        state_names = base.state_names
        grouping_names = {g.key: g.label for g in base.groupings}
        axes = tuple(
            AxisInfo(path=a["path"], name=axis_label(a["path"], state_names, grouping_names),
                     values=tuple(a["values"]) if a.get("values") is not None else None,
                     range=tuple(a["range"]) if a.get("range") is not None else None,
                     steps=a.get("steps"))
            for a in spec["axes"])
        return SweepInfo(
            name=sweep.get("name") or spec["name"],
            description=sweep.get("description") or spec.get("description", ""),
            file=str(sweep.get("file", "")),
            sweep_hash=str(sweep.get("hash", "")),
            design=str(manifest.get("design") or spec.get("design", "grid")),
            seed=int(manifest["seed"]),
            points=int(manifest["points"]),
            replications=int(manifest["replications"]),
            created=str(manifest.get("created", "")),
            axes=axes,
            base=base,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ResultsError(f"the sweep manifest lacks what the dashboard needs ({error!r})") \
            from error
