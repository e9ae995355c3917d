"""One input (file or stream) = one batch = one transaction.

The input is read in chunks of lines, so memory does not grow with its size. Each line is
decoded, validated and pseudonymized in Python; valid events are COPYed into a temporary
staging table and moved into ``raw.events`` with their ids claimed in ``raw.event_ids``
(``ON CONFLICT DO NOTHING``: an id stored by any earlier batch, or earlier in this one, is a
duplicate); invalid ones are COPYed into ``raw.dead_letter`` with their reason. While the
database works on one chunk (a single thread owns the connection), the next are parsed: in
this process, or in ``workers`` processes a few chunks at a time, taken back in input order,
so the outcome is the same either way.

Accounting, exact by construction: every non-blank line is *received* and ends as exactly one
of *stored*, *duplicate* (same ``(source, id)`` as an event already stored) or *rejected* (a
dead letter row); ``raw.ingest_batches`` checks ``received = stored + duplicates + rejected``.
A blank line (only ASCII whitespace) is skipped and not counted; line numbers, as in the dead
letter, count every line.
A failure anywhere rolls the whole batch back; running the same input again completes it.

*Late* events are stored events whose UTC day is before the newest day their tenant had
before the batch (they arrived after later days were already seen). Every stored event counts
into ``raw.event_day_counts`` for its (tenant, UTC day, type), whose ``updated_at`` marks the
day for recomputation downstream.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import io
import logging
import multiprocessing
import os
import sys
import time
import uuid
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO, NamedTuple

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from boxoffice import config
from boxoffice.ingest import validate as validation
from boxoffice.ingest.pseudonymize import InvalidIP, Pseudonymizer, mask_text
from boxoffice.lifetime import exit_with_parent
from boxoffice.warehouse import engine

log = logging.getLogger(__name__)

CHUNK_LINES = 20_000
MAX_DEAD_PAYLOAD = 8_000
STAGING_COLUMNS = (
    "tenant_id source event_id type schema_version occurred_at session_id customer_key"
    " channel trace_id payload"
).split()
DEAD_LETTER_COLUMNS = (
    "batch_id line_number received_at claimed_tenant event_type field rule reason payload".split()
)

_STORE = """
    with fresh as (
        insert into raw.event_ids (source, event_id, batch_id)
        select source, event_id, :batch from ingest_staging where tenant_id = :tenant
        on conflict do nothing
        returning source, event_id
    ), stored as (
        insert into raw.events (tenant_id, source, event_id, type, schema_version, occurred_at,
                                received_at, session_id, customer_key, channel, trace_id,
                                batch_id, payload)
        select s.tenant_id, s.source, s.event_id, s.type, s.schema_version, s.occurred_at,
               :received_at, s.session_id, {customer_key}, s.channel, s.trace_id, :batch,
               s.payload
        from ingest_staging s join fresh using (source, event_id)
        where s.tenant_id = :tenant
        returning occurred_at, type
    )
    select (occurred_at at time zone 'UTC')::date as day, type, count(*) as events,
           count(*) filter (where (occurred_at at time zone 'UTC')::date < :watermark) as late
    from stored group by 1, 2
"""
STORE_SQL = sa.text(_STORE.format(customer_key="s.customer_key"))
# for a tenant with forgotten customers (source.erasures, by the SHA-256 of the key): their new
# events are stored without the key, so an ingest never brings an erased customer back
STORE_FORGETTING_SQL = sa.text(
    _STORE.format(
        customer_key="case when exists (select from source.erasures x"
        " where x.tenant_id = s.tenant_id"
        " and x.key_sha256 = encode(sha256(convert_to(s.customer_key, 'UTF8')), 'hex'))"
        " then null else s.customer_key end"
    )
)

COUNT_DAYS_SQL = sa.text("""
    insert into raw.event_day_counts (tenant_id, day, type, events, last_batch_id, updated_at)
    select :tenant, d.day, d.type, d.events, :batch, clock_timestamp()
    from unnest(cast(:days as date[]), cast(:types as text[]), cast(:counts as bigint[]))
         as d(day, type, events)
    on conflict (tenant_id, day, type) do update
    set events = raw.event_day_counts.events + excluded.events,
        last_batch_id = excluded.last_batch_id, updated_at = excluded.updated_at
