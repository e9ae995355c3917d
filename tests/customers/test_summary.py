"""Customer summaries by hand: days and weeks, same-day purchases, purchases after as_of."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from boxoffice.customers.summary import summarize_customers

D = dt.date
AS_OF = D(2026, 1, 31)  # a Saturday; its week starts on Monday 26 January


@pytest.fixture
def transactions() -> pl.DataFrame:
    rows = [
        ("a", D(2026, 1, 1), 100),  # Thursday
        ("a", D(2026, 1, 1), 50),  # same day: one occasion worth 150
        ("a", D(2026, 1, 11), 200),  # Sunday
        ("a", D(2026, 1, 21), 300),  # Wednesday
        ("a", D(2026, 2, 15), 999),  # after as_of: ignored
        ("b", D(2026, 1, 30), 80),
        ("c", D(2025, 12, 29), 10),  # Monday
        ("c", D(2026, 1, 4), 20),  # Sunday of the same week
    ]
    return pl.DataFrame(rows, schema=["customer_key", "date", "value"], orient="row")


def _rows(frame: pl.DataFrame) -> list[tuple]:
    return [tuple(r) for r in frame.iter_rows()]


def test_daily_summary(transactions):
    summary = summarize_customers(transactions, as_of=AS_OF)
    assert summary.columns == [
        "customer_key", "frequency", "recency", "T", "monetary_value",
        "purchases", "total_value", "days_since_last",
    ]  # fmt: skip
    assert _rows(summary) == [
        # freq, recency, T, monetary (mean of repeats), purchases, total, days since last
        ("a", 2, 20.0, 30.0, 250.0, 3, 650.0, 10),
        ("b", 0, 0.0, 1.0, 0.0, 1, 80.0, 1),
        ("c", 1, 6.0, 33.0, 20.0, 2, 30.0, 27),
    ]


def test_weekly_summary(transactions):
    summary = summarize_customers(transactions, as_of=AS_OF, time_unit="W")
    assert _rows(summary) == [
        # a: weeks of 29 Dec, 5 Jan, 19 Jan; as_of in the week of 26 Jan (4 weeks after 29 Dec)
        ("a", 2, 3.0, 4.0, 250.0, 3, 650.0, 10),
        ("b", 0, 0.0, 0.0, 0.0, 1, 80.0, 1),
        ("c", 0, 0.0, 4.0, 0.0, 1, 30.0, 27),  # both purchases in one week: one occasion
    ]


def test_datetimes_count_by_their_date(transactions):
    timed = transactions.with_columns(
        pl.col("date").cast(pl.Datetime("us")) + pl.duration(hours=23)
    )
    assert summarize_customers(timed, as_of=AS_OF).equals(
        summarize_customers(transactions, as_of=AS_OF)
    )


def test_nothing_before_as_of_gives_an_empty_summary(transactions):
    assert summarize_customers(transactions, as_of=D(2020, 1, 1)).height == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"time_unit": "M"}, "time_unit must be one of"),
        ({"value_col": "amount"}, r"lacks column\(s\) \['amount'\]"),
    ],
)
def test_bad_arguments_are_refused(transactions, kwargs, message):
    with pytest.raises(ValueError, match=message):
        summarize_customers(transactions, as_of=AS_OF, **kwargs)
