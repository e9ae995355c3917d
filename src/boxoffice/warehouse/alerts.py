"""Alert states and events (``analytics.alert_states``, ``analytics.alert_events``, migration
0016), the notification queue and its attempts, silences and acknowledgements (migration 0017),
and what the alerts task reads to judge its rules. Every read and write is one tenant's (RLS),
as the pipeline role, but for acknowledging, which the reader role does through
``analytics.acknowledge_alert``."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from boxoffice.warehouse import engine
from boxoffice.warehouse.bulk import read_frame
from boxoffice.warehouse.engine import Role
from boxoffice.warehouse.pricing import REFUSED
from boxoffice.warehouse.reads import Tenant, reads
from boxoffice.warehouse.schema import (
    alert_events,
    alert_silences,
    alert_states,
    notification_attempts,
    notifications,
)

_SALES_DAILY = (
    "select local_date, venue_id, channel, tickets_sold, gross_cents, refunded_tickets,"
    " refund_cents, net_cents, orders from analytics.sales_daily"
    " where local_date between $1 and $2 order by 1, 2, 3"
)
_EVENT_SALES = (
    "select local_date, event_id, sum(tickets_sold)::bigint as tickets_sold,"
    " sum(gross_cents)::bigint as gross_cents, sum(refunded_tickets)::bigint as refunded_tickets,"
    " sum(refund_cents)::bigint as refund_cents, sum(net_cents)::bigint as net_cents,"
    " sum(orders)::bigint as orders from analytics.event_sales_daily"
    " where local_date between $1 and $2 group by 1, 2 order by 1, 2"
)


@reads("analytics.sales_daily", "analytics.event_sales_daily", "analytics.events")
def read_alert_sales(
    *, as_of: dt.date, tenant: Tenant, days: int, role: Role = "pipeline"
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The ``days`` local days of sales facts up to ``as_of``: per venue and channel
    (``analytics.sales_daily``), per event (``analytics.event_sales_daily`` summed over
    channels and ticket types), and the run's events with their category."""
    since = as_of - dt.timedelta(days=days - 1)
    daily = read_frame(_SALES_DAILY, [since, as_of], role=role, tenant=tenant)
    per_event = read_frame(_EVENT_SALES, [since, as_of], role=role, tenant=tenant)
    events = read_frame(
        "select event_id, category from analytics.events where as_of = $1",
        [as_of],
        role=role,
        tenant=tenant,
    )
    return daily, per_event, events


@reads("analytics.events", "analytics.event_sales_daily")
def read_event_scans(
    *, as_of: dt.date, tenant: Tenant, days: int = 14, role: Role = "pipeline"
) -> pl.DataFrame:
    """The run's events that started in the ``days`` local days up to ``as_of``: their start
    day, door scans so far and tickets held (sold minus refunded, up to ``as_of``)."""
    return read_frame(
        "select e.event_id, e.start_date, e.scanned::bigint as scanned,"
        " coalesce(sum(s.tickets_sold - s.refunded_tickets), 0)::bigint as held"
        " from analytics.events e left join analytics.event_sales_daily s"
        " on s.event_id = e.event_id and s.local_date <= $1"
        " where e.as_of = $1 and e.start_date between $2 and $1"
        " group by 1, 2, 3 order by 1",
        [as_of, as_of - dt.timedelta(days=days - 1)],
        role=role,
        tenant=tenant,
    )


@reads("raw.dead_letter")
def read_dead_letter_days(
    *, as_of: dt.date, tenant: Tenant, days: int, role: Role = "pipeline"
) -> pl.DataFrame:
    """Per UTC day (``date``) of the ``days`` to ``as_of`` with any: the behaviour events
    claiming ``tenant`` that the ingest rejected (``dead_letters``)."""
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), dt.UTC)
    return read_frame(
        "select (received_at at time zone 'UTC')::date as date, count(*)::bigint as dead_letters"
        " from raw.dead_letter where claimed_tenant = $1 and received_at >= $2"
        " and received_at < $3 group by 1 order by 1",
        [str(tenant), end - dt.timedelta(days=days), end],
        role=role,
        tenant=tenant,
    )


@reads(
    "source.tickets",
    "raw.events",
    "analytics.completed_runs",
    "raw.dead_letter",
    "analytics.event_reconciliation",
)
def read_operations(
    *, as_of: dt.date, tenant: Tenant, before: dt.datetime, role: Role = "pipeline"
) -> dict:
    """What the freshness and operational rules judge, for ``tenant``: the newest sale, the
    newest behaviour event and the newest completed run before ``before``; the dead letters
    claiming the tenant received on ``as_of`` (UTC day); the event types its reconciliation
    of ``as_of`` flagged on that day."""
    day = dt.datetime.combine(as_of, dt.time(), dt.UTC)
    frame = read_frame(
        "select (select max(sold_at) from source.tickets where sold_at < $1) as sales,"
        " (select max(occurred_at) from raw.events where occurred_at < $1) as events,"
        " (select max(finished_at) from analytics.completed_runs where finished_at < $1) as run,"
        " (select count(*) from raw.dead_letter where claimed_tenant = $4"
        "  and received_at >= $2 and received_at < $2 + interval '1 day')::bigint"
        "  as dead_letters,"
        " (select string_agg(type, ', ' order by type) from analytics.event_reconciliation"
        "  where as_of = $3 and day = $3 and (low_volume or orders_mismatch)) as flagged",
        [before, day, as_of, str(tenant)],
        role=role,
        tenant=tenant,
    )
    return frame.row(0, named=True)


