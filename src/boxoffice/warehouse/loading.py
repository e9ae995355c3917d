"""A platform's rows checked against the source contract before anything is written.

Each table's rows are staged (``COPY``) as text, one temporary table per contract table with
the row's number in its file, and checked in PostgreSQL by rules derived from the contract
(:mod:`boxoffice.warehouse.contract`), so that the checks are the database's own:

- ``missing-column`` / ``unknown-column``: the file's columns against the table's;
- ``type``: a value PostgreSQL cannot read as the column's type (``pg_input_is_valid``), and
  a time without a UTC offset (an instant needs one);
- ``not-null``, ``allowed`` (:data:`contract.ALLOWED`), ``iana-zone`` (a name of PostgreSQL's
  time-zone database);
- every ``CHECK`` constraint of the table, by its name (e.g. ``money_non_negative``);
- ``unique-key``: two rows of the file with one key;
- ``reference``: a reference to a row in neither the file of its table nor ``source``;
- ``erased``: a customer forgotten with ``boxoffice forget`` (``source.erasures``): a load
  never brings one back.

:func:`load` checks and, when nothing is wrong, upserts every table by its key in the same
transaction (``insert … on conflict do update``, unchanged rows left alone), so the change
queue's triggers see exactly what changed; one problem refuses the whole load, unless
``quarantine`` sets the rows with problems aside in ``source.load_rejects``. Rows are deleted
by tombstones (``<table>.deleted``: the keys of the rows to delete) and, in a ``full`` load,
when their tenant's file lacks them; a deleted row that a kept row still refers to is a
problem (``still-referenced``). A first load into an empty ``source`` builds the foreign keys
and secondary indexes once, after the rows. Every load holds the pipeline's run lock and is
recorded in ``source.loads``.

A problem names its table, the row's number in its file, its key, the column and the rule;
values of personal-data columns are never shown.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import polars as pl
import psycopg
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.engine import Connection

from boxoffice import logs, privacy
from boxoffice.warehouse import bulk, contract, engine, runs, schema, sources
from boxoffice.warehouse.sources import DELETED, Bar, Rows

ROW = "_row"  # the staged row's number in its file (1: the first row after the header)
PERSONAL = {("customers", "email"), ("customers", "full_name")}
ZONES = {("venues", "timezone")}
PROBLEM_SCHEMA = {
    "table": pl.String,
    "row": pl.Int64,
    "key": pl.String,
    "column": pl.String,
    "rule": pl.String,
    "detail": pl.String,
}
# a time of day, then Z or ±hh[:mm] (``2026-01-01`` ends in what looks like an offset)
_OFFSET = r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)? ?([zZ]|[+-][0-9]{2}(:?[0-9]{2})?)$"


def check(
    conn: Connection,
    frames: Mapping[str, Rows | pl.DataFrame],
    deletions: Mapping[str, Rows | pl.DataFrame] | None = None,
    *,
    quarantine: bool = False,
    progress: Bar | None = None,
) -> pl.DataFrame:
    """Stage ``frames`` (contract table name → its rows, any column types) and ``deletions``
    (table → the keys of rows to delete) on ``conn`` and return every problem
    (:data:`PROBLEM_SCHEMA`), in contract order, then by row. With ``quarantine``, each
    table's rows with a problem are taken out of its staged rows before the tables that refer
    to it are checked (a ticket of a rejected order is rejected too). Nothing is written but
    the transaction's temporary tables."""
    frames, deletions = sources.as_rows(frames), sources.as_rows(deletions or {})
    if unknown := sorted((set(frames) | set(deletions)) - set(contract.BY_NAME)):
        raise ValueError(f"not a contract table: {', '.join(unknown)}")
    problems: list[dict] = []
    staged = []
    for table in contract.TABLES:
        for given, target in ((frames, table), (deletions, _tombstones(table))):
            if table.name not in given:
                continue
            if shape := _shape(target, given[table.name].columns):
                problems += shape
                continue
            rows = given[table.name]
            with progress(target.name, rows.total, rows.unit) if progress else _quiet() as done:
                _stage(conn, target, rows, done)
            staged.append(target)
    names = {t.name for t in staged}
    for table in staged:
        started = time.perf_counter()
        found = _row_problems(conn, table, names)
        if quarantine and table.name in contract.BY_NAME:
            _set_aside(conn, table, {p["row"] for p in found})
        problems += found
        logs.progress.info(
            "%s: %s rows checked, %s problem(s) (%.1f s)",
            table.name,
            f"{_count(conn, _stage_name(table)):,}",
            f"{len(found):,}",
            time.perf_counter() - started,
        )
    order = {t.name: i for i, t in enumerate(contract.TABLES)}
    problems.sort(
        key=lambda p: (
            order[p["table"].removesuffix(DELETED)],
            p["table"],
            p["row"] or 0,
            p["column"],
            p["rule"],
        )
    )
    return pl.DataFrame(problems, schema=PROBLEM_SCHEMA)


