"""Replace ``(tenant, as_of)`` partitions of analytics tables — idempotent, all or nothing:
from SQL (:func:`replace_partitions`) or from polars frames (:func:`write_partitions`).

Every analytics table is keyed by ``(tenant_id, as_of, ...)``. A task replaces its partitions:
delete the ``(tenant, as_of)`` rows, insert the query's rows, for every tenant, in **one
transaction** as the pipeline role with the tenant set (so RLS checks every row written). The
same ``as_of`` twice gives the same tables; a failure leaves the previous partitions untouched.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
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
    with engine.connect("pipeline") as conn:
        written = sum(_replace(conn, table, t, frame, as_of) for t, frame in frames.items())
        engine.set_tenant(conn, None)
    return written


class PartitionWriter:
    """Writes frames as :func:`write_partitions` does, in one transaction on its own
    connection and thread, while the caller computes the next tenant (PostgreSQL and Python
    then use a core each). Use it through :func:`partition_writer`."""

    def __init__(self, as_of: dt.date, backlog: int = 2) -> None:
        self.as_of = as_of
        self.written: dict[str, int] = {}
        self._queue: queue.Queue = queue.Queue(maxsize=backlog)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="partition-writer", daemon=True)

    def write(self, table: sa.Table, tenant: str | uuid.UUID, frame: pl.DataFrame) -> None:
        """Queue ``frame`` as ``tenant``'s partition of ``table`` (waits while ``backlog``
        frames are queued); raises the writer's error if it has failed."""
        engine.parse_tenant(tenant)
        while True:
            self._raise_if_failed()
            try:
                self._queue.put((table, tenant, frame), timeout=0.1)
                return
            except queue.Full:
                continue

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        try:
            with engine.connect("pipeline") as conn:
                while (item := self._queue.get()) is not _DONE:
                    if item is _ABORT:
                        raise _Aborted
                    table, tenant, frame = item
                    name = f"{table.schema}.{table.name}"
                    rows = _replace(conn, table, tenant, frame, self.as_of)
                    self.written[name] = self.written.get(name, 0) + rows
                engine.set_tenant(conn, None)
        except _Aborted:
            pass
        except BaseException as exc:  # reported to the caller by write() and on exit
            self._error = exc
            while self._queue.get() not in (_DONE, _ABORT):  # unblock the caller
                pass


_DONE, _ABORT = object(), object()


class _Aborted(Exception):
    pass


@contextmanager
def partition_writer(*, as_of: dt.date) -> Iterator[PartitionWriter]:
    """A :class:`PartitionWriter` for ``as_of``: everything written inside the ``with`` block
    commits together when it ends, or nothing does if the block or a write fails."""
    writer = PartitionWriter(as_of)
    writer._thread.start()
    try:
        yield writer
    except BaseException:
        writer._queue.put(_ABORT)
        writer._thread.join()
        raise
    writer._queue.put(_DONE)
    writer._thread.join()
    writer._raise_if_failed()


def _replace(
    conn: sa.Connection, table: sa.Table, tenant: str | uuid.UUID, frame: pl.DataFrame, as_of
) -> int:
    """Replace ``tenant``'s ``as_of`` partition of ``table`` with ``frame`` on ``conn``."""
    name = f"{table.schema}.{table.name}"
    columns = [c.name for c in table.columns]
    tenant_id = engine.parse_tenant(tenant)
    if missing := sorted(set(columns) - {"tenant_id", "as_of"} - set(frame.columns)):
        raise ValueError(f"{name}: the frame for {tenant_id} lacks {missing}")
    staging = f"staging_{table.name}"
    conn.execute(
        sa.text(f"create temporary table if not exists {staging} (like {name}) on commit drop")
    )
    engine.set_tenant(conn, tenant_id)
    conn.execute(sa.delete(table).where(table.c.tenant_id == tenant_id, table.c.as_of == as_of))
    conn.execute(sa.text(f"truncate {staging}"))
    rows = frame.with_columns(
        pl.lit(str(tenant_id)).alias("tenant_id"), pl.lit(as_of).alias("as_of")
    ).select(columns)
    copy_frame(conn, staging, rows)
    move = f"insert into {name} select * from {staging}"  # noqa: S608 (names from metadata)
    return conn.execute(sa.text(move)).rowcount
