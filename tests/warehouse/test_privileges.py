"""Least privilege, generated from the catalog: every application role × every relation of the
warehouse × insert/update/delete/truncate, every function, and the run lock. What a role may do
is listed here by hand; everything else must be refused by the database itself — tried, not
just looked up — including the price forgery a dashboard login could ship before migration 0010.
"""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from psycopg import errors, sql

from boxoffice.warehouse import engine, runs, schema, tenancy
from boxoffice.warehouse import pricing as wp

PIPELINE, READER = tenancy.PIPELINE, tenancy.READER
WRITE = ("insert", "update", "delete")
ALL_WRITES = (*WRITE, "truncate")

# (role, relation) -> the writes it may make; anything absent is refused
ALLOWED: dict[tuple[str, str], tuple[str, ...]] = {
    (PIPELINE, "source.ticket_changes"): ("delete",),  # consumes the change queue
    (PIPELINE, "raw.ingest_batches"): WRITE,
    (PIPELINE, "raw.events"): WRITE,
    (PIPELINE, "raw.event_ids"): ("insert",),  # dedup forever: never updated or deleted
    (PIPELINE, "raw.event_day_counts"): WRITE,
    (PIPELINE, "raw.dead_letter"): WRITE,
    (PIPELINE, "analytics.price_recommendations"): ("insert",),  # new pending ones only
    (PIPELINE, "analytics.pipeline_runs"): ("insert", "update"),  # a trigger guards updates
    (PIPELINE, "analytics.run_lock"): ("update",),  # what `for update` needs
}
NOT_PIPELINE_WRITABLE = {
    "analytics.price_history",
    "analytics.approved_prices",
    "analytics.completed_runs",
}
EXECUTABLE = {
    (PIPELINE, "raw.ensure_event_partitions"),
    (PIPELINE, "raw.drop_event_months"),
    (PIPELINE, "analytics.expire_recommendations"),
    (PIPELINE, "analytics.run_tenants"),
    (READER, "analytics.decide"),
    (READER, "analytics.acknowledge_alert"),
}


def _connect(role: str, tenant: str | None = None) -> psycopg.Connection:
    conn = psycopg.connect(engine.libpq_url(engine.database_url(role)))
    if tenant:
        conn.execute("select set_config('app.tenant_id', %s, false)", [tenant])
        conn.commit()
    return conn


def _relations() -> list[tuple[str, str, bool, int]]:
    """(qualified name, first column, is a view, oid) of every table, partition and view of
    the warehouse."""
    with _connect("owner") as conn:
        return conn.execute(
            "select n.nspname || '.' || c.relname, a.attname, c.relkind = 'v', c.oid::int"
            " from pg_class c"
            " join pg_namespace n on n.oid = c.relnamespace"
            " join pg_attribute a on a.attrelid = c.oid and a.attnum = 1"
            " where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v') order by 1",
            [list(schema.SCHEMAS)],
        ).fetchall()


def _expected(role: str, relation: str) -> tuple[str, ...]:
    if (role, relation) in ALLOWED:
        return ALLOWED[(role, relation)]
    analytics = relation.startswith("analytics.")
    if role == PIPELINE and analytics and relation not in NOT_PIPELINE_WRITABLE:
        return WRITE  # the run's own partitions and facts
    return ()


def _statement(op: str, relation: str, column: str) -> sql.Composed:
    schema_name, name = relation.split(".")
    table = sql.Identifier(schema_name, name)
    return {
        "insert": sql.SQL("insert into {} default values").format(table),
        "update": sql.SQL("update {} set {} = {}").format(
            table, sql.Identifier(column), sql.Identifier(column)
        ),
        "delete": sql.SQL("delete from {}").format(table),
        "truncate": sql.SQL("truncate {}").format(table),
    }[op]


