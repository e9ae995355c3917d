"""Staged platform rows checked against the source contract, in PostgreSQL: each rule on a
hand-made file, with the problems it must report written out."""

import datetime as dt
import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from boxoffice.warehouse import engine, loading

T = "11111111-1111-4111-8111-111111111111"
V1, V2, V9 = (f"22222222-2222-4222-8222-00000000000{n}" for n in (1, 2, 9))
E1, E2, E3 = (f"33333333-3333-4333-8333-00000000000{n}" for n in (1, 2, 3))
UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


TENANTS = pl.DataFrame({"tenant_id": [T], "name": ["Harbor"], "created_at": [at("2026-01-01")]})
VENUES = pl.DataFrame(
    {
        "tenant_id": [T, T, "abc"],
        "venue_id": [V1, V2, V2],
        "name": ["Hall", "Dome", "Shed"],
        "city": ["LA", "Mars", "LA"],
        "timezone": ["America/Los_Angeles", "Mars/Olympus", "UTC"],
        "capacity": [500, 0, 10],
    }
)
EVENTS = pl.DataFrame(
    {
        "tenant_id": [T, T, T, T],
        "event_id": [E1, E2, E3, E1],
        "venue_id": [V1, V9, V1, V1],
        "name": ["A", "B", "C", "D"],
        "category": ["concert", "opera", "comedy", "concert"],
        "on_sale_at": ["2026-01-01T00:00:00Z"] * 2 + ["2026-06-01T00:00:00Z", "2026-01-01"],
        "starts_at": ["2026-05-01T20:00:00-07:00"] * 4,
        "capacity": [500, 100, 100, 100],
        "base_price_cents": [5000, 5000, -1, 5000],
    }
)


def problems(frames) -> list[tuple]:
    with engine.connect() as conn:
        found = loading.check(conn, frames)
    return found.select("table", "row", "key", "column", "rule").rows()


def test_every_rule_names_its_table_row_key_column(migrated_db):
    # by table (contract order), row, column: each problem once, the good rows (1 of each
    # file, bar the duplicated key) none
    assert problems({"tenants": TENANTS, "venues": VENUES, "events": EVENTS}) == [
        ("venues", 2, f"{T}/{V2}", "capacity", "capacity_positive"),
        ("venues", 2, f"{T}/{V2}", "timezone", "iana-zone"),
        ("venues", 3, f"abc/{V2}", "tenant_id", "type"),
        ("events", 1, f"{T}/{E1}", "tenant_id, event_id", "unique-key"),
        ("events", 2, f"{T}/{E2}", "category", "allowed"),
        ("events", 2, f"{T}/{E2}", "venue_id", "reference"),  # V9: in neither file nor source
        ("events", 3, f"{T}/{E3}", "base_price_cents", "base_price_non_negative"),
        ("events", 3, f"{T}/{E3}", "on_sale_at, starts_at", "on_sale_before_start"),
        ("events", 4, f"{T}/{E1}", "on_sale_at", "type"),  # a date: no time, no UTC offset
        ("events", 4, f"{T}/{E1}", "tenant_id, event_id", "unique-key"),
    ]


def test_references_resolve_through_source_and_shape_problems_come_first(migrated_db):
    with engine.connect() as conn:  # the tenant is already loaded; venues come in the file
        conn.execute(sa.text("insert into source.tenants values (:t, 'Harbor', now())"), {"t": T})
    venues = VENUES.head(1)
    assert problems({"venues": venues}) == []
    assert problems({"venues": venues.drop("city").with_columns(pl.lit(1).alias("seats"))}) == [
        ("venues", None, None, "city", "missing-column"),
        ("venues", None, None, "seats", "unknown-column"),
    ]


def test_details_say_what_is_wrong_and_never_show_personal_data(migrated_db):
    customers = pl.DataFrame(
        {
            "tenant_id": [T],
            "customer_id": ["c-1"],
            "email": [None],
            "full_name": ["Ann Example"],
            "created_at": [at("2026-01-01")],
        },
        schema_overrides={"email": pl.String},
    )
    with engine.connect() as conn:
        found = loading.check(conn, {"tenants": TENANTS, "customers": customers})
    assert found.select("column", "rule", "detail").rows() == [
        ("customer_id", "type", "not a uuid: c-1"),
        ("email", "not-null", "missing"),
    ]
    assert "Ann" not in str(found.rows())


