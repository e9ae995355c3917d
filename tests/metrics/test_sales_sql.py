"""Sales facts in SQL on a hand-made world with hand-computed expectations.

One tenant, one venue in Los Angeles (UTC−8 in winter, UTC−7 from 8 March 2026), one event.

| ticket | order | customer | channel | sold (UTC)        | local (LA)        | price | fee | refunded (UTC) → local |
|--------|-------|----------|---------|-------------------|-------------------|-------|-----|------------------------|
| t1     | o1    | c1       | web     | 2026-03-01 07:30  | 2026-02-28 23:30  | 5000  | 650 | 2026-03-02 18:00 → 03-02 |
| t2     | o1    | c1       | web     | 2026-03-01 07:30  | 2026-02-28 23:30  | 5000  | 650 | —                      |
| t3     | o2    | c2       | web     | 2026-03-01 08:30  | 2026-03-01 00:30  | 8000  | 950 | —                      |
| t4     | o3    | c2       | mobile  | 2026-03-01 20:00  | 2026-03-01 12:00  | 4000  | 550 | —                      |
| t5     | o4    | c1       | web     | 2026-03-08 09:30  | 2026-03-08 01:30 PST | 6000 | 750 | —                    |
| t6     | o5    | c2       | web     | 2026-03-08 10:30  | 2026-03-08 03:30 PDT | 7000 | 850 | —                    |
| t7     | o6    | c1       | web     | 2026-03-10 07:30  | 2026-03-10 00:30  | 3000  | 450 | —                      |
"""

import datetime as dt

import polars as pl
import pytest
import sqlalchemy as sa

from boxoffice import metrics, privacy
from boxoffice.warehouse import (
    bulk,
    engine,
    read_event_sales,
    read_events,
    read_frame,
    read_sales_daily,
    refresh_sales,
    replace_partitions,
)
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


FACTS = ("sales_hourly", "event_sales_daily", "sales_daily", "customer_days")


def facts(table: str, tenant: str = T) -> pl.DataFrame:
    """A fact table of ``tenant`` in a stable order, without the tenant column."""
    frame = read_frame(f"select * from analytics.{table}", tenant=tenant).drop("tenant_id")
    return frame.sort(frame.columns)


def daily() -> list[tuple]:
    return read_frame(
        "select local_date, channel, tickets_sold, gross_cents, fee_cents, refunded_tickets,"
        " refund_cents, net_cents, orders from analytics.sales_daily order by local_date, channel",
        tenant=T,
    ).rows()


def owner(sql: str, **params) -> None:
    """Change ``source`` as the platform would (the owner, scoped to the tenant)."""
    with engine.connect() as conn:
        engine.set_tenant(conn, T)
        conn.execute(sa.text(sql), params)


def queued() -> list[dt.date]:
    with engine.connect() as conn:
        return (
            conn.execute(sa.text("select utc_date from source.ticket_changes order by 1"))
            .scalars()
            .all()
        )


d = dt.date
DAILY = [
    # local day, channel, tickets, gross, fees, refunded, refund, net, orders
    (d(2026, 2, 28), "web", 2, 10000, 1300, 0, 0, 10000, 1),  # 23:30 PST: still February
    (d(2026, 3, 1), "mobile", 1, 4000, 550, 0, 0, 4000, 1),
    (d(2026, 3, 1), "web", 1, 8000, 950, 0, 0, 8000, 1),  # 00:30 PST: March
    (d(2026, 3, 2), "web", 0, 0, 0, 1, 5000, -5000, 0),  # the refund's own day
    (d(2026, 3, 8), "web", 2, 13000, 1600, 0, 0, 13000, 2),  # 01:30 PST and 03:30 PDT
    (d(2026, 3, 10), "web", 1, 3000, 450, 0, 0, 3000, 1),
]


def test_daily_sales_by_local_day_with_refunds_on_their_own_day(tiny_world):
    [done] = refresh_sales([T])
    assert (done.mode, done.days) == ("full", None)
    assert daily() == DAILY


