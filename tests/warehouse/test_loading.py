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