@contextlib.contextmanager
def _quiet() -> Iterator[sources.Progress]:
    yield lambda done: None


def _tombstones(table: sa.Table) -> sa.Table:
    """What a tombstone file of ``table`` holds: its key columns."""
    key = [sa.Column(c.name, c.type, primary_key=True) for c in table.primary_key.columns]
    return sa.Table(table.name + DELETED, sa.MetaData(), *key, info={"of": table})


def _shape(table: sa.Table, given: tuple[str, ...]) -> list[dict]:
    """The file's columns against the table's: missing ones, unknown ones, repeated ones."""
    columns = [c.name for c in table.columns]
    return (
        [
            _problem(table.name, None, None, c, "missing-column", "not in the file")
            for c in columns
            if c not in given
        ]
        + [
            _problem(table.name, None, None, c, "unknown-column", "not in the contract")
            for c in dict.fromkeys(given)
            if c not in columns
        ]
        + [
            _problem(table.name, None, None, c, "repeated-column", "more than once in the file")
            for c in sorted({c for c in given if given.count(c) > 1})
        ]
    )


def _set_aside(conn: Connection, table: sa.Table, rows: set[int]) -> None:
    """Take the rows numbered ``rows`` out of ``typed_<table>`` (kept in ``stage_<table>``)."""
    if rows:
        conn.connection.driver_connection.execute(
            sql.SQL("delete from {} where {} = any(%s)").format(
                _typed_name(table), sql.Identifier(ROW)
            ),
            [sorted(rows)],
        )


def _problem(*values) -> dict:
    """A problem from its table, row, key, column, rule and detail."""
    return dict(zip(PROBLEM_SCHEMA, values, strict=True))


def _temporary(kind: str, table: sa.Table) -> str:
    """The name of ``table``'s temporary ``kind`` table (``stage``, ``typed``, ``gone``)."""
    return f"{kind}_{table.name.replace('.', '_')}"


def _stage_name(table: sa.Table) -> sql.Identifier:
    return sql.Identifier(_temporary("stage", table))


def _typed_name(table: sa.Table) -> sql.Identifier:
    return sql.Identifier(_temporary("typed", table))


def _stage(conn: Connection, table: sa.Table, rows: Rows, progress: sources.Progress) -> None:
    """The rows as text in ``stage_<table>``, numbered in their order, and typed in
    ``typed_<table>``, where a value that does not parse as its column's type is null. A file
    PostgreSQL cannot read as CSV (a line with too many fields, bytes that are not UTF-8) is a
    ValueError naming it and the line."""
    columns = [c.name for c in table.columns]
    raw = conn.connection.driver_connection
    text_columns = sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in columns)
    raw.execute(
        sql.SQL(
            "create temporary table {} ({} bigint generated always as identity, {}) on commit drop"
        ).format(_stage_name(table), sql.Identifier(ROW), text_columns)
    )
    copy_sql = sql.SQL("copy {} ({}) from stdin (format csv{})").format(
        _stage_name(table),
        _names(list(rows.columns)),
        sql.SQL(", header true" if rows.header else ""),
    )
    try:
        with raw.cursor() as cur, cur.copy(copy_sql) as copy:
            rows.write(copy, progress)
    except psycopg.errors.DataError as exc:
        where = re.search(r"line (\d+)", exc.diag.context or "")
        line = f", line {where[1]}" if where else ""
        raise ValueError(f"{rows.origin}{line}: {exc.diag.message_primary}") from None
    casts = sql.SQL(", ").join(
        sql.SQL("case when pg_input_is_valid({c}, {t}) then cast({c} as {ty}) end as {c}").format(
            c=sql.Identifier(c.name),
            t=sql.Literal(contract.type_name(c)),
            ty=sql.SQL(contract.type_name(c)),
        )
        for c in table.columns
    )
    raw.execute(
        sql.SQL("create temporary table {} on commit drop as select {}, {} from {}").format(
            _typed_name(table), sql.Identifier(ROW), casts, _stage_name(table)
        )
    )