def test_hourly_sales_by_local_hour_across_the_spring_forward(tiny_world):
    refresh_sales([T])
    hourly = read_frame(
        "select local_date, local_hour, tickets_sold, refunded_tickets from analytics.sales_hourly"
        " order by 1, 2",
        tenant=T,
    )
    assert hourly.rows() == [
        (d(2026, 2, 28), 23, 2, 0),
        (d(2026, 3, 1), 0, 1, 0),
        (d(2026, 3, 1), 12, 1, 0),
        (d(2026, 3, 2), 10, 0, 1),  # 18:00 UTC = 10:00 PST
        (d(2026, 3, 8), 1, 1, 0),  # 01:30 PST; 02:00 does not exist that night
        (d(2026, 3, 8), 3, 1, 0),  # 03:30 PDT
        (d(2026, 3, 10), 0, 1, 0),
    ]


def test_reads_cut_at_the_local_day_of_as_of(tiny_world):
    refresh_sales([T])
    sales = read_sales_daily(as_of=d(2026, 3, 1), tenant=T)
    assert sales["local_date"].to_list() == [d(2026, 2, 28), d(2026, 3, 1), d(2026, 3, 1)]
    assert sales["net_cents"].sum() == 22000  # no refund yet
    assert read_sales_daily(as_of=d(2026, 3, 10), tenant=T)["net_cents"].sum() == 33000


def test_customer_days_are_keyed_by_the_hmac_never_the_id(tiny_world):
    refresh_sales([T])
    days = read_frame(
        "select local_date, customer_key, orders, tickets, gross_cents from analytics.customer_days"
        " order by local_date, customer_key",
        tenant=T,
    )
    k1, k2 = privacy.customer_key(C1), privacy.customer_key(C2)
    expected = sorted(
        [
            (d(2026, 2, 28), k1, 1, 2, 10000),
            (d(2026, 3, 1), k2, 2, 2, 12000),
            (d(2026, 3, 8), k1, 1, 1, 6000),
            (d(2026, 3, 8), k2, 1, 1, 7000),
            (d(2026, 3, 10), k1, 1, 1, 3000),
        ]
    )
    assert days.rows() == expected
    assert C1 not in days["customer_key"].to_list()


def test_changes_are_queued_by_utc_day_and_recomputed_around_it(tiny_world):
    refresh_sales([T])
    assert queued() == []
    # a late ticket of order 2 (sold 2026-03-01 08:30 UTC) and the refund of ticket 6
    owner(
        "insert into source.tickets (tenant_id, ticket_id, order_id, event_id, price_cents,"
        " fee_cents, ticket_type, sold_at, status) values (:t, :ticket, :o, :e, 8000, 950,"
        " 'standard', :at, 'sold')",
        t=T, ticket=tid(8), o=oid(2), e=E, at=ts("2026-03-01 08:30"),
    )  # fmt: skip
    owner(
        "update source.tickets set status = 'refunded', refunded_at = :at where ticket_id = :id",
        at=ts("2026-03-09 02:00"),  # 2026-03-08 19:00 PDT
        id=tid(6),
    )
    # the new ticket's sale day and ticket 6's refund day (its sale day's facts do not change)
    assert queued() == [d(2026, 3, 1), d(2026, 3, 9)]
    [done] = refresh_sales([T])
    assert done.mode == "incremental"
    around_march_1 = [d(2026, 2, 28), d(2026, 3, 1), d(2026, 3, 2)]
    around_march_9 = [d(2026, 3, 8), d(2026, 3, 9), d(2026, 3, 10)]  # 02:00 UTC: 19:00 PDT
    assert done.days == around_march_1 + around_march_9
    assert queued() == []
    expected = {row[:2]: row for row in DAILY}
    expected[(d(2026, 3, 1), "web")] = (d(2026, 3, 1), "web", 2, 16000, 1900, 0, 0, 16000, 1)
    expected[(d(2026, 3, 8), "web")] = (d(2026, 3, 8), "web", 2, 13000, 1600, 1, 7000, 6000, 2)
    assert daily() == sorted(expected.values())
    incremental = {table: facts(table) for table in FACTS}
    refresh_sales([T], full=True)
    for table in FACTS:
        assert facts(table).equals(incremental[table]), table