""")


@dataclass
class BatchResult:
    """What one batch did; ``received == stored + duplicates + rejected`` always."""

    batch_id: str
    input_name: str
    input_sha256: str
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    late: int = 0
    seconds: float = 0.0
    rejections: dict[str, int] = field(default_factory=dict)  # "field: rule" -> lines

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Dead:
    line: int
    claimed_tenant: str | None
    event_type: str | None
    why: validation.Rejection
    payload: str


class _Row(NamedTuple):  # small: rows are pickled back from parsing processes
    line: int
    tenant: str
    type: str
    month: dt.date  # of occurred_at (UTC), the partition
    copy_line: str  # the staging row (STAGING_COLUMNS) in COPY's text format

    @property
    def payload(self) -> str:
        """The pseudonymized ``data`` as JSON, from the row's last field."""
        return self.copy_line.rsplit("\t", 1)[1][:-1].replace("\\\\", "\\")


@dataclass
class _Parsed:
    rows: list[_Row]
    dead: list[_Dead]
    received: int
    duplicates: int


class _HashingReader(io.RawIOBase):
    """Reads through ``raw`` while hashing and counting the bytes (the input's SHA-256)."""

    def __init__(self, raw: BinaryIO):
        self.raw, self.sha, self.bytes = raw, hashlib.sha256(), 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        self.sha.update(data)
        self.bytes += len(data)
        buffer[: len(data)] = data
        return len(data)


def open_input(raw: BinaryIO) -> tuple[_HashingReader, BinaryIO]:
    """Wrap a binary stream: gzip is recognised by its magic bytes, not by the file name."""
    hashing = _HashingReader(raw)
    buffered = io.BufferedReader(hashing, buffer_size=1 << 20)
    if buffered.peek(2)[:2] == b"\x1f\x8b":
        return hashing, gzip.GzipFile(fileobj=buffered)  # type: ignore[return-value]
    return hashing, buffered


class InputError(Exception):
    """The input cannot be read as a whole (a corrupt gzip file, a read error): nothing of it
    was stored, and trying again will not help."""


def _lines(stream: BinaryIO, name: str) -> Iterator[bytes]:
    try:
        yield from stream
    except (OSError, EOFError, zlib.error) as exc:
        kind = "corrupt gzip file" if isinstance(stream, gzip.GzipFile) else "unreadable file"
        raise InputError(f"{name}: {kind} ({exc}); nothing stored") from None


def _chunks(lines: Iterable[bytes], size: int) -> Iterator[list[tuple[int, bytes]]]:
    chunk: list[tuple[int, bytes]] = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            chunk.append((number, line))
            if len(chunk) == size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
# a dead letter keeps what it can of any line: NUL, which text cannot hold, becomes U+FFFD
_DEAD_ESCAPES = {**_ESCAPES, 0: "\ufffd"}


def _escape(text: str) -> str:
    """A string as a field of COPY's text format."""
    return text.translate(_ESCAPES)


def _copy_dead(conn: Connection, rows: Iterable[tuple]) -> None:
    lines = [
        "\t".join(NULL if v is None else str(v).translate(_DEAD_ESCAPES) for v in row) + "\n"
        for row in rows
    ]
    _copy(conn, "raw.dead_letter", DEAD_LETTER_COLUMNS, lines)


def _copy(conn: Connection, table: str, columns: Iterable[str], lines: list[str]) -> None:
    """COPY ``lines``, already in COPY's text format, into ``table``."""
    if not lines:
        return
    statement = f"copy {table} ({', '.join(columns)}) from stdin"
    with conn.connection.driver_connection.cursor() as cur, cur.copy(statement) as copy:
        copy.write("".join(lines))


