"""Quarters: the model's unit of time, labelled like `2025Q1`."""

from __future__ import annotations


def parse_quarter(label: str) -> tuple[int, int]:
    """Return (year, quarter 1..4) of a label such as `2025Q1`."""
    year, quarter = label.split("Q")
    return int(year), int(quarter)


def quarter_offset(start: str, label: str) -> int:
    """Return how many quarters `label` lies after `start` (negative if before)."""
    y0, q0 = parse_quarter(start)
    y1, q1 = parse_quarter(label)
    return (y1 - y0) * 4 + (q1 - q0)


def quarter_label(start: str, step: int) -> str:
    """Return the label of the quarter `step` quarters after `start`."""
    y0, q0 = parse_quarter(start)
    index = y0 * 4 + (q0 - 1) + step
    return f"{index // 4}Q{index % 4 + 1}"


def step_of(start: str, at: int | str) -> int:
    """Return the step index of a quarter given as a step index or as a label."""
    return at if isinstance(at, int) else quarter_offset(start, at)
