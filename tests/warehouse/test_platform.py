"""``boxoffice load --mapping``: the example platform Marquee (examples/marquee), built in a
second database of the test server, read through its mapping file — hand-made rows with the
contract rows they must become, incremental loads by cursor, deletions, and bad input."""

import datetime as dt
import json
import os
import re
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from boxoffice.cli import main
from boxoffice.warehouse import contract, engine, loading, platform

EXAMPLE = Path(__file__).parents[2] / "examples" / "marquee"
ORG = "11111111-1111-4111-8111-111111111111"
H = "22222222-2222-4222-8222-222222222222"
S = "33333333-3333-4333-8333-333333333333"
P = "44444444-4444-4444-8444-444444444444"
U1, U2 = (f"55555555-5555-4555-8555-00000000000{n}" for n in (1, 2))
X1, X2, X3 = (f"66666666-6666-4666-8666-00000000000{n}" for n in (1, 2, 3))
UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def marquee(make_database, migrated_db, monkeypatch) -> psycopg.Connection:
    """An empty Marquee database (``MARQUEE_DATABASE_URL``); a connection to it, autocommit."""
    url = engine.libpq_url(make_url(make_database()))
    monkeypatch.setenv("MARQUEE_DATABASE_URL", url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute((EXAMPLE / "schema.sql").read_text())
        yield conn


def fill(conn: psycopg.Connection) -> None:
    """One organization with a hall in New York, a show, a patron and three seats in two
    purchases, bought at the two local times a daylight-saving change makes hard: 02:30 on
    2026-03-08 (skipped) and 01:30 on 2026-11-01 (ambiguous)."""
    conn.execute(
        "insert into marquee.organizations values (%s, 'Harbor', '2026-01-01 09:00', %s)",
        [ORG, at("2026-01-01 09:00")],
    )
    conn.execute(
        "insert into marquee.halls values (%s, %s, 'Hall', 'New York', 'America/New_York', 900,"
        " %s)",
        [ORG, H, at("2026-01-01 09:00")],
    )
    conn.execute(
        "insert into marquee.shows values (%s, %s, %s, 'Gala', 'Concert', '2026-02-01 10:00',"
        " '2026-11-20 20:00', 800, 45.50, %s)",
        [ORG, S, H, at("2026-01-02 09:00")],
    )
    conn.execute(
        "insert into marquee.patrons values (%s, %s, 'ann@example.com', 'Ann', '2026-01-15 12:00',"
        " %s)",
        [ORG, P, at("2026-01-15 12:00")],
    )
    seats = [
        (X1, U1, "WEB", 45.50, 4.25, "GA", "2026-03-08 02:30", "ISSUED", None, None, "03-08 08:00"),
        (X2, U1, "WEB", 45.50, 4.25, "VIP", "2026-03-08 02:30", "ADMITTED", None,
         "2026-11-20 19:15", "11-20 19:16"),
        (X3, U2, "APP", 50.00, 0, "PREMIUM", "2026-11-01 01:30", "REFUNDED", "2026-11-02 09:00",
         None, "11-02 14:00"),
    ]  # fmt: skip
    for x, u, via, price, fee, tier, bought, state, refunded, admitted, updated in seats:
        conn.execute(
            "insert into marquee.seats values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
            " %s, %s)",
            [ORG, x, u, P, via, S, price, fee, tier, bought, state, refunded, admitted,
             at(f"2026-{updated}")],
        )  # fmt: skip


def run(*args, mapping: Path = EXAMPLE / "mapping.yaml"):
    from click.testing import CliRunner

    return CliRunner().invoke(main, ["load", "--mapping", str(mapping), *args])


def rows(query: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(query))]