def _qualified(alias: str, names: list[str]) -> sql.Composable:
    qualified = (sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(n)) for n in names)
    return sql.SQL(", ").join(qualified)


def _names(names: list[str]) -> sql.Composable:
    return sql.SQL(", ").join(map(sql.Identifier, names))


def _found_in(
    alias: str, own: list[str], rows: sql.Composable, theirs: list[str] | None = None
) -> sql.Composable:
    """Whether row ``alias``'s ``own`` columns are the ``theirs`` columns (default: the same
    names) of one of ``rows``."""
    return sql.SQL("exists (select from {} x where ({}) = ({}))").format(
        rows, _qualified("x", theirs or own), _qualified(alias, own)
    )


# the SHA-256 of the customer's key, HMAC-SHA-256 of its id (boxoffice.privacy), from the pads
_KEY_SHA256 = sql.SQL(
    "encode(sha256(convert_to(encode(sha256(%(opad)s || sha256(%(ipad)s"
    " || convert_to(t.customer_id::text, 'UTF8'))), 'hex'), 'UTF8')), 'hex')"
)


class _Rules:
    """The rule queries of one staged table; each adds the rows it finds to ``found``. A rule
    of one row alone (:meth:`row`) waits for :meth:`run_row_rules`, which judges all of them
    in one pass over the rows; a rule over other rows (:meth:`add`) is a query of its own."""

    def __init__(self, conn: Connection, table: sa.Table) -> None:
        self.raw, self.table, self.found = conn.connection.driver_connection, table, []
        key = [c.name for c in table.primary_key.columns]
        self.key = sql.SQL("concat_ws('/', {})").format(_qualified("s", key))
        self.of_a_row: list[tuple[str, str, sql.Composable, sql.Composable]] = []

    def add(
        self,
        rule: str,
        column: str,
        where: sql.Composable,
        detail: sql.Composable,
        params: dict | None = None,
    ) -> None:
        query = sql.SQL("select s.{row}, {key}, {detail} from {rows} where {where}").format(
            row=sql.Identifier(ROW), key=self.key, detail=detail, rows=self._rows(), where=where
        )
        for row, key, text in self.raw.execute(query, params):
            self.found.append(_problem(self.table.name, row, key, column, rule, text))

    def row(self, rule: str, column: str, where: sql.Composable, detail: sql.Composable) -> None:
        self.of_a_row.append((rule, column, where, detail))

    def run_row_rules(self) -> None:
        """Every row rule in one scan: the rows breaking any, then which they break."""
        if not self.of_a_row:
            return
        query = sql.SQL(
            "select s.{row}, {key}, r.rule, r.column_name, r.detail from {rows},"
            " lateral (values {rules}) r(broken, rule, column_name, detail)"
            " where ({any}) and r.broken"
        ).format(
            row=sql.Identifier(ROW),
            key=self.key,
            rows=self._rows(),
            rules=sql.SQL(", ").join(
                sql.SQL("(({}), {}, {}, {})").format(w, sql.Literal(r), sql.Literal(c), d)
                for r, c, w, d in self.of_a_row
            ),
            any=sql.SQL(" or ").join(sql.SQL("({})").format(w) for _, _, w, _ in self.of_a_row),
        )
        for row, key, rule, column, text in self.raw.execute(query):
            self.found.append(_problem(self.table.name, row, key, column, rule, text))
        self.of_a_row = []

    def _rows(self) -> sql.Composable:
        return sql.SQL("{} s join {} t using ({})").format(
            _stage_name(self.table), _typed_name(self.table), sql.Identifier(ROW)
        )


