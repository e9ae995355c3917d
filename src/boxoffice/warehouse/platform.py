"""A platform's own PostgreSQL read through a mapping file, as the source contract's tables.

The mapping (YAML) names the platform and the environment variable that holds its connection
URL (never the URL itself: it may hold a password), and for each contract table where its rows
are and how each column is computed from them::

    name: marquee                       # the load's source in source.loads
    connection: MARQUEE_DATABASE_URL    # the environment variable with the URL
    tables:
      tickets:
        from: marquee.seats             # a platform table, or
        # query: select … from …        # any query the platform can run
        columns:                        # contract column: SQL expression over one row;
          price_cents: round(price * 100)::bigint   # a column not listed is read as the
          sold_at: bought at time zone tz           # platform column of the same name
        cursor: updated_at              # incremental: only rows with cursor >= the last mark
        deleted:                        # tombstones: the keys of rows deleted on the platform
          from: marquee.voided_seats
          columns: {ticket_id: ticket_no}
          cursor: voided_at

Every table is read in **one** repeatable-read, read-only transaction of the platform, so all
tables come from one snapshot; its session time zone is UTC. Each table's high-water mark (the
largest value of its cursor) is taken in that snapshot, and a later load reads the rows whose
cursor is at or after the mark the last successful load of this source recorded (at, so rows
that share the mark's value but committed after the snapshot are read; reading a row again
changes nothing). A row whose cursor is set in a transaction that commits after a later mark
was taken, with an older value, is missed until a ``--full`` load.

Each column's expression is converted to text by the platform (``COPY (select …) TO
STDOUT``) and streamed into the load's staging ``COPY``, so the contract's checks judge exactly
what the platform computed. A local time becomes an instant with ``AT TIME ZONE``, whose rule
for the hours a daylight-saving change makes ambiguous or skips is PostgreSQL's: an ambiguous
local time is read as standard time (the later instant: 01:30 on the night New York falls back
is 06:30 UTC), a skipped one with the offset in force before the change (02:30 on the night New
York springs forward is 07:30 UTC, 03:30 daylight time).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg
import yaml
from psycopg import sql

from boxoffice.warehouse import contract
from boxoffice.warehouse.sources import DELETED, Progress, Rows


@dataclass(frozen=True)
class Table:
    """Where one contract table's rows (or its tombstones) are on the platform: ``rows`` is a
    query (given as ``origin``: ``from`` or ``query``), ``columns`` contract column → SQL
    expression, ``cursor`` an expression or None, ``where`` its place in the mapping."""

    name: str
    rows: str
    origin: str
    columns: dict[str, str]
    cursor: str | None
    where: str
    mark: str  # its high-water mark's name: the table's, or ``<table>.deleted``


@dataclass(frozen=True)
class MappingFile:
    """A parsed mapping file."""

    path: Path
    name: str
    connection: str
    tables: dict[str, Table]  # contract table → its rows
    deleted: dict[str, Table]  # contract table → its tombstones (key columns)


def read_mapping(path: Path) -> MappingFile:
    """The mapping at ``path``; ValueError names the file and the key that is wrong."""
    try:
        given = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the mapping ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(given, dict):
        raise ValueError(f"{path}: a mapping file is a YAML mapping with name, connection, tables")
    _keys(path, "", given, required={"name", "connection", "tables"})
    for key in ("name", "connection"):
        if not isinstance(given[key], str) or not given[key].strip():
            raise ValueError(f"{path}: {key}: a non-empty string")
    if not isinstance(given["tables"], dict) or not given["tables"]:
        raise ValueError(f"{path}: tables: one entry per contract table")
    tables, deleted = {}, {}
    for name, spec in given["tables"].items():
        if name not in contract.BY_NAME:
            raise ValueError(
                f"{path}: tables.{name}: not a contract table ({', '.join(contract.BY_NAME)})"
            )
        target = contract.BY_NAME[name]
        columns = [c.name for c in target.columns]
        tables[name] = _table(path, f"tables.{name}", name, spec, columns, tombstones=False)
        if isinstance(spec, dict) and "deleted" in spec:
            key = [c.name for c in target.primary_key.columns]
            where = f"tables.{name}.deleted"
            deleted[name] = _table(path, where, name, spec["deleted"], key, tombstones=True)
    return MappingFile(path, given["name"], given["connection"], tables, deleted)


def _keys(path: Path, where: str, given: dict, required: set[str], optional=frozenset()) -> None:
    at = f"{where}: " if where else ""
    if missing := sorted(required - set(given)):
        raise ValueError(f"{path}: {at}missing {', '.join(missing)}")
    if unknown := sorted(set(given) - required - set(optional)):
        allowed = ", ".join(sorted(required | set(optional)))
        raise ValueError(f"{path}: {at}unknown key {', '.join(unknown)} (expected {allowed})")


def _table(path: Path, where: str, name: str, spec, columns: list[str], tombstones: bool) -> Table:
    if not isinstance(spec, dict):
        raise ValueError(f"{path}: {where}: a mapping with from or query, columns, cursor")
    optional = {"from", "query", "columns", "cursor"} | (set() if tombstones else {"deleted"})
    _keys(path, where, spec, set(), optional)
    if ("from" in spec) == ("query" in spec):
        raise ValueError(f"{path}: {where}: exactly one of from (a table) or query")
    rows = spec.get("query") or _all_of(path, where, spec["from"])
    given = spec.get("columns") or {}
    if not isinstance(given, dict) or not all(isinstance(e, str) for e in given.values()):
        raise ValueError(f"{path}: {where}.columns: contract column → SQL expression (text)")
    if unknown := [c for c in given if c not in columns]:
        raise ValueError(
            f"{path}: {where}.columns.{unknown[0]}: not a column of {name} ({', '.join(columns)})"
        )
    cursor = spec.get("cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise ValueError(f"{path}: {where}.cursor: an SQL expression (text)")
    expressions = {c: given.get(c, sql.Identifier(c).as_string()) for c in columns}
    origin = "query" if "query" in spec else "from"
    mark = name + (DELETED if tombstones else "")
    return Table(name, rows, origin, expressions, cursor, where, mark)


def _all_of(path: Path, where: str, name) -> str:
    """The query of every row of the table ``name`` (``table`` or ``schema.table``)."""
    parts = name.split(".") if isinstance(name, str) else []
    if not 1 <= len(parts) <= 2 or not all(parts):
        raise ValueError(f"{path}: {where}.from: a table name (table or schema.table)")
    return sql.SQL("select * from {}").format(sql.Identifier(*parts)).as_string()


@dataclass
class Snapshot:
    """What a platform load reads: ``tables`` and ``deletions`` (contract table → its rows,
    streamed from the platform while the snapshot is open) and the new high-water ``marks``."""

    tables: dict[str, Rows]
    deletions: dict[str, Rows]
    marks: dict[str, str]


@contextlib.contextmanager
def read(mapping: MappingFile, marks: Mapping[str, str], *, full: bool) -> Iterator[Snapshot]:
    """Open one snapshot of the platform and yield its rows: every row when ``full`` (or when
    a table has no cursor or no mark yet), else those whose cursor is at or after ``marks``
    (the last load's). ValueError names an unset variable, a platform that cannot be reached or
    refuses the login, and a mapping expression the platform cannot compute (its table and
    column)."""
    url = os.environ.get(mapping.connection)
    if not url:
        raise ValueError(
            f"{mapping.path}: connection: environment variable {mapping.connection} is not set"
            " (it holds the platform's database URL)"
        )
    try:
        conn = psycopg.connect(url, connect_timeout=10)
    except psycopg.Error as exc:
        raise ValueError(
            f"platform {mapping.name} ({mapping.connection}): cannot connect: {_first_line(exc)}"
        ) from None
    with conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        conn.execute("set time zone 'UTC'")
        conn.execute("set datestyle = 'ISO, YMD'")
        given = [*mapping.tables.values(), *mapping.deleted.values()]
        for table in given:
            _probe(conn, mapping, table)
        new, since = {}, {}
        for table in given:
            if table.cursor is None:
                continue
            mark = table.mark
            top, kind = conn.execute(
                sql.SQL("select max({c})::text, pg_typeof(max({c}))::text from ({rows}) p").format(
                    c=sql.SQL(table.cursor), rows=sql.SQL(table.rows)
                )
            ).fetchone()
            if mark in marks and not full:
                since[mark] = sql.SQL("cast({} as {})").format(
                    sql.Literal(marks[mark]), sql.SQL(kind)
                )
            if top is not None or mark in marks:
                new[mark] = top if top is not None else marks[mark]
        yield Snapshot(
            {n: _rows(conn, mapping, t, since.get(t.mark)) for n, t in mapping.tables.items()},
            {n: _rows(conn, mapping, t, since.get(t.mark)) for n, t in mapping.deleted.items()},
            new,
        )


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _probe(conn: psycopg.Connection, mapping: MappingFile, table: Table) -> None:
    """Run the table's query, then each column's expression and the cursor, on no rows, so
    that what the platform lacks is named by its place in the mapping."""
    parts = [(table.origin, None)]
    parts += [(f"columns.{c}", e) for c, e in table.columns.items()]
    parts += [("cursor", table.cursor)] if table.cursor else []
    for where, expression in parts:
        query = sql.SQL("select {} from ({}) p limit 0").format(
            sql.SQL(expression) if expression else sql.SQL(""), sql.SQL(table.rows)
        )
        try:
            with conn.transaction():
                conn.execute(query)
        except psycopg.Error as exc:
            raise ValueError(
                f"{mapping.path}: {table.where}.{where}: the platform {mapping.name} cannot"
                f" compute it: {_first_line(exc)}"
            ) from None


def _rows(
    conn: psycopg.Connection, mapping: MappingFile, table: Table, since: sql.Composable | None
) -> Rows:
    columns = list(table.columns)
    select = sql.SQL("select {} from ({}) p").format(
        sql.SQL(", ").join(
            sql.SQL("({})::text as {}").format(sql.SQL(table.columns[c]), sql.Identifier(c))
            for c in columns
        ),
        sql.SQL(table.rows),
    )
    if since is not None:
        select += sql.SQL(" where ({}) >= {}").format(sql.SQL(table.cursor), since)
    statement = sql.SQL("copy ({}) to stdout (format csv)").format(select)

    origin = f"platform {mapping.name}, {table.where}"

    def write(copy, progress: Progress) -> None:
        done = 0
        for data in _copied_out(conn, statement, origin):
            copy.write(data)
            done += len(data)
            progress(done)

    return Rows(tuple(columns), origin, write, None, "B")


def _copied_out(conn: psycopg.Connection, statement: sql.Composable, origin: str) -> Iterator:
    """The platform's ``COPY … TO STDOUT`` data; its errors (a value an expression cannot
    convert, the platform gone) are ValueErrors naming ``origin``."""
    try:
        with conn.cursor() as cur, cur.copy(statement) as out:
            yield from out
    except psycopg.Error as exc:
        raise ValueError(f"{origin}: {_first_line(exc)}") from None