def test_the_mapping_turns_marquee_rows_into_contract_rows(marquee):
    fill(marquee)
    result = run("--json")
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)["tables"]
    assert {t: n["inserted"] for t, n in counts.items()} == {
        "tenants": 1,
        "venues": 1,
        "events": 1,
        "customers": 1,
        "orders": 2,
        "tickets": 3,
        "campaign_touches": 0,
    }
    # New York is UTC-5 in winter, UTC-4 in summer; 2026-03-08 02:30 does not exist there
    # (read with the offset before the change: -5), 2026-11-01 01:30 happens twice (read as
    # standard time, the later one: -5)
    assert rows(
        "select tenant_id::text, event_id::text, venue_id::text, name, category, on_sale_at,"
        " starts_at, capacity, base_price_cents from source.events"
    ) == [(ORG, S, H, "Gala", "concert", at("2026-02-01 15:00"), at("2026-11-21 01:00"), 800, 4550)]
    assert rows("select order_id::text, channel, created_at from source.orders order by 1") == [
        (U1, "web", at("2026-03-08 07:30")),
        (U2, "mobile", at("2026-11-01 06:30")),
    ]
    tickets = "select ticket_id::text, price_cents, fee_cents, ticket_type, sold_at, status,"
    tickets += " refunded_at, scanned_at from source.tickets order by 1"
    assert rows(tickets) == [
        (X1, 4550, 425, "standard", at("2026-03-08 07:30"), "sold", None, None),
        (X2, 4550, 425, "vip", at("2026-03-08 07:30"), "scanned", None, at("2026-11-21 00:15")),
        (X3, 5000, 0, "premium", at("2026-11-01 06:30"), "refunded", at("2026-11-02 14:00"), None),
    ]
    assert rows("select created_at from source.customers") == [(at("2026-01-15 12:00"),)]
    assert rows("select marks->>'tickets', marks ? 'tickets.deleted' from source.loads") == [
        ("2026-11-20 19:16:00+00", False)
    ]


def test_a_second_load_reads_the_rows_changed_since_the_mark_and_the_tombstones(marquee):
    fill(marquee)
    assert run().exit_code == 0
    # X1 refunded on the platform; X2 voided (deleted, with a tombstone); X3 untouched
    marquee.execute(
        "update marquee.seats set state = 'REFUNDED', refunded = '2026-11-24 10:00',"
        " updated_at = '2026-11-24 15:00+00' where seat_ticket_id = %s",
        [X1],
    )
    marquee.execute("delete from marquee.seats where seat_ticket_id = %s", [X2])
    marquee.execute(
        "insert into marquee.voided_seats values (%s, %s, '2026-11-24 16:00+00')", [ORG, X2]
    )
    result = run("--json")
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)["tables"]
    # tickets: X1 (changed) only — X2 is gone, X3's cursor is before the mark
    assert counts["tickets"] == {
        "read": 1, "inserted": 0, "updated": 1, "unchanged": 0, "deleted": 1, "rejected": 0
    }  # fmt: skip
    assert counts["orders"]["read"] == 1  # U1: its seats' newest change is X1's
    assert counts["events"]["read"] == 1  # at the mark: read again, unchanged
    assert counts["events"]["unchanged"] == 1
    assert rows("select ticket_id::text, status, refunded_at from source.tickets order by 1") == [
        (X1, "refunded", at("2026-11-24 15:00")),
        (X3, "refunded", at("2026-11-02 14:00")),
    ]
    assert loading.last_marks("marquee")["tickets.deleted"] == "2026-11-24 16:00:00+00"
    assert loading.last_marks("marquee")["tickets"] == "2026-11-24 15:00:00+00"


def test_a_full_load_deletes_what_the_platform_no_longer_has(marquee):
    fill(marquee)
    assert run().exit_code == 0
    marquee.execute("delete from marquee.seats where purchase_id = %s", [U2])  # no tombstone
    assert run().exit_code == 0  # incremental: nothing says U2 is gone
    assert rows("select count(*) from source.tickets") == [(3,)]
    result = run("--full", "--json")
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)["tables"]
    assert (counts["tickets"]["deleted"], counts["orders"]["deleted"]) == (1, 1)
    assert counts["tickets"]["read"] == 2  # read whole, whatever the marks
    assert rows("select order_id::text from source.orders") == [(U1,)]


def test_an_unknown_spelling_refuses_the_load_and_keeps_the_marks(marquee):
    fill(marquee)
    assert run().exit_code == 0
    marks = loading.last_marks("marquee")
    marquee.execute(
        "update marquee.seats set state = 'LOST', updated_at = '2026-11-30 00:00+00'"
        " where seat_ticket_id = %s",
        [X1],
    )
    result = run()
    assert result.exit_code == 1
    assert re.search(
        rf"tickets row \d \({ORG}/{X1}\), status: allowed: LOST is not one of", result.output
    )
    assert loading.last_marks("marquee") == marks
    assert rows(f"select status from source.tickets where ticket_id = '{X1}'") == [("sold",)]
    assert rows("select outcome from source.loads order by started_at") == [
        ("loaded",),
        ("refused",),
    ]