@pytest.mark.parametrize("role", ["pipeline", "reader"])
def test_every_write_a_role_is_not_granted_is_refused_by_the_database(migrated_db, role):
    name = engine.ROLE_NAMES[role]
    relations = _relations()
    assert len(relations) > 30 and "analytics.price_history" in {r[0] for r in relations}
    granted, refused, wrong = [], 0, []
    with _connect(role) as conn:
        for relation, column, view, oid in relations:
            allowed = _expected(name, relation)
            for op in ALL_WRITES:
                privilege = "any_column" if op in ("insert", "update") else "table"
                has = conn.execute(
                    f"select has_{privilege}_privilege(current_user, %s::oid, %s)",
                    [oid, op],
                ).fetchone()[0]
                if has:
                    granted.append((relation, op))
                if op in allowed:
                    continue
                try:
                    with conn.transaction():
                        conn.execute(_statement(op, relation, column))
                        raise AssertionError("not refused")
                except errors.InsufficientPrivilege as exc:
                    if not str(exc).startswith("permission denied"):
                        wrong.append((relation, op, str(exc)))
                    refused += 1
                except (errors.ObjectNotInPrerequisiteState, errors.WrongObjectType):
                    # a view that cannot be written at all says so before checking privileges
                    # (the catalog check above covers its grants)
                    if not view:
                        raise
                    refused += 1
                except AssertionError:
                    wrong.append((relation, op, "not refused"))
                conn.rollback()
    expected = sorted((r, op) for r, *_ in relations for op in _expected(name, r))
    assert sorted(granted) == expected
    assert wrong == []
    assert refused == len(relations) * len(ALL_WRITES) - len(expected)


def test_only_the_listed_functions_are_executable_by_the_application_roles(migrated_db):
    with _connect("owner") as conn:
        rows = conn.execute(
            "select r.rolname, n.nspname || '.' || p.proname from pg_proc p"
            " join pg_namespace n on n.oid = p.pronamespace"
            " cross join pg_roles r"
            " where n.nspname = any(%s) and r.rolname = any(%s)"
            "   and has_function_privilege(r.oid, p.oid, 'execute')",
            [list(schema.SCHEMAS), [PIPELINE, READER]],
        ).fetchall()
        definers = conn.execute(
            "select n.nspname || '.' || p.proname, p.proconfig from pg_proc p"
            " join pg_namespace n on n.oid = p.pronamespace"
            " where n.nspname = any(%s) and p.prosecdef",
            [list(schema.SCHEMAS)],
        ).fetchall()
    assert set(rows) == EXECUTABLE
    # a SECURITY DEFINER function resolves names only in pg_catalog: no search-path hijack
    assert definers and all(
        config == ["search_path=pg_catalog, pg_temp"] for _, config in definers
    ), definers


A = "aaaaaaaa-0000-4000-8000-000000000001"
E1 = "eeeeeeee-0000-4000-8000-000000000001"
E2 = "eeeeeeee-0000-4000-8000-000000000002"


@pytest.fixture
def two_recommendations(migrated_db):
    """A pending recommendation (E1) and an expired one (E2) of tenant A."""
    from tests.pricing.test_approvals import recs

    day = dt.date.today()
    wp.publish_recommendations(recs(E1, E2), tenant=A, as_of=day, valid_days=7)
    wp.publish_recommendations(
        recs(E1), tenant=A, as_of=day, valid_days=7, started=[E2]
    )  # E2's event started: expired by the pipeline
    return {e: wp.recommendation_id(A, e, day) for e in (E1, E2)}


def _refused(conn: psycopg.Connection, statement: str, params=()) -> str:
    with pytest.raises(psycopg.Error) as caught:
        conn.execute(statement, params)
    conn.rollback()
    return str(caught.value)


