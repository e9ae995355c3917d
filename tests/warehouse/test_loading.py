"""Staged platform rows checked against the source contract, in PostgreSQL: each rule on a
hand-made file, with the problems it must report written out."""

import datetime as dt

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


def source(query: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(query))]


def test_a_load_inserts_then_leaves_unchanged_rows_alone_and_updates_what_changed(migrated_db):
    counts = loading.load(world())
    assert counts["tickets"] == {"read": 2, "inserted": 2, "updated": 0, "unchanged": 0}
    assert counts["tenants"]["inserted"] == 1
    assert source("select count(*) from source.tickets") == [(2,)]
    assert source("select distinct utc_date from source.ticket_changes") == [(dt.date(2026, 3, 1),)]
    with engine.connect() as conn:
        conn.execute(sa.text("delete from source.ticket_changes"))
    again = loading.load(world())
    assert again["tickets"] == {"read": 2, "inserted": 0, "updated": 0, "unchanged": 2}
    assert source("select count(*) from source.ticket_changes") == [(0,)]  # nothing to refresh
    changed = world()
    changed["tickets"] = changed["tickets"].with_columns(
        pl.when(pl.col("ticket_id") == K2).then(7000).otherwise(pl.col("price_cents"))
        .alias("price_cents")
    )  # fmt: skip
    assert loading.load(changed)["tickets"] == {
        "read": 2, "inserted": 0, "updated": 1, "unchanged": 1
    }  # fmt: skip
    assert source("select price_cents from source.tickets order by ticket_id") == [(5000,), (7000,)]
    assert source("select distinct utc_date from source.ticket_changes") == [(dt.date(2026, 3, 1),)]


def test_one_bad_row_refuses_the_whole_load_and_a_check_writes_nothing(migrated_db):
    bad = world()
    bad["tickets"] = bad["tickets"].with_columns(pl.lit(-1).alias("fee_cents"))
    with pytest.raises(loading.LoadRefused, match=r"2 problem.*tickets row 1, fee_cents, price"):
        loading.load(bad)
    assert source("select count(*) from source.tenants") == [(0,)]
    checked = loading.load(world(), check_only=True)
    assert checked["tickets"] == {"read": 2}
    assert source("select count(*) from source.tenants") == [(0,)]


def test_a_forgotten_customer_is_never_loaded_again(migrated_db):
    from boxoffice.warehouse import erasure

    loading.load(world())
    erasure.forget_customers(T, [C1])
    with pytest.raises(loading.LoadRefused, match="customers row 1, customer_id: erased"):
        loading.load(world())
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
    assert "tickets: 2 read, 2 inserted, 0 updated, 0 unchanged" in first.output
    again = cli("--from", tmp_path / "in", "--json")
    assert (
        again.exit_code == 0
        and '"tickets": {"read": 2, "inserted": 0, "updated": 0, "unchanged": 2}' in again.output
    )


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