def _row_problems(conn: Connection, table: sa.Table, staged: set[str]) -> list[dict]:
    rules = _Rules(conn, table)
    for column in table.columns:
        _column_rules(rules, column)
    if "of" not in table.info:
        for check in table.constraints:
            if isinstance(check, sa.CheckConstraint) and not _is_allowed_values(check):
                _check_rule(rules, check)
    rules.run_row_rules()
    if "of" in table.info:  # a tombstone: a key, not in the load's own rows of its table
        key = [c.name for c in table.primary_key.columns]
        if (of := table.info["of"].name) in staged:
            rules.add(
                "deleted-and-loaded",
                ", ".join(key),
                _found_in("t", key, _typed_name(table.info["of"])),
                sql.SQL("{} || ' has a row in this load too'").format(sql.Literal(of)),
            )
        return rules.found
    key = [c.name for c in table.primary_key.columns]
    rules.add(
        "unique-key",
        ", ".join(key),
        sql.SQL("({}) in (select {} from {} group by {} having count(*) > 1)").format(
            _qualified("t", key), _names(key), _typed_name(table), _names(key)
        ),
        sql.SQL("'another row of the file has this key'"),
    )
    if table.name == "customers":
        erased = sql.SQL("(t.tenant_id, {}) in (select tenant_id, key_sha256 from source.erasures)")
        rules.add(
            "erased",
            "customer_id",
            erased.format(_KEY_SHA256),
            sql.SQL("'forgotten with boxoffice forget: not loaded again'"),
            privacy.hmac_pads(),
        )
    for fk in table.foreign_key_constraints:
        parent = fk.referred_table
        own, theirs = [c.name for c in fk.columns], [e.column.name for e in fk.elements]
        where = sql.SQL("({}) is not null and not {}").format(
            _qualified("t", own),
            _found_in("t", own, sql.Identifier(parent.schema, parent.name), theirs),
        )
        if parent.name in staged:  # the file's own rows of the parent count too
            where = sql.SQL("{} and not {}").format(
                where, _found_in("t", own, _typed_name(parent), theirs)
            )
        rules.add(
            "reference",
            own[-1],
            where,
            sql.SQL("{} || ' ' || t.{}::text || ' is not in this tenant'").format(
                sql.Literal(parent.name.removesuffix("s")), sql.Identifier(own[-1])
            ),
        )
    return rules.found


def _column_rules(rules: _Rules, column: sa.Column) -> None:
    table, name = rules.table.name, column.name
    s, t = (sql.SQL("{}.{}").format(sql.Identifier(a), sql.Identifier(name)) for a in "st")
    shown = (
        sql.SQL("'(personal data)'")
        if (table, name) in PERSONAL
        else sql.SQL("left({}, 100)").format(s)
    )
    kind = contract.type_name(column)
    rules.row(
        "type",
        name,
        sql.SQL("{} is not null and {} is null").format(s, t),
        sql.SQL("'not a ' || {} || ': ' || {}").format(sql.Literal(kind), shown),
    )
    if kind == "timestamptz":
        rules.row(
            "type",
            name,
            sql.SQL("{} is not null and {} !~ {}").format(t, s, sql.Literal(_OFFSET)),
            sql.SQL("'no UTC offset: ' || {}").format(shown),
        )
    if not column.nullable:
        rules.row("not-null", name, sql.SQL("{} is null").format(s), sql.SQL("'missing'"))
    if values := contract.ALLOWED.get((table, name)):
        rules.row(
            "allowed",
            name,
            sql.SQL("{} <> all({})").format(t, sql.Literal(list(values))),
            sql.SQL("{} || ' is not one of ' || {}").format(shown, sql.Literal(", ".join(values))),
        )
    if (table, name) in ZONES:
        rules.row(
            "iana-zone",
            name,
            sql.SQL("{} not in (select name from pg_timezone_names)").format(t),
            sql.SQL("{} || ' is not an IANA time zone'").format(shown),
        )


def _check_rule(rules: _Rules, check: sa.CheckConstraint) -> None:
    """The constraint's own SQL over the typed row: its columns qualified, its literals kept."""
    table = rules.table
    text = str(check.sqltext)
    token = re.compile(r"'[^']*'|\b(" + "|".join(re.escape(c.name) for c in table.columns) + r")\b")
    columns = sorted({m[1] for m in token.finditer(text) if m[1]})
    where = token.sub(lambda m: f't."{m[1]}"' if m[1] else m[0], text)
    rules.row(
        str(check.name).removeprefix(f"ck_{table.name}_"),
        ", ".join(columns),
        sql.SQL("({}) is false").format(sql.SQL(where)),
        sql.Literal(text),
    )


def _is_allowed_values(check: sa.CheckConstraint) -> bool:
    return re.fullmatch(r"\w+ in \(.*\)", str(check.sqltext)) is not None


