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
queue's triggers see exactly what changed; one problem refuses the whole load.

A problem names its table, the row's number in its file, its key, the column and the rule;
values of personal-data columns are never shown.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.engine import Connection

from boxoffice import logs, privacy
from boxoffice.warehouse import bulk, contract, engine

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


def check(conn: Connection, frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Stage ``frames`` (contract table name → its rows, any column types) on ``conn`` and
    return every problem (:data:`PROBLEM_SCHEMA`), in contract order, then by row. Nothing is
    written but the transaction's temporary tables."""
    known = {t.name: t for t in contract.TABLES}
    if unknown := sorted(set(frames) - set(known)):
        raise ValueError(f"not a contract table: {', '.join(unknown)}")
    problems: list[dict] = []
    staged = []
    for table in contract.TABLES:
        if table.name not in frames:
            continue
        frame = frames[table.name]
        columns = [c.name for c in table.columns]
        shape = [
            _problem(table.name, None, None, c, "missing-column", "not in the file")
            for c in columns
            if c not in frame.columns
        ] + [
            _problem(table.name, None, None, c, "unknown-column", "not in the contract")
            for c in frame.columns
            if c not in columns
        ]
        problems += shape
        if not shape:
            _stage(conn, table, frame)
            staged.append(table)
    for table in staged:
        started = time.perf_counter()
        found = _row_problems(conn, table, {t.name for t in staged})
        problems += found
        logs.progress.info(
            "%s: %s rows checked, %s problem(s) (%.1f s)",
            table.name,
            f"{frames[table.name].height:,}",
            f"{len(found):,}",
            time.perf_counter() - started,
        )
    order = {t.name: i for i, t in enumerate(contract.TABLES)}
    problems.sort(key=lambda p: (order[p["table"]], p["row"] or 0, p["column"], p["rule"]))
    return pl.DataFrame(problems, schema=PROBLEM_SCHEMA)


def _problem(*values) -> dict:
    """A problem from its table, row, key, column, rule and detail."""
    return dict(zip(PROBLEM_SCHEMA, values, strict=True))


def _stage_name(table: sa.Table) -> sql.Identifier:
    return sql.Identifier(f"stage_{table.name}")


def _typed_name(table: sa.Table) -> sql.Identifier:
    return sql.Identifier(f"typed_{table.name}")


def _stage(conn: Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    """The rows as text in ``stage_<table>``, and typed in ``typed_<table>``, where a value that
    does not parse as its column's type is null."""
    columns = [c.name for c in table.columns]
    raw = conn.connection.driver_connection
    text_columns = sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in columns)
    raw.execute(
        sql.SQL("create temporary table {} ({} bigint, {}) on commit drop").format(
            _stage_name(table), sql.Identifier(ROW), text_columns
        )
    )
    rows = frame.select(columns).with_row_index(ROW, offset=1)
    bulk.copy_frame(
        conn, f"stage_{table.name}", rows.select(ROW, *(_as_text(rows, c) for c in columns))
    )
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


def _as_text(frame: pl.DataFrame, name: str) -> pl.Expr:
    """A column as PostgreSQL reads it: an aware time as ISO 8601 with its offset (a naive one
    keeps none, and is then reported), anything else as polars writes it."""
    kind = frame.schema[name]
    if isinstance(kind, pl.Datetime):
        fmt = "%Y-%m-%dT%H:%M:%S%.f" + ("%:z" if kind.time_zone else "")
        return pl.col(name).dt.to_string(fmt)
    return pl.col(name).cast(pl.String)


def _qualified(alias: str, names: list[str]) -> sql.Composable:
    qualified = (sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(n)) for n in names)
    return sql.SQL(", ").join(qualified)


def _names(names: list[str]) -> sql.Composable:
    return sql.SQL(", ").join(map(sql.Identifier, names))


def _found_in(own: list[str], theirs: list[str], rows: sql.Composable) -> sql.Composable:
    """Whether the typed row's ``own`` columns are the ``theirs`` columns of one of ``rows``."""
    return sql.SQL("({}) in (select {} from {})").format(_qualified("t", own), _names(theirs), rows)


# the SHA-256 of the customer's key, HMAC-SHA-256 of its id (boxoffice.privacy), from the pads
_KEY_SHA256 = sql.SQL(
    "encode(sha256(convert_to(encode(sha256(%(opad)s || sha256(%(ipad)s"
    " || convert_to(t.customer_id::text, 'UTF8'))), 'hex'), 'UTF8')), 'hex')"
)


class _Rules:
    """The rule queries of one staged table; each adds the rows it finds to ``found``."""

    def __init__(self, conn: Connection, table: sa.Table) -> None:
        self.raw, self.table, self.found = conn.connection.driver_connection, table, []
        key = [c.name for c in table.primary_key.columns]
        self.key = sql.SQL("concat_ws('/', {})").format(_qualified("s", key))

    def add(
        self,
        rule: str,
        column: str,
        where: sql.Composable,
        detail: sql.Composable,
        params: dict | None = None,
    ) -> None:
        query = sql.SQL(
            "select s.{row}, {key}, {detail} from {stage} s join {typed} t using ({row})"
            " where {where} order by 1"
        ).format(
            row=sql.Identifier(ROW),
            key=self.key,
            detail=detail,
            stage=_stage_name(self.table),
            typed=_typed_name(self.table),
            where=where,
        )
        for row, key, text in self.raw.execute(query, params):
            self.found.append(_problem(self.table.name, row, key, column, rule, text))