def test_a_table_outside_the_contract_is_refused(migrated_db):
    with engine.connect() as conn, pytest.raises(ValueError, match="not a contract table: seats"):
        loading.check(conn, {"seats": pl.DataFrame({"x": [1]})})


C1, O1 = "44444444-4444-4444-8444-000000000001", "55555555-5555-4555-8555-000000000001"
K1, K2 = "66666666-6666-4666-8666-000000000001", "66666666-6666-4666-8666-000000000002"


def world() -> dict[str, pl.DataFrame]:
    """One tenant, venue, event, customer and order with two tickets (sold 2026-03-01 UTC)."""
    sold = at("2026-03-01 19:00")
    return {
        "tenants": TENANTS,
        "venues": VENUES.head(1),
        "events": EVENTS.head(1),
        "customers": pl.DataFrame(
            {
                "tenant_id": [T],
                "customer_id": [C1],
                "email": ["a@example.com"],
                "full_name": ["Ann"],
                "created_at": [sold],
            }
        ),
        "orders": pl.DataFrame(
            {
                "tenant_id": [T],
                "order_id": [O1],
                "customer_id": [C1],
                "channel": ["web"],
                "created_at": [sold],
            }
        ),
        "tickets": pl.DataFrame(
            {
                "tenant_id": [T, T],
                "ticket_id": [K1, K2],
                "order_id": [O1, O1],
                "event_id": [E1, E1],
                "price_cents": [5000, 5000],
                "fee_cents": [500, 500],
                "ticket_type": ["standard", "vip"],
                "sold_at": [sold, sold],
                "status": ["sold", "sold"],
                "refunded_at": [None, None],
                "scanned_at": [None, None],
            },
            schema_overrides={
                "refunded_at": pl.Datetime("us", "UTC"),
                "scanned_at": pl.Datetime("us", "UTC"),
            },
        ),
    }


def load(frames, **options) -> loading.Loaded:
    return loading.load(frames, source="test", **options)


def counts(**given) -> dict[str, int]:
    """A table's counts: the ones given, every other one 0."""
    return dict.fromkeys(loading.COUNTS, 0) | given


def source(query: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(query))]


def test_a_load_inserts_then_leaves_unchanged_rows_alone_and_updates_what_changed(migrated_db):
    first = load(world()).tables
    assert first["tickets"] == counts(read=2, inserted=2)
    assert first["tenants"]["inserted"] == 1
    assert source("select count(*) from source.tickets") == [(2,)]
    assert source("select distinct utc_date from source.ticket_changes") == [(dt.date(2026, 3, 1),)]
    with engine.connect() as conn:
        conn.execute(sa.text("delete from source.ticket_changes"))
    assert load(world()).tables["tickets"] == counts(read=2, unchanged=2)
    assert source("select count(*) from source.ticket_changes") == [(0,)]  # nothing to refresh
    changed = world()
    changed["tickets"] = changed["tickets"].with_columns(
        pl.when(pl.col("ticket_id") == K2).then(7000).otherwise(pl.col("price_cents"))
        .alias("price_cents")
    )  # fmt: skip
    assert load(changed).tables["tickets"] == counts(read=2, updated=1, unchanged=1)
    assert source("select price_cents from source.tickets order by ticket_id") == [(5000,), (7000,)]
    assert source("select distinct utc_date from source.ticket_changes") == [(dt.date(2026, 3, 1),)]


KEYS_AND_INDEXES = """
    select c.conrelid::regclass::text, pg_get_constraintdef(c.oid) from pg_constraint c
    where c.connamespace = 'source'::regnamespace and c.contype = 'f'
    union all
    select indexrelid::regclass::text, pg_get_indexdef(indexrelid) from pg_index i
    join pg_class t on t.oid = i.indrelid where t.relnamespace = 'source'::regnamespace
    order by 1, 2
"""


def test_a_first_load_builds_the_keys_once_and_leaves_them_as_they_were(migrated_db):
    """Into an empty source, foreign keys and secondary indexes are dropped for the load and
    made again (validated) in its transaction: afterwards they are all there, and they hold."""
    before = source(KEYS_AND_INDEXES)
    assert any("FOREIGN KEY" in ddl for _, ddl in before)
    load(world())
    assert source(KEYS_AND_INDEXES) == before
    with pytest.raises(sa.exc.IntegrityError, match="foreign key"), engine.connect() as conn:
        conn.execute(sa.text(f"update source.tickets set order_id = '{K2}'"))  # no such order