class _Parser:
    """Decodes, validates and pseudonymizes chunks of lines. It needs no database, so that
    chunks can be parsed in other processes (:func:`_parse_in_worker`)."""

    def __init__(self, secret: bytes, horizon: dt.datetime | None, now: dt.datetime):
        self.pseudonymizer, self.horizon, self.now = Pseudonymizer(secret), horizon, now

    def parse(self, chunk: list[tuple[int, bytes]]) -> _Parsed:
        rows, dead, seen, duplicates = [], [], set(), 0
        for line, raw in chunk:
            event = None
            try:
                event = orjson.loads(raw)
                if b"\\u0000" in raw:
                    validation.check_nul(event)
                version, occurred = validation.validate(event, now=self.now)
                if self.horizon is not None and occurred < self.horizon:
                    raise validation.Rejection(
                        "time",
                        "within-retention",
                        f"events before {self.horizon:%Y-%m-%d} were dropped",
                    )
                data = event["data"]
                try:
                    payload, customer_key = self.pseudonymizer.data(data)
                except InvalidIP as exc:
                    raise validation.Rejection("data.ip", "ip-address", str(exc)) from None
            except orjson.JSONDecodeError as exc:
                text = raw.decode("utf-8", "replace").rstrip("\r\n")
                why = validation.Rejection("(line)", "json", str(exc))
                dead.append(_Dead(line, None, None, why, mask_text(text)[:MAX_DEAD_PAYLOAD]))
                continue
            except validation.Rejection as rejection:
                dead.append(self._dead(line, event, rejection))
                continue
            key = (event["source"], event["id"])
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
            tenant, event_type = event["tenantid"].lower(), event["type"]
            traceparent = event.get("traceparent")
            session = data.get("session_id")
            payload_json = orjson.dumps(payload).decode()
            copy_line = "\t".join((  # STAGING_COLUMNS in COPY's text format
                tenant, _escape(event["source"]), _escape(event["id"]), event_type, version,
                occurred.isoformat(), NULL if session is None else _escape(session),
                customer_key or NULL, data.get("channel") or NULL,
                traceparent[3:35] if traceparent else NULL,
                payload_json.replace("\\", "\\\\"),  # JSON text has no raw tab or newline
            ))  # fmt: skip
            month = occurred.date().replace(day=1)
            rows.append(_Row(line, tenant, event_type, month, copy_line + "\n"))
        return _Parsed(rows, dead, len(chunk), duplicates)

    def _dead(self, line: int, event, rejection: validation.Rejection) -> _Dead:
        claimed = event.get("tenantid") if isinstance(event, dict) else None
        event_type = event.get("type") if isinstance(event, dict) else None
        payload = orjson.dumps(self.pseudonymizer.best_effort(event)).decode()
        return _Dead(
            line,
            mask_text(str(claimed))[:100] if claimed is not None else None,
            mask_text(str(event_type))[:100] if event_type is not None else None,
            rejection,
            payload[:MAX_DEAD_PAYLOAD],
        )


