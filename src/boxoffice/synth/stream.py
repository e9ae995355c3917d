"""The behaviour-event stream of the synthetic world: CloudEvents 1.0 NDJSON, one file per UTC day.

What the stream models, read from ``source`` (so it agrees with the orders there):

- **Converting sessions**: every ``web`` or ``mobile`` order had one session,
  ``page_view`` → (``search`` in :data:`SEARCH_SHARE` of them) → ``event_view`` →
  ``add_to_cart`` → ``checkout_started`` → ``purchase``. The steps lie a few minutes before the
  order (gaps of :data:`MIN_GAP_S` plus an exponential with the means of :data:`GAP_MEAN_S`) and
  the ``purchase`` is at ``created_at`` exactly, with the order's id, its (most frequent) event,
  its ticket count and the sum of its tickets' ``price_cents``. The visitor is signed in from the
  first page in :data:`SIGNED_IN_CONVERTING` of these sessions, otherwise from
  ``checkout_started`` on; ``checkout_started`` then carries the customer's real e-mail address
  from ``source.customers`` (the ingest must remove it).
- **Sessions that do not convert**: per tenant and UTC day, :data:`SESSIONS_PER_ORDER` sessions
  per order in all (the ratio drawn uniformly per tenant-day), so the others number
  Poisson(orders × (ratio − 1)). They stop after a step with the shares of :data:`ABANDON_AFTER`
  (after ``page_view`` 55 %, ``event_view`` 25 %, ``add_to_cart`` 12 %, ``checkout_started``
  8 %); those that reach ``event_view`` search first in :data:`SEARCH_SHARE` of them. Each
  copies a random order of its tenant-day (its event, channel, quantity and price:
  events are viewed in proportion to how they sell) and starts near the time of another random
  order plus normal noise of :data:`START_NOISE_S` (the hour-of-day pattern of the orders); it
  stays inside its UTC day. :data:`SIGNED_IN_BROWSING` of them are signed in (the customer of the
  copied order); the rest are anonymous. With ten sessions per order, the share of sessions
  reaching each step is about 100 % → 50 % → 28 % → 17 % → 10 % (page → event → cart →
  checkout → purchase).
- **Scans**: one ``ticket_scan`` per ticket whose ``scanned_at`` is in the window, from
  ``/scanners/<venue_id>`` at a gate ``A``–``F``, without a session.

Every session event carries the session's id, channel (``source`` ``/web`` or ``/mobile``), IP
address (:data:`IPV6_SHARE` IPv6, from the documentation prefix 2001:db8::/32) and user agent;
:data:`TRACED_SHARE` of the sessions send a W3C ``traceparent`` (one trace per session, one span
per event). Event ids are time-ordered UUIDv7 of the event's time; every random draw comes from
``numpy.random.default_rng([seed, day])``, so a day's events depend only on the seed and the day.

A file holds the events whose time is in its UTC day, sorted by time. A session that converts
just after midnight starts in the previous day's file; on the first day of the window, such a
session is compressed toward its purchase so that it starts at midnight instead (the window
never reaches before ``start``); the last day lacks the minutes before midnight of sessions
that convert the next day.

``malformed`` replaces that share of a file's lines by invalid input of six kinds
(:data:`MALFORMED_KINDS`); ``duplicates`` adds that share (of the original lines) of verbatim
copies of earlier valid lines, placed later in the file, as a client re-sending events would.

Reading is vectorised and bounded: :data:`CHUNK_DAYS` days per query (the next chunk is read
while the current one is generated, and one file is compressed and written while the next day
is generated). Tickets are found through the ``sold_at`` index within :data:`SALE_SLACK` of the
window (a ticket is sold with its order; in the synthetic world at the same instant), and scans
through the events starting within :data:`SCAN_SLACK` of it (doors open shortly before).

JSON lines are encoded by polars (``struct.json_encode``), for rows grouped by the fields they
carry: the same bytes as a dict per event through ``orjson.dumps``, 1.7× faster (0.55 M against
0.32 M events/s on a day of the medium world). orjson re-encodes only the malformed lines.
"""

