"""One batch end to end against PostgreSQL: storage, dedup, accounting, late days, rollback."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import uuid

import pytest
import sqlalchemy as sa

from boxoffice import ingest, privacy
from boxoffice.warehouse import engine
from tests.ingest.conftest import TENANT_A, TENANT_B, event, ndjson, rows, run


def test_valid_events_are_stored_with_their_columns(db):
    e = event(
        "add_to_cart",
        customer_id="c-42",
        time="2026-10-15T13:30:00+02:00",
    )
    e["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    e["schemaversion"] = "v1"
    result = run(e)
    assert (result.received, result.stored, result.duplicates, result.rejected) == (1, 1, 0, 0)
    [row] = rows(
        "select tenant_id::text, source, event_id, type, schema_version, occurred_at,"
        " session_id, customer_key, channel, trace_id, payload, batch_id::text from raw.events"
    )
    assert row[:5] == (TENANT_A, "/web", e["id"], "add_to_cart", "v1")
    assert row[5] == dt.datetime(2026, 10, 15, 11, 30, tzinfo=dt.UTC)
    assert row[6:10] == ("s-1", privacy.customer_key("c-42"), "web", e["traceparent"][3:35])
    assert row[10] == {
        "session_id": "s-1",
        "channel": "web",
        "event_id": e["data"]["event_id"],
        "quantity": 2,
        "price_cents": 4500,
    }
    assert row[11] == result.batch_id
    assert rows(
        "select input_name, received, stored, duplicates, rejected from raw.ingest_batches"
    ) == [("test", 1, 1, 0, 0)]


def test_duplicates_inside_a_batch_and_across_batches_are_stored_once(db):
    a, b, c = event(id="a"), event(id="b"), event(id="c")
    first = run(a, b, a, a)
    assert (first.received, first.stored, first.duplicates) == (4, 2, 2)
    # a replayed file, and an overlapping one; (source, id) is the key, not the content
    assert run(a, b, a, a).duplicates == 4
    other_source = event(id="a", source="/mobile")
    second = run(b, c, dict(a, time="2026-10-16T00:00:00Z"), other_source)
    assert (second.stored, second.duplicates) == (2, 2)
    assert rows("select source, event_id from raw.events order by 1, 2") == [
        ("/mobile", "a"),
        ("/web", "a"),
        ("/web", "b"),
        ("/web", "c"),
    ]
    assert rows("select count(*) from raw.event_ids") == [(4,)]


def test_duplicates_in_different_chunks_of_one_batch(db):
    events = [event(id=str(i % 7)) for i in range(30)]
    result = run(*events, chunk_lines=4)
    assert (result.received, result.stored, result.duplicates) == (30, 7, 23)


def test_events_of_several_tenants_land_under_row_level_security(db):
    run(event(tenant=TENANT_A), event(tenant=TENANT_B), event(tenant=TENANT_B))
    for tenant, expected in ((TENANT_A, 1), (TENANT_B, 2)):
        with engine.connect("pipeline", tenant=tenant) as conn:
            assert conn.execute(sa.text("select count(*) from raw.events")).scalar() == expected
    with engine.connect("pipeline") as conn:
        assert conn.execute(sa.text("select count(*) from raw.events")).scalar() == 0


def test_partitions_are_monthly_and_reachable_only_through_the_parent(db):
    run(event(time="2026-09-30T23:59:59Z"), event(time="2026-10-01T00:00:00Z"))
    assert rows(
        "select c.relname, pg_get_expr(c.relpartbound, c.oid) from pg_inherits i"
        " join pg_class c on c.oid = i.inhrelid"
        " where i.inhparent = 'raw.events'::regclass order by 1"
    ) == [
        ("events_2026_09", "FOR VALUES FROM ('2026-09-01 00:00:00+00') TO ('2026-10-01 00:00:00+00')"),
        ("events_2026_10", "FOR VALUES FROM ('2026-10-01 00:00:00+00') TO ('2026-11-01 00:00:00+00')"),
    ]  # fmt: skip
    assert rows("select tableoid::regclass::text from raw.events order by occurred_at") == [
        ("raw.events_2026_09",),
        ("raw.events_2026_10",),
    ]
    with (
        engine.connect("pipeline", tenant=TENANT_A) as conn,
        pytest.raises(sa.exc.ProgrammingError, match="permission denied"),
    ):
        conn.execute(sa.text("select * from raw.events_2026_10"))


def test_day_counts_mark_the_days_touched_and_late_events(db):
    first = run(
        event("page_view", time="2026-10-14T10:00:00Z"),
        event("page_view", time="2026-10-15T10:00:00Z"),
        event("purchase", time="2026-10-15T11:00:00Z"),
    )
    assert first.late == 0
    # out of order: one event for a day before the newest day already stored, one after
    second = run(
        event("page_view", time="2026-10-13T23:00:00-02:00"),  # 14 Oct in UTC: late
        event("page_view", time="2026-10-16T08:00:00Z"),
        event("page_view", time="2026-10-15T08:00:00Z", tenant=TENANT_B),  # B had nothing
    )
    assert second.late == 1
    assert rows(
        "select tenant_id::text, day, type, events, last_batch_id::text from raw.event_day_counts"
        " order by 1, 2, 3"
    ) == [
        (TENANT_A, dt.date(2026, 10, 14), "page_view", 2, second.batch_id),
        (TENANT_A, dt.date(2026, 10, 15), "page_view", 1, first.batch_id),
        (TENANT_A, dt.date(2026, 10, 15), "purchase", 1, first.batch_id),
        (TENANT_A, dt.date(2026, 10, 16), "page_view", 1, second.batch_id),
        (TENANT_B, dt.date(2026, 10, 15), "page_view", 1, second.batch_id),
    ]
    assert rows("select late from raw.ingest_batches order by started_at") == [(0,), (1,)]


def test_gzip_input_is_recognised_by_its_content(db):
    payload = gzip.compress(ndjson(event(), event()))
    result = ingest.ingest_stream(io.BytesIO(payload), name="events.bin")
    assert result.stored == 2
    assert result.input_sha256 == hashlib.sha256(payload).hexdigest()


def test_blank_lines_are_not_received_but_are_numbered(db):
    text = b"\n" + ndjson(event()) + b"  \n\t\r\n" + b"{oops\n\n"
    result = ingest.ingest_stream(io.BytesIO(text), name="t")
    assert (result.received, result.stored, result.rejected) == (2, 1, 1)
    assert rows("select line_number from raw.dead_letter") == [(5,)]


def test_a_failure_mid_batch_leaves_nothing_and_a_rerun_completes_it(db, monkeypatch):
    from boxoffice.ingest import batch

    events = [event(id=str(i)) for i in range(10)] + [b"not json"]
    calls = {"n": 0}
    original = batch._Batch.load

    def failing_load(self, parsed):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("database went away")
        return original(self, parsed)

    monkeypatch.setattr(batch._Batch, "load", failing_load)
    with pytest.raises(ConnectionError):
        run(*events, chunk_lines=3)
    for table in ("raw.events", "raw.event_ids", "raw.dead_letter", "raw.ingest_batches"):
        assert rows(f"select count(*) from {table}") == [(0,)], table
    monkeypatch.setattr(batch._Batch, "load", original)
    result = run(*events, chunk_lines=3)
    assert (result.received, result.stored, result.rejected) == (11, 10, 1)


def test_an_unknown_tenant_is_a_dead_letter_holding_the_pseudonymized_data(db):
    unknown = event(tenant="0194f1d2-0000-7000-8000-0000000000ff", url="https://t.example/a\\b")
    result = run(event(), {**unknown, "data": {**unknown["data"], "ip": "203.0.113.77"}})
    assert (result.stored, result.rejected) == (1, 1)
    [(claimed, rule, payload)] = rows("select claimed_tenant, rule, payload from raw.dead_letter")
    assert (claimed, rule) == ("0194f1d2-0000-7000-8000-0000000000ff", "known-tenant")
    assert payload == (
        '{"session_id":"s-1","channel":"web","url":"https://t.example/a\\\\b",'
        '"ip_network":"203.0.113.0"}'
    )


def test_parsing_in_worker_processes_keeps_order_and_accounting(db):
    lines = [event(id=str(i % 7)) for i in range(30)]  # ids 0..6, then 23 repeats
    unknown = event(tenant=str(uuid.uuid4()), url="https://t.example/a\\b")
    lines[10:10] = [b"not json", unknown, event("add_to_cart", quantity=0)]
    result = run(*lines, chunk_lines=3, workers=2)
    assert (result.received, result.stored, result.duplicates, result.rejected) == (33, 7, 23, 3)
    assert result.rejections == {"(line): json": 1, "tenantid: known-tenant": 1,
                                 "data.quantity: minimum": 1}  # fmt: skip
    dead = rows("select line_number, rule, payload from raw.dead_letter order by 1")
    assert [d[:2] for d in dead] == [(11, "json"), (12, "known-tenant"), (13, "minimum")]
    assert dead[1][2] == '{"session_id":"s-1","channel":"web","url":"https://t.example/a\\\\b"}'

    assert rows("select event_id from raw.events order by 1") == [(str(i),) for i in range(7)]
