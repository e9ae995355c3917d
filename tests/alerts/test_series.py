"""Daily series per scope from the sales facts, summed by hand."""

import datetime as dt

import polars as pl

from boxoffice.alerts.evaluate import judge
from boxoffice.alerts.rules import Rule
from boxoffice.alerts.series import SALES, sales_series

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