def test_a_reader_cannot_forge_a_price_or_a_decision(two_recommendations):
    pending, expired = two_recommendations[E1], two_recommendations[E2]
    with _connect("reader", tenant=A) as conn:
        forged = _refused(  # a 1-cent price approved "tomorrow", for a pending recommendation
            conn,
            "insert into analytics.price_history values (%s, gen_random_uuid(), %s, %s,"
            " 5000, 1, 'forged', 'mallory', now() + interval '1 day')",
            [A, E1, pending],
        )
        assert forged.startswith("permission denied for table price_history")
        for statement in (
            "update analytics.price_recommendations set status = 'approved',"
            " decided_by = 'mallory', decided_at = now() where recommendation_id = %s",
            "update analytics.price_recommendations set status = 'pending',"
            " decided_by = null, decided_at = null where recommendation_id = %s",
        ):
            assert _refused(conn, statement, [pending]).startswith("permission denied")
        assert _refused(conn, "delete from analytics.price_recommendations").startswith(
            "permission denied"
        )
        statuses = dict(
            conn.execute(
                "select recommendation_id::text, status from analytics.price_recommendations"
            ).fetchall()
        )
    assert statuses == {pending: "pending", expired: "expired"}
    assert wp.read_approved_prices(tenant=A).is_empty()
    with pytest.raises(wp.ApprovalError, match="already expired by system"):
        wp.decide(expired, "approve", by="mallory", tenant=A)


def test_approved_prices_come_from_approved_recommendations_only(two_recommendations):
    with _connect("owner") as conn:  # even a row the owner slips into the history ships nothing
        conn.execute(
            "insert into analytics.price_history values (%s, gen_random_uuid(), %s, %s,"
            " 5000, 1, 'forged', 'owner', now() + interval '1 day')",
            [A, E2, two_recommendations[E2]],  # the expired one
        )
        conn.commit()
    assert wp.read_approved_prices(tenant=A).is_empty()
    wp.decide(two_recommendations[E1], "approve", by="Ana", tenant=A)
    assert wp.read_approved_prices(tenant=A).select("price_cents", "approved_by").rows() == [
        (5500, "Ana")
    ]


def test_the_pipeline_inserts_only_pending_recommendations(migrated_db):
    with _connect("pipeline", tenant=A) as conn:
        refused = _refused(
            conn,
            "insert into analytics.price_recommendations (tenant_id, recommendation_id, as_of,"
            " event_id, current_price_cents, recommended_price_cents, demand_score,"
            " expected_tickets_current, expected_tickets_recommended, expected_revenue_current,"
            " expected_revenue_recommended, reason, valid_until, created_at, status, decided_by,"
            " decided_at) values (%s, gen_random_uuid(), current_date, %s, 5000, 1, 50, 1, 1, 1,"
            " 1, 'x', current_date + 7, now(), 'approved', 'pipeline', now())",
            [A, E1],
        )
        assert refused.startswith("permission denied for table price_recommendations")
        assert _refused(
            conn, "select analytics.decide(gen_random_uuid(), 'approve', 'pipeline')"
        ).startswith("permission denied for function decide")


def test_the_pipeline_cannot_delete_event_ids_or_rewrite_a_finished_run(migrated_db):
    run_id = runs.record_start(dt.date(2026, 10, 31), [A], "test", backend_pid=0)
    runs.record_finish(run_id, "failed", error="boom")
    with _connect("pipeline") as conn:
        assert _refused(conn, "delete from raw.event_ids").startswith("permission denied")
        rewritten = _refused(
            conn,
            "update analytics.pipeline_runs set status = 'succeeded', error = null"
            " where run_id = %s",
            [run_id],
        )
        assert f"run {run_id} is failed: a finished run is not rewritten" in rewritten
        assert _refused(conn, "delete from analytics.pipeline_runs").startswith("permission denied")
        assert conn.execute(
            "select status, error from analytics.pipeline_runs where run_id = %s", [run_id]
        ).fetchone() == ("failed", "boom")


def test_no_reader_can_take_or_block_the_run_lock(migrated_db):
    with _connect("reader") as conn:
        # what every role may do, and what blocked every run before migration 0010
        conn.execute("select pg_advisory_lock(%s)", [0x626F786F6666])
        assert _refused(conn, "select from analytics.run_lock for update nowait").startswith(
            "permission denied"
        )
        assert _refused(conn, "lock table analytics.run_lock").startswith("permission denied")
        with (  # the pipeline still gets it at once
            runs.run_lock(),
            _connect("pipeline") as other,
            pytest.raises(errors.LockNotAvailable),
        ):
            other.execute("select from analytics.run_lock for update nowait")