class LoadRefused(ValueError):
    """The rows break the contract: ``problems`` says where (nothing was written)."""

    def __init__(self, problems: pl.DataFrame) -> None:
        self.problems = problems
        first = problems.row(0, named=True)
        where = f"{first['table']}" + (f" row {first['row']}" if first["row"] is not None else "")
        super().__init__(
            f"{problems.height} problem(s); first: {where}, {first['column']}: {first['rule']}:"
            f" {first['detail']}; nothing loaded"
        )


class LoadBusy(RuntimeError):
    """A pipeline run or another load holds the run lock."""


@dataclass
class Loaded:
    """What one load did: ``tables`` maps each table to its rows ``read``, ``inserted``,
    ``updated``, ``unchanged``, ``deleted`` and ``rejected`` (a check: what it would do);
    ``problems`` are the rows set aside (``--quarantine``) or, for a check, every problem."""

    load_id: uuid.UUID
    outcome: str
    tables: dict[str, dict[str, int]]
    problems: pl.DataFrame
    marks: dict[str, str] = field(default_factory=dict)


def load(
    frames: Mapping[str, Rows | pl.DataFrame],
    *,
    source: str,
    deletions: Mapping[str, Rows | pl.DataFrame] | None = None,
    full: bool = False,
    check_only: bool = False,
    quarantine: bool = False,
    marks: Mapping[str, str] | None = None,
    progress: Bar | None = None,
) -> Loaded:
    """Check ``frames`` and ``deletions`` (:func:`check`) and, unless ``check_only``, write them
    to ``source`` in one transaction as the owner (only the owner writes ``source``): every
    table upserted by its key, parents first (unchanged rows left alone, so the change queue's
    triggers see exactly what changed), then the deleted rows removed, children first.

    ``full``: the files hold every row of their tenants (those of the tenants file, else those
    in the files), so a row of a given table missing from its file is deleted. A deleted row
    that a row kept still refers to is a problem. One problem refuses the whole load
    (:class:`LoadRefused`); with ``quarantine`` the rows with problems are kept out, recorded
    in ``source.load_rejects``, and the rest is loaded (a problem of a file's shape or of a
    deletion still refuses). A load holds the pipeline's run lock (:class:`LoadBusy` when a run
    or load holds it); a check does not. Every load is recorded in ``source.loads``, with
    ``marks`` (each table's cursor high-water mark) when it loaded.
    """
    load_id, started = uuid.uuid4(), dt.datetime.now(dt.UTC)
    entry = {"load_id": load_id, "source": source, "started_at": started}
    entry["mode"] = "full" if full else "incremental"
    try:
        with contextlib.nullcontext() if check_only else _run_lock(), engine.connect() as conn:
            engine.without_statement_timeout(conn)
            tables, problems = _load(
                conn, frames, deletions or {}, full, check_only, quarantine, progress
            )
            done = Loaded(load_id, "checked" if check_only else "loaded", tables, problems)
            done.marks = {} if check_only else dict(marks or {})
            _record(conn, entry, done.outcome, tables, done.marks, problems.height)
            if quarantine and not check_only:
                _keep_rejects(conn, load_id, done.problems)
        return done
    except LoadRefused as refused:
        with engine.connect() as conn:
            outcome = "checked" if check_only else "refused"
            _record(conn, entry, outcome, problems=refused.problems.height)
        raise
    except LoadBusy:
        raise
    except Exception as exc:
        with contextlib.suppress(Exception), engine.connect() as conn:  # the database may be down
            _record(conn, entry, "failed", error=str(exc).strip().splitlines()[0])
        raise


def last_marks(source: str) -> dict[str, str]:
    """The high-water marks the newest load of ``source`` that wrote recorded (none yet: {})."""
    loads = schema.loads
    with engine.connect() as conn:
        marks = conn.execute(
            sa.select(loads.c.marks)
            .where(loads.c.source == source, loads.c.outcome == "loaded")
            .order_by(loads.c.started_at.desc())
            .limit(1)
        ).scalar()
    return marks or {}


@contextlib.contextmanager
def _run_lock() -> Iterator[None]:
    try:
        with runs.run_lock():
            yield
    except runs.LockHeld:
        raise LoadBusy(
            "a boxoffice run or load is in progress (run lock held): nothing loaded; try again"
            " when it ends"
        ) from None


