"""Run EMA Workbench's PRIM on datasets and write its trajectories as JSON (runs in .venv-ema).

Not part of blocsim: `bench_prim_ema.py` calls it with the interpreter of the virtual environment
that holds ema_workbench (`benchmarks/.venv-ema`), so blocsim itself never imports EMA.

    python ema_prim_worker.py IN.npz OUT.json

IN.npz holds, for each dataset k = 0, 1, ...: `x_k` (points x axes, float), `y_k` (bool) and
`columns_k` (axis names). OUT.json is a list, one entry per dataset: the peeling and pasting
trajectory (coverage, density, mass, n, k, res_dim per box), `peel_steps` (how many of its
boxes are peeled, the rest pasted), each box's limits and each box's quasi-p-values per limit of
its restricted axes, and the seconds PRIM took (peeling and pasting, quasi-p-values excluded).
"""

import json
import sys
import time

import numpy as np
import pandas as pd
from ema_workbench.analysis import prim


def run(x: pd.DataFrame, y: np.ndarray, alpha: float = 0.05, mass: float = 0.05) -> dict:
    start = time.perf_counter()
    algorithm = prim.Prim(x, y, peel_alpha=alpha, paste_alpha=alpha, mass_min=mass)
    algorithm._update_yi_remaining(algorithm)
    box = algorithm._prim_box_klass(algorithm, algorithm.box_init, algorithm.yi_remaining[:])
    box = algorithm._peel(box)
    peel_steps = len(box.box_lims)
    box = algorithm._paste(box)
    seconds = time.perf_counter() - start
    limits, quasi_p = [], []
    for i, lims in enumerate(box.box_lims):
        limits.append({"low": lims.loc[0].astype(float).tolist(),
                       "high": lims.loc[1].astype(float).tolist()})
        restricted = list(prim.sdutil._determine_restricted_dims(lims, algorithm.box_init))
        qp = box._calculate_quasi_p(i, restricted) if restricted else {}
        quasi_p.append({str(k): [float(v) for v in vals] for k, vals in qp.items()})
    trajectory = box.peeling_trajectory[["coverage", "density", "mass", "res_dim", "n", "k"]]
    return {"columns": [str(c) for c in x.columns], "peel_steps": peel_steps,
            "trajectory": trajectory.astype(float).to_dict(orient="list"),
            "limits": limits, "quasi_p": quasi_p, "seconds": seconds}


def main() -> None:
    source, target = sys.argv[1], sys.argv[2]
    data = np.load(source, allow_pickle=False)
    results = []
    k = 0
    while f"x_{k}" in data:
        x = pd.DataFrame(data[f"x_{k}"], columns=[str(c) for c in data[f"columns_{k}"]])
        results.append(run(x, data[f"y_{k}"].astype(bool)))
        k += 1
    with open(target, "w") as handle:
        json.dump(results, handle)


if __name__ == "__main__":
    main()