@reads("source.venues", "analytics.events")
def read_labels(*, as_of: dt.date, tenant: Tenant, role: Role = "pipeline") -> dict[str, str]:
    """What people call a scope key: each venue's and each of the run's events' name."""
    rows = read_frame(
        "select venue_id as key, name from source.venues union all"
        " select event_id, name from analytics.events where as_of = $1",
        [as_of],
        role=role,
        tenant=tenant,
    )
    return dict(rows.rows())


@reads("analytics.alert_states")
def read_alert_states(*, tenant: Tenant, role: Role = "pipeline") -> pl.DataFrame:
    """Every rule and scope's state of ``tenant``."""
    return read_frame(
        "select rule, scope_key, state, since, count::bigint as count, evaluated, value, lower,"
        " upper, notified_at, acknowledged_by, acknowledged_at from analytics.alert_states"
        " order by rule, scope_key",
        role=role,
        tenant=tenant,
    )


@reads("analytics.alert_events")
def read_alert_events(*, tenant: Tenant, since: dt.date, role: Role = "reader") -> pl.DataFrame:
    """``tenant``'s changes of state evaluated on ``since`` or later, newest first."""
    return read_frame(
        "select as_of, rule, scope_key, from_state, to_state, value, lower, upper, explanation"
        " from analytics.alert_events where as_of >= $1"
        " order by as_of desc, event_id desc, rule, scope_key",
        [since],
        role=role,
        tenant=tenant,
    )


@reads("analytics.alert_silences")
def read_silences(*, tenant: Tenant, role: Role = "pipeline") -> pl.DataFrame:
    """``tenant``'s silences, newest first (expired ones too)."""
    return read_frame(
        "select silence_id, rule, scope_key, until, reason, created_by, created_at"
        " from analytics.alert_silences order by created_at desc, silence_id desc",
        role=role,
        tenant=tenant,
    )


@reads("analytics.notifications")
def read_notifications(
    *, tenant: Tenant, status: str | None = None, role: Role = "pipeline"
) -> pl.DataFrame:
    """``tenant``'s notifications (all, or those of ``status``), newest first."""
    return read_frame(
        "select notification_id, key, rule, event, evaluated, scope_keys, channel, recipient,"
        " subject, status, attempts::bigint as attempts, last_error, created_at,"
        " next_attempt_at, sent_at from analytics.notifications"
        " where $1::text is null or status = $1 order by created_at desc, notification_id desc",
        [status],
        role=role,
        tenant=tenant,
    )


def save_alerts(
    states: pl.DataFrame,
    events: pl.DataFrame,
    *,
    tenant: str,
    queued: list[dict] = (),
    notified: list[tuple[str, str]] = (),
    now: dt.datetime | None = None,
) -> dict[str, int]:
    """In one transaction for ``tenant``: each state upserted by (rule, scope) — who
    acknowledged it is kept while its state stays the same —, each event added, each
    notification queued once (one already queued under its key, channel and recipient is left
    as it is, so a date evaluated again queues nothing), and ``notified_at = now`` on the
    (rule, scope) pairs notified. Returns the counts written."""
    now = now or dt.datetime.now(dt.UTC)
    with engine.connect("pipeline", tenant=tenant) as conn:
        written = {"states": 0, "events": 0, "notifications": 0}
        if states.height:
            columns = [c.name for c in alert_states.c if not c.name.startswith("acknowledged")]
            rows = [
                {**{k: r[k] for k in columns if k in r}, "tenant_id": tenant}
                for r in states.iter_rows(named=True)
            ]
            statement = insert(alert_states).values(rows)
            keys = ["tenant_id", "rule", "scope_key"]
            same = alert_states.c.state == statement.excluded.state
            statement = statement.on_conflict_do_update(
                index_elements=keys,
                set_={
                    **{c: statement.excluded[c] for c in columns if c not in keys},
                    "acknowledged_by": sa.case((same, alert_states.c.acknowledged_by)),
                    "acknowledged_at": sa.case((same, alert_states.c.acknowledged_at)),
                },
            )
            written["states"] = conn.execute(statement).rowcount
        if events.height:
            rows = [{**r, "tenant_id": tenant} for r in events.iter_rows(named=True)]
            written["events"] = conn.execute(insert(alert_events).values(rows)).rowcount
        if queued:
            rows = [
                {**q, "tenant_id": tenant, "created_at": now, "next_attempt_at": now}
                for q in queued
            ]
            statement = (
                insert(notifications)
                .values(rows)
                .on_conflict_do_nothing(index_elements=["tenant_id", "key", "channel", "recipient"])
                .returning(notifications.c.notification_id)
            )
            written["notifications"] = len(conn.execute(statement).all())
        for rule, scope_key in notified:
            conn.execute(
                sa.update(alert_states)
                .where(alert_states.c.rule == rule, alert_states.c.scope_key == scope_key)
                .values(notified_at=now)
            )
    return written