def _record(
    conn: Connection,
    entry: dict,
    outcome: str,
    tables: dict | None = None,
    marks: dict | None = None,
    problems: int = 0,
    error: str | None = None,
) -> None:
    """One row of ``source.loads``."""
    conn.execute(
        schema.loads.insert().values(
            **entry,
            finished_at=sa.func.clock_timestamp(),
            outcome=outcome,
            tables=tables or {},
            marks=marks or {},
            problems=problems,
            error=error,
        )
    )


COUNTS = ("read", "inserted", "updated", "unchanged", "deleted", "rejected")


def _load(
    conn, frames, deletions, full, check_only, quarantine, progress
) -> tuple[dict, pl.DataFrame]:
    """Check, then (unless ``check_only``) write; the counts per table and the problems."""
    problems = check(conn, frames, deletions, quarantine=quarantine, progress=progress)
    refusing = problems.filter(pl.col("row").is_null() | pl.col("table").str.ends_with(DELETED))
    if refusing.height or (problems.height and not quarantine):
        raise LoadRefused(refusing if quarantine else problems)
    given = [t for t in contract.TABLES if t.name in frames or t.name in deletions]
    _mark_deletions(conn, given, frames, deletions, full)
    if still := _still_referenced(conn, given, frames):
        raise LoadRefused(pl.DataFrame(still, schema=PROBLEM_SCHEMA))
    rejected = dict(problems.group_by("table").agg(pl.col("row").n_unique()).rows())
    # a first load into an empty source: keys checked and indexes built once, after the rows
    first = (
        not check_only
        and not conn.execute(sa.text("select exists (select from source.tenants)")).scalar()
    )
    restore = bulk.drop_foreign_keys_and_secondary_indexes(conn) if first else []
    tables = {}
    for table in given:
        counts = tables[table.name] = dict.fromkeys(COUNTS, 0)
        counts["read"] = _count(conn, _stage_name(table)) if table.name in frames else 0
        counts["rejected"] = rejected.get(table.name, 0)
        counts["deleted"] = _count(conn, _gone_name(table))
        if check_only or table.name not in frames:
            continue
        started = time.perf_counter()
        counts["inserted"], counts["updated"] = _upsert(conn, table)
        counts["unchanged"] = (
            counts["read"] - counts["rejected"] - counts["inserted"] - counts["updated"]
        )
        logs.progress.info("%s: written (%.1f s)", table.name, time.perf_counter() - started)
    if not check_only:
        for table in reversed(given):  # children first
            _delete(conn, table)
    for statement in restore:
        conn.execute(sa.text(statement))
    if check_only:  # what a check can tell: rows read, to be deleted, to be rejected
        tables = {n: {k: c[k] for k in ("read", "deleted", "rejected")} for n, c in tables.items()}
    return tables, problems


def _gone_name(table: sa.Table) -> sql.Identifier:
    return sql.Identifier(_temporary("gone", table))


def _count(conn: Connection, name: sql.Identifier) -> int:
    query = sql.SQL("select count(*) from {}").format(name)
    return conn.connection.driver_connection.execute(query).fetchone()[0]


def _mark_deletions(conn: Connection, given: list[sa.Table], frames, deletions, full) -> None:
    """``gone_<table>``: the keys of the rows to delete — the tombstones' keys found in
    ``source``, and with ``full`` every row of the files' tenants missing from its file (the
    tenants of the tenants file when it is given, else every tenant in the files)."""
    loaded = [t for t in given if t.name in frames]
    scope = [t for t in loaded if t.name == "tenants"] or loaded
    tenants = sql.SQL(" union ").join(
        sql.SQL("select tenant_id from {}").format(_typed_name(t)) for t in scope
    )
    for table in given:
        key = [c.name for c in table.primary_key.columns]
        rows = sql.SQL("select {} from {} s where ").format(
            _qualified("s", key), sql.Identifier(table.schema, table.name)
        )
        parts = [rows + sql.SQL("false")]
        if table.name in deletions:
            parts.append(rows + _found_in("s", key, _typed_name(_tombstones(table))))
        if full and table.name in frames:
            parts.append(
                rows
                + sql.SQL("s.tenant_id in ({}) and not {}").format(
                    tenants, _found_in("s", key, _typed_name(table))
                )
            )
        conn.connection.driver_connection.execute(
            sql.SQL("create temporary table {} on commit drop as {}").format(
                _gone_name(table), sql.SQL(" union ").join(parts)
            )
        )


