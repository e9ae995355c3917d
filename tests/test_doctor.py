"""`boxoffice doctor` tells the truth in both directions."""

import json
import socket
import threading
import time
import uuid

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from boxoffice.cli import main
from boxoffice.warehouse import engine, migrate, schema


def doctor(*args: str):
    return CliRunner().invoke(main, ["doctor", *args], catch_exceptions=False)


def test_healthy_world_exits_0_with_measured_numbers(world):
    result = doctor("--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["healthy"] is True and report["problems"] == []
    assert report["migration"] == {"current": migrate.head(), "head": migrate.head()}
    assert report["server_version"].startswith("18")
    assert 0 < report["latency_ms"] < 1000
    with engine.connect() as conn:
        tickets = conn.execute(sa.text("select count(*) from source.tickets")).scalar_one()
        newest = conn.execute(
            sa.text(
                "select greatest((select max(sold_at) from source.tickets),"
                " (select max(created_at) from source.orders),"
                " (select max(created_at) from source.customers),"
                " (select max(created_at) from source.tenants),"
                " (select max(touched_at) from source.campaign_touches))"
            )
        ).scalar_one()
        raw_rows = {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in schema.metadata.sorted_tables
            if t.schema == "raw"
        }
    source = report["schemas"]["source"]
    assert source["rows"]["tickets"] == tickets == world["manifest"]["rows"]["tickets"]
    assert source["newest"] == newest.isoformat()
    # raw is empty or holds the events a pipeline run ingested (other tests share the world)
    assert report["schemas"]["raw"]["total_rows"] == sum(raw_rows.values())


def test_human_output_has_one_line_per_check(world):
    result = doctor()
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[-1] == "healthy"
    assert any(line.startswith("ok   migrations at head") for line in lines)
    assert any("source" in line and "rows" in line for line in lines)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_closed_port_is_unhealthy_within_5_seconds(home, monkeypatch):
    monkeypatch.setenv(
        "BOXOFFICE_DATABASE_URL", f"postgresql://boxoffice@127.0.0.1:{_free_port()}/boxoffice"
    )
    started = time.monotonic()
    result = doctor()
    assert time.monotonic() - started < 5
    assert result.exit_code == 1
    assert "FAIL database unreachable" in result.output and "Connection refused" in result.output
    assert result.output.splitlines()[-1] == "unhealthy"


def test_a_server_that_never_answers_hits_the_connect_timeout(home, monkeypatch):
    """A port that accepts TCP and then stays silent: doctor gives up at the connect timeout."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    port = listener.getsockname()[1]
    monkeypatch.setenv(
        "BOXOFFICE_DATABASE_URL", f"postgresql://boxoffice@127.0.0.1:{port}/boxoffice"
    )
    monkeypatch.setenv("BOXOFFICE_CONNECT_TIMEOUT", "2")
    try:
        result = doctor("--json")
    finally:
        listener.close()
    assert result.exit_code == 1
    assert "timeout" in json.loads(result.output)["problems"][0]


def test_empty_database_is_unhealthy_until_migrated(empty_db):
    result = doctor()
    assert result.exit_code == 1
    assert "database has no boxoffice migrations" in result.output
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    assert doctor().exit_code == 0


def test_migrations_behind_head_are_unhealthy(migrated_db):
    with engine.connect() as conn:
        conn.execute(sa.text("update alembic_version set version_num = 'old0'"))
    report = json.loads(doctor("--json").output)
    assert report["healthy"] is False
    assert report["problems"] == [
        f"migrations at old0, code expects {migrate.head()}: run `boxoffice db upgrade`"
    ]


def test_rls_switched_off_is_unhealthy(migrated_db):
    with engine.connect() as conn:
        conn.execute(sa.text("alter table source.orders no force row level security"))
    result = doctor()
    assert result.exit_code == 1
    assert "FAIL source.orders: row-level security is not enabled and forced" in result.output


def test_a_role_that_bypasses_rls_is_unhealthy(migrated_db):
    with engine.connect() as conn:
        conn.execute(sa.text("alter role boxoffice_reader bypassrls"))
    try:
        result = doctor()
        assert result.exit_code == 1
        assert "FAIL role boxoffice_reader bypasses row-level security" in result.output
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text("alter role boxoffice_reader nobypassrls"))


def test_no_embedded_database_yet_is_unhealthy_and_creates_nothing(home, monkeypatch):
    monkeypatch.delenv("BOXOFFICE_DATABASE_URL", raising=False)
    result = doctor()
    assert result.exit_code == 1
    assert f"no embedded database in {home / 'pgdata'}" in result.output
    assert not (home / "pgdata").exists()


@pytest.mark.parametrize("url", ["mysql://x@localhost/db", "sqlite:///x.db"])
def test_unsupported_url_is_a_clear_problem(home, monkeypatch, url):
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", url)
    report = json.loads(doctor("--json").output)
    assert report["problems"][0].startswith("database unreachable: unsupported database URL scheme")


def _run_row(conn, status: str, started: str, error: str | None = None) -> None:
    conn.execute(
        sa.text(
            "insert into analytics.pipeline_runs (run_id, as_of, tenants, trigger, status,"
            " started_at, error, backend_pid) values (gen_random_uuid(), '2026-10-31', '',"
            " 'test', :s, cast(:t as timestamptz), :e, 0)"
        ),
        {"s": status, "t": started, "e": error},
    )


def test_a_run_that_died_or_failed_is_unhealthy_until_a_later_run_completes(migrated_db):
    with engine.connect() as conn:  # recorded running, but no server process 0 exists
        _run_row(conn, "running", "2026-11-01 06:30+00")
    report = json.loads(doctor("--json").output)
    assert report["problems"] == [
        "the newest run (as_of 2026-10-31, started 2026-11-01 06:30 UTC) died without an outcome"
        " (killed or crashed): the next run rebuilds its date"
    ]
    with engine.connect() as conn:
        _run_row(conn, "failed", "2026-11-01 07:00+00", error="task rfm failed: boom")
    assert json.loads(doctor("--json").output)["problems"] == [
        "the newest run (as_of 2026-10-31, started 2026-11-01 07:00 UTC) failed:"
        " task rfm failed: boom"
    ]
    with engine.connect() as conn:
        _run_row(conn, "succeeded", "2026-11-01 08:00+00")
    assert doctor().exit_code == 0


def test_storage_reports_the_size_and_the_oldest_data_kept(migrated_db, tmp_path, monkeypatch):
    import datetime as dt
    import io

    import polars as pl

    from boxoffice.ingest import ingest_stream
    from boxoffice.warehouse import write_partitions
    from tests.ingest.conftest import TENANT_A, event, ndjson

    monkeypatch.setenv("BOXOFFICE_REPORTS_DIR", str(tmp_path / "reports"))
    for name in ("2026-09-30", "2026-10-31", "not-a-run"):
        (tmp_path / "reports" / name).mkdir(parents=True)
    with engine.connect() as conn:
        conn.execute(sa.text("insert into source.tenants values (:t, 'A', now())"), {"t": TENANT_A})
    ingest_stream(
        io.BytesIO(ndjson(event(time="2026-10-02T08:00:00Z"), event(time="2026-10-20T08:00:00Z"))),
        name="two",
    )
    segments = pl.DataFrame(
        {"segment": ["lost"], "customers": [1], "revenue": [1.0], "purchases": [1],
         "average_order_value": [1.0], "share_of_customers": [1.0], "share_of_revenue": [1.0]}
    )  # fmt: skip
    for day in (dt.date(2026, 8, 31), dt.date(2026, 10, 31)):
        write_partitions(schema.customer_segments, {TENANT_A: segments}, as_of=day)
    storage = json.loads(doctor("--json").output)["storage"]
    assert storage["oldest_raw_event"] == "2026-10-02T08:00:00+00:00"
    assert storage["oldest_run_partition"] == "2026-08-31"
    assert storage["oldest_report_folder"] == "2026-09-30"
    assert storage["database_bytes"] > 2**20
    line = next(x for x in doctor().output.splitlines() if x.startswith("ok   storage"))
    assert line.endswith("oldest kept: raw events 2026-10-02, runs 2026-08-31, reports 2026-09-30")


def _load_row(conn, outcome: str, finished: str, tables: dict, problems: int = 0) -> None:
    conn.execute(
        schema.loads.insert().values(
            load_id=uuid.uuid4(),
            source="/data/platform",
            mode="incremental",
            started_at=sa.cast(finished, sa.DateTime(timezone=True)) - sa.text("interval '90s'"),
            finished_at=sa.cast(finished, sa.DateTime(timezone=True)),
            outcome=outcome,
            tables=tables,
            marks={},
            problems=problems,
        )
    )


def test_the_newest_load_is_shown_and_a_refused_one_is_unhealthy(migrated_db):
    tickets = {"read": 10, "inserted": 7, "updated": 2, "unchanged": 1, "deleted": 3}
    with engine.connect() as conn:
        _load_row(
            conn, "loaded", "2026-11-02 05:00+00", {"tickets": tickets, "orders": {"read": 4}}
        )
    assert json.loads(doctor("--json").output)["load"]["rows"] == {
        "read": 14, "inserted": 7, "updated": 2, "deleted": 3, "rejected": 0
    }  # fmt: skip
    ran = doctor()
    assert ran.exit_code == 0
    assert (
        "ok   load       2026-11-02 05:00 UTC from /data/platform: 14 read, 7 inserted,"
        " 2 updated, 3 deleted (90.0 s)"
    ) in ran.output
    with engine.connect() as conn:  # a later check changes nothing; a refused load does
        _load_row(conn, "checked", "2026-11-02 05:30+00", {}, problems=5)
    assert doctor().exit_code == 0
    with engine.connect() as conn:
        _load_row(conn, "refused", "2026-11-02 06:00+00", {}, problems=5)
    assert json.loads(doctor("--json").output)["problems"] == [
        "the newest load (from /data/platform, 2026-11-02 06:00 UTC) was refused: 5 problem(s),"
        " nothing written (`boxoffice load --check` lists them)"
    ]