from __future__ import annotations

import binascii
import datetime as dt
import functools
import gzip as gzip_module
import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import orjson
import polars as pl

from boxoffice.synth import ids
from boxoffice.synth.world import ACTS, CATEGORIES, NOUNS
from boxoffice.warehouse.bulk import dashed_uuid, read_frame

STEPS = ("page_view", "search", "event_view", "add_to_cart", "checkout_started", "purchase")
PAGE_VIEW, SEARCH, EVENT_VIEW, ADD_TO_CART, CHECKOUT, PURCHASE = range(len(STEPS))

SESSIONS_PER_ORDER = (8.0, 12.0)  # sessions of all kinds per order: uniform per tenant-day
ABANDON_AFTER = {  # where sessions that do not convert stop
    "page_view": 0.55,
    "event_view": 0.25,
    "add_to_cart": 0.12,
    "checkout_started": 0.08,
}
SEARCH_SHARE = 0.3  # sessions going past their first page that search before viewing an event
SIGNED_IN_CONVERTING = 0.6  # converting sessions signed in from the first page (else at checkout)
SIGNED_IN_BROWSING = 0.15  # sessions that do not convert and are signed in
MIN_GAP_S = 2.0
GAP_MEAN_S = np.array([0.0, 15.0, 40.0, 60.0, 45.0, 90.0])  # + MIN_GAP_S before each step
START_NOISE_S = 1800.0
IPV6_SHARE = 0.2
TRACED_SHARE = 0.9
GATES = np.array(list("ABCDEF"))
GZIP_LEVEL = 1  # 2.2× faster than level 6, for files 25 % larger (measured on this stream)
CHUNK_DAYS = 7  # days read from the database at once
SCAN_SLACK = dt.timedelta(days=1)  # doors: scans lie within a day of the event's start
SALE_SLACK = dt.timedelta(days=1)  # a ticket is sold within a day of its order
MALFORMED_KINDS = (
    "truncated-json",
    "missing-id",
    "wrong-field-type",
    "unknown-type",
    "time-not-rfc3339",
    "time-in-future",
)

SHOP = "https://tickets.example.com"
APP = "app://boxoffice"
LANDING = {
    "web": [f"{SHOP}/", f"{SHOP}/events", f"{SHOP}/events?when=this-weekend"]
    + [f"{SHOP}/events?category={c}" for c in CATEGORIES]
    + [f"{SHOP}/?utm_source=newsletter&utm_medium=email&utm_campaign=weekly"],
    "mobile": [f"{APP}/home", f"{APP}/discover", f"{APP}/tickets", f"{APP}/search"],
}
REFERRERS = {  # web sessions' first page; the rest (45 %) have none
    "https://www.google.com/": 0.35,
    "https://www.bing.com/": 0.05,
    "https://www.facebook.com/": 0.15,
}
USER_AGENTS = {
    "web": [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/130.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
        " Version/18.1 Safari/605.1.15",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15"
        " (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/130.0.0.0 Mobile Safari/537.36",
    ],
    "mobile": [
        "Boxoffice/5.12.1 (iPhone; iOS 18.1; Scale/3.00)",
        "Boxoffice/5.12.1 (iPad; iOS 17.6.1; Scale/2.00)",
        "Boxoffice/5.12.0 (Linux; Android 14; Pixel 8) okhttp/4.12.0",
        "Boxoffice/5.11.3 (Linux; Android 13; SM-A546B) okhttp/4.12.0",
    ],
}
SEARCHES = [*CATEGORIES, "tickets this weekend", "comedy tonight", "family shows", "concerts"] + [
    f"{a} {b}".lower() for a in ACTS[:6] for b in NOUNS[:4]
]
IPV4_FIRST_OCTETS = np.array([24, 31, 37, 46, 62, 68, 73, 81, 86, 90, 98, 108, 142, 151, 173, 185])

