"""Daily sales in SQL on a hand-made world with hand-computed expectations.

One tenant, one venue in Los Angeles (UTC−8 in winter, UTC−7 from 8 March 2026), one event.

| ticket | order | customer | channel | sold (UTC)        | local (LA)        | price | fee | refunded (UTC) → local |
|--------|-------|----------|---------|-------------------|-------------------|-------|-----|------------------------|
| t1     | o1    | c1       | web     | 2026-03-01 07:30  | 2026-02-28 23:30  | 5000  | 650 | 2026-03-02 18:00 → 03-02 |
| t2     | o1    | c1       | web     | 2026-03-01 07:30  | 2026-02-28 23:30  | 5000  | 650 | —                      |
| t3     | o2    | c2       | web     | 2026-03-01 08:30  | 2026-03-01 00:30  | 8000  | 950 | —                      |
| t4     | o3    | c2       | mobile  | 2026-03-01 20:00  | 2026-03-01 12:00  | 4000  | 550 | —                      |
| t5     | o4    | c1       | web     | 2026-03-08 09:30  | 2026-03-08 01:30 PST | 6000 | 750 | —                    |
| t6     | o5    | c2       | web     | 2026-03-08 10:30  | 2026-03-08 03:30 PDT | 7000 | 850 | —                    |
| t7     | o6    | c1       | web     | 2026-03-10 07:30  | 2026-03-10 00:30  | 3000  | 450 | — (after an as_of of 03-09) |
"""

import datetime as dt
import uuid

import polars as pl
import pytest
import sqlalchemy as sa

from boxoffice import metrics, privacy
from boxoffice.warehouse import PartitionQuery, bulk, engine, read_frame, replace_partitions
from boxoffice.warehouse import schema as s

T = "11111111-1111-4111-8111-111111111111"
V = "22222222-2222-4222-8222-222222222222"
E = "33333333-3333-4333-8333-333333333333"
C1, C2 = "44444444-4444-4444-8444-000000000001", "44444444-4444-4444-8444-000000000002"
UTC = dt.UTC


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def oid(n: int) -> str:
    return f"55555555-5555-4555-8555-{n:012d}"


def tid(n: int) -> str:
    return f"66666666-6666-4666-8666-{n:012d}"


ORDERS = [  # order, customer, channel, created (UTC)
    (1, C1, "web", "2026-03-01 07:30"),
    (2, C2, "web", "2026-03-01 08:30"),
    (3, C2, "mobile", "2026-03-01 20:00"),
    (4, C1, "web", "2026-03-08 09:30"),
    (5, C2, "web", "2026-03-08 10:30"),
    (6, C1, "web", "2026-03-10 07:30"),
]
TICKETS = [  # ticket, order, price, fee, refunded (UTC)
    (1, 1, 5000, 650, "2026-03-02 18:00"),
    (2, 1, 5000, 650, None),
    (3, 2, 8000, 950, None),
    (4, 3, 4000, 550, None),
    (5, 4, 6000, 750, None),
    (6, 5, 7000, 850, None),
    (7, 6, 3000, 450, None),
]


@pytest.fixture
def tiny_world(migrated_db):
    created = {n: ts(c) for n, _, _, c in ORDERS}
    frames = {
        s.tenants: pl.DataFrame(
            {"tenant_id": [T], "name": ["Tiny"], "created_at": [ts("2025-01-01 00:00")]}
        ),
        s.venues: pl.DataFrame(
            {
                "tenant_id": [T],
                "venue_id": [V],
                "name": ["Hall"],
                "city": ["Los Angeles"],
                "timezone": ["America/Los_Angeles"],
                "capacity": [100],
            }
        ),
        s.events: pl.DataFrame(
            {
                "tenant_id": [T],
                "event_id": [E],
                "venue_id": [V],
                "name": ["Show"],
                "category": ["concert"],
                "on_sale_at": [ts("2026-02-01 18:00")],
                "starts_at": [ts("2026-03-20 03:30")],
                "capacity": [100],
                "base_price_cents": [5000],
            }
        ),
        s.customers: pl.DataFrame(
            {
                "tenant_id": [T, T],
                "customer_id": [C1, C2],
                "email": ["a@x.org", "b@x.org"],
                "full_name": ["A", "B"],
                "created_at": [ts("2026-01-01 00:00")] * 2,
            }
        ),
        s.orders: pl.DataFrame(
            {
                "tenant_id": T,
                "order_id": [oid(n) for n, *_ in ORDERS],
                "customer_id": [c for _, c, _, _ in ORDERS],
                "channel": [ch for _, _, ch, _ in ORDERS],
                "created_at": [created[n] for n, *_ in ORDERS],
            }
        ),
        s.tickets: pl.DataFrame(
            {
                "tenant_id": T,
                "ticket_id": [tid(n) for n, *_ in TICKETS],
                "order_id": [oid(o) for _, o, *_ in TICKETS],
                "event_id": E,
                "price_cents": [p for _, _, p, _, _ in TICKETS],
                "fee_cents": [f for *_, f, _ in TICKETS],
                "ticket_type": "standard",
                "sold_at": [created[o] for _, o, *_ in TICKETS],
                "status": ["refunded" if r else "sold" for *_, r in TICKETS],
                "refunded_at": [ts(r) if r else None for *_, r in TICKETS],
            }
        ),
    }
    with engine.connect() as conn:
        engine.set_tenant(conn, T)
        for table, frame in frames.items():
            bulk.copy_frame(conn, table, frame)
    return T