def deliver_due(
    send: Callable[[dict], None],
    *,
    tenant: str,
    now: dt.datetime,
    deadline: float,
    backoff: Callable[[int], dt.timedelta],
) -> dict[str, int]:
    """Try each of ``tenant``'s queued notifications that is due (``next_attempt_at`` ≤
    ``now``), oldest first, until none is left or the clock passes ``deadline``
    (``time.monotonic()``). Each is claimed in its own transaction (``for update skip locked``:
    two evaluations at once never send one twice), ``send(row)`` is called — it raises to
    fail — and the attempt is recorded with it: ``sent``, or still ``queued`` with its error
    and its next attempt ``backoff(attempts)`` later. Returns the counts sent and failed."""
    done = {"sent": 0, "failed": 0}
    tried: list[int] = []
    while time.monotonic() < deadline:
        with engine.connect("pipeline", tenant=tenant) as conn:
            row = (
                conn.execute(
                    sa.select(notifications)
                    .where(
                        notifications.c.status == "queued",
                        notifications.c.next_attempt_at <= now,
                        notifications.c.notification_id.not_in(tried),
                    )
                    .order_by(notifications.c.created_at, notifications.c.notification_id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
                .mappings()
                .first()
            )
            if row is None:
                break
            row = dict(row)
            tried.append(row["notification_id"])
            started = time.monotonic()
            try:
                send(row)
                error = None
            except Exception as exc:  # recorded, never raised: the queue keeps it
                error = str(exc) or type(exc).__name__
            attempts = row["attempts"] + 1
            at = dt.datetime.now(dt.UTC)
            conn.execute(
                insert(notification_attempts).values(
                    tenant_id=tenant,
                    notification_id=row["notification_id"],
                    attempt=attempts,
                    attempted_at=at,
                    seconds=round(time.monotonic() - started, 3),
                    error=error,
                )
            )
            conn.execute(
                sa.update(notifications)
                .where(notifications.c.notification_id == row["notification_id"])
                .values(
                    attempts=attempts,
                    status="queued" if error else "sent",
                    last_error=error,
                    sent_at=None if error else at,
                    next_attempt_at=now + backoff(attempts) if error else row["next_attempt_at"],
                )
            )
            done["failed" if error else "sent"] += 1
    return done


@reads("analytics.notifications")
def failing_channels(*, tenant: Tenant, attempts: int, role: Role = "pipeline") -> pl.DataFrame:
    """Per channel of ``tenant``: whether a notification is still queued after ``attempts``
    attempts or more (``failing``), and the last error of the most tried."""
    return read_frame(
        "select channel, bool_or(status = 'queued' and attempts >= $1) as failing,"
        " (array_agg(last_error order by (status = 'queued') desc, attempts desc,"
        " notification_id desc))[1] as last_error, max(attempts)::bigint as attempts"
        " from analytics.notifications group by channel order by channel",
        [attempts],
        role=role,
        tenant=tenant,
    )


def add_silence(
    *, tenant: str, rule: str, scope_key: str | None, until: dt.datetime, reason: str, by: str
) -> int:
    """Silence ``rule`` (one scope, or every scope) of ``tenant`` until ``until``."""
    with engine.connect("pipeline", tenant=tenant) as conn:
        return conn.execute(
            insert(alert_silences)
            .values(
                tenant_id=tenant,
                rule=rule,
                scope_key=scope_key,
                until=until,
                reason=reason,
                created_by=by,
                created_at=dt.datetime.now(dt.UTC),
            )
            .returning(alert_silences.c.silence_id)
        ).scalar_one()


class Refused(ValueError):
    """The database refused an acknowledgement; the message says why."""


def acknowledge(*, tenant: str, rule: str, scope_key: str, by: str) -> dict:
    """Acknowledge a firing alert as the reader role, through ``analytics.acknowledge_alert``."""
    try:
        with engine.connect("reader", tenant=tenant) as conn:
            row = (
                conn.execute(
                    sa.text(
                        "select rule, scope_key, state, acknowledged_by, acknowledged_at"
                        " from analytics.acknowledge_alert(:rule, :scope, :by)"
                    ),
                    {"rule": rule, "scope": scope_key, "by": by},
                )
                .mappings()
                .one()
            )
    except sa.exc.DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == REFUSED:
            raise Refused(exc.orig.diag.message_primary) from None
        raise
    return dict(row)
