"""Keep the sales facts current: consume the change queue and recompute the days it names
(:mod:`boxoffice.metrics.sales` holds the SQL and the day arithmetic)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from boxoffice.warehouse import engine

FULL_RANGE = (["-infinity"], ["infinity"])


@dataclass(frozen=True)
class Refreshed:
    """What one tenant's refresh did: ``mode`` is ``full``, ``incremental`` or ``none`` (no
    change queued); ``days`` the local days recomputed (null for a full rebuild); ``rows`` the
    rows written per table."""

    tenant: str
    mode: str
    days: list[dt.date] | None
    rows: dict[str, int]


def refresh_sales(tenants: Sequence[str | uuid.UUID], *, full: bool = False) -> list[Refreshed]:
    """Bring each tenant's sales facts up to date with ``source``, in one transaction as the
    pipeline role (RLS scopes every statement to the tenant being refreshed).

    A tenant never refreshed before, or ``full=True``, gets a full rebuild; otherwise the days
    queued in ``source.ticket_changes`` since the last refresh are recomputed, and nothing
    happens when none are queued. The queued rows are deleted in the same transaction, so a
    failure leaves both the facts and the queue as they were.
    """
    from boxoffice.metrics import sales

    done = []
    with engine.connect("pipeline") as conn:
        for tenant in tenants:
            tenant_id = engine.parse_tenant(tenant)
            engine.set_tenant(conn, tenant_id)
            refreshed_before = conn.execute(
                sa.text("select 1 from analytics.sales_refresh for update")
            ).first()
            queued = conn.execute(
                sa.text("delete from source.ticket_changes returning utc_date")
            ).scalars()
            queued = set(queued)
            if full or refreshed_before is None:
                mode, days, (lo, hi) = "full", None, FULL_RANGE
            elif queued:
                days, ranges = sales.recompute_window(queued)
                mode, lo, hi = "incremental", [r[0] for r in ranges], [r[1] for r in ranges]
            else:
                done.append(Refreshed(str(tenant_id), "none", [], {}))
                continue
            params = {"tenant": tenant_id, "days": days, "lo": lo, "hi": hi}
            params |= sales.refresh_params()
            rows = {}
            for table, insert in sales.REFRESH:
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
