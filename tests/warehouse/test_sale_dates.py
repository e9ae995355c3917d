"""The first and newest local sale day, read near the first and newest sale instants only:
worked examples where the extreme instant is not on the extreme local day."""

from __future__ import annotations

import datetime as dt

import polars as pl
import sqlalchemy as sa

from boxoffice.warehouse import bulk, engine, reads
from boxoffice.warehouse import schema as s

T = "11111111-1111-4111-8111-000000000001"
EAST, WEST = "22222222-2222-4222-8222-000000000001", "22222222-2222-4222-8222-000000000002"
C = "33333333-3333-4333-8333-000000000001"
UTC = dt.UTC
# (ticket, venue, sold at UTC): +14 h in Kiritimati, −11 h in Pago Pago
SALES = [
    (1, EAST, "2024-05-01 00:30"),  # the first instant: local 1 May, 14:30
    (2, WEST, "2024-05-01 05:00"),  # 4.5 h later, local 30 April, 18:00: the first local day
    (3, EAST, "2025-06-15 12:00"),
    (4, EAST, "2026-10-31 20:00"),  # local 1 November, 10:00: the newest local day
    (5, WEST, "2026-10-31 23:00"),  # the newest instant, 3 h later: local 31 October, 12:00
]


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_first_and_newest_local_days_by_hand(migrated_db):
    event = {
        EAST: "44444444-4444-4444-8444-000000000001",
        WEST: "44444444-4444-4444-8444-000000000002",
    }
    ids = [f"55555555-5555-4555-8555-{n:012d}" for n, *_ in SALES]
    frames = {
        s.tenants: pl.DataFrame(
            {"tenant_id": [T], "name": ["Dateline"], "created_at": [ts("2024-01-01 00:00")]}
        ),
        s.venues: pl.DataFrame(
            {
                "tenant_id": T,
                "venue_id": [EAST, WEST],
                "name": ["East", "West"],
                "city": ["Kiritimati", "Pago Pago"],
                "timezone": ["Pacific/Kiritimati", "Pacific/Pago_Pago"],
                "capacity": 100,
            }
        ),
        s.events: pl.DataFrame(
            {
                "tenant_id": T,
                "event_id": [event[EAST], event[WEST]],
                "venue_id": [EAST, WEST],
                "name": ["E", "W"],
                "category": "concert",
                "on_sale_at": ts("2024-04-01 00:00"),
                "starts_at": ts("2026-12-01 00:00"),
                "capacity": 100,
                "base_price_cents": 1000,
            }
        ),
        s.customers: pl.DataFrame(
            {
                "tenant_id": [T],
                "customer_id": [C],
                "email": ["c@x.org"],
                "full_name": ["C"],
                "created_at": [ts("2024-01-01 00:00")],
            }
        ),
        s.orders: pl.DataFrame(
            {
                "tenant_id": T,
                "order_id": ids,
                "customer_id": C,
                "channel": "web",
                "created_at": [ts(at) for *_, at in SALES],
            }
        ),
        s.tickets: pl.DataFrame(
            {
                "tenant_id": T,
                "ticket_id": ids,
                "order_id": ids,
                "event_id": [event[v] for _, v, _ in SALES],
                "price_cents": 1000,
                "fee_cents": 100,
                "ticket_type": "standard",
                "sold_at": [ts(at) for *_, at in SALES],
                "status": "sold",
                "refunded_at": pl.Series([None] * len(SALES), dtype=pl.Datetime("us", "UTC")),
            }
        ),
    }
    with engine.connect() as conn:
        engine.set_tenant(conn, T)
        for table, frame in frames.items():
            bulk.copy_frame(conn, table, frame)
    assert reads.sale_dates() == (dt.date(2024, 4, 30), dt.date(2026, 11, 1))
    assert reads.newest_sale_date() == dt.date(2026, 11, 1)
    with engine.connect() as conn:  # the same as converting every ticket
        every = conn.execute(
            sa.text(
                "select min((k.sold_at at time zone v.timezone)::date),"
                " max((k.sold_at at time zone v.timezone)::date) from source.tickets k"
                " join source.events e using (tenant_id, event_id)"
                " join source.venues v using (tenant_id, venue_id)"
            )
        ).one()
    assert tuple(every) == reads.sale_dates()
