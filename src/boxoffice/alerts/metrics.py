"""The metrics an alert rule can watch, each defined once (``docs/metrics.md`` has the same
definitions, checked against these by a test).

A metric is a value per day and scope. Days are the venue's local days, as in
``analytics.sales_daily``; a scope is the tenant, a venue, a sales channel, an event category
or an event.
"""

from __future__ import annotations

from dataclasses import dataclass

SCOPES = ("tenant", "venue", "channel", "category", "event")


@dataclass(frozen=True)
class Metric:
    """``numerator`` (and ``denominator``, for a ratio) name the daily columns it is summed
    from over a window: the value is Σ numerator / Σ denominator, or Σ numerator; ``kinds``,
    the kinds of rule that can judge it."""

    name: str
    unit: str
    scopes: tuple[str, ...]
    definition: str
    numerator: str
    denominator: str | None = None
    kinds: tuple[str, ...] = ("threshold", "change", "anomaly")


METRICS = {
    m.name: m
    for m in (
        Metric(
            "net_revenue",
            "cents",
            SCOPES,
            "gross ticket revenue of the tickets sold in the window minus the refunds made in "
            "it (price without fees), by the local day of the event's venue",
            "net_cents",
        ),
        Metric("tickets", "tickets", SCOPES, "tickets sold in the window", "tickets_sold"),
        Metric(
            "orders",
            "orders",
            SCOPES,
            "orders with at least one ticket sold in the window",
            "orders",
        ),
        Metric(
            "refunds",
            "tickets",
            SCOPES,
            "tickets refunded in the window (on the refund's day, whenever they were sold)",
            "refunded_tickets",
        ),
        Metric(
            "refund_rate",
            "ratio",
            SCOPES,
            "tickets refunded in the window / tickets sold in the window",
            "refunded_tickets",
            "tickets_sold",
        ),
        Metric(
            "average_order_value",
            "cents",
            SCOPES,
            "gross ticket revenue of the window / orders of the window",
            "gross_cents",
            "orders",
        ),
        Metric(
            "conversion_rate",
            "ratio",
            ("tenant",),
            "purchases / sessions of the window's behaviour events (analytics.funnel_daily: UTC "
            "days)",
            "purchases",
            "sessions",
        ),
        Metric(
            "sales_velocity",
            "ratio",
            ("event",),
            "an upcoming event's tickets picked up in the window (held: sold − refunded) / the "
            "pickup its pickup forecast expected, each day's expectation made the day before",
            "picked_up",
            "expected_pickup",
        ),
        Metric(
            "scan_rate",
            "ratio",
            ("event",),
            "on the event's day: tickets scanned / tickets held (sold and not refunded)",
            "scanned",
            "held",
            kinds=("threshold",),  # one day per event: nothing to compare it with
        ),
        Metric(
            "dead_letters",
            "events",
            ("tenant",),
            "behaviour events claiming the tenant that the ingest rejected in the window "
            "(raw.dead_letter: UTC days of receipt)",
            "dead_letters",
        ),
    )
}
