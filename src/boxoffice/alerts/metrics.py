"""The metrics an alert rule can watch, each defined once (``docs/metrics.md`` has the same
definitions, checked against these by a test).

A metric is a value per day and scope. Days are the venue's local days, as in
``analytics.sales_daily``; a scope is the tenant, a venue, an event category or an event.
"""

from __future__ import annotations

from dataclasses import dataclass

SCOPES = ("tenant", "venue", "category", "event")


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    scopes: tuple[str, ...]
    definition: str


METRICS = {
    m.name: m
    for m in (
        Metric(
            "net_revenue",
            "cents",
            SCOPES,
            "gross ticket revenue of the tickets sold in the window minus the refunds made in "
            "it (price without fees), by the local day of the event's venue",
        ),
        Metric("tickets", "tickets", SCOPES, "tickets sold in the window"),
        Metric("orders", "orders", SCOPES, "orders with at least one ticket sold in the window"),
        Metric(
            "refund_rate",
            "ratio",
            SCOPES,
            "tickets refunded in the window / tickets sold in the window",
        ),
        Metric(
            "average_order_value",
            "cents",
            SCOPES,
            "gross ticket revenue of the window / orders of the window",
        ),
        Metric(
            "conversion_rate",
            "ratio",
            ("tenant",),
            "purchases / sessions of the window's behaviour events (analytics.funnel_daily)",
        ),
        Metric(
            "sales_velocity",
            "ratio",
            ("event",),
            "an upcoming event's tickets sold in the window / the tickets its pickup forecast "
            "expected in it",
        ),
        Metric(
            "scan_rate",
            "ratio",
            ("event",),
            "on the event's day: tickets scanned / tickets held (sold and not refunded)",
        ),
        Metric(
            "dead_letters",
            "events",
            ("tenant",),
            "behaviour events rejected by the ingest in the window (raw.dead_letters)",
        ),
    )
}