class _Batch:
    def __init__(self, conn: Connection, batch_id: uuid.UUID, received_at: dt.datetime):
        self.conn, self.batch_id, self.received_at = conn, batch_id, received_at
        self.tenants: dict[str, dt.date | bool | None] = {}  # tenant -> watermark; False: unknown
        self.forgetting: dict[str, bool] = {}  # tenant -> has erased customers
        self.months: set[dt.date] = set()
        self.day_counts: dict[str, Counter] = {}
        self.stored = self.duplicates = self.rejected = self.late = 0
        self.rejections: Counter = Counter()

    # ------------------------------------------------------------ load (the loading thread)
    def load(self, parsed: _Parsed) -> None:
        rows, dead = [], list(parsed.dead)
        for row in parsed.rows:
            if self._watermark(row.tenant) is False:
                unknown = validation.Rejection("tenantid", "known-tenant", f"no {row.tenant}")
                dead.append(_Dead(row.line, row.tenant, row.type, unknown, row.payload))
            else:
                rows.append(row)
        self._ensure_partitions({r.month for r in rows})
        self.conn.execute(sa.text("truncate ingest_staging"))
        _copy(self.conn, "ingest_staging", STAGING_COLUMNS, [r.copy_line for r in rows])
        staged = 0
        for tenant in sorted({r.tenant for r in rows}):
            engine.set_tenant(self.conn, tenant)
            if tenant not in self.forgetting:
                erased = sa.text("select exists (select from source.erasures)")
                self.forgetting[tenant] = self.conn.execute(erased).scalar()
            result = self.conn.execute(
                STORE_FORGETTING_SQL if self.forgetting[tenant] else STORE_SQL,
                {
                    "batch": self.batch_id,
                    "tenant": tenant,
                    "received_at": self.received_at,
                    "watermark": self._watermark(tenant) or dt.date.min,
                },
            )
            counts = self.day_counts.setdefault(tenant, Counter())
            for day, event_type, events, late in result:
                counts[(day, event_type)] += events
                staged += events
                self.late += late
        engine.set_tenant(self.conn, None)
        _copy_dead(
            self.conn,
            (
                (self.batch_id, d.line, self.received_at, d.claimed_tenant, d.event_type,
                 d.why.field, d.why.rule, mask_text(d.why.reason), d.payload)
                for d in dead
            ),
        )  # fmt: skip
        self.rejections.update(f"{d.why.field}: {d.why.rule}" for d in dead)
        self.stored += staged
        self.duplicates += parsed.duplicates + len(rows) - staged
        self.rejected += len(dead)

    def _watermark(self, tenant: str) -> dt.date | bool | None:
        """The newest day the tenant had before this batch; ``False`` for an unknown tenant."""
        if tenant not in self.tenants:
            engine.set_tenant(self.conn, tenant)
            known = self.conn.execute(sa.text("select exists (select from source.tenants)"))
            if known.scalar():
                newest = self.conn.execute(sa.text("select max(day) from raw.event_day_counts"))
                self.tenants[tenant] = newest.scalar()
            else:
                self.tenants[tenant] = False
        return self.tenants[tenant]

    def _ensure_partitions(self, months: set[dt.date]) -> None:
        """Create missing monthly partitions. Creating one locks ``raw.events`` until this
        batch commits, which happens only when a month first appears."""
        if missing := sorted(months - self.months):
            self.conn.execute(
                sa.text("select raw.ensure_event_partitions(cast(:m as date[]))"), {"m": missing}
            )
            self.months |= set(missing)

    def count_days(self) -> None:
        for tenant, counts in sorted(self.day_counts.items()):
            engine.set_tenant(self.conn, tenant)
            keys = sorted(counts)
            self.conn.execute(
                COUNT_DAYS_SQL,
                {
                    "tenant": tenant,
                    "batch": self.batch_id,
                    "days": [d for d, _ in keys],
                    "types": [t for _, t in keys],
                    "counts": [counts[k] for k in keys],
                },
            )
        engine.set_tenant(self.conn, None)


def ingest_stream(
    raw: BinaryIO,
    *,
    name: str,
    chunk_lines: int = CHUNK_LINES,
    workers: int = 0,
    progress: Callable[[int], None] | None = None,
    now: dt.datetime | None = None,
) -> BatchResult:
    """Ingest one NDJSON stream (plain or gzip) as one batch; see the module docstring.

    ``workers`` processes parse the chunks (0: this process does). ``progress`` is called with
    the number of input bytes read so far after each chunk.
    """
    switch = sys.getswitchinterval()
    # the loading thread waits on the database and must get the GIL back at once when it
    # returns, not after the parsing thread's 5 ms time slice (measured: 15 % faster)
    sys.setswitchinterval(min(switch, 0.0005))
    try:
        return _ingest(raw, name, chunk_lines, workers, progress, now)
    finally:
        sys.setswitchinterval(switch)


