"""A hand-made tenant for the alert tests: one venue in UTC, one event, ``sold[day]`` tickets
at noon of each day."""

import datetime as dt

import polars as pl

from boxoffice import metrics, warehouse
from boxoffice.tasks.alerts import TASK
from boxoffice.tasks.context import RunContext

T = "11111111-1111-4111-8111-111111111111"
V = "22222222-2222-4222-8222-222222222222"
E = "33333333-3333-4333-8333-333333333333"
C = "44444444-4444-4444-8444-444444444444"
D = dt.date(2026, 10, 14)  # a Wednesday; a week earlier: October 7


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def tenant(
    sold: dict[dt.date, int], *, starts: dt.date | None = None, scanned: int = 0
) -> dict[str, pl.DataFrame]:
    """One tenant with a venue in UTC and one event at noon of ``starts`` (30 days after D
    unless given); ``sold[day]`` tickets sold at noon that day, one order each, the first
    ``scanned`` of them scanned at the door."""
    days = [d for d, n in sorted(sold.items()) for _ in range(n)]
    orders = [f"55555555-5555-4555-8555-{i:012d}" for i in range(len(days))]
    starts_at = noon(starts or D + dt.timedelta(days=30))
    scans = [starts_at - dt.timedelta(hours=1) if i < scanned else None for i in range(len(days))]
    return {
        "tenants": pl.DataFrame({"tenant_id": [T], "name": ["Harbor"], "created_at": [noon(D)]}),
        "venues": pl.DataFrame(
            {"tenant_id": [T], "venue_id": [V], "name": ["Hall"], "city": ["X"],
             "timezone": ["UTC"], "capacity": [1000]}
        ),
        "events": pl.DataFrame(
            {"tenant_id": [T], "event_id": [E], "venue_id": [V], "name": ["Gala"],
             "category": ["concert"], "on_sale_at": [noon(D - dt.timedelta(days=60))],
             "starts_at": [starts_at], "capacity": [1000],
             "base_price_cents": [5000]}
        ),
        "customers": pl.DataFrame(
            {"tenant_id": [T], "customer_id": [C], "email": ["a@example.com"],
             "full_name": ["Ann"], "created_at": [noon(D - dt.timedelta(days=60))]}
        ),
        "orders": pl.DataFrame(
            {"tenant_id": T, "order_id": orders, "customer_id": C, "channel": "web",
             "created_at": [noon(d) for d in days]}
        ),
        "tickets": pl.DataFrame(
            {"tenant_id": T, "ticket_id": [o.replace("5555", "6666") for o in orders],
             "order_id": orders, "event_id": E, "price_cents": 5000, "fee_cents": 0,
             "ticket_type": "standard", "sold_at": [noon(d) for d in days],
             "status": ["scanned" if s else "sold" for s in scans], "refunded_at": None,
             "scanned_at": scans},
            schema_overrides={"refunded_at": pl.Datetime("us", "UTC"),
                              "scanned_at": pl.Datetime("us", "UTC")},
        ),
    }  # fmt: skip


def judge(as_of: dt.date, rules_path, now: dt.datetime | None = None) -> dict:
    """The alerts task on ``as_of`` with the rules of ``rules_path``; ``now``: the clock."""
    warehouse.refresh_sales([T])
    warehouse.replace_partitions(metrics.sales.dimension_queries(), as_of=as_of, tenants=[T])
    params = TASK.configure({"rules": str(rules_path)})
    result = TASK.prepare(RunContext(as_of=as_of, tenants=(T,)), params, now=now)
    return result[T]
