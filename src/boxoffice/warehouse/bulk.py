"""Bulk movement between PostgreSQL and polars — never row by row.

- :func:`copy_frame` streams a DataFrame into a table with ``COPY ... FROM STDIN (FORMAT csv)``
  inside the caller's transaction (so a failed load leaves nothing behind);
- :func:`read_frame` reads a query through ADBC (Arrow end to end), the fastest path measured
  (``docs/stack.md``), scoped to a role and a tenant, on a connection kept for the next read
  (opening one costs ~85 ms: a backend start and the driver's type catalogue).
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import uuid
from collections.abc import Sequence

import polars as pl
import pyarrow as pa
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.engine import Connection

from boxoffice.warehouse.engine import (
    Role,
    WarehouseError,
    database_url,
    libpq_url,
    parse_tenant,
    session_parameters,
    statement_timeout_error,
)

COPY_CHUNK_ROWS = 100_000


def _qualified(table: sa.Table | str) -> tuple[sql.Composable, list[str] | None]:
    if isinstance(table, sa.Table):
        return sql.Identifier(table.schema, table.name) if table.schema else sql.Identifier(
            table.name
        ), [c.name for c in table.columns]
    return sql.Identifier(*table.split(".")), None


def copy_frame(
    conn: Connection, table: sa.Table | str, frame: pl.DataFrame, *, freeze: bool = False
) -> int:
    """COPY ``frame`` into ``table`` (``schema.name`` or a :class:`~sqlalchemy.Table`) over
    ``conn``'s transaction and return the number of rows written.

    Columns are matched by name; a frame column the table lacks is an error, a table column the
    frame lacks gets its default. Nulls are written as NULL, empty strings as empty strings.
    ``freeze`` writes rows already frozen (no later vacuum work); PostgreSQL allows it only when
    the table was created or truncated in the same transaction.
    """
    target, known = _qualified(table)
    if known is not None and (extra := sorted(set(frame.columns) - set(known))):
        raise ValueError(f"{table}: no such column(s) {extra}")
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in frame.columns)
    options = sql.SQL("format csv, freeze" if freeze else "format csv")
    statement = sql.SQL("copy {} ({}) from stdin ({})").format(target, columns, options)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(statement) as copy:
        for offset in range(0, frame.height, COPY_CHUNK_ROWS):
            buf = io.BytesIO()
            frame.slice(offset, COPY_CHUNK_ROWS).write_csv(
                buf, include_header=False, datetime_format="%Y-%m-%dT%H:%M:%S%.6f%z"
            )
            copy.write(buf.getbuffer())
    return frame.height


def drop_foreign_keys_and_secondary_indexes(conn: Connection) -> list[str]:
    """Bulk-loading practice (PostgreSQL manual, "Populating a Database"): drop the source
    schema's foreign keys and non-unique indexes for the load and return the DDL that recreates
    them — one validating join per key instead of a lookup per row (for ``boxoffice synth``'s
    world and a first load into an empty ``source``). All inside the caller's transaction, so
    nobody ever sees the tables without them."""
    rows = conn.execute(
        sa.text(
            """
            select format('alter table %s drop constraint %I', c.conrelid::regclass, c.conname),
                   format('alter table %s add constraint %I %s', c.conrelid::regclass, c.conname,
                          pg_get_constraintdef(c.oid))
            from pg_constraint c join pg_namespace n on n.oid = c.connamespace
            where n.nspname = 'source' and c.contype = 'f'
            union all
            select format('drop index %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)
            from pg_index i join pg_class t on t.oid = i.indrelid
            join pg_namespace n on n.oid = t.relnamespace
            where n.nspname = 'source' and not i.indisunique
            """
        )
    ).all()
    for drop, _ in rows:
        conn.execute(sa.text(drop))
    indexes_first = sorted((create for _, create in rows), key=lambda ddl: "foreign key" in ddl)
    return indexes_first


def read_frame(
    query: str,
    params: Sequence[object] | None = None,
    *,
    role: Role = "pipeline",
    tenant: str | uuid.UUID | None = None,
) -> pl.DataFrame:
    """Run ``query`` (positional parameters ``$1, $2, ...``) and return a polars DataFrame.

    As ``role`` and, when given, scoped to ``tenant`` (set with a bound ``set_config`` before the
    query runs). ``uuid`` columns arrive as canonical strings, ``numeric`` as Float64,
    ``json``/``jsonb`` as strings.
    """
    import adbc_driver_postgresql.dbapi as adbc

    url = libpq_url(database_url(role), session_parameters(role))
    conn = _IDLE.take(url)
    scope = ["" if tenant is None else str(parse_tenant(tenant))]
    try:
        if conn is not None:
            try:  # a kept connection may have died (server restart): its first call tells
                _set_tenant(conn, scope)
            except adbc.Error:
                _IDLE.discard(conn)
                conn = None
        if conn is None:
            conn = _connect(adbc, url, role)
            _set_tenant(conn, scope)
        with conn.cursor() as cur:
            cur.execute(query, parameters=list(params) if params is not None else None)
            table = cur.fetch_arrow_table()
    except BaseException as exc:
        if conn is not None:
            _IDLE.discard(conn)
        if isinstance(exc, adbc.OperationalError) and "statement timeout" in str(exc):
            raise statement_timeout_error(role) from exc
        raise
    _IDLE.give(url, conn)
    return _to_polars(table)


def _connect(adbc, url: str, role: Role):
    try:
        return adbc.connect(url, autocommit=True)
    except adbc.Error as exc:
        raise WarehouseError(f"cannot connect as {role}: {str(exc).splitlines()[0]}") from exc


def _set_tenant(conn, scope: list[str]) -> None:
    with conn.cursor() as cur:
        cur.execute("select set_config('app.tenant_id', $1, false)", parameters=scope)
        cur.fetchall()


class _Idle:
    """ADBC connections not in use, per URL, for the next read of this process. Each is
    autocommit (no transaction outlives a read) and gets its tenant set again by every read.
    Before a fork they are closed, so that no child shares a parent's socket."""

    KEEP = 4  # per URL: the threads of a dashboard kernel that read at once

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[str, list] = {}
        os.register_at_fork(
            before=self._before_fork,
            after_in_parent=lambda: self._lock.release(),
            after_in_child=self._after_fork_in_child,
        )

    def take(self, url: str):
        """A kept connection to ``url``, or None."""
        with self._lock:
            kept = self._idle.get(url)
            return kept.pop() if kept else None

    def give(self, url: str, conn) -> None:
        with self._lock:
            kept = self._idle.setdefault(url, [])
            if len(kept) < self.KEEP:
                kept.append(conn)
                return
        conn.close()

    @staticmethod
    def discard(conn) -> None:
        with contextlib.suppress(Exception):  # a dead connection may fail to close: it is gone
            conn.close()

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        for kept in self._idle.values():
            for conn in kept:
                self.discard(conn)
        self._idle.clear()

    def _before_fork(self) -> None:
        self._lock.acquire()
        self._close()

    def _after_fork_in_child(self) -> None:
        self._lock = threading.Lock()


_IDLE = _Idle()


def close_idle() -> None:
    """Close the connections kept for the next read (``engine.dispose_all`` does)."""
    _IDLE.close()


def _to_polars(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table.cast(_plain_schema(table.schema)))
    fixes = [
        _uuid_text(pl.col(f.name)) if _pg_type(f) == "uuid" else pl.col(f.name).cast(pl.Float64)
        for f in table.schema
        if _pg_type(f) in ("uuid", "numeric")
    ]
    return frame.with_columns(fixes) if fixes else frame


def _pg_type(field: pa.Field) -> str | None:
    meta = field.metadata or {}
    value = meta.get(b"POSTGRESQL:type")
    return value.decode() if value else None


def _plain_schema(schema: pa.Schema) -> pa.Schema:
    """Replace Arrow extension types polars does not know by their plain storage."""
    fields = []
    for f in schema:
        pg = _pg_type(f)
        if pg == "uuid":
            f = f.with_type(pa.binary(16))
        elif pg == "numeric" or pg in ("json", "jsonb"):
            f = f.with_type(pa.string())
        fields.append(f)
    return pa.schema(fields)


def _uuid_text(col: pl.Expr) -> pl.Expr:
    return dashed_uuid(col.bin.encode("hex"))


def dashed_uuid(hex32: pl.Expr) -> pl.Expr:
    """32 hex digits → the canonical 8-4-4-4-12 UUID text."""
    parts = [hex32.str.slice(a, b - a) for a, b in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))]
    return pl.concat_str(parts, separator="-")
