"""Reconciliation of event counts, by hand: a low-volume day and purchases against orders."""

from __future__ import annotations

import datetime as dt
import uuid

import polars as pl
import pytest
import sqlalchemy as sa

from boxoffice.monitoring.reconciliation import flagged_days, reconciliation_query
from boxoffice.warehouse import engine, replace_partitions
from tests.ingest.conftest import TENANT_A, TENANT_B, rows

AS_OF = dt.date(2026, 10, 20)
CUSTOMER = "3f0c8b1e-7c2a-4c1e-9b8e-2a7d5c4e1f00"


def _counts(conn, type_: str, counts: dict[int, int]) -> None:
    for day, n in counts.items():
        conn.execute(
            sa.text("insert into raw.event_day_counts values (:t, :d, :type, :n, :b, now())"),
            {"t": TENANT_A, "d": dt.date(2026, 10, day), "type": type_, "n": n, "b": uuid.uuid4()},
        )


def _orders(conn, *orders: tuple[str, str]) -> None:
    conn.execute(
        sa.text("insert into source.customers values (:t, :c, 'x@example.com', 'X', now())"),
        {"t": TENANT_A, "c": CUSTOMER},
    )
    for created_at, channel in orders:
        conn.execute(
            sa.text("insert into source.orders values (:t, :o, :c, :ch, :at)"),
            {"t": TENANT_A, "o": uuid.uuid4(), "c": CUSTOMER, "ch": channel, "at": created_at},
        )


@pytest.fixture
def reconciled(db):
    with engine.connect("owner") as conn:
        _counts(conn, "page_view", {d: 10 for d in range(11, 19)} | {19: 7, 20: 8})
        _counts(conn, "purchase", {18: 5, 20: 4})
        _orders(
            conn,
            *[(f"2026-10-18T1{i}:00:00Z", "web") for i in range(4)],
            ("2026-10-18T15:00:00Z", "mobile"),
            ("2026-10-18T16:00:00Z", "box_office"),  # no web session: not expected as an event
            ("2026-10-18T17:00:00Z", "partner"),
            *[(f"2026-10-19T1{i}:00:00Z", "web") for i in range(3)],
            ("2026-10-19T23:30:00-02:00", "web"),  # 20 October in UTC
            ("2026-10-20T10:00:00Z", "mobile"),
            ("2026-10-21T10:00:00Z", "web"),  # after as_of
        )
    written = replace_partitions(
        [reconciliation_query(days=3)], as_of=AS_OF, tenants=[TENANT_A, TENANT_B]
    )
    assert written == {"analytics.event_reconciliation": 6}  # B has sent no events: no rows
    return rows(
        "select day, type, events, rolling_mean_7d, orders, low_volume, orders_mismatch"
        " from analytics.event_reconciliation order by day, type"
    )


def test_low_volume_and_orders_mismatch_by_hand(reconciled):
    d = dt.date
    assert reconciled == [
        (d(2026, 10, 18), "page_view", 10, 10.0, None, False, False),
        (d(2026, 10, 18), "purchase", 5, 0.0, 5, False, False),
        # 7 < 0.8 × mean(12..18) = 8
        (d(2026, 10, 19), "page_view", 7, 10.0, None, True, False),
        # no purchase event for 3 online orders: |0 - 3| > max(2, 0.02 × 3)
        (d(2026, 10, 19), "purchase", 0, pytest.approx(5 / 7), 3, True, True),
        # 8 >= 0.8 × 67 / 7 = 7.66; purchases |4 - 2| = 2 is within the tolerance of 2
        (d(2026, 10, 20), "page_view", 8, pytest.approx(67 / 7), None, False, False),
        (d(2026, 10, 20), "purchase", 4, pytest.approx(5 / 7), 2, False, False),
    ]


def test_no_mean_before_seven_days_of_history(db):
    with engine.connect("owner") as conn:
        _counts(conn, "search", {15: 10, 16: 10, 17: 1})
    replace_partitions([reconciliation_query(days=10)], as_of=AS_OF, tenants=[TENANT_A])
    flagged = rows(
        "select day, rolling_mean_7d from analytics.event_reconciliation"
        " where type = 'search' and (low_volume or rolling_mean_7d is not null)"
    )
    # the first day with 7 days of history is the 22nd: nothing before it has a mean
    assert flagged == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": 0}, "days must be at least 1"),
        ({"threshold": 1.5}, "threshold must be in"),
        ({"tolerance": -0.1}, "must not be negative"),
    ],
)
def test_invalid_parameters_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        reconciliation_query(**kwargs)


def test_flagged_days_are_the_low_or_mismatched_ones(reconciled):
    frame = pl.DataFrame(
        reconciled,
        schema=[
            "day",
            "type",
            "events",
            "rolling_mean_7d",
            "orders",
            "low_volume",
            "orders_mismatch",
        ],
        orient="row",
    )
    assert flagged_days(frame).select("day", "type").rows() == [
        (dt.date(2026, 10, 19), "page_view"),
        (dt.date(2026, 10, 19), "purchase"),
    ]
