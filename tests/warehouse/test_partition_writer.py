"""partition_writer: frames written on a background connection, committed together or not at
all — as the pipeline role, so row-level security checks every row."""

from __future__ import annotations

import datetime as dt
import uuid

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from boxoffice.warehouse import partition_writer, read_frame, schema, write_partitions

AS_OF = dt.date(2026, 10, 31)
A, B = str(uuid.UUID(int=0xA)), str(uuid.UUID(int=0xB))


def segments(customers: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "segment": ["Champions", "Lost"],
            "customers": [customers, 1],
            "revenue": [100.0, 2.0],
            "purchases": [3, 1],
            "average_order_value": [33.0, 2.0],
            "share_of_customers": [0.75, 0.25],
            "share_of_revenue": [0.98, 0.02],
        }
    )


def models(estimate: float) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "model": ["bgnbd"],
            "param": ["r"],
            "estimate": [estimate],
            "std_error": [0.1],
            "log_likelihood": [-10.0],
            "n_customers": [4],
            "converged": [True],
        }
    )


def stored(table: str, tenant: str) -> pl.DataFrame:
    return read_frame(
        f"select * from analytics.{table} where as_of = $1 order by 3",
        [AS_OF],
        tenant=tenant,
    ).drop("tenant_id", "as_of")


@pytest.fixture
def db(migrated_db):
    write_partitions(schema.customer_segments, {A: segments(3), B: segments(3)}, as_of=AS_OF)
    return migrated_db


def test_everything_written_commits_together(db):
    with partition_writer(as_of=AS_OF) as writer:
        for tenant, n in ((A, 7), (B, 8)):
            writer.write(schema.customer_segments, tenant, segments(n))
            writer.write(schema.customer_models, tenant, models(n / 10))
    assert writer.written == {"analytics.customer_segments": 4, "analytics.customer_models": 2}
    assert_frame_equal(stored("customer_segments", A), segments(7), check_dtypes=False)
    assert_frame_equal(stored("customer_segments", B), segments(8), check_dtypes=False)
    assert_frame_equal(stored("customer_models", B), models(0.8), check_dtypes=False)


def test_a_failure_in_the_block_writes_nothing(db):
    failure = pytest.raises(RuntimeError, match="model did not converge")
    with failure, partition_writer(as_of=AS_OF) as writer:
        writer.write(schema.customer_segments, A, segments(7))
        raise RuntimeError("model did not converge")
    assert_frame_equal(stored("customer_segments", A), segments(3), check_dtypes=False)


def test_a_bad_frame_fails_the_block_and_writes_nothing(db):
    failure = pytest.raises(ValueError, match=r"customer_segments: .* lacks \['revenue'\]")
    with failure, partition_writer(as_of=AS_OF) as writer:
        writer.write(schema.customer_segments, A, segments(7))
        writer.write(schema.customer_segments, B, segments(8).drop("revenue"))
        for _ in range(10):  # the failure surfaces in write() or when the block ends
            writer.write(schema.customer_models, A, models(0.1))
    assert_frame_equal(stored("customer_segments", A), segments(3), check_dtypes=False)
    assert stored("customer_models", A).is_empty()


def test_a_tenant_that_is_not_a_uuid_is_refused_at_once(db):
    failure = pytest.raises(ValueError, match="tenant must be a UUID")
    with failure, partition_writer(as_of=AS_OF) as writer:
        writer.write(schema.customer_segments, "venue-1", segments(7))
