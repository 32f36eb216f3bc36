"""Re-measure the seeds' stylized claims and say which mechanism produces each.

For every claim of POSITIONS.md the model can speak to: the seed passage, the measure and the
result on the (calibrated) baseline or the variant the claim is about, the mechanism the theory
says produces it, and whether the claim still holds with that mechanism switched off, and with
every mechanism off. A claim that holds with every mechanism off is built into the inputs, and the
table says so.

    .venv/bin/python benchmarks/claims.py [--replications 400] [--out benchmarks/out/claims.md]
                                          [--point]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import blocsim
from blocsim.mechanisms import MECHANISM_NAMES
from blocsim.vocabulary import INDO_PACIFIC_REGIONS

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def probability(results, grouping: str) -> float:
    outcomes = results.outcomes
    return float(outcomes[outcomes.grouping == grouping].consolidated.mean())


def any_alliance(results) -> float:
    return float(results.outcomes.groupby("replication").consolidated.any().mean())


def level_rise(results, grouping: str) -> float:
    levels = results.levels[results.levels.grouping == grouping]
    first = levels[levels.step == levels.step.min()].level.mean()
    last = levels[levels.step == levels.step.max()].level.mean()
    return float(last - first)


def final(results, grouping: str, column: str) -> float:
    outcomes = results.outcomes
    return float(outcomes[outcomes.grouping == grouping][column].mean())


def top_blocker(results, grouping: str) -> tuple[str, float]:
    outcomes = results.outcomes
    stalled = outcomes[(outcomes.grouping == grouping) & ~outcomes.consolidated]
    if stalled.empty:
        return "-", 0.0
    counts = stalled.blocker.value_counts()
    return str(counts.index[0]), float(counts.iloc[0] / len(stalled))


def unready_share(results) -> float:
    """Share of runs in which most regional states neither join a formal bloc nor lean to the US."""
    resolved = results.manifest["scenario"]["resolved"]
    regional = {code for code, s in resolved["states"].items()
                if s["region"] in INDO_PACIFIC_REGIONS and code not in ("CHN", "PRK")}
    groupings = resolved["groupings"]
    aligned = results.alignment
    aligned = aligned[(aligned.step == aligned.step.max()) & (aligned.alignment > 0.5)]
    leaning = aligned.groupby("replication").state.apply(lambda s: set(s.astype(str)))
    shares = []
    for replication, runs in results.outcomes.groupby("replication"):
        in_bloc = {code for g in runs[runs.consolidated].grouping
                   for code in groupings[str(g)]["members"]}
        shares.append(len(regional & (in_bloc | leaning.get(replication, set())))
                      / len(regional))
    return float(np.mean(np.array(shares) < 0.5))


@dataclass(frozen=True)
class Claim:
    """A seed's claim, how it is measured, and the mechanism said to produce it."""

    key: str
    claim: str
    passage: str
    mechanism: str
    measure: Callable[[Callable[[str, dict], object]], tuple[str, bool]]
    """Given `run(scenario name, overrides)`, the result in words and whether the claim holds."""


def _activation(run) -> tuple[str, bool]:
    base = run("baseline", {})
    rises = {g: level_rise(base, g) for g in ("QUAD", "AUKUS", "US_JPN_ROK", "SQUAD")}
    p = any_alliance(base)
    text = (f"P(any new formal alliance by 2034) = {p:.2f}; mean level change 2025-34: "
            + ", ".join(f"{g} {v:+.2f}" for g, v in rises.items()))
    return text, p <= 0.38 and np.mean(list(rises.values())) > 0


def _not_ready(run) -> tuple[str, bool]:
    share = unready_share(run("baseline", {}))
    return f"most regional states unaligned with a bloc in {share:.0%} of runs", share >= 0.9


def _bifurcation(run) -> tuple[str, bool]:
    tilt, pushed = run("india_tilt", {}), run("us_confronts_india", {})
    low, high = final(tilt, "QUAD", "final_level"), final(pushed, "QUAD", "final_level")
    return (f"QUAD's final level {low:.2f} under India's tilt vs {high:.2f} when the US "
            f"confronts India with crises"), high - low > 0.3


def _aukus(run) -> tuple[str, bool]:
    p = probability(run("baseline", {}), "AUKUS")
    return f"P(AUKUS a formal alliance by 2034) = {p:.2f}", p < 0.25


def _light_path(run) -> tuple[str, bool]:
    base = run("baseline", {})
    tie, p = final(base, "IP4", "final_nato_tie"), probability(base, "IP4")
    return f"IP4 NATO tie {tie:.2f} at the end, P(IP4 alliance) = {p:.2f}", tie > 0.02 and p < 0.05


def _big_circle(run) -> tuple[str, bool]:
    base, naipto = run("baseline", {}), run("naipto", {"pressures.europe_bandwidth.end": 0.8})
    a = float(base.outcomes.groupby("replication").in_linked_bloc.any().mean())
    b = float(naipto.outcomes.groupby("replication").in_linked_bloc.any().mean())
    return f"a linked bloc in {a:.0%} of baseline runs, {b:.0%} under NAIPTO with Europe freed", \
        b > a