def build(as_of: dt.date) -> pl.DataFrame:
    replace_partitions(metrics.sales.daily_queries(), as_of=as_of, tenants=[T])
    return read_frame(
        "select local_date, channel, tickets_sold, gross_cents, fee_cents, refunded_tickets, refund_cents,"
        " net_cents, orders, customers from analytics.sales_daily where as_of = $1 order by local_date, channel",
        [as_of],
        tenant=T,
    )


def test_daily_sales_by_local_day_with_refunds_on_their_own_day(tiny_world):
    d = dt.date
    expected = [
        # local day,    channel,  tickets, gross, fees, refunded, refund, net, orders, customers
        (d(2026, 2, 28), "web", 2, 10000, 1300, 0, 0, 10000, 1, 1),  # 23:30 PST: still February
        (d(2026, 3, 1), "mobile", 1, 4000, 550, 0, 0, 4000, 1, 1),
        (d(2026, 3, 1), "web", 1, 8000, 950, 0, 0, 8000, 1, 1),  # 00:30 PST: March
        (d(2026, 3, 2), "web", 0, 0, 0, 1, 5000, -5000, 0, 0),  # the refund's own day
        (d(2026, 3, 8), "web", 2, 13000, 1600, 0, 0, 13000, 2, 2),  # 01:30 PST and 03:30 PDT
    ]
    assert build(d(2026, 3, 9)).rows() == expected


def test_as_of_cuts_at_the_local_day(tiny_world):
    days = build(dt.date(2026, 3, 1))["local_date"].to_list()
    assert days == [dt.date(2026, 2, 28), dt.date(2026, 3, 1), dt.date(2026, 3, 1)]  # no refund yet
    assert build(dt.date(2026, 3, 10))["local_date"].max() == dt.date(2026, 3, 10)  # t7 at 00:30


def test_customer_days_are_keyed_by_the_hmac_never_the_id(tiny_world):
    build(dt.date(2026, 3, 9))
    days = read_frame(
        "select local_date, customer_key, orders, tickets, gross_cents from analytics.customer_days"
        " where as_of = $1 order by local_date, customer_key",
        [dt.date(2026, 3, 9)],
        tenant=T,
    )
    k1, k2 = privacy.customer_key(C1), privacy.customer_key(C2)
    d = dt.date
    expected = sorted(
        [
            (d(2026, 2, 28), k1, 1, 2, 10000),
            (d(2026, 3, 1), k2, 2, 2, 12000),
            (d(2026, 3, 8), k1, 1, 1, 6000),
            (d(2026, 3, 8), k2, 1, 1, 7000),
        ]
    )
    assert days.rows() == expected
    assert C1 not in days["customer_key"].to_list()


def test_rerunning_a_date_replaces_its_partition_and_keeps_others(tiny_world):
    first = build(dt.date(2026, 3, 9))
    build(dt.date(2026, 3, 1))
    assert build(dt.date(2026, 3, 9)).equals(first)
    with engine.connect() as conn:
        per_as_of = dict(
            conn.execute(
                sa.text("select as_of, count(*) from analytics.sales_daily group by 1")
            ).all()
        )
    assert per_as_of == {dt.date(2026, 3, 1): 3, dt.date(2026, 3, 9): 5}


def test_a_failing_partition_write_changes_nothing(tiny_world):
    build(dt.date(2026, 3, 9))
    before = read_frame("select * from analytics.sales_daily order by 1, 2, 3, 4, 5", tenant=T)
    division_by_zero = PartitionQuery(
        s.venues_dim,
        "select cast(:tenant as uuid), cast(:as_of as date), venue_id, name, city, timezone,"
        " capacity / 0, 'x' from source.venues",
    )
    broken = [*metrics.sales.daily_queries(), division_by_zero]
    with pytest.raises(sa.exc.DataError, match="division by zero"):
        replace_partitions(broken, as_of=dt.date(2026, 3, 9), tenants=[T])
    assert read_frame(
        "select * from analytics.sales_daily order by 1, 2, 3, 4, 5", tenant=T
    ).equals(before)


def test_partitions_are_written_under_rls(tiny_world):
    other = str(uuid.uuid4())
    with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
        replace_partitions(
            [
                PartitionQuery(
                    s.venues_dim,
                    f"select cast('{other}' as uuid), cast(:as_of as date),"
                    " venue_id, name, city, timezone, capacity, 'x' from source.venues",
                )
            ],
            as_of=dt.date(2026, 3, 9),
            tenants=[T],
        )