def test_one_bad_row_refuses_the_whole_load_and_a_check_writes_nothing(migrated_db):
    bad = world()
    bad["tickets"] = bad["tickets"].with_columns(pl.lit(-1).alias("fee_cents"))
    with pytest.raises(loading.LoadRefused, match=r"2 problem.*tickets row 1, fee_cents, price"):
        load(bad)
    assert source("select count(*) from source.tenants") == [(0,)]
    checked = load(world(), check_only=True)
    assert checked.tables["tickets"] == {"read": 2, "deleted": 0, "rejected": 0}
    assert source("select count(*) from source.tenants") == [(0,)]


def test_a_forgotten_customer_is_never_loaded_again(migrated_db):
    from boxoffice.warehouse import erasure

    load(world())
    erasure.forget_customers(T, [C1])
    with pytest.raises(loading.LoadRefused, match="customers row 1, customer_id: erased"):
        load(world())
    assert source("select count(*) from source.customers") == [(0,)]


def write_folder(folder, frames) -> None:
    """Parquet files, the tickets as CSV (both kinds of file in one load)."""
    folder.mkdir()
    for name, frame in frames.items():
        if name == "tickets":
            frame.write_csv(folder / "tickets.csv", datetime_format="%Y-%m-%dT%H:%M:%S%z")
        else:
            frame.write_parquet(folder / f"{name}.parquet")


def cli(*args):
    from click.testing import CliRunner

    from boxoffice.cli import main

    return CliRunner().invoke(main, ["load", *map(str, args)])


def test_boxoffice_load_from_a_folder_then_again(migrated_db, tmp_path):
    write_folder(tmp_path / "in", world())
    checked = cli("--from", tmp_path / "in", "--check")
    assert checked.exit_code == 0, checked.output
    assert "checked: no problems, nothing written" in checked.output
    assert source("select count(*) from source.tickets") == [(0,)]
    first = cli("--from", tmp_path / "in")
    assert first.exit_code == 0, first.output
    assert "tickets: 2 read, 2 inserted\n" in first.output
    again = cli("--from", tmp_path / "in", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["tables"]["tickets"] == counts(read=2, unchanged=2)


def test_boxoffice_load_refuses_bad_rows_and_bad_files_in_one_line(migrated_db, tmp_path):
    bad = world()
    bad["orders"] = bad["orders"].with_columns(pl.lit("fax").alias("channel"))
    write_folder(tmp_path / "bad", bad)
    refused = cli("--from", tmp_path / "bad")
    assert refused.exit_code == 1
    assert f"orders row 1 ({T}/{O1}), channel: allowed: fax is not one of" in refused.output
    assert refused.output.strip().splitlines()[-1].startswith("error: 1 problem(s); first: orders")
    assert source("select count(*) from source.tenants") == [(0,)]
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "seats.csv").write_text("a\n1\n")
    odd = cli("--from", tmp_path / "odd")
    assert odd.exit_code == 2 and "seats.csv: not a contract table file" in odd.output
    (tmp_path / "odd" / "seats.csv").unlink()
    (tmp_path / "odd" / "venues.parquet").write_text("not parquet")
    broken = cli("--from", tmp_path / "odd")
    assert broken.exit_code == 2 and "venues.parquet: not a readable Parquet file" in broken.output


def loads() -> list[tuple]:
    return source(
        "select source, mode, outcome, problems, tables -> 'tickets', marks, error"
        " from source.loads order by finished_at"
    )


def test_every_load_is_recorded_and_only_a_loaded_one_keeps_marks(migrated_db):
    bad = world()
    bad["orders"] = bad["orders"].with_columns(pl.lit("fax").alias("channel"))
    with pytest.raises(loading.LoadRefused):
        load(bad, marks={"tickets": "2026-03-02"})
    load(world(), check_only=True)
    done = load(world(), marks={"tickets": "2026-03-01T19:00:00+00:00"})
    assert loads() == [
        ("test", "incremental", "refused", 1, None, {}, None),
        ("test", "incremental", "checked", 0, {"read": 2, "deleted": 0, "rejected": 0}, {}, None),
        (
            "test",
            "incremental",
            "loaded",
            0,
            counts(read=2, inserted=2),
            {"tickets": "2026-03-01T19:00:00+00:00"},
            None,
        ),
    ]
    assert source("select load_id from source.loads where outcome = 'loaded'") == [(done.load_id,)]


