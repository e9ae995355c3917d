"""Daily series per scope from the sales facts, the pickup forecasts and the conversion
funnel, computed by hand."""

import datetime as dt

import polars as pl
import pytest

from boxoffice.alerts.evaluate import judge
from boxoffice.alerts.rules import Rule
from boxoffice.alerts.series import SALES, funnel_series, sales_series, velocity_series

D1, D2 = dt.date(2026, 10, 13), dt.date(2026, 10, 14)


def facts(rows: list[tuple], keys: list[str]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["local_date", *keys, *SALES], orient="row")


SALES_DAILY = facts(
    [  # local_date, venue, channel, tickets, gross, refunded, refund, net, orders
        (D1, "v1", "web", 3, 300, 0, 0, 300, 2),
        (D1, "v1", "mobile", 1, 100, 1, 100, 0, 1),
        (D1, "v2", "web", 2, 400, 0, 0, 400, 1),
        (D2, "v2", "web", 5, 1000, 0, 0, 1000, 3),
    ],
    ["venue_id", "channel"],
)
EVENT_SALES = facts(
    [  # the same sales by event: e1 (concert, v1), e2 and e3 (comedy, v2)
        (D1, "e1", 4, 400, 1, 100, 300, 3),
        (D1, "e2", 2, 400, 0, 0, 400, 1),
        (D2, "e2", 3, 600, 0, 0, 600, 2),
        (D2, "e3", 2, 400, 0, 0, 400, 1),
    ],
    ["event_id"],
)
EVENTS = pl.DataFrame({"event_id": ["e1", "e2", "e3"], "category": ["concert", "comedy", "comedy"]})


def series(scope: str) -> list[tuple]:
    out = sales_series(SALES_DAILY, EVENT_SALES, EVENTS, scope, "T")
    return out.select("scope_key", "date", "tickets_sold", "net_cents", "orders").rows()


def test_a_series_per_scope_sums_its_days():
    assert series("tenant") == [("T", D1, 6, 700, 4), ("T", D2, 5, 1000, 3)]
    assert series("venue") == [("v1", D1, 4, 300, 3), ("v2", D1, 2, 400, 1), ("v2", D2, 5, 1000, 3)]
    assert series("category") == [
        ("comedy", D1, 2, 400, 1),
        ("comedy", D2, 5, 1000, 3),
        ("concert", D1, 4, 300, 3),
    ]
    assert series("event")[0] == ("e1", D1, 4, 300, 3)


def test_a_rule_on_a_venue_series():
    # average order value over both days: v1 = 400 / 3 = 133.3; v2 = 1400 / 4 = 350
    rule = Rule(
        "aov", "threshold", metric="average_order_value", scope="venue", window=2, below=200
    )
    daily = sales_series(SALES_DAILY, EVENT_SALES, EVENTS, "venue", "T")
    judged = judge(daily, rule, D2)
    assert judged.select("scope_key", "value", "breached").rows() == [
        ("v1", 400 / 3, True),
        ("v2", 350.0, False),
    ]


def test_sales_velocity_is_pickup_against_the_pickup_forecast_of_the_day_before():
    """Upcoming concert U (start 03-20) held 10 on 03-10 and sold 5 on 03-11. Its pool: P1
    (start 02-20; 30 held 10 days out, 36 nine days out) and P2 (start 03-05; 10, then 12).
    For 03-11, from 03-10 (10 days out): additive 10 + (6 + 2)/2 = 14, multiplicative
    10 · 48/40 = 12; leave one out, additive errors 4 and 4, multiplicative P1 30 · 12/10 = 36
    and P2 10 · 36/30 = 12, both exact: multiplicative, 12, so 2 expected and 5 picked up.
    For 03-12, from 03-11 (9 days out, held 15): the pool held the same 8 days out, no pickup
    is expected and none came. Over both days: 5 / 2 = 2.5. S (sports) has no pool."""
    d = dt.date
    sales = pl.DataFrame(
        [
            (d(2026, 1, 11), "P1", 30, 0),
            (d(2026, 2, 11), "P1", 6, 0),
            (d(2026, 2, 21), "P2", 10, 0),
            (d(2026, 2, 24), "P2", 2, 0),
            (d(2026, 3, 1), "U", 10, 0),
            (d(2026, 3, 11), "U", 5, 0),
            (d(2026, 3, 11), "S", 40, 0),
        ],
        schema=["local_date", "event_id", "tickets_sold", "refunded_tickets"],
        orient="row",
    )
    events = pl.DataFrame(
        [
            ("P1", "v", "concert", d(2026, 2, 20), 100),
            ("P2", "v", "concert", d(2026, 3, 5), 100),
            ("U", "v", "concert", d(2026, 3, 20), 100),
            ("S", "v", "sports", d(2026, 3, 25), 500),
        ],
        schema=["event_id", "venue_id", "category", "start_date", "capacity"],
        orient="row",
    )
    days = [d(2026, 3, 11), d(2026, 3, 12)]
    frame = velocity_series(sales, events, days, min_events=2)
    assert frame.rows() == [("U", days[0], 5.0, pytest.approx(2.0)), ("U", days[1], 0.0, 0.0)]
    rule = Rule("slow", "threshold", metric="sales_velocity", scope="event", window=2, below=3)
    judged = judge(frame, rule, days[1])
    assert judged.select("scope_key", "value", "breached").rows() == [
        ("U", pytest.approx(2.5), True)
    ]


def test_conversion_is_the_tenants_purchases_over_its_sessions():
    funnel = pl.DataFrame(
        {
            "day": [D1, D1, D2],
            "channel": ["web", "mobile", "web"],
            "sessions": [100, 50, 80],
            "event_views": [60, 30, 40],
            "carts": [20, 10, 10],
            "checkouts": [10, 5, 5],
            "purchases": [6, 3, 2],
        }
    )
    frame = funnel_series(funnel, "T")
    assert frame.rows() == [("T", D1, 150, 9), ("T", D2, 80, 2)]
    rule = Rule("conv", "threshold", metric="conversion_rate", window=2, below=0.05)
    # (9 + 2) / (150 + 80) = 0.0478
    assert judge(frame, rule, D2).select("value", "breached").rows() == [
        (pytest.approx(11 / 230), True)
    ]