def _row_problems(conn: Connection, table: sa.Table, staged: set[str]) -> list[dict]:
    rules = _Rules(conn, table)
    for column in table.columns:
        _column_rules(rules, column)
    for check in table.constraints:
        if isinstance(check, sa.CheckConstraint) and not _is_allowed_values(check):
            _check_rule(rules, check)
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
            _qualified("t", own), _found_in(own, theirs, sql.Identifier(parent.schema, parent.name))
        )
        if parent.name in staged:  # the file's own rows of the parent count too
            where = sql.SQL("{} and not {}").format(
                where, _found_in(own, theirs, _typed_name(parent))
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
    rules.add(
        "type",
        name,
        sql.SQL("{} is not null and {} is null").format(s, t),
        sql.SQL("'not a ' || {} || ': ' || {}").format(sql.Literal(kind), shown),
    )
    if kind == "timestamptz":
        rules.add(
            "type",
            name,
            sql.SQL("{} is not null and {} !~ {}").format(t, s, sql.Literal(_OFFSET)),
            sql.SQL("'no UTC offset: ' || {}").format(shown),
        )
    if not column.nullable:
        rules.add("not-null", name, sql.SQL("{} is null").format(s), sql.SQL("'missing'"))
    if values := contract.ALLOWED.get((table, name)):
        rules.add(
            "allowed",
            name,
            sql.SQL("{} <> all({})").format(t, sql.Literal(list(values))),
            sql.SQL("{} || ' is not one of ' || {}").format(shown, sql.Literal(", ".join(values))),
        )
    if (table, name) in ZONES:
        rules.add(
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
    rules.add(
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


def load(frames: Mapping[str, pl.DataFrame], *, check_only: bool = False) -> dict[str, dict]:
    """Check ``frames`` (:func:`check`) and, unless ``check_only``, upsert them into ``source``,
    parents first, in one transaction as the owner (only the owner writes ``source``). Returns
    per table the rows ``read``, ``inserted``, ``updated`` and ``unchanged`` (only ``read``
    for a check); raises :class:`LoadRefused` on any problem."""
    with engine.connect("owner") as conn:
        engine.without_statement_timeout(conn)
        problems = check(conn, frames)
        if problems.height:
            raise LoadRefused(problems)
        counts = {}
        for table in contract.TABLES:
            if table.name not in frames:
                continue
            read = frames[table.name].height
            if check_only:
                counts[table.name] = {"read": read}
                continue
            started = time.perf_counter()
            inserted, updated = _upsert(conn, table)
            logs.progress.info("%s: written (%.1f s)", table.name, time.perf_counter() - started)
            counts[table.name] = dict(
                read=read, inserted=inserted, updated=updated, unchanged=read - inserted - updated
            )
        return counts


def _upsert(conn: Connection, table: sa.Table) -> tuple[int, int]:
    """Insert the typed rows, update those whose key exists and whose values differ."""
    names = [c.name for c in table.columns]
    key = [c.name for c in table.primary_key.columns]
    values = [n for n in names if n not in key]
    query = sql.SQL(
        "insert into {target} ({names}) select {names} from {typed}"
        " on conflict ({key}) do update set {sets}"
        " where ({current}) is distinct from ({incoming})"
        " returning xmax = 0"
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
    flags = [inserted for (inserted,) in conn.connection.driver_connection.execute(query)]
    return sum(flags), len(flags) - sum(flags)


def read_folder(folder: Path) -> dict[str, pl.DataFrame]:
    """The contract tables in ``folder``: ``<table>.parquet`` or ``<table>.csv`` each (CSV
    values read as text, for PostgreSQL to parse; an empty field is null). ValueError names a
    file that is not a contract table, a table given twice, or a file that cannot be read."""
    known = [t.name for t in contract.TABLES]
    frames: dict[str, pl.DataFrame] = {}
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise ValueError(f"{folder}: no files (expected {', '.join(known)} as .parquet or .csv)")
    for path in files:
        if path.stem not in known or path.suffix not in (".parquet", ".csv"):
            raise ValueError(
                f"{path}: not a contract table file (<table>.parquet or .csv; tables:"
                f" {', '.join(known)})"
            )
        if path.stem in frames:
            raise ValueError(f"{path}: table {path.stem} given twice")
        try:
            if path.suffix == ".parquet":
                frames[path.stem] = pl.read_parquet(path)
            else:
                frames[path.stem] = pl.read_csv(path, infer_schema=False)
        except (pl.exceptions.PolarsError, OSError) as exc:
            kind = "Parquet" if path.suffix == ".parquet" else "CSV"
            raise ValueError(f"{path}: not a readable {kind} file ({exc})") from None
    return frames