def test_a_load_never_overlaps_a_run_but_a_check_may(migrated_db):
    from boxoffice.warehouse import runs

    with runs.run_lock():
        with pytest.raises(loading.LoadBusy, match="a boxoffice run or load is in progress"):
            load(world())
        assert load(world(), check_only=True).outcome == "checked"
    assert source("select count(*) from source.tenants") == [(0,)]
    assert load(world()).outcome == "loaded"  # the lock is free again


def tombstones(table: str, *ids: str) -> dict[str, pl.DataFrame]:
    column = {"tickets": "ticket_id", "orders": "order_id"}[table]
    return {table: pl.DataFrame({"tenant_id": [T] * len(ids), column: list(ids)})}


def test_tombstones_delete_their_rows_and_queue_their_days(migrated_db):
    load(world())
    with engine.connect() as conn:
        conn.execute(sa.text("delete from source.ticket_changes"))
    gone = load({}, deletions=tombstones("tickets", K2, "66666666-6666-4666-8666-000000000009"))
    assert gone.tables == {"tickets": counts(deleted=1)}  # the unknown key deletes nothing
    assert source("select ticket_id::text from source.tickets") == [(K1,)]
    assert source("select distinct utc_date from source.ticket_changes") == [(dt.date(2026, 3, 1),)]
    # an order whose ticket stays cannot go; a row cannot be both loaded and deleted
    with pytest.raises(loading.LoadRefused) as refused:
        load({"tickets": world()["tickets"].head(1)}, deletions=tombstones("orders", O1))
    assert refused.value.problems.select("table", "key", "column", "rule", "detail").rows() == [
        ("orders.deleted", f"{T}/{O1}", "order_id", "still-referenced",
         "1 tickets row(s) staying refer to it"),
    ]  # fmt: skip
    with pytest.raises(loading.LoadRefused, match=r"tickets\.deleted row 1, tenant_id, ticket_id"):
        load({"tickets": world()["tickets"]}, deletions=tombstones("tickets", K1))
    assert source("select count(*) from source.orders") == [(1,)]


def test_a_full_load_deletes_the_rows_its_files_lack_for_their_tenants_only(migrated_db):
    load(world())
    other = "11111111-1111-4111-8111-000000000002"
    with engine.connect() as conn:  # a second tenant, which the full load below does not name
        conn.execute(
            sa.text("insert into source.tenants values (:t, 'Other', now())"), {"t": other}
        )
    full = world()
    full["tickets"] = full["tickets"].head(1)
    del full["tenants"]
    done = load(full, full=True)
    assert done.tables["tickets"] == counts(read=1, deleted=1, unchanged=1)
    assert done.tables["orders"] == counts(read=1, unchanged=1)
    assert source("select ticket_id::text from source.tickets") == [(K1,)]
    assert source("select count(*) from source.tenants") == [(2,)]
    # an order missing from its file while its ticket stays is a problem; nothing changes
    with pytest.raises(loading.LoadRefused, match=r"orders\.deleted, order_id: still-referenced"):
        load({"orders": full["orders"].clear()} | {"tenants": TENANTS}, full=True)
    assert source("select count(*) from source.orders") == [(1,)]


def test_quarantine_loads_the_good_rows_and_keeps_the_bad_with_their_problems(migrated_db):
    o2, k3 = "55555555-5555-4555-8555-000000000002", "66666666-6666-4666-8666-000000000003"
    frames = world()
    frames["orders"] = pl.concat(
        [
            frames["orders"],
            frames["orders"].with_columns(order_id=pl.lit(o2), channel=pl.lit("fax")),
        ]
    )
    tickets = frames["tickets"]
    frames["tickets"] = pl.concat(
        [
            tickets.with_columns(
                price_cents=pl.when(pl.col("ticket_id") == K2).then(-1).otherwise("price_cents")
            ),
            tickets.head(1).with_columns(ticket_id=pl.lit(k3), order_id=pl.lit(o2)),
        ]
    )
    done = load(frames, quarantine=True)
    assert done.tables["orders"] == counts(read=2, inserted=1, rejected=1)
    assert done.tables["tickets"] == counts(read=3, inserted=1, rejected=2)
    assert source("select ticket_id::text from source.tickets") == [(K1,)]
    rejects = source(
        "select table_name, row, key, problems, values ->> 'price_cents', values ->> 'channel'"
        f" from source.load_rejects where load_id = '{done.load_id}' order by reject_id"
    )
    assert [r[:3] for r in rejects] == [
        ("orders", 2, f"{T}/{o2}"),
        ("tickets", 2, f"{T}/{K2}"),
        ("tickets", 3, f"{T}/{k3}"),  # its order was rejected
    ]
    assert [[(p["column"], p["rule"]) for p in r[3]] for r in rejects] == [
        [("channel", "allowed")],
        [("fee_cents, price_cents", "money_non_negative")],
        [("order_id", "reference")],
    ]
    assert [r[4:] for r in rejects] == [(None, "fax"), ("-1", None), ("5000", None)]


