"""Reads of analytics partitions into polars, for reports (pipeline role) and dashboards (reader
role). Every read is scoped to one tenant by RLS; the queries only pick the partition."""

from __future__ import annotations

import datetime as dt
import uuid

import polars as pl

from boxoffice.warehouse.bulk import read_frame
from boxoffice.warehouse.engine import Role

Tenant = str | uuid.UUID


def _partition(query: str, as_of: dt.date, tenant: Tenant, role: Role) -> pl.DataFrame:
    """``query`` selects from one partition: ``$1`` is its as_of; RLS scopes it to ``tenant``."""
    return read_frame(query, [as_of], role=role, tenant=tenant)


def read_sales_daily(*, as_of: dt.date, tenant: Tenant, role: Role = "pipeline") -> pl.DataFrame:
    return _partition(
        "select * from analytics.sales_daily where as_of = $1"
        " order by local_date, venue_id, channel",
        as_of,
        tenant,
        role,
    )


def read_customer_days(*, as_of: dt.date, tenant: Tenant, role: Role = "pipeline") -> pl.DataFrame:
    return _partition(
        "select venue_id, local_date, customer_key from analytics.customer_days where as_of = $1",
        as_of,
        tenant,
        role,
    )


def read_venues(*, as_of: dt.date, tenant: Tenant, role: Role = "pipeline") -> pl.DataFrame:
    return _partition(
        "select venue_id, name, city, timezone, capacity, tenant_name from analytics.venues"
        " where as_of = $1 order by name",
        as_of,
        tenant,
        role,
    )


def latest_as_of(*, tenant: Tenant, role: Role = "reader") -> dt.date | None:
    """The newest run date with sales aggregates for ``tenant``, or None before any run."""
    frame = read_frame(
        "select max(as_of) as as_of from analytics.sales_daily", role=role, tenant=tenant
    )
    return frame["as_of"][0]


def list_tenants() -> pl.DataFrame:
    """Every tenant (id, name), read as the owner: the one cross-tenant read, to know whom to
    run the pipeline for."""
    return read_frame("select tenant_id, name from source.tenants order by name", role="owner")


def newest_sale_date() -> dt.date | None:
    """The newest local sale date over all tenants (owner), the latest ``as_of`` with data."""
    frame = read_frame(
        "select max((t.sold_at at time zone v.timezone)::date) as day from source.tickets t"
        " join source.events e using (tenant_id, event_id)"
        " join source.venues v using (tenant_id, venue_id)",
        role="owner",
    )
    return frame["day"][0]


# ------------------------------------------------------------------------- ingest operations
def read_batches(*, limit: int = 50) -> pl.DataFrame:
    """The newest ingest batches (platform-wide: a file may carry several tenants)."""
    return read_frame(
        "select batch_id, input_name, started_at, finished_at, received, stored, duplicates,"
        " rejected, late from raw.ingest_batches order by started_at desc limit $1",
        [limit],
    )


def read_dead_letter_reasons(*, since: dt.date) -> pl.DataFrame:
    """Rejected lines per UTC day of receipt and reason (``field: rule``), platform-wide."""
    return read_frame(
        "select (received_at at time zone 'UTC')::date as day, field || ': ' || rule as reason,"
        " count(*) as lines from raw.dead_letter where received_at >= $1::date"
        " group by 1, 2 order by 1, 3 desc",
        [since],
    )


def read_reconciliation(*, as_of: dt.date, tenant: Tenant, role: Role = "pipeline") -> pl.DataFrame:
    return _partition(
        "select day, type, events, rolling_mean_7d, orders, low_volume, orders_mismatch"
        " from analytics.event_reconciliation where as_of = $1 order by day, type",
        as_of,
        tenant,
        role,
    )
