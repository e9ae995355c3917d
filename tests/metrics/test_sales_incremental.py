"""Property: an incremental refresh after any mix of sales, late sales, refunds, scans, deleted
tickets and channel changes — refreshed at any points in between — leaves exactly the tables a full
rebuild gives. Venues in Los Angeles, Berlin and Kiritimati (UTC+14), across both DST
changes of March 2026 (8 March in the US, 29 March in Europe)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boxoffice.warehouse import engine, read_frame, refresh_sales

ZONES = ["America/Los_Angeles", "Europe/Berlin", "Pacific/Kiritimati"]
CHANNELS = ["web", "mobile", "box_office", "partner"]
TYPES = ["standard", "vip", "concession"]
START = dt.datetime(2026, 3, 6, tzinfo=dt.UTC)
FACTS = ("sales_hourly", "event_sales_daily", "sales_daily", "customer_days")

sale = st.tuples(
    st.just("sell"),
    st.integers(0, len(ZONES) - 1),  # venue
    st.integers(0, 2),  # customer
    st.sampled_from(CHANNELS),
    st.sampled_from(TYPES),
    st.integers(0, 26 * 24 * 60),  # minutes after START: through 1 April
    st.integers(1, 3),  # tickets
)
refund = st.tuples(st.just("refund"), st.integers(0, 50), st.integers(0, 9 * 24 * 60))
delete = st.tuples(st.just("delete"), st.integers(0, 50))
rechannel = st.tuples(st.just("channel"), st.integers(0, 50), st.sampled_from(CHANNELS))
scan = st.tuples(st.just("scan"), st.integers(0, 50))
refresh = st.tuples(st.just("refresh"))
operations = st.lists(st.one_of(sale, sale, refund, delete, rechannel, scan, refresh), max_size=25)


class World:
    """One fresh tenant per example, changed through ``source`` as the platform would."""

    def __init__(self) -> None:
        self.tenant = str(uuid.uuid4())
        self.venues, self.events, self.customers = [], [], []
        self.orders: list[str] = []
        self.tickets: list[tuple[str, dt.datetime]] = []  # (id, sold_at), deleted ones too
        self.run(
            "insert into source.tenants (tenant_id, name, created_at) values (:t, 'P', :at)",
            at=START,
        )
        for zone in ZONES:
            venue, event = str(uuid.uuid4()), str(uuid.uuid4())
            self.run(
                "insert into source.venues (tenant_id, venue_id, name, city, timezone, capacity)"
                " values (:t, :v, :z, :z, :z, 500)",
                v=venue,
                z=zone,
            )
            self.run(
                "insert into source.events (tenant_id, event_id, venue_id, name, category,"
                " on_sale_at, starts_at, capacity, base_price_cents)"
                " values (:t, :e, :v, 'Show', 'concert', :on, :starts, 500, 5000)",
                e=event,
                v=venue,
                on=START - dt.timedelta(days=30),
                starts=START + dt.timedelta(days=60),
            )
            self.venues.append(venue)
            self.events.append(event)
        for i in range(3):
            customer = str(uuid.uuid4())
            self.run(
                "insert into source.customers (tenant_id, customer_id, email, full_name,"
                " created_at) values (:t, :c, :email, 'X', :at)",
                c=customer,
                email=f"c{i}@example.org",
                at=START - dt.timedelta(days=30),
            )
            self.customers.append(customer)

    def run(self, sql: str, **params) -> None:
        with engine.connect(tenant=self.tenant) as conn:
            conn.execute(sa.text(sql), {"t": self.tenant, **params})

    def apply(self, op: tuple) -> None:
        kind, *args = op
        if kind == "sell":
            venue, customer, channel, ticket_type, minutes, n = args
            order, at = str(uuid.uuid4()), START + dt.timedelta(minutes=minutes)
            self.run(
                "insert into source.orders (tenant_id, order_id, customer_id, channel, created_at)"
                " values (:t, :o, :c, :ch, :at)",
                o=order, c=self.customers[customer], ch=channel, at=at,
            )  # fmt: skip
            for _ in range(n):
                ticket = str(uuid.uuid4())
                self.run(
                    "insert into source.tickets (tenant_id, ticket_id, order_id, event_id,"
                    " price_cents, fee_cents, ticket_type, sold_at, status) values"
                    " (:t, :id, :o, :e, :price, 100, :type, :at, 'sold')",
                    id=ticket, o=order, e=self.events[venue], price=1000 + 250 * venue + n,
                    type=ticket_type, at=at,
                )  # fmt: skip
                self.tickets.append((ticket, at))
            self.orders.append(order)
        elif kind == "refund" and self.tickets:
            ticket, sold_at = self.tickets[args[0] % len(self.tickets)]
            self.run(
                "update source.tickets set status = 'refunded', refunded_at = :at"
                " where ticket_id = :id and status = 'sold'",
                id=ticket,
                at=sold_at + dt.timedelta(minutes=args[1]),
            )
        elif kind == "scan" and self.tickets:
            ticket, sold_at = self.tickets[args[0] % len(self.tickets)]
            self.run(
                "update source.tickets set status = 'scanned', scanned_at = :at"
                " where ticket_id = :id and status = 'sold'",
                id=ticket,
                at=sold_at + dt.timedelta(days=1),
            )
        elif kind == "delete" and self.tickets:
            self.run(
                "delete from source.tickets where ticket_id = :id",
                id=self.tickets[args[0] % len(self.tickets)][0],
            )
        elif kind == "channel" and self.orders:
            self.run(
                "update source.orders set channel = :ch where order_id = :o",
                o=self.orders[args[0] % len(self.orders)],
                ch=args[1],
            )
        elif kind == "refresh":
            refresh_sales([self.tenant])

    def facts(self) -> dict:
        """Each fact table of this tenant, in a stable order."""
        out = {}
        for table in FACTS:
            frame = read_frame(f"select * from analytics.{table}", tenant=self.tenant)
            out[table] = frame.drop("tenant_id").sort(frame.columns[1:])
        return out


@pytest.fixture
def db(migrated_db):
    return migrated_db


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_incremental_refresh_equals_a_full_rebuild(db, ops):
    world = World()
    refresh_sales([world.tenant])  # the first refresh: a full one, of nothing
    for op in ops:
        world.apply(op)
    [done] = refresh_sales([world.tenant])
    assert done.mode in ("incremental", "none")
    incremental = world.facts()
    refresh_sales([world.tenant], full=True)
    full = world.facts()
    for table in FACTS:
        assert incremental[table].equals(full[table]), table
