"""``sales-aggregates``: hourly and daily tickets and revenue per venue, event, channel and
ticket type in the venue's local time, and the customer activity days behind distinct-customer
counts, kept current — only the days whose tickets changed since the last run are recomputed
(a tenant's first run, or ``full``, rebuilds all); then the run's venue and event dimensions.
Definitions: ``docs/metrics.md``."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from boxoffice import metrics, warehouse
from boxoffice.tasks import context
from boxoffice.tasks.base import Outcome, Task
from boxoffice.warehouse import facts, schema


@dataclass(frozen=True)
class Params:
    full: bool = False  # rebuild every day instead of the changed ones
    sessions: int = 2  # database sessions refreshing tenants at once (the work is PostgreSQL's)

    def __post_init__(self) -> None:
        if self.sessions < 1:
            raise ValueError(f"need sessions ≥ 1, got {self.sessions}")


def refresh(run: context.RunContext, params: Params) -> list[warehouse.Refreshed]:
    return warehouse.refresh_sales(run.tenants, full=params.full, sessions=params.sessions)


def refreshed(outcome: Outcome) -> pl.DataFrame:
    """What the refresh did, one row per tenant: full or incremental, days and rows."""
    done = outcome.prepared
    return pl.DataFrame(
        {
            "tenant": [r.tenant for r in done],
            "mode": [r.mode for r in done],
            "days recomputed": [None if r.days is None else len(r.days) for r in done],
            **{table: [r.rows.get(table, 0) for r in done] for table, _ in facts.REFRESH},
        }
    )


TASK = Task(
    name="sales-aggregates",
    params=Params,
    reads=(
        "source.tickets",
        "source.orders",
        "source.events",
        "source.venues",
        "source.tenants",
        "source.ticket_changes",
    ),
    loads=(*(table for table, _ in facts.REFRESH), "analytics.sales_refresh"),
    writes=(schema.venues_dim, schema.events_dim),
    prepare=refresh,
    queries=lambda params: metrics.sales.dimension_queries(),
    finish=refreshed,
)