def test_a_column_the_platform_lacks_is_named_by_its_place_in_the_mapping(marquee, tmp_path):
    fill(marquee)
    mapping = tmp_path / "mapping.yaml"
    text = (EXAMPLE / "mapping.yaml").read_text()
    mapping.write_text(text.replace("city: town", "city: hall_town"))
    result = run(mapping=mapping)
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        f"error: {mapping}: tables.venues.columns.city: the platform marquee cannot compute it:"
        ' column "hall_town" does not exist'
    )
    assert rows("select count(*) from source.loads") == [(0,)]  # nothing was started


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (None, "environment variable MARQUEE_DATABASE_URL is not set"),
        ("postgresql://127.0.0.1:1/marquee", "cannot connect: connection failed"),
        ("nosuch", 'role "nosuch" does not exist'),
    ],
)
def test_a_platform_that_cannot_be_reached_is_a_clear_error(marquee, monkeypatch, url, says):
    if url is None:
        monkeypatch.delenv("MARQUEE_DATABASE_URL")
    elif url == "nosuch":  # the right server, a login it refuses
        given = make_url(os.environ["MARQUEE_DATABASE_URL"]).set(username="nosuch")
        monkeypatch.setenv("MARQUEE_DATABASE_URL", given.render_as_string(hide_password=False))
    else:
        monkeypatch.setenv("MARQUEE_DATABASE_URL", url)
    result = run()
    assert result.exit_code == 2
    assert says in result.output
    assert rows("select count(*) from source.tenants") == [(0,)]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("name: [", r"m\.yaml: not YAML \(while parsing a flow node\)"),
        ("- a list", r"m\.yaml: a mapping file is a YAML mapping with name, connection, tables"),
        ("name: m\ntables: {}", r"m\.yaml: missing connection"),
        ("name: m\nconnection: X\ntables: {}\nurl: postgres://", r"m\.yaml: unknown key url"),
        ("name: ''\nconnection: X\ntables: {a: 1}", r"m\.yaml: name: a non-empty string"),
        (
            "name: m\nconnection: X\ntables: {seats: {from: s}}",
            r"m\.yaml: tables\.seats: not a contract table \(tenants, venues, ",
        ),
        (
            "name: m\nconnection: X\ntables: {events: {from: e, query: select 1}}",
            r"m\.yaml: tables\.events: exactly one of from \(a table\) or query",
        ),
        (
            "name: m\nconnection: X\ntables: {events: {columns: {name: title}}}",
            r"m\.yaml: tables\.events: exactly one of from",
        ),
        (
            "name: m\nconnection: X\ntables: {events: {from: a.b.c}}",
            r"m\.yaml: tables\.events\.from: a table name \(table or schema\.table\)",
        ),
        (
            "name: m\nconnection: X\ntables: {events: {from: e, columns: {title: name}}}",
            r"m\.yaml: tables\.events\.columns\.title: not a column of events \(tenant_id, ",
        ),
        (
            "name: m\nconnection: X\ntables: {events: {from: e, cursor: 3}}",
            r"m\.yaml: tables\.events\.cursor: an SQL expression \(text\)",
        ),
        (
            "name: m\nconnection: X\ntables: {events: {from: e, deleted: {from: d, deleted: x}}}",
            r"m\.yaml: tables\.events\.deleted: unknown key deleted \(expected columns, cursor, ",
        ),
        (
            "name: m\nconnection: X\ntables: {events: {from: e, deleted: {from: d, "
            "columns: {name: n}}}}",
            r"m\.yaml: tables\.events\.deleted\.columns\.name: not a column of events \(tenant_id, "
            r"event_id\)",
        ),
    ],
)
def test_a_wrong_mapping_file_is_named_by_its_key(tmp_path, text, says):
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=says):
        platform.read_mapping(path)


def test_the_example_mapping_reads_every_contract_table_and_the_tombstones():
    mapping = platform.read_mapping(EXAMPLE / "mapping.yaml")
    assert (mapping.name, mapping.connection) == ("marquee", "MARQUEE_DATABASE_URL")
    assert list(mapping.tables) == list(contract.BY_NAME)
    tickets = mapping.tables["tickets"]
    assert tickets.mark == "tickets" and mapping.deleted["tickets"].mark == "tickets.deleted"
    assert list(mapping.deleted["tickets"].columns) == ["tenant_id", "ticket_id"]
    assert tickets.columns["tenant_id"] == "org_id"
    assert mapping.tables["customers"].columns["email"] == '"email"'  # not listed: same name
