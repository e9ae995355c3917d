"""The approval workflow on a real database, as the reader role: legal and illegal
transitions, expiry, supersession, idempotent publishing, concurrent approvals (exactly one
wins), and tenant isolation of recommendations and decisions."""

from __future__ import annotations

import datetime as dt
import threading

import polars as pl
import pytest
import sqlalchemy as sa

from boxoffice.warehouse import engine
from boxoffice.warehouse import pricing as wp
from boxoffice.warehouse.pricing import ApprovalError

A = "aaaaaaaa-0000-4000-8000-000000000001"
B = "bbbbbbbb-0000-4000-8000-000000000002"
E1, E2, E3 = (f"eeeeeeee-0000-4000-8000-00000000000{i}" for i in (1, 2, 3))
D = dt.date(2026, 10, 31)


def recs(*events: str, price: int = 5500) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "event_id": e,
                "current_price_cents": 5000,
                "recommended_price_cents": price,
                "demand_score": 70.0,
                "expected_tickets_current": 90.0,
                "expected_tickets_recommended": 85.0,
                "expected_revenue_current": 450_000.0,
                "expected_revenue_recommended": 467_500.0,
                "reason": f"raise for {e[-1]}",
            }
            for e in events
        ]
    )


@pytest.fixture
def published(migrated_db):
    assert wp.publish_recommendations(recs(E1, E2), tenant=A, as_of=D, valid_days=7) == {
        "expired": 0,
        "published": 2,
        "newer_kept": 0,
    }
    wp.publish_recommendations(recs(E3), tenant=B, as_of=D, valid_days=7)
    return {e: wp.recommendation_id(A, e, D) for e in (E1, E2)} | {
        E3: wp.recommendation_id(B, E3, D)
    }


def statuses(tenant: str) -> dict[str, str]:
    frame = wp.read_recommendations(tenant=tenant)
    return dict(frame.select("recommendation_id", "status").rows())


def test_approve_writes_the_price_history_and_is_final(published):
    row = wp.decide(published[E1], "approve", by="Ana", tenant=A, note="ok")
    assert (row["status"], row["decided_by"], row["note"]) == ("approved", "Ana", "ok")
    history = wp.read_price_history(tenant=A)
    assert history.select("old_price_cents", "new_price_cents", "approved_by").rows() == [
        (5000, 5500, "Ana")
    ]
    assert history["reason"][0] == "raise for 1 — ok"
    assert wp.read_approved_prices(tenant=A).select("event_id", "price_cents").rows() == [
        (E1, 5500)
    ]
    with pytest.raises(ApprovalError, match="already approved"):
        wp.decide(published[E1], "approve", by="Ana", tenant=A)
    with pytest.raises(ApprovalError, match="already approved"):
        wp.decide(published[E1], "reject", by="Bo", tenant=A)
    assert wp.read_price_history(tenant=A).height == 1


def test_rejected_and_expired_cannot_be_approved(published):
    wp.decide(published[E2], "reject", by="Bo", tenant=A)
    with pytest.raises(ApprovalError, match="already rejected"):
        wp.decide(published[E2], "approve", by="Ana", tenant=A)
    # published on D as of D: valid until D + 7 days, long past by the database's current_date
    wp.publish_recommendations(recs(E3), tenant=A, as_of=D, valid_days=7, today=D)
    with pytest.raises(ApprovalError, match="expired on 2026-11-07"):
        wp.decide(wp.recommendation_id(A, E3, D), "approve", by="Ana", tenant=A)
    assert wp.read_price_history(tenant=A).is_empty()


@pytest.mark.parametrize(
    ("rec", "decision", "by", "message"),
    [
        ("not-a-uuid", "approve", "Ana", "not a recommendation id"),
        (None, "bless", "Ana", "unknown decision"),
        (None, "approve", " ", "say who decides"),
        ("00000000-0000-4000-8000-000000000000", "approve", "Ana", "no such recommendation"),
    ],
    ids=["bad-id", "bad-decision", "nobody", "unknown-id"],
)
def test_bad_decisions_are_refused(published, rec, decision, by, message):
    with pytest.raises(ApprovalError, match=message):
        wp.decide(rec or published[E1], decision, by=by, tenant=A)


