"""The sales facts, computed in PostgreSQL and kept current: consume the change queue and
recompute the days it names. What the facts hold is defined in :mod:`boxoffice.metrics.sales`
(and ``docs/metrics.md``); here is the SQL that computes them.

**Incremental refresh.** Triggers queue the UTC days of every changed sale or refund time
(``source.ticket_changes``). A refresh recomputes every local day that can hold an instant of
those UTC days (the day before, the day, the day after: time zones lie within ±14 h of UTC),
from the tickets in the UTC ranges that cover those local days (:func:`recompute_window`), and
replaces exactly those days' rows. A full rebuild is the same SQL over all days, so the two
give the same tables.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import sqlalchemy as sa

from boxoffice import privacy
from boxoffice.warehouse import engine

FULL_RANGE = (["-infinity"], ["infinity"])
ONE_DAY = dt.timedelta(days=1)
MEASURES = [
    "tickets_sold",
    "gross_cents",
    "fee_cents",
    "refunded_tickets",
    "refund_cents",
    "net_cents",
    "orders",
]


def recompute_window(
    utc_days: Iterable[dt.date],
) -> tuple[list[dt.date], list[tuple[dt.datetime, dt.datetime]]]:
    """The local days to recompute for changes on ``utc_days``, and the disjoint UTC ranges
    ``[lo, hi)`` holding every instant of those local days in any time zone.

    An instant of UTC day ``d`` falls on local day ``d − 1``, ``d`` or ``d + 1`` (offsets lie
    within ±14 h); local day ``L`` lies within UTC ``[L − 1 day, L + 2 days)``. Ranges of
    neighbouring days are merged, so no ticket is read twice.
    """
    local = sorted({d + k * ONE_DAY for d in set(utc_days) for k in (-1, 0, 1)})
    ranges: list[tuple[dt.datetime, dt.datetime]] = []
    for day in local:
        lo = dt.datetime.combine(day - ONE_DAY, dt.time(), tzinfo=dt.UTC)
        hi = dt.datetime.combine(day + 2 * ONE_DAY, dt.time(), tzinfo=dt.UTC)
        if ranges and lo <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], hi)
        else:
            ranges.append((lo, hi))
    return local, ranges


def _tickets(time_column: str) -> str:
    """Tickets whose ``time_column`` lies in one of the ranges ``:lo[i] … :hi[i]`` and whose local
    day (venue's zone) is in ``:days`` (all days when ``:days`` is null)."""
    return f"""
    select e.venue_id, t.event_id, o.channel, t.ticket_type, t.order_id, o.customer_id,
           t.price_cents, t.fee_cents, t.{time_column} at time zone v.timezone as local_ts
    from unnest(cast(:lo as timestamptz[]), cast(:hi as timestamptz[])) as r(lo, hi)
    join source.tickets t on t.{time_column} >= r.lo and t.{time_column} < r.hi
    join source.orders o using (tenant_id, order_id)
    join source.events e using (tenant_id, event_id)
    join source.venues v using (tenant_id, venue_id)
    where cast(:days as date[]) is null
       or (t.{time_column} at time zone v.timezone)::date = any(cast(:days as date[]))
    """  # noqa: S608 (column and table names are constants)


HOURLY_SQL = f"""
insert into analytics.sales_hourly
    (tenant_id, local_date, local_hour, venue_id, event_id, channel, ticket_type,
     {", ".join(MEASURES)})
with sold as (
    select venue_id, event_id, channel, ticket_type,
           local_ts::date as local_date,
           extract(hour from local_ts)::smallint as local_hour,
           count(*) as tickets_sold,
           sum(price_cents) as gross_cents,
           sum(fee_cents) as fee_cents,
           count(distinct order_id) as orders
    from ({_tickets("sold_at")}) s
    group by 1, 2, 3, 4, 5, 6
),
refunded as (
    select venue_id, event_id, channel, ticket_type,
           local_ts::date as local_date,
           extract(hour from local_ts)::smallint as local_hour,
           count(*) as refunded_tickets,
           sum(price_cents) as refund_cents
    from ({_tickets("refunded_at")}) s
    group by 1, 2, 3, 4, 5, 6
)
select cast(:tenant as uuid), local_date, local_hour, venue_id, event_id, channel, ticket_type,
       coalesce(s.tickets_sold, 0),
       coalesce(s.gross_cents, 0),
       coalesce(s.fee_cents, 0),
       coalesce(r.refunded_tickets, 0),
       coalesce(r.refund_cents, 0),
       coalesce(s.gross_cents, 0) - coalesce(r.refund_cents, 0),
       coalesce(s.orders, 0)
from sold s
full join refunded r using (venue_id, event_id, channel, ticket_type, local_date, local_hour)
"""  # noqa: S608 (column and table names are constants)

EVENT_DAILY_SQL = f"""
insert into analytics.event_sales_daily
    (tenant_id, local_date, venue_id, event_id, channel, ticket_type, {", ".join(MEASURES)})
select tenant_id, local_date, venue_id, event_id, channel, ticket_type,
       {", ".join(f"sum({m})" for m in MEASURES)}
from analytics.sales_hourly
where cast(:days as date[]) is null or local_date = any(cast(:days as date[]))
group by 1, 2, 3, 4, 5, 6
"""  # noqa: S608 (column and table names are constants)

DAILY_SQL = f"""
insert into analytics.sales_daily (tenant_id, local_date, venue_id, channel, {", ".join(MEASURES)})
select tenant_id, local_date, venue_id, channel, {", ".join(f"sum({m})" for m in MEASURES)}
from analytics.event_sales_daily
where cast(:days as date[]) is null or local_date = any(cast(:days as date[]))
group by 1, 2, 3, 4
"""  # noqa: S608 (column and table names are constants)

# the customer key is boxoffice.privacy's HMAC-SHA256, built from sha256 and the bound pads
CUSTOMER_DAYS_SQL = f"""
insert into analytics.customer_days
    (tenant_id, customer_key, local_date, venue_id, orders, tickets, gross_cents)
select cast(:tenant as uuid),
       encode(sha256(:opad || sha256(:ipad || convert_to(customer_id::text, 'UTF8'))), 'hex'),
       local_date, venue_id, orders, tickets, gross_cents
from (
    select customer_id, local_ts::date as local_date, venue_id,
           count(distinct order_id) as orders, count(*) as tickets, sum(price_cents) as gross_cents
    from ({_tickets("sold_at")}) s
    group by 1, 2, 3
) a
"""  # noqa: S608 (column and table names are constants)

# each fact table and the SQL inserting its rows of the recomputed days, in refresh order
# (daily rows are summed from the hourly ones, venue rows from the event ones); all take the
# same parameters
REFRESH = [
    ("analytics.sales_hourly", HOURLY_SQL),
    ("analytics.event_sales_daily", EVENT_DAILY_SQL),
    ("analytics.sales_daily", DAILY_SQL),
    ("analytics.customer_days", CUSTOMER_DAYS_SQL),
]


def refresh_params() -> dict[str, object]:
    """Bound parameters every refresh statement may use beyond the window: the HMAC pads."""
    return privacy.hmac_pads()


# ------------------------------------------------------------------ polars, on the aggregates


@dataclass(frozen=True)
class Refreshed:
    """What one tenant's refresh did: ``mode`` is ``full``, ``incremental`` or ``none`` (no
    change queued); ``days`` the local days recomputed (null for a full rebuild); ``rows`` the
    rows written per table."""

    tenant: str
    mode: str
    days: list[dt.date] | None
    rows: dict[str, int]


def refresh_sales(
    tenants: Sequence[str | uuid.UUID], *, full: bool = False, sessions: int = 1
) -> list[Refreshed]:
    """Bring each tenant's sales facts up to date with ``source`` as the pipeline role (RLS
    scopes every statement to the tenant being refreshed), on up to ``sessions`` database
    sessions at once, each refreshing its share of the tenants in its own transaction; the
    transactions commit only once every one has succeeded.

    A tenant never refreshed before, or ``full=True``, gets a full rebuild; otherwise the days
    queued in ``source.ticket_changes`` since the last refresh are recomputed, and nothing
    happens when none are queued. The queued rows are deleted in the same transaction, so a
    failure leaves both the facts and the queue as they were.
    """
    tenants = [engine.parse_tenant(t) for t in tenants]
    if not tenants:
        return []
    n = min(max(1, sessions), len(tenants))
    shares = [tenants[i::n] for i in range(n)]
    # the pool is joined first; then every connection commits, or all roll back on an error
    with contextlib.ExitStack() as stack, ThreadPoolExecutor(n) as pool:
        conns = [stack.enter_context(engine.connect("pipeline")) for _ in shares]
        done = list(pool.map(_refresh, conns, shares, [full] * n))
    by_tenant = {r.tenant: r for share in done for r in share}
    return [by_tenant[str(t)] for t in tenants]


def _refresh(conn: sa.Connection, tenants: list[uuid.UUID], full: bool) -> list[Refreshed]:
    done = []
    for tenant_id in tenants:
        engine.set_tenant(conn, tenant_id)
        refreshed_before = conn.execute(
            sa.text("select 1 from analytics.sales_refresh for update")
        ).first()
        queued = set(
            conn.execute(sa.text("delete from source.ticket_changes returning utc_date")).scalars()
        )
        if full or refreshed_before is None:
            mode, days, (lo, hi) = "full", None, FULL_RANGE
        elif queued:
            days, ranges = recompute_window(queued)
            mode, lo, hi = "incremental", [r[0] for r in ranges], [r[1] for r in ranges]
        else:
            done.append(Refreshed(str(tenant_id), "none", [], {}))
            continue
        params = {"tenant": tenant_id, "days": days, "lo": lo, "hi": hi} | refresh_params()
        rows = {}
        for table, insert in REFRESH:
            conn.execute(
                sa.text(
                    f"delete from {table} where cast(:days as date[]) is null"  # noqa: S608
                    " or local_date = any(cast(:days as date[]))"
                ),
                {"days": days},
            )
            rows[table] = conn.execute(sa.text(insert), params).rowcount
        conn.execute(
            sa.text(
                "insert into analytics.sales_refresh (tenant_id, refreshed_at, mode, days)"
                " values (:tenant, now(), :mode, :n) on conflict (tenant_id) do update"
                " set refreshed_at = excluded.refreshed_at, mode = excluded.mode,"
                " days = excluded.days"
            ),
            {"tenant": tenant_id, "mode": mode, "n": -1 if days is None else len(days)},
        )
        done.append(Refreshed(str(tenant_id), mode, days, rows))
    engine.set_tenant(conn, None)
    return done


def forget_sales_refresh(tenants: Sequence[str | uuid.UUID]) -> None:
    """Make the next refresh of ``tenants`` a full rebuild (what a forced run does)."""
    with engine.connect("pipeline") as conn:
        for tenant in tenants:
            engine.set_tenant(conn, tenant)
            conn.execute(sa.text("delete from analytics.sales_refresh"))
        engine.set_tenant(conn, None)
