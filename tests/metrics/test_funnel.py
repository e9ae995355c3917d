"""The conversion funnel: sessions counted step by step from ingested events (SQL, by hand),
and step and overall conversion from counts (polars, by hand)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from boxoffice.metrics.funnel import funnel_query, funnel_steps
from boxoffice.warehouse import read_frame, replace_partitions
from tests.ingest.conftest import TENANT_A, db, event, run  # noqa: F401 (db: a fixture)

AS_OF = dt.date(2026, 10, 15)
FUNNEL = ["page_view", "event_view", "add_to_cart", "checkout_started", "purchase"]


def session(name: str, steps: list[str], *, start: str = "2026-10-15T10:00:00Z", **data):
    """One session's events, a minute apart, in the order given."""
    t0 = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
    return [
        event(step, session_id=name, time=(t0 + dt.timedelta(minutes=i)).isoformat(), **data)
        for i, step in enumerate(steps)
    ]


def test_sessions_are_counted_step_by_step(db):  # noqa: F811 (the ingest tests' fixture)
    run(
        *session("bought", FUNNEL),  # all the way
        *session("left-at-checkout", FUNNEL[:4]),
        *session("browsed", ["page_view", "search"]),
        *session("cart-without-page", ["page_view", "add_to_cart"]),  # skipped a step: no cart
        *session("mobile-cart", FUNNEL[:3], channel="mobile"),
        # starts before midnight (UTC), buys after: a session of 14 October
        *session("night", FUNNEL, start="2026-10-14T23:58:00Z"),
        *session("too-old", FUNNEL, start="2026-07-01T12:00:00Z"),  # outside a 30-day window
    )
    replace_partitions([funnel_query(days=30)], as_of=AS_OF, tenants=[TENANT_A])
    rows = read_frame(
        "select day, channel, sessions, event_views, carts, checkouts, purchases"
        " from analytics.funnel_daily where as_of = $1 order by day, channel",
        [AS_OF],
        tenant=TENANT_A,
    )
    assert rows.rows() == [
        (dt.date(2026, 10, 14), "web", 1, 1, 1, 1, 1),
        (dt.date(2026, 10, 15), "mobile", 1, 1, 1, 0, 0),
        (dt.date(2026, 10, 15), "web", 4, 2, 2, 2, 1),
    ]


COUNTS = pl.DataFrame(
    {
        "day": [dt.date(2026, 10, 14), dt.date(2026, 10, 15), dt.date(2026, 10, 15)],
        "channel": ["web", "mobile", "web"],
        "sessions": [100, 50, 150],
        "event_views": [60, 20, 90],
        "carts": [20, 10, 30],
        "checkouts": [10, 5, 15],
        "purchases": [8, 2, 10],
    }
)


def test_step_and_overall_conversion_by_hand():
    steps = funnel_steps(COUNTS, dt.date(2026, 10, 14), dt.date(2026, 10, 15))
    # 300 sessions → 170 event page → 60 carts → 30 checkouts → 20 purchases
    assert steps["sessions"].to_list() == [300, 170, 60, 30, 20]
    assert steps["step_conversion"].to_list() == [None, 170 / 300, 60 / 170, 30 / 60, 20 / 30]
    assert steps["overall_conversion"].to_list() == [1.0, 170 / 300, 60 / 300, 30 / 300, 20 / 300]
    assert steps["drop_off"][4] == pytest.approx(1 / 3)
    web = funnel_steps(COUNTS, dt.date(2026, 10, 15), dt.date(2026, 10, 15), channel="web")
    assert web["sessions"].to_list() == [150, 90, 30, 15, 10]


def test_a_period_without_sessions_has_zeros_and_no_ratios():
    steps = funnel_steps(COUNTS, dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert steps["sessions"].to_list() == [0, 0, 0, 0, 0]
    assert steps["overall_conversion"].null_count() == 5


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: funnel_steps(COUNTS, dt.date(2026, 10, 15), dt.date(2026, 10, 1)), "inverted"),
        (lambda: funnel_steps(COUNTS.drop("carts"), AS_OF, AS_OF), "carts"),
        (lambda: funnel_query(days=0), "at least 1"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()
