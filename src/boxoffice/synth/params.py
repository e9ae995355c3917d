"""Scales of the synthetic world and the ground truth it is generated from.

Everything a later model should recover is an explicit parameter here and is written to the
world's manifest: the BG/NBD repeat-purchase process (Fader, Hardie & Lee 2005), the
Gamma-Gamma spend process (Fader, Hardie & Lee 2005b; Colombo & Jiang 1999) and the price
elasticity of ticket demand per event category.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Scale:
    tenants: int
    venues_per_tenant: int
    customers_per_tenant: int


SCALES: dict[str, Scale] = {
    # tickets are an outcome, not a setting: ~100k, ~1M and ~10M with the truth below
    "small": Scale(tenants=2, venues_per_tenant=3, customers_per_tenant=10_000),
    "medium": Scale(tenants=4, venues_per_tenant=5, customers_per_tenant=50_000),
    "large": Scale(tenants=8, venues_per_tenant=6, customers_per_tenant=240_000),
}


@dataclass(frozen=True)
class BgNbd:
    """Purchase rate λ ~ Gamma(shape r, rate α) per day; after each *repeat* purchase a
    customer drops out with probability p ~ Beta(a, b), so the number of repeat purchases
    before dropout is Geometric(p) on 1, 2, … (not after the first purchase: that would be
    the MBG/NBD of Batislam et al. 2007, and BG/NBD fits on it are biased). Time unit: days
    (for weeks use α/7)."""

    r: float = 0.55
    alpha: float = 110.0
    a: float = 0.85
    b: float = 2.6


@dataclass(frozen=True)
class GammaGamma:
    """Intended spend per order z ~ Gamma(shape p, rate ν), ν ~ Gamma(shape q, rate γ), in
    currency units; E[z] = p·γ / (q − 1)."""

    p: float = 6.0
    q: float = 4.0
    gamma: float = 75.0


@dataclass(frozen=True)
class Truth:
    bgnbd: BgNbd = field(default_factory=BgNbd)
    gamma_gamma: GammaGamma = field(default_factory=GammaGamma)
    # total price elasticity of tickets sold, d log(tickets) / d log(price), per category
    elasticity: dict[str, float] = field(
        default_factory=lambda: {
            "concert": -1.1,
            "sports": -0.7,
            "theatre": -1.4,
            "comedy": -1.0,
            "family": -1.6,
        }
    )

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class WorldSpec:
    scale: str
    seed: int
    end: dt.date
    history_days: int = 730
    truth: Truth = field(default_factory=Truth)
    anomalies: bool = False  # known anomalies in the last 90 days (boxoffice.synth.anomalies)

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise ValueError(f"unknown scale {self.scale!r}; expected one of {', '.join(SCALES)}")
        if not 0 <= self.seed < 2**63:
            raise ValueError(f"seed must be a non-negative 64-bit integer, got {self.seed}")
        if self.history_days < 60:
            raise ValueError(f"history_days must be at least 60, got {self.history_days}")

    @property
    def start(self) -> dt.date:
        return self.end - dt.timedelta(days=self.history_days - 1)

    @property
    def sizes(self) -> Scale:
        return SCALES[self.scale]
