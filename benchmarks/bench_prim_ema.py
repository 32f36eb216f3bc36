"""blocsim's PRIM against EMA Workbench 3.0's on fixed data (issue 15).

    .venv/bin/python benchmarks/bench_prim_ema.py [--sweep results/pressures_lhs] [--seeds 30]

EMA Workbench is not a dependency of blocsim: this script creates `benchmarks/.venv-ema` (a
virtual environment with `ema_workbench==3.0.0`) on first use and runs EMA there through
`benchmarks/ema_prim_worker.py`, so the two never share an interpreter. It reports, on
(a) the issue's synthetic set (1,000 points in 4 dimensions, y = x1 > 0.6 and x2 < 0.4, 10% of
labels flipped) and (b) a real sweep (AUKUS at thresholds 0.5 and 0.2): the peeling paths (step
where they part, coverage-density gap at equal mass), the boxes (restricted axes, limits,
quasi-p-values per limit) and timings; and (c) recovery on 30 seeds of the synthetic set: the
mean Jaccard volume overlap of the reported box with the true one.

EMA leaves the choice of a box to the analyst; for a like-for-like comparison its box is taken
from its peeling trajectory by blocsim's rule (`choose_step`), as is ("EMA"), and with the axes
whose quasi-p-value is >= 0.05 dropped, as an analyst following Bryant & Lempert would
("EMA, weak axes dropped"; EMA drops a whole axis, `drop_restriction`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from blocsim.analysis.discovery import _grouping_probabilities, _inputs
from blocsim.analysis.prim import QP_SIGNIFICANCE, choose_step, jaccard_overlap, prim

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv-ema"
EMA_VERSION = "3.0.0"
TRUTH = {"x1": (0.6, 1.0), "x2": (0.0, 0.4)}


def ema_python() -> Path:
    """The interpreter of the EMA virtual environment, created (and EMA installed) if needed."""
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {VENV} with ema_workbench=={EMA_VERSION} (once)...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                        f"ema_workbench=={EMA_VERSION}"], check=True)
    return python


def installed_ema_python() -> Path | None:
    """An interpreter that imports ema_workbench (this one, or the benchmark's venv), or None."""
    for python in (Path(sys.executable), VENV / "bin" / "python"):
        if not python.exists():
            continue
        found = subprocess.run([str(python), "-c", "import ema_workbench"], capture_output=True)
        if found.returncode == 0:
            return python
    return None


def run_ema(datasets: list[tuple[pd.DataFrame, np.ndarray]],
            python: Path | None = None) -> list[dict]:
    """EMA's PRIM on each dataset, in one worker process (EMA's import takes seconds).

    `python`: an interpreter with ema_workbench; by default the benchmark's venv (created if
    missing).
    """
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "in.npz", Path(folder) / "out.json"
        arrays = {}
        for k, (x, y) in enumerate(datasets):
            arrays[f"x_{k}"] = x.to_numpy(dtype=float)
            arrays[f"y_{k}"] = y
            arrays[f"columns_{k}"] = np.array(x.columns, dtype=str)
        np.savez(source, **arrays)
        worker = HERE / "ema_prim_worker.py"
        subprocess.run([str(python or ema_python()), "-W", "ignore", str(worker), str(source),
                        str(target)], check=True)
        return json.loads(target.read_text())


def synthetic(seed: int, points: int = 1000, flip: float = 0.1):
    """The issue's set: x uniform in [0, 1]^4, y = x1 > 0.6 and x2 < 0.4, a share flipped."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.uniform(size=(points, 4)), columns=["x1", "x2", "x3", "x4"])
    y = ((x.x1 > 0.6) & (x.x2 < 0.4)).to_numpy() ^ (rng.random(points) < flip)
    return x, y


def sweep_data(folder: Path, grouping: str, threshold: float):
    """A sweep's axes and its cases of interest (P(consolidation) >= threshold)."""
    points = pd.read_parquet(folder / "points.parquet")
    x, _ = _inputs(points)
    probability = _grouping_probabilities(folder, points, grouping)["probability"]
    return x, (probability >= threshold).to_numpy()


def ema_frames(result: dict) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """EMA's peeling rows (as a trajectory) and each peeled box (low, high, qp per limit)."""
    columns = result["columns"]
    steps = result["peel_steps"]
    trajectory = pd.DataFrame(result["trajectory"]).iloc[:steps].assign(
        step=range(steps), phase="peel")
    boxes = []
    for limits, qp in zip(result["limits"][:steps], result["quasi_p"][:steps], strict=True):
        frame = pd.DataFrame({"low": limits["low"], "high": limits["high"]}, index=columns)
        frame["qp_low"] = [qp.get(c, [-1, -1])[0] for c in columns]
        frame["qp_high"] = [qp.get(c, [-1, -1])[1] for c in columns]
        frame = frame.replace(-1.0, np.nan)
        frame["restricted"] = frame[["qp_low", "qp_high"]].notna().any(axis=1)
        frame["qp"] = np.fmax(frame["qp_low"], frame["qp_high"])
        boxes.append(frame)
    return trajectory, boxes


def gap_at_equal_mass(ours: pd.DataFrame, theirs: pd.DataFrame) -> tuple[float, float]:
    """Mean and largest |density difference| at EMA's masses (blocsim's curve interpolated)."""
    order = np.argsort(ours["mass"].to_numpy())
    masses, densities = ours["mass"].to_numpy()[order], ours["density"].to_numpy()[order]
    inside = theirs[(theirs["mass"] >= masses[0]) & (theirs["mass"] <= masses[-1])]
    gaps = np.abs(np.interp(inside["mass"], masses, densities) - inside["density"].to_numpy())
    return float(gaps.mean()), float(gaps.max())


def parting_step(x: pd.DataFrame, ours: list[pd.DataFrame],
                 theirs: list[pd.DataFrame]) -> int | None:
    """The first step whose two boxes hold different points (None: the same at every step both
    have). Limits themselves differ by design: blocsim's are the nearest kept value, EMA's the
    midpoint to the nearest removed one."""
    values = x.to_numpy(dtype=float)
    for step, (mine, other) in enumerate(zip(ours, theirs, strict=False)):
        inside = [np.all((values >= box["low"].to_numpy()) & (values <= box["high"].to_numpy()),
                         axis=1) for box in (mine, other)]
        if not np.array_equal(*inside):
            return step
    return None


def describe(box: pd.DataFrame) -> str:
    """"x1 >= 0.61 (qp 1e-28); x2 <= 0.38 (qp 5e-30)" for the restricted axes."""
    parts = []
    for axis, row in box[box["restricted"]].iterrows():
        limits = []
        if not np.isnan(row["qp_low"]):
            limits.append(f">= {row['low']:.2f} (qp {row['qp_low']:.1g})")
        if not np.isnan(row["qp_high"]):
            limits.append(f"<= {row['high']:.2f} (qp {row['qp_high']:.1g})")
        parts.append(f"{axis} " + " & ".join(limits))
    return "; ".join(parts) or "no restriction"


def dropped_weak(box: pd.DataFrame) -> pd.DataFrame:
    """EMA's box with every axis whose weakest limit has quasi-p >= 0.05 left unrestricted."""
    weak = box["restricted"] & (box["qp"] >= QP_SIGNIFICANCE)
    return box.assign(restricted=box["restricted"] & ~weak)


def overlap_with_truth(box: pd.DataFrame) -> float:
    low = [box.loc[a, "low"] if box.loc[a, "restricted"] else 0.0 for a in box.index]
    high = [box.loc[a, "high"] if box.loc[a, "restricted"] else 1.0 for a in box.index]
    truth_low = [TRUTH.get(a, (0.0, 1.0))[0] for a in box.index]
    truth_high = [TRUTH.get(a, (0.0, 1.0))[1] for a in box.index]
    return jaccard_overlap(np.array(low), np.array(high), np.array(truth_low),
                           np.array(truth_high))


def compare(name: str, x: pd.DataFrame, y: np.ndarray, theirs_raw: dict) -> dict:
    """One dataset: paths, boxes, timings."""
    start = time.perf_counter()
    ours = prim(x, y)
    seconds = time.perf_counter() - start
    peel = ours.trajectory[ours.trajectory["phase"] == "peel"]
    theirs, their_boxes = ema_frames(theirs_raw)
    mean_gap, max_gap = gap_at_equal_mass(peel, theirs)
    their_choice = choose_step(theirs)
    reported = ours.box()
    return {
        "data": name, "points": len(x), "cases": int(y.sum()),
        "blocsim steps": len(peel), "EMA steps": len(theirs),
        "paths part at step": parting_step(x, ours.boxes[:len(peel)], their_boxes),
        "mean |density gap| at equal mass": round(mean_gap, 3),
        "largest gap": round(max_gap, 3),
        "blocsim box": describe(reported.limits),
        "blocsim coverage/density": f"{reported.coverage:.2f}/{reported.density:.2f}",
        "EMA step (same rule)": their_choice,
        "EMA box": describe(their_boxes[their_choice]),
        "EMA coverage/density": f"{theirs['coverage'].iloc[their_choice]:.2f}/"
                                f"{theirs['density'].iloc[their_choice]:.2f}",
        "blocsim restricted": len(reported.restricted_axes),
        "EMA restricted": int(their_boxes[their_choice]["restricted"].sum()),
        "EMA restricted after dropping weak": int(
            dropped_weak(their_boxes[their_choice])["restricted"].sum()),
        "blocsim seconds (with refining)": round(seconds, 3),
        "EMA seconds (peel and paste)": round(theirs_raw["seconds"], 3),
    }


def recovery(seeds: int, python: Path | None = None) -> dict:
    """Mean Jaccard overlap with the true box over `seeds` synthetic sets, blocsim and EMA."""
    datasets = [synthetic(1000 + seed) for seed in range(seeds)]
    theirs = run_ema(datasets, python)
    rows = []
    for (x, y), raw in zip(datasets, theirs, strict=True):
        reported = prim(x, y).box()
        trajectory, boxes = ema_frames(raw)
        chosen = boxes[choose_step(trajectory)]
        rows.append({"blocsim": overlap_with_truth(reported.limits),
                     "EMA": overlap_with_truth(chosen),
                     "EMA, weak axes dropped": overlap_with_truth(dropped_weak(chosen)),
                     "blocsim exact axes": reported.restricted_axes == ["x1", "x2"],
                     "EMA exact axes": chosen.index[chosen["restricted"]].tolist()
                     == ["x1", "x2"]})
    table = pd.DataFrame(rows)
    return {"seeds": seeds, **{f"mean overlap, {k}": round(float(table[k].mean()), 3)
                               for k in ("blocsim", "EMA", "EMA, weak axes dropped")},
            **{f"min overlap, {k}": round(float(table[k].min()), 3)
               for k in ("blocsim", "EMA", "EMA, weak axes dropped")},
            "seeds with exactly x1, x2 restricted (blocsim)": int(table["blocsim exact axes"]
                                                                  .sum()),
            "seeds with exactly x1, x2 restricted (EMA)": int(table["EMA exact axes"].sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sweep", type=Path, default=Path("results/pressures_lhs"),
                        help="a finished lhs sweep (`blocsim sweep "
                             "scenarios/sweeps/pressures_lhs.toml`); skipped if absent")
    parser.add_argument("--grouping", default="AUKUS")
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "prim_ema.json")
    args = parser.parse_args()
    datasets = [("synthetic (issue), seed 0", *synthetic(0))]
    if (args.sweep / "points.parquet").is_file():
        for threshold in (0.5, 0.2):
            datasets.append((f"{args.sweep.name}, {args.grouping} P >= {threshold}",
                             *sweep_data(args.sweep, args.grouping, threshold)))
    else:
        print(f"{args.sweep} not found: the real sweep is skipped", flush=True)
    theirs = run_ema([(x, y) for _, x, y in datasets])
    report = {"compared": [compare(name, x, y, raw)
                           for (name, x, y), raw in zip(datasets, theirs, strict=True)],
              "recovery": recovery(args.seeds)}
    for entry in report["compared"]:
        print()
        for key, value in entry.items():
            print(f"  {key}: {value}")
    print()
    for key, value in report["recovery"].items():
        print(f"  {key}: {value}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
