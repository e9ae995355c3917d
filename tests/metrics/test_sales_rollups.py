"""Roll-ups, growth, KPIs and channel mix on a hand-made daily frame, expected by hand."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from boxoffice.metrics import sales

d = dt.date
V1, V2 = "v1", "v2"
# (local day, venue, channel, tickets, gross, refund, orders); 2026-03-01 is a Sunday
ROWS = [
    (d(2026, 2, 23), V1, "web", 2, 10_000, 0, 1),  # Monday of ISO week 9
    (d(2026, 3, 1), V1, "web", 1, 5_000, 0, 1),  # Sunday: still week 9, but March
    (d(2026, 3, 2), V1, "mobile", 4, 20_000, 5_000, 2),  # Monday of week 10
    (d(2026, 3, 2), V2, "web", 1, 8_000, 0, 1),
    (d(2026, 3, 20), V2, "partner", 3, 9_000, 0, 1),  # week 12; week 11 sold nothing
]
SALES = pl.DataFrame(
    {
        "local_date": [r[0] for r in ROWS],
        "venue_id": [r[1] for r in ROWS],
        "channel": [r[2] for r in ROWS],
        "tickets_sold": [r[3] for r in ROWS],
        "gross_cents": [r[4] for r in ROWS],
        "refund_cents": [r[5] for r in ROWS],
        "net_cents": [r[4] - r[5] for r in ROWS],
        "orders": [r[6] for r in ROWS],
    }
)
DAYS = pl.DataFrame(
    {
        "local_date": [d(2026, 2, 23), d(2026, 3, 1), d(2026, 3, 2), d(2026, 3, 2), d(2026, 3, 20)],
        "venue_id": [V1, V1, V1, V2, V2],
        "customer_key": ["a", "a", "b", "a", "c"],
    }
)


def test_weeks_are_iso_and_months_are_calendar():
    weeks = sales.rollup(SALES, "week")
    assert weeks.select("period", "tickets_sold", "net_cents").rows() == [
        (d(2026, 2, 23), 3, 15_000),
        (d(2026, 3, 2), 5, 23_000),
        (d(2026, 3, 16), 3, 9_000),
    ]
    months = sales.rollup(SALES, "month")
    assert months.select("period", "net_cents", "orders").rows() == [
        (d(2026, 2, 1), 10_000, 1),
        (d(2026, 3, 1), 37_000, 5),
    ]
    assert sales.rollup(SALES, "day", venue_id=V2)["net_cents"].to_list() == [8_000, 9_000]


def test_growth_against_the_previous_period_fills_quiet_periods():
    weekly = sales.growth(sales.rollup(SALES, "week"), "week")
    assert weekly.select("period", "net_cents", "net_growth", "tickets_growth").rows() == [
        (d(2026, 2, 23), 15_000, None, None),
        (d(2026, 3, 2), 23_000, 23_000 / 15_000 - 1, 5 / 3 - 1),
        (d(2026, 3, 9), 0, -1.0, -1.0),  # nothing sold in week 11
        (d(2026, 3, 16), 9_000, None, None),  # from zero: no ratio
    ]


def test_kpis_against_the_previous_period_of_equal_length():
    k = {
        r["metric"]: r
        for r in sales.kpis(SALES, DAYS, d(2026, 3, 2), d(2026, 3, 8)).iter_rows(named=True)
    }
    # this week: 23,000 net, 5 tickets, customers a and b, 28,000 gross / 3 orders
    # the week before (23 Feb – 1 Mar): 15,000 net, 3 tickets, customer a, 15,000 / 2 orders
    assert (k["revenue"]["value"], k["revenue"]["previous"]) == (23_000, 15_000)
    assert k["revenue"]["change"] == pytest.approx(23_000 / 15_000 - 1)
    assert (k["tickets"]["value"], k["customers"]["value"], k["customers"]["previous"]) == (5, 2, 1)
    assert k["average_order_value"]["value"] == pytest.approx(28_000 / 3)
    assert k["average_order_value"]["previous"] == pytest.approx(15_000 / 2)


def test_channel_mix_shares():
    mix = sales.channel_mix(SALES, d(2026, 3, 1), d(2026, 3, 31))
    assert mix.select("channel", "net_cents").rows() == [
        ("mobile", 15_000),
        ("web", 13_000),
        ("partner", 9_000),
    ]
    assert mix["share"].to_list() == pytest.approx([15 / 37, 13 / 37, 9 / 37])


def test_empty_periods_give_zeros_not_errors():
    assert sales.rollup(SALES, "week", start=d(2025, 1, 1), end=d(2025, 1, 31)).is_empty()
    assert sales.growth(sales.rollup(SALES.clear(), "week"), "week").is_empty()
    k = sales.kpis(SALES, DAYS, d(2025, 1, 1), d(2025, 1, 7))
    assert k["value"].to_list()[:3] == [0.0, 0.0, 0.0] and k["change"].null_count() == 4


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sales.rollup(SALES, "quarter"), "unknown granularity 'quarter'"),
        (lambda: sales.growth(sales.rollup(SALES, "week"), "hour"), "unknown granularity"),
        (lambda: sales.rollup(SALES, "day", start=d(2026, 3, 9), end=d(2026, 3, 1)), "inverted"),
        (lambda: sales.kpis(SALES, DAYS, d(2026, 3, 9), d(2026, 3, 1)), "inverted"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()
