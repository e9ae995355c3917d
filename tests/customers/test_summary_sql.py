"""The warehouse's summary (SQL inside PostgreSQL) equals the polars one on the same purchases,
and the rfm task's partitions agree with it."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from boxoffice import customers, warehouse
from boxoffice.customers.summary import TIME_UNITS

AS_OF = dt.date(2026, 10, 31)


@pytest.fixture
def tenant(built_world, monkeypatch, home):
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", built_world["url"])
    return built_world["manifest"]["tenants"][0]["tenant_id"]


@pytest.mark.parametrize("unit", ["D", "W"])
def test_sql_summary_equals_the_polars_summary(tenant, unit):
    days = warehouse.read_frame(
        "select customer_key, local_date, gross_cents from analytics.customer_days"
        " where local_date <= $1",
        [AS_OF],
        tenant=tenant,
    )
    expected = customers.summarize_customers(
        days, as_of=AS_OF, time_unit=unit, date_col="local_date", value_col="gross_cents"
    )
    got = warehouse.read_customer_summary(as_of=AS_OF, tenant=tenant, period_days=TIME_UNITS[unit])
    assert got.height == days["customer_key"].n_unique() > 1000
    assert_frame_equal(got, expected, check_dtypes=False)


def test_rfm_partition_matches_the_summary(tenant):
    summary = warehouse.read_customer_summary(as_of=AS_OF, tenant=tenant)
    stored = warehouse.read_frame(
        "select * from analytics.customer_rfm where as_of = $1 order by customer_key",
        [AS_OF],
        tenant=tenant,
    )
    expected = customers.score_rfm(summary)
    assert_frame_equal(
        stored.drop("tenant_id", "as_of"), expected, check_dtypes=False, check_column_order=False
    )
    stored_summary = warehouse.read_scored_summary(as_of=AS_OF, tenant=tenant)
    assert_frame_equal(stored_summary, summary, check_dtypes=False)
    segments = warehouse.read_customer_segments(as_of=AS_OF, tenant=tenant)
    assert segments["customers"].sum() == summary.height
    assert segments["share_of_revenue"].sum() == pytest.approx(1.0)
    assert segments["revenue"].sum() == pytest.approx(summary["total_value"].sum())
    assert set(segments["segment"]) <= set(customers.SEGMENTS)
    assert pl.Series(stored["segment"]).null_count() == 0