def test_a_newer_run_supersedes_and_validity_and_start_expire(published):
    later = D + dt.timedelta(days=1)
    counts = wp.publish_recommendations(
        recs(E1, price=5600), tenant=A, as_of=later, valid_days=7, started=[E2], today=D
    )
    assert counts == {"expired": 2, "published": 1, "newer_kept": 0}
    frame = wp.read_recommendations(tenant=A).sort("as_of", "event_id")
    assert frame.select("as_of", "event_id", "status", "note").rows() == [
        (D, E1, "expired", f"superseded by the run of {later}"),
        (D, E2, "expired", "event started"),
        (later, E1, "pending", None),
    ]
    # past validity
    far = dt.date.today() + dt.timedelta(days=30)  # past the fixture's validity
    assert (
        wp.publish_recommendations(recs(E1).clear(), tenant=A, as_of=far, valid_days=7)["expired"]
        == 1
    )


def test_publishing_the_same_run_twice_changes_nothing(published):
    before = wp.read_recommendations(tenant=A)
    again = wp.publish_recommendations(recs(E1, E2), tenant=A, as_of=D, valid_days=7)
    assert again == {"expired": 0, "published": 0, "newer_kept": 0}
    assert wp.read_recommendations(tenant=A).equals(before)


def test_concurrent_approvals_exactly_one_wins(published):
    barrier, outcomes = threading.Barrier(6), []

    def approve(name: str) -> None:
        barrier.wait()
        try:
            wp.decide(published[E1], "approve", by=name, tenant=A)
            outcomes.append(("won", name))
        except ApprovalError as exc:
            outcomes.append(("lost", str(exc)))

    threads = [threading.Thread(target=approve, args=(f"p{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [name for kind, name in outcomes if kind == "won"]
    assert len(won) == 1 and len(outcomes) == 6
    assert all("already approved" in text for kind, text in outcomes if kind == "lost")
    assert wp.read_price_history(tenant=A)["approved_by"].to_list() == won


def test_a_reader_of_one_tenant_can_neither_see_nor_decide_anothers(published):
    assert set(statuses(B)) == {published[E3]}
    assert published[E1] not in statuses(B)
    with pytest.raises(ApprovalError, match="no such recommendation"):
        wp.decide(published[E1], "approve", by="Mallory", tenant=B)
    assert statuses(A)[published[E1]] == "pending"
    assert wp.read_price_history(tenant=B).is_empty()


def test_the_reader_may_record_decisions_only(published):
    with engine.connect("reader", tenant=A) as conn, pytest.raises(sa.exc.ProgrammingError):
        conn.execute(
            sa.text("update analytics.price_recommendations set recommended_price_cents = 1")
        )
    with engine.connect("reader", tenant=A) as conn, pytest.raises(sa.exc.ProgrammingError):
        conn.execute(sa.text("delete from analytics.price_history"))
    with engine.connect("reader", tenant=A) as conn, pytest.raises(sa.exc.DBAPIError):
        conn.execute(  # RLS: a row for another tenant is refused
            sa.text(
                "insert into analytics.price_history values (cast(:b as uuid), gen_random_uuid(),"
                " cast(:e as uuid), cast(:r as uuid), 1, 2, 'x', 'y', now())"
            ),
            {"b": B, "e": E3, "r": published[E3]},
        )


def test_a_run_of_a_past_date_gives_a_week_from_today(migrated_db):
    today = D + dt.timedelta(days=20)
    wp.publish_recommendations(recs(E1), tenant=A, as_of=D, valid_days=7, today=today)
    assert wp.read_recommendations(tenant=A)["valid_until"].to_list() == [
        today + dt.timedelta(days=7)
    ]


def test_a_backfill_leaves_a_newer_runs_pending_recommendations_alone(published):
    """The run of D is pending for E1 and E2; a backfill of the day before must neither
    supersede it nor collide with it (one pending recommendation per event)."""
    earlier = D - dt.timedelta(days=1)
    counts = wp.publish_recommendations(recs(E1), tenant=A, as_of=earlier, valid_days=7)
    assert counts == {"expired": 0, "published": 0, "newer_kept": 1}
    assert set(statuses(A).values()) == {"pending"} and len(statuses(A)) == 2