def test_a_channel_change_of_an_order_moves_its_sales(tiny_world):
    refresh_sales([T])
    owner("update source.orders set channel = 'box_office' where order_id = :o", o=oid(3))
    assert queued() == [d(2026, 3, 1)]
    refresh_sales([T])
    assert (d(2026, 3, 1), "box_office", 1, 4000, 550, 0, 0, 4000, 1) in daily()
    assert not [row for row in daily() if row[1] == "mobile"]


# the world's sales in New York (UTC−5, UTC−4 from 2026-03-08 07:00 UTC): t1 and t2 at 02:30,
# t3 at 03:30 on 1 March (no longer 28 February), t5 and t6 at 05:30 and 06:30 EDT on 8 March
IN_NEW_YORK = [
    (d(2026, 3, 1), "mobile", 1, 4000, 550, 0, 0, 4000, 1),
    (d(2026, 3, 1), "web", 3, 18000, 2250, 0, 0, 18000, 2),
    (d(2026, 3, 2), "web", 0, 0, 0, 1, 5000, -5000, 0),  # 13:00 EST
    (d(2026, 3, 8), "web", 2, 13000, 1600, 0, 0, 13000, 2),
    (d(2026, 3, 10), "web", 1, 3000, 450, 0, 0, 3000, 1),
]
EVERY_TICKET_DAY = [d(2026, 3, 1), d(2026, 3, 2), d(2026, 3, 8), d(2026, 3, 10)]


def same_as_a_full_rebuild() -> None:
    incremental = {table: facts(table) for table in FACTS}
    refresh_sales([T], full=True)
    for table in FACTS:
        assert facts(table).equals(incremental[table]), table


def test_a_venue_time_zone_corrected_moves_its_sales_between_local_days(tiny_world):
    refresh_sales([T])
    owner("update source.venues set capacity = 120")  # no fact reads it: nothing queued
    assert queued() == []
    owner("update source.venues set timezone = 'America/New_York'")
    assert sorted(set(queued())) == EVERY_TICKET_DAY  # the UTC days of every sale and refund
    refresh_sales([T])
    assert daily() == IN_NEW_YORK
    same_as_a_full_rebuild()


def test_an_event_moved_to_another_venue_moves_its_sales(tiny_world):
    refresh_sales([T])
    v2 = "22222222-2222-4222-8222-000000000002"
    owner(
        "insert into source.venues values (:t, :v, 'Garden', 'New York', 'America/New_York', 900)",
        t=T,
        v=v2,
    )
    owner("update source.events set name = 'Show!'")  # no fact reads it: nothing queued
    assert queued() == []
    owner("update source.events set venue_id = :v", v=v2)
    assert sorted(set(queued())) == EVERY_TICKET_DAY
    refresh_sales([T])
    assert daily() == IN_NEW_YORK
    assert facts("sales_daily")["venue_id"].cast(pl.String).unique().to_list() == [v2]
    same_as_a_full_rebuild()


def test_deleted_tickets_leave_the_facts(tiny_world):
    refresh_sales([T])
    owner("delete from source.tickets where ticket_id = :id", id=tid(7))
    refresh_sales([T])
    assert daily() == DAILY[:-1]


def test_nothing_queued_changes_nothing(tiny_world):
    refresh_sales([T])
    before = {table: facts(table) for table in FACTS}
    [done] = refresh_sales([T])
    assert (done.mode, done.days, done.rows) == ("none", [], {})
    for table in FACTS:
        assert facts(table).equals(before[table])


def test_a_failing_refresh_keeps_the_facts_and_the_queue(tiny_world):
    refresh_sales([T])
    before = daily()
    owner("update source.tickets set price_cents = 1 where ticket_id = :id", id=tid(3))
    with engine.connect() as conn:
        conn.execute(sa.text("revoke insert on analytics.customer_days from boxoffice_pipeline"))
    try:
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            refresh_sales([T])
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text("grant insert on analytics.customer_days to boxoffice_pipeline"))
    assert daily() == before and queued() == [d(2026, 3, 1)]
    refresh_sales([T])
    assert (d(2026, 3, 1), "web", 1, 1, 950, 0, 0, 1, 1) in daily()


