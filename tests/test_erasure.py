"""`boxoffice forget`: a customer erased from every table and report file, logged without PII,
and kept out of later worlds; bad input changes nothing."""

from __future__ import annotations

import io
import uuid

import polars as pl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from boxoffice import privacy
from boxoffice.cli import main
from boxoffice.ingest import ingest_stream
from boxoffice.synth import WorldSpec, build_world
from boxoffice.warehouse import engine, erasure, refresh_sales, schema
from tests.conftest import WORLD_END, WORLD_SEED, build_small_world
from tests.ingest.conftest import event, ndjson


def scalar(sql: str, **params):
    with engine.connect("owner") as conn:
        return conn.execute(sa.text(sql), params).scalar_one()


def mentions(*needles: str) -> dict[str, int]:
    """Rows of every warehouse table whose text holds any needle (case-insensitive)."""
    found = {}
    for table in schema.metadata.sorted_tables:
        name = f"{table.schema}.{table.name}"
        alias = table.name
        hits = scalar(
            f"select count(*) from {name} {alias}"
            f" where lower({alias}::text) like any(cast(:patterns as text[]))",
            patterns=[f"%{n.lower()}%" for n in needles],
        )
        if hits:
            found[name] = hits
    return found


@pytest.fixture
def world(make_database, tmp_path, monkeypatch):
    """The small world with the first tenant's busiest customer (C) and another (D) present in
    customer days, RFM and value rows, raw events and a dead letter, and in report files."""
    built = build_small_world(make_database(), tmp_path / "synth" / "manifest.json")
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", built["url"])
    monkeypatch.setenv("BOXOFFICE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BOXOFFICE_REPORTS_DIR", str(tmp_path / "reports"))
    tenant = built["manifest"]["tenants"][0]["tenant_id"]
    with engine.connect("owner") as conn:
        c, d = conn.execute(
            sa.text(
                "select customer_id::text from source.orders where tenant_id = :t"
                " group by customer_id order by count(*) desc, customer_id limit 2"
            ),
            {"t": tenant},
        ).scalars()
    refresh_sales([tenant])
    with engine.connect("owner") as conn:
        for who in (c, d):
            key = privacy.customer_key(who)
            conn.execute(
                sa.text(
                    "insert into analytics.customer_value values (:t, :d, :k, 0.5, 1, 10, 100,"
                    " 'low', 'low')"
                ),
                {"t": tenant, "d": WORLD_END, "k": key},
            )
    lines = [event(tenant=tenant, customer_id=who) for who in (c, c, d)]
    result = ingest_stream(io.BytesIO(ndjson(*lines)), name="erasure test")
    assert result.stored == 3
    with engine.connect("owner") as conn:  # ingest masks customer ids in dead letters; an
        conn.execute(  # operator's note or an older version's may still hold the key
            sa.text(
                "insert into raw.dead_letter (batch_id, line_number, received_at, field, rule,"
                " reason, payload) values (:b, 9, now(), 'data', 'json', 'x', :p)"
            ),
            {"b": result.batch_id, "p": f'{{"data": {{"note": "{privacy.customer_key(c)}"}}}}'},
        )

    reports = tmp_path / "reports" / WORLD_END.isoformat()
    reports.mkdir(parents=True)
    key_c = privacy.customer_key(c)
    (reports / "at-risk.html").write_text(f"<td>{key_c}</td><td>{privacy.customer_key(d)}</td>")
    (reports / "notes.ipynb").write_text(f'{{"text": "customer {c.upper()}"}}')
    pl.DataFrame({"customer_key": [key_c]}).write_excel(reports / "at-risk.xlsx")
    (reports / "other.html").write_text("<p>nobody</p>")
    return {**built, "tenant": tenant, "c": c, "d": d, "reports": reports}


