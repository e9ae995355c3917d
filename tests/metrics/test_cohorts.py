"""Cohort retention on a hand-made frame, expected shares by hand."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from boxoffice.metrics.cohorts import cohort_retention

d = dt.date
DAYS = pl.DataFrame(
    {
        "customer_key": ["a", "a", "a", "b", "b", "c", "d", "d", "e"],
        "local_date": [
            d(2026, 1, 5), d(2026, 1, 20), d(2026, 3, 2),  # a: January cohort, back in March
            d(2026, 1, 31), d(2026, 2, 1),  # b: January cohort, back in February
            d(2026, 1, 15),  # c: January, never again
            d(2026, 2, 10), d(2026, 3, 31),  # d: February cohort, back in March
            d(2026, 4, 1),  # e: after as_of — ignored
        ],
    }
)  # fmt: skip


def test_retention_by_hand():
    got = cohort_retention(DAYS, d(2026, 3, 31)).select(
        "cohort", "months_since", "customers", "active", "share", "complete"
    )
    assert got.rows() == [
        (d(2026, 1, 1), 0, 3, 3, 1.0, True),
        (d(2026, 1, 1), 1, 3, 1, 1 / 3, True),  # b
        (d(2026, 1, 1), 2, 3, 1, 1 / 3, True),  # a
        (d(2026, 2, 1), 0, 1, 1, 1.0, True),
        (d(2026, 2, 1), 1, 1, 1, 1.0, True),  # d on 31 March: as_of ends March
    ]


def test_the_month_of_as_of_is_partial_and_later_purchases_are_ignored():
    got = cohort_retention(DAYS, d(2026, 3, 15))
    march = got.filter(pl.col("month") == d(2026, 3, 1))
    assert not march["complete"].any()
    # d's purchase of 31 March is after as_of: the February cohort is not back in March yet
    assert march.filter(pl.col("cohort") == d(2026, 2, 1))["active"].to_list() == [0]
    assert got.filter(pl.col("month") < d(2026, 3, 1))["complete"].all()


def test_no_purchases_give_an_empty_frame():
    assert cohort_retention(DAYS, d(2025, 12, 31)).is_empty()


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="local_date"):
        cohort_retention(DAYS.drop("local_date"), d(2026, 3, 31))