def _still_referenced(conn: Connection, given: list[sa.Table], frames) -> list[dict]:
    """A problem for each row to delete that a row staying after the load refers to: a row of
    ``source`` neither replaced by the load nor deleted, or a row of the load."""
    raw, found = conn.connection.driver_connection, []
    names = {t.name for t in given}
    for child in contract.TABLES:
        key = [c.name for c in child.primary_key.columns]
        for fk in child.foreign_key_constraints:
            parent = fk.referred_table
            if parent.name not in names:
                continue
            own, theirs = [c.name for c in fk.columns], [e.column.name for e in fk.elements]
            columns = _names(sorted(set(own) | set(key)))
            staying = sql.SQL("select {} from {} s").format(
                columns, sql.Identifier(child.schema, child.name)
            )
            if child.name in names:
                staying += sql.SQL(" where not {}").format(_found_in("s", key, _gone_name(child)))
            if child.name in frames:
                staying += sql.SQL(" and not {} union all select {} from {}").format(
                    _found_in("s", key, _typed_name(child)), columns, _typed_name(child)
                )
            query = sql.SQL(
                "select concat_ws('/', {g}), count(*) from {gone} g join ({staying}) c"
                " on ({own}) = ({g}) group by {g} order by 1"
            ).format(
                g=_qualified("g", theirs),
                gone=_gone_name(parent),
                staying=staying,
                own=_qualified("c", own),
            )
            for key_text, n in raw.execute(query):
                found.append(
                    _problem(
                        parent.name + DELETED,
                        None,
                        key_text,
                        theirs[-1],
                        "still-referenced",
                        f"{n:,} {child.name} row(s) staying refer to it",
                    )
                )
    return found


def _delete(conn: Connection, table: sa.Table) -> None:
    key = [c.name for c in table.primary_key.columns]
    conn.connection.driver_connection.execute(
        sql.SQL("delete from {} s where {}").format(
            sql.Identifier(table.schema, table.name), _found_in("s", key, _gone_name(table))
        )
    )


def _keep_rejects(conn: Connection, load_id: uuid.UUID, problems: pl.DataFrame) -> None:
    """Each rejected row in ``source.load_rejects``, with its problems and its values."""
    rows = problems.group_by("table", "row", "key", maintain_order=True).agg(
        pl.struct("column", "rule", "detail").alias("problems")
    )
    for (name,), part in rows.partition_by("table", as_dict=True).items():
        conn.connection.driver_connection.execute(
            sql.SQL(
                "insert into source.load_rejects (load_id, table_name, row, key, problems, values)"
                " select %s, %s, r.row, r.key, r.problems::jsonb, to_jsonb(s) - {row}"
                " from unnest(%s::bigint[], %s::text[], %s::text[]) as r(row, key, problems)"
                " join {stage} s on s.{row_column} = r.row order by r.row"
            ).format(
                row=sql.Literal(ROW),
                stage=_stage_name(contract.BY_NAME[name]),
                row_column=sql.Identifier(ROW),
            ),
            [
                load_id,
                name,
                part["row"].to_list(),
                part["key"].to_list(),
                [json.dumps(p) for p in part["problems"].to_list()],
            ],
        )


def _upsert(conn: Connection, table: sa.Table) -> tuple[int, int]:
    """Insert the typed rows, update those whose key exists and whose values differ."""
    names = [c.name for c in table.columns]
    key = [c.name for c in table.primary_key.columns]
    values = [n for n in names if n not in key]
    query = sql.SQL(
        "with written as (insert into {target} ({names}) select {names} from {typed}"
        " on conflict ({key}) do update set {sets}"
        " where ({current}) is distinct from ({incoming})"
        " returning xmax = 0 as inserted)"
        " select count(*) filter (where inserted), count(*) filter (where not inserted)"
        " from written"
    ).format(
        target=sql.Identifier(table.schema, table.name),
        names=_names(names),
        typed=_typed_name(table),
        key=_names(key),
        sets=sql.SQL(", ").join(
            sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(n)) for n in values
        ),
        current=_qualified(table.name, values),
        incoming=_qualified("excluded", values),
    )
    inserted, updated = conn.connection.driver_connection.execute(query).fetchone()
    return inserted, updated