# the data fields of all types, in the order they are written; absent (null) ones are left out
DATA_COLUMNS = [
    "session_id", "channel", "customer_id", "ticket_id", "order_id", "event_id", "ticket_type",
    "quantity", "price_cents", "tickets", "value_cents", "query", "results", "url", "referrer",
    "email", "gate", "ip", "user_agent",
]  # fmt: skip
OPTIONAL = ["traceparent", *DATA_COLUMNS]
US_PER_DAY = 86_400_000_000

ORDERS_SQL = """
with online as (
    select tenant_id, order_id, customer_id, channel, created_at
    from source.orders
    where channel in ('web', 'mobile') and created_at >= $1::timestamptz
      and created_at < $2::timestamptz
), lines as (
    select t.tenant_id, t.order_id, t.event_id, t.ticket_type, t.price_cents
    from source.tickets t
    join online o using (tenant_id, order_id)
    where t.sold_at >= $1::timestamptz - $3::interval and t.sold_at < $2::timestamptz + $3::interval
), per_order as (
    select tenant_id, order_id,
           mode() within group (order by event_id) as event_id,
           mode() within group (order by ticket_type) as ticket_type,
           count(*) as tickets, sum(price_cents)::bigint as value_cents
    from lines
    group by tenant_id, order_id
)
select o.tenant_id, o.order_id, o.customer_id, c.email, o.channel, o.created_at,
       p.event_id, p.ticket_type, p.tickets, p.value_cents
from online o
join per_order p using (tenant_id, order_id)
join source.customers c using (tenant_id, customer_id)
order by o.created_at, o.tenant_id, o.order_id
"""

SCANS_SQL = """
with doors as (
    select tenant_id, event_id, venue_id
    from source.events
    where starts_at >= $1::timestamptz - $3::interval and starts_at < $2::timestamptz + $3::interval
)
select t.tenant_id, t.ticket_id, t.event_id, d.venue_id, t.scanned_at
from doors d
join source.tickets t using (tenant_id, event_id)
where t.scanned_at >= $1::timestamptz and t.scanned_at < $2::timestamptz
order by t.scanned_at, t.tenant_id, t.ticket_id
"""


