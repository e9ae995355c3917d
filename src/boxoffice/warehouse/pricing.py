"""Price recommendations in the warehouse: publish a run's, decide on one, list them, and the
approved prices. Their approval workflow is a state machine::

    pending ──approve──▶ approved     (writes price_history: old, new, reason, who, when)
       │ ──reject───▶ rejected
       └──expire───▶ expired          (superseded by a newer run, past its validity, or the
                                       event has started; done by the pipeline)

``approved``, ``rejected`` and ``expired`` are final: approving twice, approving a rejected or
expired recommendation, or deciding one past its ``valid_until`` is refused with a message
that says what it is now. The database is where this is enforced: a decision is one call of
``analytics.decide`` and an expiry one of ``analytics.expire_recommendations`` (migration
0010), and no application role may write a status or the price history otherwise. The update
only matches a pending, valid row, so of two people deciding at once exactly one wins.

Recommendation ids are UUIDv5 of (tenant, event, run date): the same run twice publishes the
same rows, and a decided recommendation is never overwritten by a rerun.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert

from boxoffice.warehouse import engine
from boxoffice.warehouse.bulk import read_frame
from boxoffice.warehouse.engine import Role
from boxoffice.warehouse.reads import reads
from boxoffice.warehouse.schema import price_recommendations


class ApprovalError(ValueError):
    """A decision that the recommendation's state does not allow; the message says why."""


REFUSED = "BX001"  # the SQLSTATE analytics.decide raises a refusal with
NAMESPACE = uuid.UUID("5b1a1c52-3f7e-4d53-9a43-0c1e6e0f2b7d")
PUBLISHED = (
    "event_id", "current_price_cents", "recommended_price_cents", "demand_score",
    "expected_tickets_current", "expected_tickets_recommended", "expected_revenue_current",
    "expected_revenue_recommended", "reason",
)  # fmt: skip


def recommendation_id(tenant: str, event_id: str, as_of: dt.date) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{tenant}/{event_id}/{as_of.isoformat()}"))


def publish_recommendations(
    recommendations: pl.DataFrame,
    *,
    tenant: str,
    as_of: dt.date,
    valid_days: int,
    started: Sequence[str] = (),
    today: dt.date | None = None,
) -> dict[str, int]:
    """In one transaction for ``tenant``: expire the pending recommendations of earlier runs
    for the events ``recommendations`` has, those past their validity on ``as_of`` and those of
    events in ``started``; then add ``recommendations`` (the rows of
    :func:`boxoffice.pricing.recommend.recommend_prices` with a price, and ``demand_score``) as
    pending, valid for ``valid_days`` days from the later of ``as_of`` and ``today`` (a run of
    a past date — a backfill, the demo — still gives people a week to decide) — except for
    events with a pending recommendation of a *newer* run, which a backfill leaves alone.
    Returns counts of ``expired``, ``published`` and ``newer_kept``."""
    if valid_days < 1:
        raise ValueError(f"valid_days must be at least 1, got {valid_days}")
    if missing := [c for c in PUBLISHED if c not in recommendations.columns]:
        raise ValueError(f"recommendations lack column(s) {missing}")
    start = max(as_of, today or dt.date.today())
    rows = [
        {
            **{c: row[c] for c in PUBLISHED},
            "tenant_id": tenant,
            "recommendation_id": recommendation_id(tenant, row["event_id"], as_of),
            "as_of": as_of,
            "valid_until": start + dt.timedelta(days=valid_days),
        }
        for row in recommendations.iter_rows(named=True)
    ]
    events = [r["event_id"] for r in rows]
    with engine.connect("pipeline", tenant=tenant) as conn:
        expired = conn.execute(
            sa.select(
                sa.func.analytics.expire_recommendations(
                    sa.cast(as_of, sa.Date),
                    sa.cast(events, ARRAY(UUID)),
                    sa.cast(list(started), ARRAY(UUID)),
                )
            )
        ).scalar_one()
        newer = set(
            conn.execute(
                sa.text(
                    "select event_id::text from analytics.price_recommendations"
                    " where status = 'pending' and as_of > :as_of"
                ),
                {"as_of": as_of},
            ).scalars()
        )
        rows = [r for r in rows if r["event_id"] not in newer]
        published = 0
        if rows:
            statement = (
                insert(price_recommendations)
                .values([{**r, "created_at": sa.func.now()} for r in rows])
                .on_conflict_do_nothing(index_elements=["tenant_id", "recommendation_id"])
                .returning(price_recommendations.c.recommendation_id)
            )
            published = len(conn.execute(statement).all())
    return {"expired": expired, "published": published, "newer_kept": len(newer & set(events))}


