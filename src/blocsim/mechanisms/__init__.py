"""The registry of mechanisms: one object per causal channel, each in its own module.

The scenario schema (`[mechanisms.NAME]`), the model's wiring, the documentation and the contract
tests are derived from `REGISTRY`; adding a mechanism means one new module, its tests, and one
line here.
"""

from __future__ import annotations

from blocsim.mechanisms.autonomy_cost import AutonomyCost
from blocsim.mechanisms.balance_of_threat import BalanceOfThreat
from blocsim.mechanisms.base import (
    CALIBRATED,
    Ablation,
    Mechanism,
    Membership,
    Parameter,
    Params,
    Quarter,
)
from blocsim.mechanisms.china_response import ChinaResponse
from blocsim.mechanisms.distrust import Distrust
from blocsim.mechanisms.economic_exposure import EconomicExposure
from blocsim.mechanisms.entrapment_abandonment import EntrapmentAbandonment
from blocsim.mechanisms.europe_cap import EuropeCap
from blocsim.mechanisms.hedging import Hedging
from blocsim.mechanisms.hub_and_spokes import HubAndSpokes
from blocsim.mechanisms.organizer import Organizer
from blocsim.mechanisms.participation import Participation
from blocsim.mechanisms.peer_influence import PeerInfluence
from blocsim.mechanisms.rules import ALIGNMENT, DYNAMICS
from blocsim.mechanisms.russia_pull import RussiaPull
from blocsim.mechanisms.russia_response import RussiaResponse

REGISTRY: tuple[Mechanism, ...] = (
    ChinaResponse(),
    RussiaResponse(),
    BalanceOfThreat(),
    AutonomyCost(),
    EconomicExposure(),
    RussiaPull(),
    EntrapmentAbandonment(),
    PeerInfluence(),
    Hedging(),
    HubAndSpokes(),
    Distrust(),
    Organizer(),
    EuropeCap(),
    Participation(),
)
"""Every mechanism, in the order the model calls their hooks (counter-moves first)."""

MECHANISMS: dict[str, Mechanism] = {m.name: m for m in REGISTRY}
MECHANISM_NAMES: tuple[str, ...] = tuple(MECHANISMS)

__all__ = ["ALIGNMENT", "CALIBRATED", "DYNAMICS", "MECHANISMS", "MECHANISM_NAMES", "REGISTRY",
           "Ablation", "Mechanism", "Membership", "Parameter", "Params", "Quarter"]