def write_event_stream(
    out_dir: Path,
    *,
    start: dt.date,
    end: dt.date,
    seed: int = 0,
    malformed: float = 0.0,
    duplicates: float = 0.0,
    gzip: bool = True,
) -> list[Path]:
    """Write the world's behaviour events of UTC days ``start`` … ``end`` as CloudEvents NDJSON.

    Reads the ``web``/``mobile`` orders created in the window (with their tickets and the
    customer's e-mail) and the tickets scanned in it from ``source`` as the owner,
    :data:`CHUNK_DAYS` days at a time, and writes one file per day,
    ``events-YYYY-MM-DD.ndjson.gz`` (``.ndjson`` when ``gzip`` is false), each holding the
    events of its day sorted by time. The sessions, their drop-off and the scans are described
    in the module docstring.

    Parameters
    ----------
    out_dir : Path
        Directory for the files (created if missing); a file is written under a temporary name
        and renamed when complete, so a folder watcher never sees half a file.
    start, end : datetime.date
        First and last UTC day, inclusive.
    seed : int
        Seed of the random draws; the same seed gives byte-identical files.
    malformed : float
        Share of lines, in [0, 1), replaced by invalid input (one of :data:`MALFORMED_KINDS`).
    duplicates : float
        Extra lines, as a share of the original lines (≥ 0), repeating earlier valid lines of
        the same file verbatim.
    gzip : bool
        Compress the files (gzip, no timestamp in the header).

    Returns
    -------
    list of Path
        The files, one per day in order (a day without events gets an empty file).
    """
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    if not 0.0 <= malformed < 1.0:
        raise ValueError(f"malformed must be in [0, 1), got {malformed}")
    if duplicates < 0.0:
        raise ValueError(f"duplicates must be non-negative, got {duplicates}")
    if not 0 <= seed < 2**63:
        raise ValueError(f"seed must be a non-negative 64-bit integer, got {seed}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    window_lo = _day_us(start)
    paths: list[Path] = []
    with (
        ThreadPoolExecutor(1, "stream-read") as reader,
        ThreadPoolExecutor(1, "stream-write") as writer,
    ):
        save = functools.partial(
            _save_next,
            writer,
            out_dir=out_dir,
            seed=seed,
            malformed=malformed,
            duplicates=duplicates,
            gzip=gzip,
        )
        saving: Future | None = None
        pending: tuple[dt.date, pl.DataFrame] | None = None
        for day, orders, scans in _read_days(start, end, reader):
            rng = np.random.default_rng([seed, day.toordinal()])
            events = pl.concat(
                [_session_events(orders, day, window_lo, rng), _scan_events(scans, rng)],
                how="diagonal_relaxed",
            )
            events = _identify(events, day, rng)
            if pending is not None:  # sessions converting after midnight began the day before
                early = events.filter(pl.col("t") < _day_us(day))
                events = events.filter(pl.col("t") >= _day_us(day))
                saving = save(saving, *pending, early)
                paths.append(_path(out_dir, pending[0], gzip))
            pending = (day, events)
        assert pending is not None
        saving = save(saving, *pending, None)
        paths.append(_path(out_dir, pending[0], gzip))
        saving.result()
    return paths


# ------------------------------------------------------------------------------------ reading
def _read_chunk(lo: dt.date, hi: dt.date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Online orders created and tickets scanned in UTC days ``lo`` … ``hi``."""
    bounds = [_midnight(lo), _midnight(hi + dt.timedelta(days=1))]
    orders = read_frame(ORDERS_SQL, [*bounds, SALE_SLACK], role="owner")
    scans = read_frame(SCANS_SQL, [*bounds, SCAN_SLACK], role="owner")
    return orders.with_columns(_day_of("created_at")), scans.with_columns(_day_of("scanned_at"))


def _read_days(
    start: dt.date, end: dt.date, reader: ThreadPoolExecutor
) -> Iterator[tuple[dt.date, pl.DataFrame, pl.DataFrame]]:
    """Yield (day, its online orders sorted by tenant, its scans), reading CHUNK_DAYS at a time
    in ``reader`` while the previous chunk is being generated."""
    chunks = []
    lo = start
    while lo <= end:
        chunks.append((lo, min(lo + dt.timedelta(days=CHUNK_DAYS - 1), end)))
        lo = chunks[-1][1] + dt.timedelta(days=1)
    ahead = reader.submit(_read_chunk, *chunks[0])
    for k, (lo, hi) in enumerate(chunks):
        orders, scans = ahead.result()
        if k + 1 < len(chunks):
            ahead = reader.submit(_read_chunk, *chunks[k + 1])
        for offset in range((hi - lo).days + 1):
            day = lo + dt.timedelta(days=offset)
            yield (
                day,
                orders.filter(pl.col("day") == day).sort("tenant_id", "created_at", "order_id"),
                scans.filter(pl.col("day") == day),
            )


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)


def _day_us(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days * US_PER_DAY


def _day_of(column: str) -> pl.Expr:
    return pl.col(column).dt.convert_time_zone("UTC").dt.date().alias("day")


def _us(column: pl.Series) -> np.ndarray:
    return column.dt.epoch("us").to_numpy().astype(np.int64)


# ----------------------------------------------------------------------------------- sessions
def _session_events(
    orders: pl.DataFrame, day: dt.date, window_lo: int, rng: np.random.Generator
) -> pl.DataFrame:
    """Every session event of one day's orders (sorted by tenant), one row per event."""
    if orders.height == 0:
        return pl.DataFrame()
    n = orders.height
    created = _us(orders["created_at"])
    groups = (
        orders.with_row_index("row")
        .group_by("tenant_id", maintain_order=True)
        .agg(first=pl.col("row").first(), size=pl.len())
    )
    first, size = groups["first"].to_numpy(), groups["size"].to_numpy()
    ratio = rng.uniform(*SESSIONS_PER_ORDER, size.size)
    browsing = rng.poisson(size * (ratio - 1.0))
    group = np.repeat(np.arange(size.size), browsing)
    copied = first[group] + (rng.random(group.size) * size[group]).astype(np.int64)
    timed = first[group] + (rng.random(group.size) * size[group]).astype(np.int64)

    m = group.size
    n_sessions = n + m
    order = np.concatenate([np.arange(n), copied])  # the order each session is about
    last = np.concatenate(
        [
            np.full(n, PURCHASE),
            rng.choice([STEPS.index(s) for s in ABANDON_AFTER], m, p=list(ABANDON_AFTER.values())),
        ]
    )
    searches = rng.random(n_sessions) < SEARCH_SHARE
    signed_in_from = np.concatenate(
        [
            np.where(rng.random(n) < SIGNED_IN_CONVERTING, PAGE_VIEW, CHECKOUT),
            np.where(rng.random(m) < SIGNED_IN_BROWSING, PAGE_VIEW, len(STEPS)),
        ]
    )
    step = np.arange(len(STEPS))
    present = (step <= last[:, None]) & ((step != SEARCH) | searches[:, None])
    gap_ms = np.round((MIN_GAP_S + rng.exponential(1.0, present.shape) * GAP_MEAN_S) * 1000)
    gap_ms[:, PAGE_VIEW] = 0
    elapsed = np.cumsum(np.where(present, gap_ms, 0), axis=1).astype(np.int64) * 1000  # µs
    span = elapsed[np.arange(n_sessions), last]

    # converting sessions end at their order; on the window's first day they start no earlier
    # than its midnight (compressed toward the purchase)
    end = created[:n]
    room = np.maximum(end - window_lo, 0)
    scale = np.where(span[:n] > room, room / span[:n], 1.0)
    before_end = np.round((span[:n, None] - elapsed[:n]) * scale[:, None] / 1000) * 1000
    times_converting = end[:, None] - before_end.astype(np.int64)
    # the others start near another order's time and stay inside the day
    day_lo = _day_us(day)
    latest = day_lo + US_PER_DAY - 1000 - span[n:]
    begin = created[timed] + rng.normal(0.0, START_NOISE_S * 1e6, m)
    begin = np.where(begin < day_lo, 2 * day_lo - begin, begin)  # reflected at the day's ends
    begin = np.clip(np.where(begin > latest, 2 * latest - begin, begin), day_lo, latest)
    times_browsing = (begin // 1000 * 1000).astype(np.int64)[:, None] + elapsed[n:]
    times = np.concatenate([times_converting, times_browsing])

    session, kind = np.nonzero(present)  # session-major: the steps of a session in order
    web = (orders["channel"] == "web").to_numpy()[order]
    sessions = pl.DataFrame(
        {
            "session_id": _dashed(ids.uuid4(rng, n_sessions)),
            "ip": _ips(rng, n_sessions),
            "user_agent": _pick_by_channel(rng, USER_AGENTS, web),
            "landing": _pick_by_channel(rng, LANDING, web),
            "referrer": _referrers(rng, web),
            "query": pl.Series(SEARCHES).gather(rng.integers(0, len(SEARCHES), n_sessions)),
            "results": rng.integers(0, 60, n_sessions),
            "trace": _where(rng.random(n_sessions) < TRACED_SHARE, _hex(rng, n_sessions, 16)),
            "signed_in_from": signed_in_from,
            "order": order,
        }
    )
    rows = sessions[session].with_columns(
        t=times[session, kind],
        kind=kind,
        span=_hex(rng, session.size, 8),
    )
    rows = pl.concat(
        [rows, orders.select(pl.exclude("day"))[rows["order"].to_numpy()]], how="horizontal"
    )
    kind_is = {name: pl.col("kind") == i for i, name in enumerate(STEPS)}
    signed_in = pl.col("kind") >= pl.col("signed_in_from")
    return rows.select(
        "t",
        pl.col("tenant_id").alias("tenantid"),
        pl.lit("/").add(pl.col("channel")).alias("source"),
        pl.col("kind").replace_strict(dict(enumerate(STEPS)), return_dtype=pl.String).alias("type"),
        pl.when(pl.col("trace").is_not_null())
        .then(pl.concat_str(pl.lit("00-"), "trace", pl.lit("-"), "span", pl.lit("-01")))
        .alias("traceparent"),
        "session_id",
        "channel",
        pl.when(signed_in).then("customer_id").alias("customer_id"),
        pl.when(kind_is["purchase"]).then("order_id").alias("order_id"),
        pl.when(pl.col("kind") >= EVENT_VIEW).then("event_id").alias("event_id"),
        pl.when(kind_is["add_to_cart"]).then("ticket_type").alias("ticket_type"),
        pl.when(kind_is["add_to_cart"] | kind_is["checkout_started"])
        .then("tickets")
        .alias("quantity"),
        pl.when(kind_is["add_to_cart"])
        .then((pl.col("value_cents") / pl.col("tickets")).round().cast(pl.Int64))
        .alias("price_cents"),
        pl.when(kind_is["purchase"]).then("tickets").alias("tickets"),
        pl.when(kind_is["checkout_started"] | kind_is["purchase"])
        .then("value_cents")
        .alias("value_cents"),
        pl.when(kind_is["search"]).then("query").alias("query"),
        pl.when(kind_is["search"]).then("results").alias("results"),
        pl.when(kind_is["page_view"])
        .then("landing")
        .when(kind_is["event_view"])
        .then(
            pl.concat_str(
                pl.when(pl.col("channel") == "web").then(pl.lit(SHOP)).otherwise(pl.lit(APP)),
                pl.lit("/events/"),
                "event_id",
            )
        )
        .alias("url"),
        pl.when(kind_is["page_view"]).then("referrer").alias("referrer"),
        pl.when(kind_is["checkout_started"] & signed_in).then("email").alias("email"),
        "ip",
        "user_agent",
    )


def _referrers(rng: np.random.Generator, web: np.ndarray) -> pl.Series:
    shares = [*REFERRERS.values(), 1.0 - sum(REFERRERS.values())]
    pick = rng.choice(len(shares), web.size, p=shares)
    none = len(REFERRERS)
    return pl.Series([*REFERRERS, None]).gather(np.where(web, pick, none))


def _pick_by_channel(
    rng: np.random.Generator, options: dict[str, list[str]], web: np.ndarray
) -> pl.Series:
    """One of ``options[channel]`` per session, uniformly."""
    u = rng.random(web.size)
    n_web, n_mobile = len(options["web"]), len(options["mobile"])
    pick = np.where(web, u * n_web, n_web + u * n_mobile).astype(np.int64)
    return pl.Series([*options["web"], *options["mobile"]]).gather(pick)


def _ips(rng: np.random.Generator, n: int) -> pl.Series:
    """IPv4 addresses in a few public /8s, and IPv6 ones (share IPV6_SHARE) in 2001:db8::/32."""
    octets = np.column_stack(
        [rng.choice(IPV4_FIRST_OCTETS, n), rng.integers(0, 256, (n, 2)), rng.integers(1, 255, n)]
    )
    six = rng.random(n) < IPV6_SHARE
    frame = pl.DataFrame({"o": octets, "h": _hex(rng, n, 8), "six": six})
    v4 = pl.concat_str([pl.col("o").arr.get(i).cast(pl.String) for i in range(4)], separator=".")
    h = pl.col("h")
    v6 = pl.concat_str(
        [pl.lit("2001:db8:"), h.str.slice(0, 4), pl.lit(":"), h.str.slice(4, 4), pl.lit(":"),
         h.str.slice(8, 4), pl.lit("::"), h.str.slice(12, 4)]
    )  # fmt: skip
    return frame.select(pl.when("six").then(v6).otherwise(v4).alias("ip")).to_series()


def _hex(rng: np.random.Generator, n: int, nbytes: int) -> pl.Series:
    """``n`` random strings of ``2 * nbytes`` lowercase hex digits."""
    hexed = np.frombuffer(binascii.hexlify(rng.bytes(n * nbytes)), dtype=f"S{2 * nbytes}")
    return pl.Series(hexed).cast(pl.String)


def _dashed(hex32: pl.Series) -> pl.Series:
    return pl.select(dashed_uuid(pl.lit(hex32))).to_series()


def _where(mask: np.ndarray, values: pl.Series) -> pl.Series:
    """``values`` where ``mask``, null elsewhere."""
    return pl.select(pl.when(pl.lit(pl.Series(mask))).then(pl.lit(values))).to_series()


# -------------------------------------------------------------------------------------- scans
def _scan_events(scans: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    if scans.height == 0:
        return pl.DataFrame()
    return scans.select(
        pl.col("scanned_at").dt.epoch("us").alias("t"),
        pl.col("tenant_id").alias("tenantid"),
        pl.concat_str(pl.lit("/scanners/"), "venue_id").alias("source"),
        pl.lit("ticket_scan").alias("type"),
        "ticket_id",
        "event_id",
        pl.Series("gate", GATES[rng.integers(0, GATES.size, scans.height)]),
    )


# ------------------------------------------------------------------------------------ writing
def _identify(events: pl.DataFrame, day: dt.date, rng: np.random.Generator) -> pl.DataFrame:
    """Event ids (UUIDv7 of the event's millisecond) and a tie-break for sorting."""
    if events.height == 0:
        return pl.DataFrame(schema={"t": pl.Int64})
    return events.with_columns(
        id=_dashed(ids.uuid7(rng, events["t"].to_numpy() // 1000)),
        origin=pl.lit(day.toordinal()),
        seq=pl.int_range(pl.len()),
    )


def _rfc3339(column: str) -> pl.Expr:
    """UTC with a ``Z``: milliseconds, or microseconds when the time has them."""
    ts = pl.col(column).cast(pl.Datetime("us", "UTC"))
    return (
        pl.when(pl.col(column) % 1000 == 0)
        .then(ts.dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"))
        .otherwise(ts.dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ"))
    )


def _encode(frame: pl.DataFrame) -> list[str]:
    """One JSON text per row: the envelope, then ``data`` with the row's non-null fields.

    Rows are grouped by which optional fields they carry, so each group is one struct whose
    fields are all present, encoded by polars in one call."""
    if frame.height == 0:
        return []
    missing = [pl.lit(None, pl.String).alias(c) for c in OPTIONAL if c not in frame.columns]
    frame = frame.with_columns(missing).select(
        pl.int_range(pl.len()).alias("row"),
        pl.lit("1.0").alias("specversion"),
        "id",
        "source",
        "type",
        _rfc3339("t").alias("time"),
        "tenantid",
        *OPTIONAL,
    )
    pattern = pl.sum_horizontal(
        pl.col(c).is_not_null().cast(pl.Int64) * (1 << i) for i, c in enumerate(OPTIONAL)
    )
    parts = []
    groups = frame.with_columns(pattern.alias("pattern")).partition_by(
        "pattern", as_dict=True, maintain_order=True
    )
    for (key,), group in groups.items():
        present = {c for i, c in enumerate(OPTIONAL) if key >> i & 1}
        envelope = ["specversion", "id", "source", "type", "time", "tenantid"]
        envelope += ["traceparent"] if "traceparent" in present else []
        data = pl.struct([c for c in DATA_COLUMNS if c in present]).alias("data")
        parts.append(group.select("row", pl.struct(*envelope, data).struct.json_encode()))
    return pl.concat(parts).sort("row").to_series(1).to_list()


def _malform(line: str, kind: str, rng: np.random.Generator) -> str:
    """``line`` made invalid in the way ``kind`` names."""
    if kind == "truncated-json":
        return line[: int(rng.integers(1, len(line) - 1))]
    event = orjson.loads(line)
    data = event["data"]
    if kind == "missing-id":
        del event["id"]
    elif kind == "wrong-field-type":
        if "quantity" in data:
            data["quantity"] = str(data["quantity"])
        elif "value_cents" in data:
            data["value_cents"] = f"{data['value_cents'] / 100:.2f}"
        elif "session_id" in data:
            data["session_id"] = int(rng.integers(1, 10**9))
        else:
            data["gate"] = int(rng.integers(1, 7))
    elif kind == "unknown-type":
        event["type"] = ["page_click", "cart_update", "view_item"][int(rng.integers(0, 3))]
    elif kind == "time-not-rfc3339":
        event["time"] = event["time"].replace("T", " ").removesuffix("Z")
    elif kind == "time-in-future":
        event["time"] = "2096" + event["time"][4:]  # a leap year: 29 February stays a date
    else:
        raise ValueError(f"unknown kind of malformed line {kind!r}")
    return orjson.dumps(event).decode()


def _corrupt(
    lines: list[str], rng: np.random.Generator, malformed: float, duplicates: float
) -> list[str]:
    """Replace round(malformed · n) lines by malformed ones and insert round(duplicates · n)
    verbatim copies of valid lines, each somewhere after its original."""
    n = len(lines)
    if n == 0:
        return lines
    bad = np.sort(rng.choice(n, round(malformed * n), replace=False))
    kinds = rng.integers(0, len(MALFORMED_KINDS), bad.size)
    for i, kind in zip(bad.tolist(), kinds.tolist(), strict=True):
        lines[i] = _malform(lines[i], MALFORMED_KINDS[kind], rng)
    good = np.setdiff1d(np.arange(n), bad)
    copies = round(duplicates * n)
    if copies == 0 or good.size == 0:
        return lines
    original = rng.choice(good, copies)
    before = original + 1 + (rng.random(copies) * (n - original)).astype(np.int64)
    keys = np.concatenate([2 * np.arange(n), 2 * before - 1])  # a copy goes before line `before`
    everything = lines + [lines[i] for i in original.tolist()]
    return [everything[i] for i in np.argsort(keys, kind="stable").tolist()]


def _path(out_dir: Path, day: dt.date, gzip: bool) -> Path:
    return out_dir / f"events-{day:%Y-%m-%d}.ndjson{'.gz' if gzip else ''}"


def _save_next(
    writer: ThreadPoolExecutor,
    previous: Future | None,
    day: dt.date,
    events: pl.DataFrame,
    early: pl.DataFrame | None,
    *,
    out_dir: Path,
    seed: int,
    malformed: float,
    duplicates: float,
    gzip: bool,
) -> Future:
    """Encode the day's events (plus those of the next day's sessions that fall in it) and hand
    them to ``writer``, after the previous file is done (one file in flight bounds memory)."""
    frame = events if early is None else pl.concat([events, early], how="diagonal_relaxed")
    if frame.height:
        frame = frame.sort("t", "origin", "seq")
    lines = _encode(frame)
    rng = np.random.default_rng([seed, day.toordinal(), 1])
    if previous is not None:
        previous.result()
    return writer.submit(_save, _path(out_dir, day, gzip), lines, rng, malformed, duplicates)


def _save(
    path: Path, lines: list[str], rng: np.random.Generator, malformed: float, duplicates: float
) -> None:
    """Corrupt ``lines`` as asked and write them; under a temporary name, renamed when done."""
    if malformed or duplicates:
        lines = _corrupt(lines, rng, malformed, duplicates)
    text = ("\n".join(lines) + "\n").encode() if lines else b""
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("wb") as handle:
        if path.suffix == ".gz":
            with gzip_module.GzipFile(
                filename="", mode="wb", fileobj=handle, mtime=0, compresslevel=GZIP_LEVEL
            ) as packed:
                packed.write(text)
        else:
            handle.write(text)
    os.replace(partial, path)
