"""Text and JSON reports of a landscape's local minima."""

from __future__ import annotations

import json
from collections.abc import Sequence

from blocsim.landscape.search import Landscape, Minimum

MAX_TEXT_BLOCKS = 20


def camps(minimum: Minimum, names: Sequence[str]) -> list[list[str]]:
    """Return the two camps as lists of names: the camp of the first actor first, file order."""
    first = [name for name, side in zip(names, minimum.sigma, strict=True) if side > 0]
    second = [name for name, side in zip(names, minimum.sigma, strict=True) if side < 0]
    return [first, second]


def as_json(landscape: Landscape, names: Sequence[str]) -> str:
    """Return `{"minima": [{"camps": [[...], [...]], "energy": E, "basin": b}, ...]}`.

    Minima are sorted by basin, largest first; energy is in size^2 x propensity, basin a share
    in [0, 1].
    """
    minima = [{"camps": camps(m, names), "energy": m.energy, "basin": m.basin}
              for m in landscape.minima]
    return json.dumps({"minima": minima}, indent=2)


def as_text(landscape: Landscape, names: Sequence[str], title: str) -> str:
    """Return one block per local minimum: camps, energy, basin share, global minimum flagged."""
    n = len(names)
    minima = landscape.minima
    if landscape.exhaustive:
        how = f"all {landscape.configurations:,} alignments enumerated"
    else:
        how = (f"search: {landscape.starts:,} random starts of the dynamic (seed "
               f"{landscape.seed}) plus simulated annealing; minima may be missing")
    if landscape.basin_method == "exact":
        basis = "basin = exact probability that the dynamic from a uniform random start ends there"
    else:
        basis = (f"basin = share of {landscape.starts:,} random starts (seed {landscape.seed}) "
                 f"whose dynamic ends there")
    lines = [f"{title}: {n} actors, {len(minima)} local minim{'um' if len(minima) == 1 else 'a'}"
             f" ({how})", basis, ""]
    label = "global minimum" if landscape.exhaustive else "lowest energy found"
    width = len(str(len(minima)))
    for rank, minimum in enumerate(minima[:MAX_TEXT_BLOCKS], start=1):
        flag = f"  <- {label}" if minimum.is_global else ""
        first, second = camps(minimum, names)
        lines += [f"#{rank:<{width}}  energy {minimum.energy:.6g}   basin "
                  f"{100 * minimum.basin:.1f}%{flag}",
                  f"    camp 1: {', '.join(first)}",
                  f"    camp 2: {', '.join(second) if second else '(empty)'}", ""]
    if len(minima) > MAX_TEXT_BLOCKS:
        lines.append(f"... and {len(minima) - MAX_TEXT_BLOCKS} more local minima (see --json)")
    return "\n".join(lines).rstrip() + "\n"
