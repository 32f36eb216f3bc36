"""The model's fixed vocabulary, defined once and imported everywhere else.

The institutional ladder, the named pressures and the adversaries are each listed here and
nowhere else (the mechanisms have their own registry, `blocsim.mechanisms`), so validation, the
model, the command line and the dashboards cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

STAGES: tuple[str, ...] = (
    "dormant",
    "consultative dialogue",
    "coordinated",
    "institutionalized",
    "formal alliance",
)
"""Names of the institutional ladder's rungs, indexed by level 0..4."""

MAX_LEVEL = len(STAGES) - 1


def stage_name(level: float) -> str:
    """Return the ladder stage nearest a (fractional) level, halves rounding up.

    Institutions approach a rung gradually, so a level of 3.5 or more reads "formal alliance",
    the same threshold at which a grouping can consolidate.
    """
    rung = min(max(int(level + 0.5), 0), MAX_LEVEL)
    return STAGES[rung]


@dataclass(frozen=True)
class Pressure:
    """An exogenous driver: a value in [0, 1] per quarter, felt by every state (shocks aside)."""

    name: str
    meaning: str


PRESSURES: tuple[Pressure, ...] = (
    Pressure("china_assertiveness", "China's military and diplomatic assertiveness; scales how "
             "strongly states perceive China as a threat (0 benign, 1 maximal)."),
    Pressure("china_coercion", "China's use of economic coercion (trade bans, tariffs) against "
             "states that align against it; multiplies their trade dependence."),
    Pressure("us_engagement", "US willingness to invest in minilateral groupings; drives the US's "
             "own commitment as organizer."),
    Pressure("us_reliability", "How far partners trust US commitments (abandonment risk is 1 minus "
             "this); discounts the US's capability in every security calculation."),
    Pressure("russia_courtship", "Russia's effort to keep defence clients (India) away from "
             "US-led blocs; multiplies defence dependence on Russia."),
    Pressure("nato_outreach", "NATO's political will to tie itself to Indo-Pacific partners."),
    Pressure("europe_bandwidth", "Share of European forces free of deterring Russia; caps what "
             "NATO's outreach can deliver in the Indo-Pacific."),
    Pressure("dprk_provocation", "North Korea's missile and nuclear provocations; scales the DPRK "
             "threat felt by South Korea and Japan."),
    Pressure("asean_centrality", "Weight of ASEAN-led, inclusive formats; pulls hedgers toward "
             "neutrality and raises the legitimacy cost of exclusive blocs."),
    Pressure("taiwan_tension", "Risk of a Taiwan Strait contingency; the war partners fear being "
             "entrapped in."),
)

STATE_ATTRIBUTE_MEANINGS: dict[str, str] = {
    "capability": "military capability relative to the US (SIPRI spending ratio, US = 1)",
    "threat_china": "baseline perception of China as a threat",
    "threat_dprk": "baseline perception of North Korea as a threat",
    "threat_russia": "baseline perception of Russia as a threat",
    "autonomy": "aversion to binding commitments (strategic autonomy)",
    "hedging": "propensity to stay between the US and China rather than choose",
    "china_trade_dependence": "economic dependence on China",
    "russia_defense_dependence": "dependence on Russian arms",
    "us_alliance": "strength of alliance ties with the US (treaty ally about 1)",
    "domestic_constraint": "constitutional or domestic limits on military commitments",
}
"""What each state attribute (`[states.CODE]` key) stands for, in words (pages, the view)."""

PRESSURE_NAMES: tuple[str, ...] = tuple(p.name for p in PRESSURES)


ADVERSARIES: tuple[str, ...] = ("china", "north_korea", "russia")
"""The powers a grouping can answer; each state's threat from it is `threat_<short>` below."""

ADVERSARY_THREAT: dict[str, str] = {"china": "threat_china", "north_korea": "threat_dprk",
                                    "russia": "threat_russia"}
"""The state attribute holding each state's baseline threat perception of each adversary."""

ADVERSARY_PRESSURE: dict[str, str | None] = {"china": "china_assertiveness",
                                             "north_korea": "dprk_provocation", "russia": None}
"""The pressure that scales each adversary's threat (Russia's threat is felt as it stands)."""

INDO_PACIFIC_REGIONS: frozenset[str] = frozenset(
    {"east_asia", "southeast_asia", "south_asia", "oceania"}
)
REGIONS: tuple[str, ...] = (
    "east_asia", "southeast_asia", "south_asia", "oceania", "europe", "north_america", "eurasia",
)