def test_forget_erases_the_customer_everywhere_and_logs_no_pii(world):
    t, c, d = world["tenant"], world["c"], world["d"]
    key_c = privacy.customer_key(c)
    orders = scalar("select count(*) from source.orders where customer_id = :c", c=c)
    tickets = scalar(
        "select count(*) from source.tickets k join source.orders o using (tenant_id, order_id)"
        " where o.customer_id = :c",
        c=c,
    )
    days = scalar("select count(*) from analytics.customer_days where customer_key = :k", k=key_c)
    assert orders > 1 and tickets >= orders and days > 0
    assert set(mentions(c, key_c)) >= {
        "source.customers",
        "source.orders",
        "analytics.customer_days",
        "analytics.customer_value",
        "raw.events",
        "raw.dead_letter",
    }
    d_before = mentions(d, privacy.customer_key(d))
    queued = scalar("select count(*) from source.ticket_changes")

    result = CliRunner().invoke(main, ["forget", "--tenant", t, "--customer", c, "--json"])

    assert result.exit_code == 0, result.output
    assert mentions(c, key_c) == {}
    assert mentions(d, privacy.customer_key(d)) == d_before  # the other customer is untouched
    assert scalar("select count(*) from source.ticket_changes") > queued  # days to refresh
    [log] = erasure.erasure_log(t)
    assert log["key_sha256"] == erasure.key_hash(key_c)
    assert log["rows"]["source.orders"] == orders
    assert log["rows"]["source.tickets"] == tickets
    assert log["rows"]["analytics.customer_days"] == days
    assert (log["rows"]["raw.events"], log["rows"]["raw.dead_letter"]) == (2, 1)
    assert sorted(log["files"]) == ["2026-10-31/at-risk.html", "2026-10-31/at-risk.xlsx",
                                    "2026-10-31/notes.ipynb"]  # fmt: skip
    reports = world["reports"]
    assert not (reports / "at-risk.xlsx").exists()  # a workbook cannot be edited in place
    assert (reports / "at-risk.html").read_text() == (
        f"<td>[erased]</td><td>{privacy.customer_key(d)}</td>"
    )
    assert (reports / "notes.ipynb").read_text() == '{"text": "customer [erased]"}'
    assert (reports / "other.html").read_text() == "<p>nobody</p>"
    for path in reports.parent.rglob("*"):
        if path.is_file():
            text = path.read_bytes().lower()
            assert c.encode() not in text and key_c.encode() not in text, path

    again = CliRunner().invoke(main, ["forget", "--tenant", t, "--customer", c])
    assert again.exit_code == 0 and "no rows" in again.output
    assert erasure.erasure_log(t) == [log]


def test_events_ingested_after_an_erasure_do_not_bring_the_customer_back(world):
    t, c, d = world["tenant"], world["c"], world["d"]
    erasure.forget_customers(t, [c])
    later = [event(tenant=t, customer_id=who, time="2026-10-20T09:00:00Z") for who in (c, d)]
    assert ingest_stream(io.BytesIO(ndjson(*later)), name="after").stored == 2
    assert mentions(c, privacy.customer_key(c)) == {}
    keys = scalar(
        "select array_agg(customer_key order by customer_key nulls first) from raw.events"
        " where occurred_at = '2026-10-20 09:00+00'"
    )
    assert keys == [None, privacy.customer_key(d)]  # C's event is kept, without its key


def test_dumps_made_before_an_erasure_are_named_in_its_log(world, tmp_path):
    old = tmp_path / "before.dump"
    assert CliRunner().invoke(main, ["db", "dump", str(old)]).exit_code == 0
    result = CliRunner().invoke(
        main, ["forget", "--tenant", world["tenant"], "--customer", world["c"]]
    )
    assert result.exit_code == 0, result.output
    assert (
        f"note: {old.resolve()} was made before this erasure and still holds them" in result.output
    )
    [log] = erasure.erasure_log(world["tenant"])
    assert log["dumps_holding"] == [str(old.resolve())]


def test_a_new_world_does_not_bring_a_forgotten_customer_back(world):
    t, c = world["tenant"], world["c"]
    customers = scalar("select count(*) from source.customers where tenant_id = :t", t=t)
    erasure.forget_customers(t, [c])
    manifest = build_world(WorldSpec("small", WORLD_SEED, WORLD_END), world["manifest_path"])
    assert scalar("select count(*) from source.customers where customer_id = :c", c=c) == 0
    assert scalar("select count(*) from source.customers where tenant_id = :t", t=t) == (
        customers - 1
    )
    truth = pl.read_parquet(world["manifest_path"].with_name("manifest.customers.parquet"))
    assert c.replace("-", "") not in truth["customer_id"].to_list()
    assert manifest["tenants"][0]["customers"] == customers - 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--customer", "not-a-uuid"], "not a customer id (a UUID): 'not-a-uuid'"),
        (["--customer", "'; drop table source.customers; --"], "not a customer id"),
        ([], "no customer id given"),
        (["--customer", " "], "not a customer id"),
    ],
    ids=["not-a-uuid", "injection", "none", "blank"],
)
def test_bad_customers_are_refused_and_change_nothing(world, args, message):
    before = mentions(world["c"])
    result = CliRunner().invoke(main, ["forget", "--tenant", world["tenant"], *args])
    assert result.exit_code == 2 and message in result.output
    assert mentions(world["c"]) == before


def test_unknown_tenant_binary_file_and_directory_are_refused(world, tmp_path):
    c = world["c"]
    before = mentions(c)
    binary = tmp_path / "ids.bin"
    binary.write_bytes(bytes(range(256)))
    cases = [
        (["--tenant", str(uuid.uuid4()), "--customer", c], "unknown tenant"),
        (["--tenant", "acme", "--customer", c], "tenant must be a UUID"),
        (["--tenant", world["tenant"], "--file", str(binary)], "not a text file"),
        (["--tenant", world["tenant"], "--file", str(tmp_path)], "is a directory"),
    ]
    for args, message in cases:
        result = CliRunner().invoke(main, ["forget", *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert mentions(c) == before
    assert (world["reports"] / "at-risk.xlsx").exists()