def decide(
    recommendation: str,
    decision: str,
    *,
    by: str,
    tenant: str,
    note: str | None = None,
    role: Role = "reader",
) -> dict:
    """Approve or reject a pending recommendation of ``tenant`` as ``role``, through
    ``analytics.decide`` (migration 0010): the database checks that it is the tenant's, pending
    and valid on its ``current_date``, and writes the status and, on approval, the price history
    in one transaction. Returns the decided row; :class:`ApprovalError` says why a decision is
    refused."""
    try:
        rec_id = str(uuid.UUID(str(recommendation)))
    except ValueError:
        raise ApprovalError(f"not a recommendation id: {recommendation!r}") from None
    try:
        with engine.connect(role, tenant=tenant) as conn:
            row = (
                conn.execute(
                    sa.text(
                        "select recommendation_id::text, event_id::text, current_price_cents,"
                        " recommended_price_cents, reason, status, decided_by, decided_at, note"
                        " from analytics.decide(cast(:id as uuid), :decision, :by, :note)"
                    ),
                    {"id": rec_id, "decision": decision, "by": by, "note": note},
                )
                .mappings()
                .one()
            )
    except sa.exc.DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == REFUSED:
            raise ApprovalError(exc.orig.diag.message_primary) from None
        raise
    return dict(row)


@reads("analytics.price_recommendations", "analytics.events")
def read_recommendations(
    *, tenant: str, status: str | None = None, role: Role = "reader"
) -> pl.DataFrame:
    """The tenant's recommendations (newest run first), with the event's name when known."""
    return read_frame(
        "select r.recommendation_id, r.as_of, r.event_id, e.name as event, r.status,"
        " r.current_price_cents, r.recommended_price_cents, r.demand_score,"
        " r.expected_tickets_current, r.expected_tickets_recommended,"
        " r.expected_revenue_current, r.expected_revenue_recommended, r.reason,"
        " r.valid_until, r.decided_by, r.decided_at, r.note"
        " from analytics.price_recommendations r left join analytics.events e"
        "   on e.tenant_id = r.tenant_id and e.event_id = r.event_id and e.as_of = r.as_of"
        " where $1::text is null or r.status = $1"
        " order by r.as_of desc, r.status, r.demand_score desc, r.event_id",
        [status],
        role=role,
        tenant=tenant,
    )


@reads("analytics.price_history")
def read_price_history(*, tenant: str, role: Role = "reader") -> pl.DataFrame:
    """Every approved change of the tenant, newest first."""
    return read_frame(
        "select h.approved_at, h.event_id, h.old_price_cents, h.new_price_cents, h.approved_by,"
        " h.reason, h.recommendation_id from analytics.price_history h"
        " order by h.approved_at desc, h.change_id",
        role=role,
        tenant=tenant,
    )


@reads("analytics.approved_prices")
def read_approved_prices(*, tenant: str, role: Role = "reader") -> pl.DataFrame:
    """Each event's newest approved price (``analytics.approved_prices``): what the platform
    is to apply."""
    return read_frame(
        "select event_id, price_cents, approved_by, approved_at, recommendation_id"
        " from analytics.approved_prices order by event_id",
        role=role,
        tenant=tenant,
    )
