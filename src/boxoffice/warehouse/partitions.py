"""Replace ``(tenant, as_of)`` partitions of analytics tables — idempotent, all or nothing:
from SQL (:func:`replace_partitions`) or from polars frames (:func:`write_partitions`).

Every analytics table is keyed by ``(tenant_id, as_of, ...)``. A task replaces its partitions:
delete the ``(tenant, as_of)`` rows, insert the query's rows, for every tenant, in **one
transaction** as the pipeline role with the tenant set (so RLS checks every row written). The
same ``as_of`` twice gives the same tables; a failure leaves the previous partitions untouched.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl
import sqlalchemy as sa

from boxoffice.warehouse import engine
from boxoffice.warehouse.bulk import copy_frame


@dataclass(frozen=True)
class PartitionQuery:
    """``sql`` selects the rows of ``table``'s partition, in the table's column order, with the
    bound parameters ``:tenant``, ``:as_of`` and ``params``."""

    table: sa.Table
    sql: str
    params: Mapping[str, object] = field(default_factory=dict)


def replace_partitions(
    queries: Sequence[PartitionQuery],
    *,
    as_of: dt.date,
    tenants: Sequence[str | uuid.UUID],
) -> dict[str, int]:
    """Replace each query's ``(tenant, as_of)`` partition for every tenant; return rows written
    per table (``schema.table``), summed over tenants."""
    written = {f"{q.table.schema}.{q.table.name}": 0 for q in queries}
    with engine.connect("pipeline") as conn:
        for tenant in tenants:
            tenant_id = engine.parse_tenant(tenant)
            engine.set_tenant(conn, tenant_id)
            for q in queries:
                name = f"{q.table.schema}.{q.table.name}"
                conn.execute(
                    sa.delete(q.table).where(
                        q.table.c.tenant_id == tenant_id, q.table.c.as_of == as_of
                    )
                )
                columns = ", ".join(c.name for c in q.table.columns)
                insert = sa.text(f"insert into {name} ({columns}) {q.sql}")
                params = {"tenant": str(tenant_id), "as_of": as_of, **q.params}
                written[name] += conn.execute(insert, params).rowcount
        engine.set_tenant(conn, None)
    return written


def write_partitions(
    table: sa.Table,
    frames: Mapping[str | uuid.UUID, pl.DataFrame],
    *,
    as_of: dt.date,
) -> int:
    """Replace the ``(tenant, as_of)`` partition of ``table`` with ``frames[tenant]`` for each
    tenant, all in one transaction as the pipeline role; return the rows written.

    A frame holds the table's columns except ``tenant_id`` and ``as_of``. PostgreSQL refuses
    ``COPY`` into a table under row-level security, so rows are COPYed into a temporary
    staging table and moved with ``INSERT … SELECT``, where RLS checks every row.
    """
    name = f"{table.schema}.{table.name}"
    columns = [c.name for c in table.columns]
    staging = f"staging_{table.name}"
    written = 0
    with engine.connect("pipeline") as conn:
        conn.execute(sa.text(f"create temporary table {staging} (like {name}) on commit drop"))
        for tenant, frame in frames.items():
            tenant_id = engine.parse_tenant(tenant)
            if missing := sorted(set(columns) - {"tenant_id", "as_of"} - set(frame.columns)):
                raise ValueError(f"{name}: the frame for {tenant_id} lacks {missing}")
            engine.set_tenant(conn, tenant_id)
            conn.execute(
                sa.delete(table).where(table.c.tenant_id == tenant_id, table.c.as_of == as_of)
            )
            conn.execute(sa.text(f"truncate {staging}"))
            rows = frame.with_columns(
                pl.lit(str(tenant_id)).alias("tenant_id"), pl.lit(as_of).alias("as_of")
            ).select(columns)
            copy_frame(conn, staging, rows)
            move = f"insert into {name} select * from {staging}"  # noqa: S608 (names from metadata)
            written += conn.execute(sa.text(move)).rowcount
        engine.set_tenant(conn, None)
    return written