def _india_veto(run) -> tuple[str, bool]:
    tilt = run("india_tilt", {})
    blocker, share = top_blocker(tilt, "QUAD")
    p = probability(tilt, "QUAD")
    return f"P(QUAD alliance) = {p:.3f}; blocker {blocker} in {share:.0%} of stalled runs", \
        p <= 0.01 and blocker == "IND" and share >= 0.8


def _india_needs_us(run) -> tuple[str, bool]:
    base, pushed = run("baseline", {}), run("us_confronts_india", {})
    commitments = []
    for results in (base, pushed):
        table = results.commitments
        last = table[(table.step == table.step.max()) & (table.state == "IND")
                     & (table.grouping == "QUAD")]
        commitments.append(float(last.commitment.mean()))
    return (f"India's final commitment to QUAD {commitments[0]:.2f} -> {commitments[1]:.2f} "
            f"under border crises"), commitments[1] > commitments[0] + 0.02


def _asean(run) -> tuple[str, bool]:
    low = run("baseline", {"pressures.asean_centrality.end": 0.1})
    high = run("baseline", {"pressures.asean_centrality.end": 0.9})
    a, b = any_alliance(low), any_alliance(high)
    return f"P(any alliance) {a:.2f} at ASEAN centrality 0.1 vs {b:.2f} at 0.9", b < a


def _europe(run) -> tuple[str, bool]:
    base, freed = run("baseline", {}), run("europe_freed", {})
    a, b = final(base, "IP4", "final_nato_tie"), final(freed, "IP4", "final_nato_tie")
    return f"IP4 NATO tie {a:.3f} -> {b:.3f} with Europe's bandwidth freed", b > 1.5 * a


def _china_resists(run) -> tuple[str, bool]:
    calm = run("baseline", {"pressures.china_assertiveness.end": 0.3})
    hard = run("baseline", {"pressures.china_assertiveness.end": 0.9})
    a, b = any_alliance(calm), any_alliance(hard)
    return f"P(any alliance) {a:.2f} with a benign China vs {b:.2f} with an assertive one", b > a


CLAIMS = (
    Claim("activation", "Consolidation comes through activating existing formats, not a "
          "formalized military alliance", "000, abstract", "hub_and_spokes", _activation),
    Claim("not_ready", "Most regional states are not ready to join a formal anti-China alliance",
          "000, abstract", "hedging", _not_ready),
    Claim("bifurcation", "QUAD is at a bifurcation point: India's stance decides its path",
          "000, abstract; 001", "autonomy_cost", _bifurcation),
    Claim("aukus", "AUKUS is 'not even a remote analogy' of a NATO-type alliance",
          "000, para 6", "hub_and_spokes", _aukus),
    Claim("light_path", "The 'light' path: NATO partnership without membership",
          "000, paras 7-8; 004", "balance_of_threat", _light_path),
    Claim("big_circle", "Small groups integrated one by one into the 'big circle'",
          "002", "europe_cap", _big_circle),
    Claim("india_veto", "If New Delhi shows solidarity with Beijing, the West's strategies "
          "are thwarted", "001", "autonomy_cost", _india_veto),
    Claim("india_needs_us", "India cannot resist China without the US: crises push it to QUAD",
          "001", "balance_of_threat", _india_needs_us),
    Claim("asean", "Stability through existing mechanisms (ASEAN) rather than parallel "
          "structures", "003", "hedging", _asean),
    Claim("europe", "Europe willing in words, constrained in means", "004", "europe_cap",
          _europe),
    Claim("china_resists", "China resists NATO in Asia by every means: its assertiveness "
          "drives balancing", "002", "balance_of_threat", _china_resists),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "claims.md")
    parser.add_argument("--point", action="store_true",
                        help="at the scenarios' own (hand-set) weights, not the posterior")
    args = parser.parse_args()
    cache: dict = {}

    def runner(switched_off: tuple[str, ...]):
        def run(name: str, overrides: dict):
            key = (name, tuple(sorted(overrides.items())), switched_off)
            if key not in cache:
                scenario = blocsim.load(SCENARIOS / f"{name}.toml")
                values = {**overrides, **{f"mechanisms.{m}.enabled": False
                                          for m in switched_off}}
                if values:
                    scenario = scenario.with_values(values)
                cache[key] = blocsim.run(scenario, replications=args.replications,
                                         seed=scenario.scenario.seed, workers=args.workers,
                                         point=args.point)
            return cache[key]
        return run

    lines = ["| claim | seed | result (mechanisms on) | mechanism | holds with it off? | "
             "holds with all off? |", "|---|---|---|---|---|---|"]
    for claim in CLAIMS:
        text, holds = claim.measure(runner(()))
        off_text, off_holds = claim.measure(runner((claim.mechanism,)))
        _, all_holds = claim.measure(runner(tuple(MECHANISM_NAMES)))
        verdict = "holds" if holds else "**fails**"
        built_in = " (built into the inputs)" if all_holds and holds else ""
        lines.append(f"| {claim.claim} | {claim.passage} | {text}: {verdict} | "
                     f"`{claim.mechanism}` | {'yes' if off_holds else 'no'} ({off_text}) | "
                     f"{'yes' if all_holds else 'no'}{built_in} |")
        print(lines[-1], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
