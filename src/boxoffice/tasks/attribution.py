"""``attribution``: the revenue of the orders of the last ``days`` days split over the campaign
touches of the ``lookback_days`` before each order, under five models (first touch, last
touch, linear, time decay with ``half_life_days``, position based 40/20/40). Orders without a
touch go to "(none)": every model adds up to the orders' revenue, to the cent. Definitions:
``docs/metrics.md``, "Attribution"."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from boxoffice import metrics
from boxoffice.tasks.base import Scope, Task
from boxoffice.warehouse import reads, schema


@dataclass(frozen=True)
class Params:
    days: int = 90  # orders of the days ending as_of
    lookback_days: int = 30  # touches up to this many days before an order count
    half_life_days: float = 7.0  # time decay: a touch this much older counts half

    def __post_init__(self) -> None:
        if self.days < 1 or self.lookback_days < 0 or self.half_life_days <= 0:
            raise ValueError(
                "need days ≥ 1, lookback_days ≥ 0 and half_life_days > 0, got"
                f" {self.days}, {self.lookback_days} and {self.half_life_days}"
            )


def per_tenant(scope: Scope, params: Params) -> dict:
    orders, touches = scope.read(
        reads.read_attribution_inputs, days=params.days, lookback_days=params.lookback_days
    )
    attributed = metrics.attribution.campaign_attribution(
        orders, touches, lookback_days=params.lookback_days, half_life_days=params.half_life_days
    )
    totals = attributed.group_by("model").agg(pl.col("revenue_cents").sum()).sort("model")
    return {"analytics.attribution": attributed, "totals": totals}


TASK = Task(
    name="attribution",
    params=Params,
    reads=("source.orders", "source.tickets", "source.campaign_touches"),
    writes=(schema.attribution,),
    per_tenant=per_tenant,
)