_WORKER_PARSER: _Parser | None = None


def _start_worker(parser: _Parser, parent: int) -> None:
    global _WORKER_PARSER
    _WORKER_PARSER = parser
    exit_with_parent(parent)


def _parse_in_worker(chunk: list[tuple[int, bytes]]) -> _Parsed:
    return _WORKER_PARSER.parse(chunk)


@contextlib.contextmanager
def _parsing(parser: _Parser, workers: int):
    """A function from chunks to their parsed results, in order: in this process, or in
    ``workers`` processes (spawned: this one holds a database connection) with a bounded
    number of chunks in flight, so memory stays flat."""
    if not workers:
        yield lambda chunks: map(parser.parse, chunks)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, context, initializer=_start_worker, initargs=(parser, os.getpid())
    ) as pool:

        def parse(chunks: Iterable[list[tuple[int, bytes]]]) -> Iterator[_Parsed]:
            window: deque[Future] = deque()
            for chunk in chunks:
                window.append(pool.submit(_parse_in_worker, chunk))
                if len(window) > 2 * workers:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()

        yield parse


def _ingest(raw, name, chunk_lines, workers, progress, now) -> BatchResult:
    started = time.perf_counter()
    batch_id = uuid.uuid4()
    received_at = now or dt.datetime.now(dt.UTC)
    hashing, lines = open_input(raw)
    with engine.connect("pipeline") as conn, ThreadPoolExecutor(1, "ingest-load") as loader:
        conn.execute(
            sa.text(
                "insert into raw.ingest_batches (batch_id, input_name, started_at, received,"
                " stored, duplicates, rejected) values (:b, :name, :at, 0, 0, 0, 0)"
            ),
            {"b": batch_id, "name": name, "at": received_at},
        )
        conn.execute(
            sa.text(
                "create temporary table ingest_staging (tenant_id uuid, source text,"
                " event_id text, type text, schema_version text, occurred_at timestamptz,"
                " session_id text, customer_key text, channel text, trace_id text,"
                " payload jsonb) on commit drop"
            )
        )
        horizon = conn.execute(sa.text("select events_before from raw.retention")).scalar()
        batch = _Batch(conn, batch_id, received_at)
        received = 0
        pending: Future | None = None
        with _parsing(_Parser(config.pii_key(), horizon, received_at), workers) as parse:
            for parsed in parse(_chunks(_lines(lines, name), chunk_lines)):
                received += parsed.received
                if pending is not None:
                    pending.result()
                pending = loader.submit(batch.load, parsed)
                log.info("%s: %d lines read (batch %s, not committed)", name, received, batch_id)
                if progress:
                    progress(hashing.bytes)
        if pending is not None:
            pending.result()
        batch.count_days()
        result = BatchResult(
            batch_id=str(batch_id),
            input_name=name,
            input_sha256=hashing.sha.hexdigest(),
            received=received,
            stored=batch.stored,
            duplicates=batch.duplicates,
            rejected=batch.rejected,
            late=batch.late,
            rejections=dict(batch.rejections.most_common()),
        )
        conn.execute(
            sa.text(
                "update raw.ingest_batches set input_sha256 = :sha,"
                " finished_at = clock_timestamp(), received = :received, stored = :stored,"
                " duplicates = :duplicates, rejected = :rejected, late = :late"
                " where batch_id = :b"
            ),
            {"b": batch_id, "sha": result.input_sha256, **asdict(result)},
        )
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def ingest_path(path: str | Path, **kwargs) -> BatchResult:
    """Ingest a file (``-`` for standard input)."""
    if str(path) == "-":
        return ingest_stream(sys.stdin.buffer, name="<stdin>", **kwargs)
    path = Path(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise FileNotFoundError(f"{path}: {exc.strerror}") from None
    with handle:
        return ingest_stream(handle, name=str(path), **kwargs)
