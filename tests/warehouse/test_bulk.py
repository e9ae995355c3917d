"""COPY a polars frame in, read a query out: values survive the round trip exactly."""

import datetime as dt
import os
import time

import polars as pl
import psycopg
import pytest
import sqlalchemy as sa

from boxoffice.warehouse import bulk, engine

UTC = dt.UTC


@pytest.fixture
def table(empty_db):
    with engine.connect() as conn:
        conn.execute(
            sa.text(
                "create table public.probe (id uuid primary key, at timestamptz,"
                " label text, cents bigint check (cents >= 0), ok boolean)"
            )
        )
    return "public.probe"


def test_copy_then_read_round_trips_awkward_values(table):
    frame = pl.DataFrame(
        {
            "id": [
                "a0eebc999c0b4ef8bb6d6bb9bd380a11",
                "b1eebc99-9c0b-4ef8-bb6d-6bb9bd380a12",
                "c2eebc999c0b4ef8bb6d6bb9bd380a13",
            ],
            "at": [
                dt.datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=UTC),
                None,
                dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
            ],
            "label": ['comma, "quote"\nnewline', "", None],
            "cents": [0, 12_345_678_901, None],
            "ok": [True, False, None],
        }
    )
    with engine.connect() as conn:
        assert bulk.copy_frame(conn, table, frame) == 3
    out = bulk.read_frame(f"select * from {table} order by id", role="owner")
    assert out["id"].to_list() == [
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "b1eebc99-9c0b-4ef8-bb6d-6bb9bd380a12",
        "c2eebc99-9c0b-4ef8-bb6d-6bb9bd380a13",
    ]
    assert out["at"].to_list() == frame["at"].to_list()
    assert out["label"].to_list() == ['comma, "quote"\nnewline', "", None]
    assert out["cents"].to_list() == [0, 12_345_678_901, None]
    assert out["ok"].to_list() == [True, False, None]


def test_read_frame_binds_parameters_and_converts_numeric(table):
    with engine.connect() as conn:
        bulk.copy_frame(
            conn, table, pl.DataFrame({"id": ["a0eebc999c0b4ef8bb6d6bb9bd380a11"], "label": ["x"]})
        )
    hostile = "x' or '1'='1"
    assert (
        bulk.read_frame(f"select * from {table} where label = $1", [hostile], role="owner").height
        == 0
    )
    out = bulk.read_frame(
        f"select label, 7::numeric / 2 as half from {table} where label = $1", ["x"], role="owner"
    )
    assert out.to_dicts() == [{"label": "x", "half": 3.5}]
    assert out.schema["half"] == pl.Float64


def test_a_failing_copy_leaves_nothing_behind(table, monkeypatch):
    monkeypatch.setattr(bulk, "COPY_CHUNK_ROWS", 10)  # the bad row arrives in a later chunk
    ids = [f"{i:032x}" for i in range(1, 31)]
    frame = pl.DataFrame({"id": ids, "cents": [*range(29), -1]})
    with (
        pytest.raises(psycopg.errors.CheckViolation, match="probe_cents_check"),
        engine.connect() as conn,
    ):
        bulk.copy_frame(conn, table, frame)
    assert bulk.read_frame(f"select count(*) as n from {table}", role="owner")["n"][0] == 0


def test_copy_rejects_unknown_columns_by_name(empty_db):
    from boxoffice.warehouse.schema import tenants

    with (
        engine.connect() as conn,
        pytest.raises(ValueError, match=r"no such column\(s\) \['colour'\]"),
    ):
        bulk.copy_frame(conn, tenants, pl.DataFrame({"colour": ["red"]}))


def test_read_frame_reports_an_unreachable_database(home, monkeypatch):
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    with pytest.raises(engine.WarehouseError, match="cannot connect as owner"):
        bulk.read_frame("select 1", role="owner")


def _backend() -> int:
    return bulk.read_frame("select pg_backend_pid() as pid", role="owner")["pid"][0]


def _tenant_setting(tenant=None) -> str:
    query = "select current_setting('app.tenant_id', true) as t"
    return bulk.read_frame(query, role="owner", tenant=tenant)["t"][0]


def test_reads_keep_their_connection_and_set_the_tenant_each_time(empty_db):
    first = _backend()
    assert _backend() == first  # the same session serves the next read
    tenant = "00000000-0000-0000-0000-00000000000a"
    assert _tenant_setting(tenant) == tenant
    assert _tenant_setting() == ""  # the last read's tenant does not carry over
    assert _backend() == first


def test_a_kept_connection_that_died_is_replaced(empty_db):
    first = _backend()
    with psycopg.connect(empty_db.replace("postgresql+psycopg", "postgresql")) as admin:
        admin.execute("select pg_terminate_backend(%s)", [first])
    assert _backend() != first


def test_a_forked_child_reads_on_a_connection_of_its_own(empty_db):
    parent = _backend()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own backend, and the parent's is left alone
        try:
            os.write(write, str(_backend()).encode())
        finally:
            os._exit(0)
    os.close(write)
    child = int(os.read(read, 32))
    os.waitpid(pid, 0)
    assert child != parent
    # the parent's kept connection was closed before the fork: it reads on a new one
    assert _backend() not in (parent, child)


def test_dispose_all_closes_the_kept_connections_too(empty_db):
    first = _backend()
    engine.dispose_all()  # what a test does between databases and a restore before it runs
    url = empty_db.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(url, autocommit=True) as admin:  # each query a fresh activity snapshot
        # closed, not merely forgotten: its backend exits (asynchronously, so within 5 s)
        deadline = time.monotonic() + 5
        while admin.execute("select 1 from pg_stat_activity where pid = %s", [first]).fetchone():
            assert time.monotonic() < deadline, "the kept connection's backend is still there"
            time.sleep(0.05)
    assert _backend() != first
