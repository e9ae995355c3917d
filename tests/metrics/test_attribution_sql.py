"""Attribution inputs read from ``source`` and the stored split, on the hand-made world of
test_sales_sql (orders o1–o6) with campaign touches added; expectations by hand.

Run date 2026-03-08, a 7-day window: orders created in UTC [03-02, 03-09) are o4 (c1,
03-08 09:30, 6000 cents of tickets; fees excluded) and o5 (c2, 03-08 10:30, 7000).

| touch | customer | campaign | when (UTC)        | for o4 (30-day lookback)                 |
|-------|----------|----------|-------------------|------------------------------------------|
| k1    | c1       | winter   | 2026-02-01 09:30  | read (window − 30 days) but 35 days old  |
| k2    | c1       | promo    | 2026-03-05 09:30  | 3 days before                            |
| k3    | c1       | spring   | 2026-03-07 09:30  | 1 day before                             |
| k4    | c1       | late     | 2026-03-08 10:00  | after the order                          |
| k5    | c1       | future   | 2026-03-09 00:00  | after the run's date: not read           |

c2 has no touch: o5's 7000 go to "(none)" in every model.
Time decay (half-life 7 days): spring ∝ 2^(−1/7), promo ∝ 2^(−3/7); spring's share
1 / (1 + 2^(−2/7)) = 0.549349…, of 6000 = 3296.096 → 3296 cents, promo 2703.904 → 2704.
"""

import datetime as dt

import polars as pl
import pytest

from boxoffice import metrics, privacy
from boxoffice.warehouse import (
    bulk,
    engine,
    read_attribution,
    read_attribution_inputs,
    write_partitions,
)
from boxoffice.warehouse import schema as s
from tests.conftest import TEST_PII_KEY
from tests.metrics.test_sales_sql import C1, T, oid, tiny_world, ts

AS_OF = dt.date(2026, 3, 8)
TOUCHES = [  # touch, campaign, channel, when
    (1, "winter", "email", "2026-02-01 09:30"),
    (2, "promo", "social", "2026-03-05 09:30"),
    (3, "spring", "email", "2026-03-07 09:30"),
    (4, "late", "display", "2026-03-08 10:00"),
    (5, "future", "display", "2026-03-09 00:00"),
]


@pytest.fixture
def touched(tiny_world):
    frame = pl.DataFrame(
        {
            "tenant_id": T,
            "touch_id": [f"77777777-7777-4777-8777-{n:012d}" for n, *_ in TOUCHES],
            "customer_id": C1,
            "channel": [ch for _, _, ch, _ in TOUCHES],
            "campaign": [c for _, c, _, _ in TOUCHES],
            "touched_at": [ts(w) for *_, w in TOUCHES],
        }
    )
    with engine.connect() as conn:
        engine.set_tenant(conn, T)
        bulk.copy_frame(conn, s.campaign_touches, frame)
    return T


def test_inputs_are_the_windows_orders_and_their_customers_touches(touched):
    orders, touches = read_attribution_inputs(as_of=AS_OF, tenant=T, days=7)
    key = privacy.customer_key(C1, TEST_PII_KEY.encode())
    assert sorted(orders.select("order_id", "revenue_cents").rows()) == sorted(
        [(oid(4), 6000), (oid(5), 7000)]
    )
    assert orders.filter(pl.col("order_id") == oid(4))["customer_key"].to_list() == [key]
    assert sorted(touches["campaign"]) == ["late", "promo", "spring", "winter"]
    assert set(touches["customer_key"]) == {key}


def test_each_model_splits_the_windows_revenue_by_hand(touched):
    orders, touches = read_attribution_inputs(as_of=AS_OF, tenant=T, days=7)
    split = metrics.attribution.campaign_attribution(orders, touches)
    got = {
        model: dict(rows.select("campaign", "revenue_cents").rows())
        for (model,), rows in split.partition_by("model", as_dict=True).items()
    }
    none = {"(none)": 7000}
    assert got == {
        "first_touch": {"promo": 6000, **none},
        "last_touch": {"spring": 6000, **none},
        "linear": {"promo": 3000, "spring": 3000, **none},
        "time_decay": {"spring": 3296, "promo": 2704, **none},
        "position_based": {"promo": 3000, "spring": 3000, **none},
    }
    write_partitions(s.attribution, {T: split}, as_of=AS_OF)
    stored = read_attribution(as_of=AS_OF, tenant=T)
    totals = stored.group_by("model").agg(pl.col("revenue_cents").sum(), pl.col("share").sum())
    assert set(totals["revenue_cents"]) == {13_000}
    assert totals["share"].to_list() == pytest.approx([1.0] * 5)
    linear_promo = stored.filter((pl.col("model") == "linear") & (pl.col("campaign") == "promo"))
    assert linear_promo.select("channel", "orders", "lookback_days").rows() == [("social", 0.5, 30)]


def test_bad_windows_are_refused(touched):
    with pytest.raises(ValueError, match="days ≥ 1"):
        read_attribution_inputs(as_of=AS_OF, tenant=T, days=0)


__all__ = ["tiny_world"]  # the fixture, imported for pytest