def test_boxoffice_load_reads_tombstone_files_and_quarantines(migrated_db, tmp_path):
    write_folder(tmp_path / "in", world())
    assert cli("--from", tmp_path / "in").exit_code == 0
    (tmp_path / "next").mkdir()
    tombstones("tickets", K2)["tickets"].write_csv(tmp_path / "next" / "tickets.deleted.csv")
    bad = world()["orders"].with_columns(channel=pl.lit("fax"))
    bad.write_parquet(tmp_path / "next" / "orders.parquet")
    refused = cli("--from", tmp_path / "next")
    assert refused.exit_code == 1 and "channel: allowed: fax" in refused.output
    kept = cli("--from", tmp_path / "next", "--quarantine")
    assert kept.exit_code == 0, kept.output
    assert "orders: 1 read, 1 rejected\ntickets: 1 deleted\n" in kept.stdout
    assert "1 row(s) rejected, kept in source.load_rejects" in kept.stdout
    assert source("select ticket_id::text from source.tickets") == [(K1,)]
    assert source("select channel from source.orders") == [("web",)]


def test_a_csv_postgresql_cannot_read_is_named_with_its_line_and_nothing_is_loaded(
    migrated_db, tmp_path
):
    write_folder(tmp_path / "in", world())
    tickets = tmp_path / "in" / "tickets.csv"
    lines = tickets.read_bytes().splitlines(keepends=True)
    tickets.write_bytes(lines[0] + lines[1].replace(b"\n", b",extra\n") + lines[2])
    extra = cli("--from", tmp_path / "in")
    assert extra.exit_code == 2
    assert f"{tickets}, line 2: extra data after last expected column" in extra.output
    tickets.write_bytes(lines[0] + lines[1] + lines[2].replace(b"vip", b"v\xffp"))
    broken = cli("--from", tmp_path / "in")
    assert broken.exit_code == 2
    assert f"{tickets}, line 3: invalid byte sequence for encoding" in broken.output
    assert source("select count(*) from source.tenants") == [(0,)]
    assert source("select outcome from source.loads") == [("failed",), ("failed",)]


def test_parquet_is_staged_a_batch_at_a_time(migrated_db, tmp_path, monkeypatch):
    from boxoffice.warehouse import sources

    monkeypatch.setattr(sources, "BATCH_ROWS", 1)
    path = tmp_path / "tickets.parquet"
    world()["tickets"].write_parquet(path, row_group_size=1)
    seen = []
    rows = sources.parquet_rows(path)
    assert (rows.columns[:2], rows.total) == (("tenant_id", "ticket_id"), 2)

    class Copy:
        def write(self, data):
            seen.append(bytes(data).count(b"\n"))

    rows.write(Copy(), lambda done: seen.append(f"{done} done"))
    assert seen == [1, "1 done", 1, "2 done"]


def test_a_terminal_sees_a_progress_bar_per_table(migrated_db, tmp_path):
    """`boxoffice load` on a terminal (stderr a pseudo-terminal): a tqdm bar per table staged,
    in rows for Parquet and in bytes for CSV."""
    write_folder(tmp_path / "in", world())  # tickets as CSV, the rest Parquet
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # 120 wide
    boxoffice = Path(sys.executable).with_name("boxoffice")
    done = subprocess.run(
        [boxoffice, "load", "--from", tmp_path / "in"], stderr=follower, stdout=subprocess.PIPE
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 1 << 16)
        except OSError:  # the terminal closed
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert done.returncode == 0
    text = shown.decode()
    assert re.search(r"orders: +\d+%\|[^|]*\| [\d.]+/1\.00 \[[^]]*rows/s\]", text), text
    size = (tmp_path / "in" / "tickets.csv").stat().st_size
    assert size < 1000  # tqdm writes it as it is
    assert re.search(rf"tickets: +\d+%\|[^|]*\| [\d.]+/{size} \[[^]]*B/s\]", text), text
