"""The model's rules that are not mechanisms: the ladder, consolidation, noise, and alignment.

Declared like mechanism parameters (range, meaning, source or "calibrated"), so the scenario
schema (`[dynamics]`, `[alignment]`), sweeps, priors and documentation come from one list.
"""

from __future__ import annotations

from blocsim.mechanisms.base import Parameter

DESIGN = "DESIGN.md 'Participation and the ladder'"

DYNAMICS: tuple[Parameter, ...] = (
    Parameter("baseline_propensity", -0.5, -20.0, 20.0, "utility (logit units) of commitment "
              "before any mechanism"),
    Parameter("adjustment", 0.25, 0.0, 1.0, "share of the gap to its best response a state "
              "closes per quarter (1 - inertia)", exclusive_low=True),
    Parameter("noise", 0.04, 0.0, 0.5, "standard deviation of the quarterly commitment noise"),
    Parameter("political_volatility", 1.0, 0.0, 5.0, "long-run standard deviation (logit units) "
              "of each state's domestic-political mood: the persistent swing a change of "
              "government gives to all of its commitments"),
    Parameter("political_persistence", 0.95, 0.0, 0.999, "quarterly autocorrelation of that mood "
              "(0.95: a half-life of about 3.4 years)"),
    Parameter("level_rise", 0.12, 0.0, 1.0, "share of the gap to its supported level a rising "
              "grouping closes per quarter", exclusive_low=True),
    Parameter("level_fall", 0.06, 0.0, 1.0, "share of the gap a falling or suspended grouping "
              "closes per quarter (institutions decay more slowly than they grow)",
              exclusive_low=True),
    Parameter("broad_support", 0.35, 0.0, 1.0, "weakest member's commitment at which a grouping "
              "can rise above the weakest-link floor", DESIGN + " (rising above 2 needs broad "
              "support); calibrated"),
    Parameter("full_support", 0.8, 0.0, 1.0, "weakest member's commitment at which level 4 "
              "becomes possible", DESIGN + " (reaching 4 needs every core member); calibrated"),
    Parameter("weakest_link_floor", 2.0, 0.0, 4.0, "level above which the weakest member caps "
              "the grouping ('coordinated')", DESIGN + " (one reluctant member can hold a "
              "grouping at 'coordinated')"),
    Parameter("consolidation_level", 3.5, 0.0, 4.0, "level a grouping must hold to count as "
              "consolidated into a formal bloc", "DESIGN.md: 'level >= 3.5 held ...'"),
    Parameter("consolidation_commitment", 0.7, 0.0, 1.0, "commitment every core member must "
              "hold meanwhile"),
    Parameter("consolidation_quarters", 4, 1, 400, "quarters in a row both must hold",
              integer=True),
    Parameter("nato_tie_rate", 0.1, 0.0, 1.0, "share of the gap to NATO's offer a tie closes "
              "per quarter"),
    Parameter("observer_stake", 0.3, 0.0, 1.0, "share of the binding terms (security, autonomy, "
              "entrapment, hub-and-spokes, distrust) an observer feels: nobody is pledged to "
              "defend it and it pledges nothing; costs of association are felt in full",
              "000 footnote 1 to para 5 (observers of the QUAD); Vietnam's 'no military "
              "alliances' policy (2019 white paper); calibrated"),
    Parameter("link_level", 3.0, 0.0, 4.0, "level at which overlapping groupings can link into "
              "one bloc ('institutionalized')", "002 ('small groups' integrated into 'the big "
              "circle'); DESIGN.md (overlapping groupings institutionalized and tied to NATO)"),
    Parameter("link_nato_tie", 0.25, 0.0, 1.0, "NATO tie at which a linked component counts as "
              "tied to NATO"),
)
"""`[dynamics]`: commitment revision, the ladder, consolidation, observers and links."""

ALIGNMENT: tuple[Parameter, ...] = (
    Parameter("drift_rate", 0.15, 0.0, 1.0, "share of the gap to its target alignment a state "
              "closes per quarter"),
    Parameter("steepness", 2.0, 0.1, 10.0, "target = tanh(steepness * (US pull - China pull))"),
    Parameter("treaty_pull", 1.0, 0.0, 5.0, "pull toward the US per unit of alliance tie times "
              "US reliability"),
    Parameter("threat_pull", 0.5, 0.0, 5.0, "pull toward the US per unit of perceived threat"),
    Parameter("belonging_pull", 0.5, 0.0, 5.0, "pull toward the US per unit of mean commitment "
              "to the state's groupings"),
    Parameter("affinity_pull", 0.5, 0.0, 5.0, "pull toward either pole per unit of positive "
              "affinity with it"),
    Parameter("trade_pull", 1.0, 0.0, 5.0, "pull toward China per unit of trade dependence "
              "times (coercion floor + coercion)"),
    Parameter("coercion_floor", 0.5, 0.0, 5.0, "part of trade's pull toward China that does not "
              "need coercion"),
    Parameter("arms_pull", 0.5, 0.0, 5.0, "pull toward China per unit of arms dependence on "
              "Russia times Russia's courtship"),
)
"""`[alignment]`: each state's drift on the US(+1)-China(-1) axis (the hedgers' damping is the
hedging mechanism's)."""