def test_tenants_refreshed_on_two_sessions_give_the_same_facts_in_order(tiny_world):
    other = "77777777-7777-4777-8777-777777777777"  # no sales: a full rebuild of nothing
    done = refresh_sales([other, T], sessions=2)
    assert [r.tenant for r in done] == [other, T] and [r.mode for r in done] == ["full"] * 2
    assert daily() == DAILY
    owner("update source.tickets set price_cents = 1 where ticket_id = :id", id=tid(3))
    done = refresh_sales([T, other], sessions=2)
    assert [r.mode for r in done] == ["incremental", "none"]
    assert (d(2026, 3, 1), "web", 1, 1, 950, 0, 0, 1, 1) in daily()


def test_a_session_that_fails_rolls_back_the_others(tiny_world):
    other = "77777777-7777-4777-8777-777777777777"
    refresh_sales([T])
    owner("update source.tickets set price_cents = 1 where ticket_id = :id", id=tid(3))
    with engine.connect() as conn:  # the other tenant's session fails at its very end
        conn.execute(
            sa.text(
                "create function refuse_other() returns trigger language plpgsql as $$"
                f" begin if new.tenant_id = '{other}' then raise exception 'refused'; end if;"
                " return new; end $$"
            ).execution_options(no_parameters=True)
        )
        conn.execute(
            sa.text(
                "create trigger refuse before insert on analytics.sales_refresh"
                " for each row execute function refuse_other()"
            )
        )
    try:
        with pytest.raises(sa.exc.ProgrammingError, match="refused"):
            refresh_sales([T, other], sessions=2)
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text("drop trigger refuse on analytics.sales_refresh"))
            conn.execute(sa.text("drop function refuse_other()"))
    assert daily() == DAILY and queued() == [d(2026, 3, 1)]  # T's session committed nothing


def test_a_tenant_refresh_neither_sees_nor_consumes_another_tenants_changes(tiny_world):
    refresh_sales([T])
    owner("delete from source.tickets where ticket_id = :id", id=tid(7))
    other = "77777777-7777-4777-8777-777777777777"
    [done] = refresh_sales([other])
    assert done.mode == "full" and done.rows["analytics.sales_daily"] == 0
    assert queued() == [d(2026, 3, 10)]
    assert facts("sales_daily", other).is_empty()


def test_a_scan_queues_nothing_and_a_refund_only_its_own_days(tiny_world):
    refresh_sales([T])
    owner(
        "update source.tickets set status = 'scanned', scanned_at = :at where ticket_id = :id",
        at=ts("2026-03-20 03:00"),
        id=tid(3),
    )
    assert queued() == []
    owner(
        "update source.tickets set status = 'refunded', refunded_at = :at where ticket_id = :id",
        at=ts("2026-03-12 20:00"),
        id=tid(5),
    )
    assert queued() == [d(2026, 3, 12)]  # not the sale's day: its facts did not change
    owner("update source.tickets set ticket_type = 'vip' where ticket_id = :id", id=tid(5))
    assert queued() == [d(2026, 3, 8), d(2026, 3, 12), d(2026, 3, 12)]


def test_event_dimension_and_performance_from_the_warehouse(tiny_world):
    refresh_sales([T])
    replace_partitions(metrics.sales.dimension_queries(), as_of=d(2026, 3, 10), tenants=[T])
    events = read_events(as_of=d(2026, 3, 10), tenant=T)
    assert events.select("name", "start_date", "capacity", "scanned").rows() == [
        ("Show", d(2026, 3, 19), 100, 0)  # starts 2026-03-20 03:30 UTC = 19 March, 20:30 PDT
    ]
    sales = read_event_sales(as_of=d(2026, 3, 10), tenant=T)
    [perf] = metrics.events.event_performance(sales, events, d(2026, 3, 10)).iter_rows(named=True)
    # 7 tickets sold, 1 refunded; net 33,000 cents; 4–10 March: t5, t6 (8 March) and t7 (10 March)
    assert (perf["sold"], perf["net_cents"], perf["days_to_event"]) == (6, 33_000, 9)
    assert perf["sell_through"] == 0.06 and perf["revpas"] == 330.0
    assert perf["velocity"] == pytest.approx(3 / 7) and perf["utilization"] is None
