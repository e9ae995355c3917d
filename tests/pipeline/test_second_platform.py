"""The second platform schema gives the same analytics as the contract files: one tenant of the
small world, written into Marquee (examples/marquee: dollars, local times without a zone, its
own spellings, orders only as a purchase id on each seat) and loaded through its mapping file,
against the same tenant loaded as contract rows; then the pipeline in both databases."""

import datetime as dt
import uuid
from pathlib import Path

import polars as pl
import psycopg
import sqlalchemy as sa
from click.testing import CliRunner
from polars.testing import assert_frame_equal
from psycopg import sql
from sqlalchemy.engine import make_url

from boxoffice.cli import main
from boxoffice.pipeline import runner
from boxoffice.synth import WorldSpec
from boxoffice.synth.world import generate_tenant
from boxoffice.warehouse import engine, loading, migrate, schema, sources
from tests.conftest import WORLD_END, WORLD_SEED

EXAMPLE = Path(__file__).parents[2] / "examples" / "marquee"
SOURCE = ["tenants", "venues", "events", "customers", "orders", "tickets", "campaign_touches"]
LOCAL = {  # the columns Marquee keeps in the hall's local time, without a zone
    "events": ["on_sale_at", "starts_at"],
    "tickets": ["sold_at", "refunded_at", "scanned_at"],
    "orders": ["created_at"],
}
# what differs between two runs of the same data: identifiers, clocks, the run log
NOT_ANALYTICS = {"pipeline_runs", "run_lock", "sales_refresh", "price_history"}
RUN_COLUMNS = {"recommendation_id", "created_at", "refreshed_at"}

# Marquee's rows from the contract's (the inverse of its mapping), in SQL over text tables c_*
TO_MARQUEE = """
insert into marquee.organizations (org_id, org_name, joined_utc)
select tenant_id::uuid, name, created_at::timestamptz at time zone 'UTC' from c_tenants;

insert into marquee.halls (org_id, hall_id, hall_name, town, tz, seats)
select tenant_id::uuid, venue_id::uuid, name, city, timezone, capacity::int from c_venues;

insert into marquee.shows
    (org_id, show_id, hall_id, title, genre, sales_open, curtain, seats, list_price)
select e.tenant_id::uuid, e.event_id::uuid, e.venue_id::uuid, e.name,
       case e.category when 'concert' then 'Concert' when 'sports' then 'Sport'
           when 'theatre' then 'Theater' when 'comedy' then 'Comedy' when 'family' then 'Family'
       end,
       e.on_sale_at::timestamptz at time zone v.timezone,
       e.starts_at::timestamptz at time zone v.timezone,
       e.capacity::int, e.base_price_cents::numeric / 100
from c_events e join c_venues v using (tenant_id, venue_id);

insert into marquee.patrons (org_id, patron_id, email, display_name, joined_utc)
select tenant_id::uuid, customer_id::uuid, email, full_name,
       created_at::timestamptz at time zone 'UTC'
from c_customers;

insert into marquee.seats (org_id, seat_ticket_id, purchase_id, patron_id, sold_via, show_id,
                           price, fee, tier, bought, state, refunded, admitted)
select t.tenant_id::uuid, t.ticket_id::uuid, t.order_id::uuid, o.customer_id::uuid,
       case o.channel when 'web' then 'WEB' when 'mobile' then 'APP'
           when 'box_office' then 'COUNTER' when 'partner' then 'RESELLER' end,
       t.event_id::uuid, t.price_cents::numeric / 100, t.fee_cents::numeric / 100,
       case t.ticket_type when 'standard' then 'GA' when 'premium' then 'PREMIUM'
           when 'vip' then 'VIP' when 'concession' then 'CONCESSION' end,
       t.sold_at::timestamptz at time zone v.timezone,
       case t.status when 'sold' then 'ISSUED' when 'refunded' then 'REFUNDED'
           when 'scanned' then 'ADMITTED' end,
       t.refunded_at::timestamptz at time zone v.timezone,
       t.scanned_at::timestamptz at time zone v.timezone
from c_tickets t
join c_orders o using (tenant_id, order_id)
join c_events e using (tenant_id, event_id)
join c_venues v on (v.tenant_id, v.venue_id) = (e.tenant_id, e.venue_id);

insert into marquee.touches (org_id, touch_id, patron_id, medium, campaign, touched_utc)
select tenant_id::uuid, touch_id::uuid, customer_id::uuid, channel, campaign,
       touched_at::timestamptz
from c_campaign_touches;
"""


def the_tenant() -> dict[str, pl.DataFrame]:
    """Tenant 0 of the small world, with a few orders moved into the hour a daylight-saving
    change makes ambiguous. Its orders hold their tickets' sale time and one event each, so
    Marquee's seats can carry them (checked here: the world promises it)."""
    tables = into_the_ambiguous_hour(
        generate_tenant(WorldSpec("small", WORLD_SEED, WORLD_END), 0).tables
    )
    order_of = tables["tickets"].join(tables["orders"], on=["tenant_id", "order_id"])
    assert order_of.height == tables["tickets"].height
    assert (order_of["sold_at"] == order_of["created_at"]).all()
    assert order_of.group_by("order_id").agg(pl.col("event_id").n_unique())["event_id"].max() == 1
    assert tables["orders"]["order_id"].is_in(tables["tickets"]["order_id"].implode()).all()
    return tables


def into_the_ambiguous_hour(tables: dict[str, pl.DataFrame], n: int = 5) -> dict[str, pl.DataFrame]:
    """Move the first ``n`` orders bought in the week after 2025-11-02 for events on sale
    before it, with their tickets, to 01:30 that night in their hall's zone, the first time
    (daylight time): the zones fall back at 02:00 (America/New_York: 01:30 EDT = 05:30 UTC)."""
    first_0130 = {
        "America/New_York": dt.datetime(2025, 11, 2, 5, 30, tzinfo=dt.UTC),
        "America/Chicago": dt.datetime(2025, 11, 2, 6, 30, tzinfo=dt.UTC),
    }
    events = tables["events"].join(tables["venues"], on=["tenant_id", "venue_id"])
    night = pl.col("timezone").replace_strict(first_0130, return_dtype=pl.Datetime("ms", "UTC"))
    moved = (
        tables["tickets"]
        .join(events, on=["tenant_id", "event_id"])
        .filter(
            pl.col("on_sale_at") < night,
            pl.col("sold_at").is_between(night, night + dt.timedelta(days=7), closed="right"),
        )
        .group_by("order_id")
        .agg(night.first().alias("night"))
        .sort("order_id")
        .head(n)
    )
    assert moved.height == n
    move = {
        name: tables[name]
        .join(moved, on="order_id", how="left")
        .with_columns(pl.coalesce("night", column).alias(column))
        .drop("night")
        for name, column in (("orders", "created_at"), ("tickets", "sold_at"))
    }
    return {**tables, **move}


def read_back_from_local_time(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The contract rows a local clock gives back: each instant written as the hall's wall time
    and read again, an ambiguous wall time (the hour a zone falls back) as the later instant,
    standard time. (A wall time written from an instant is never in a skipped hour.)"""
    zone_of_event = tables["events"].join(
        tables["venues"].select("tenant_id", "venue_id", "timezone"), on=["tenant_id", "venue_id"]
    )
    zones = {
        "events": zone_of_event.select("tenant_id", "event_id", "timezone"),
        "tickets": zone_of_event.select("tenant_id", "event_id", "timezone"),
    }
    zones["orders"] = (
        tables["tickets"]
        .join(zones["tickets"], on=["tenant_id", "event_id"])
        .select("tenant_id", "order_id", "timezone")
        .unique()
    )
    out = dict(tables)
    for name, columns in LOCAL.items():
        frame = tables[name].join(zones[name], on=zones[name].columns[:2], how="left")
        parts = [
            part.with_columns(
                pl.col(c)
                .dt.convert_time_zone(zone)
                .dt.replace_time_zone(None)
                .dt.replace_time_zone(zone, ambiguous="latest")
                .dt.convert_time_zone("UTC")
                for c in columns
            )
            for (zone,), part in frame.group_by("timezone")
        ]
        out[name] = pl.concat(parts).select(tables[name].columns)
    return out


def fill_marquee(url: str, tables: dict[str, pl.DataFrame]) -> None:
    with psycopg.connect(url) as conn:
        conn.execute((EXAMPLE / "schema.sql").read_text())
        for name in SOURCE:
            frame = tables[name]
            staged = sql.Identifier(f"c_{name}")
            names = sql.SQL(", ").join(map(sql.Identifier, frame.columns))
            conn.execute(
                sql.SQL("create temporary table {} ({})").format(
                    staged,
                    sql.SQL(", ").join(
                        sql.SQL("{} text").format(sql.Identifier(c)) for c in frame.columns
                    ),
                )
            )
            copy_in = sql.SQL("copy {} ({}) from stdin (format csv)").format(staged, names)
            with conn.cursor().copy(copy_in) as copy:
                sources.frame_rows(frame).write(copy, lambda _done: None)
        conn.execute(TO_MARQUEE)


def source_rows() -> dict[str, pl.DataFrame]:
    with engine.connect() as conn:
        return {
            name: pl.DataFrame(
                [
                    tuple(map(str, row))
                    for row in conn.execute(sa.text(f"select * from source.{name}"))
                ],
                schema=[c.name for c in schema.metadata.tables[f"source.{name}"].columns],
                orient="row",
            ).sort(pl.all())
            for name in SOURCE
        }


def analytics() -> dict[str, pl.DataFrame]:
    """Every analytics table a run writes, without its identifiers and clocks, in key order."""
    frames = {}
    with engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            if table.schema != "analytics" or table.name in NOT_ANALYTICS:
                continue
            columns = [c for c in table.columns if c.name not in RUN_COLUMNS]
            rows = [
                tuple(str(v) if isinstance(v, uuid.UUID) else v for v in row)
                for row in conn.execute(sa.select(*columns))
            ]
            frame = pl.DataFrame(rows, schema=[c.name for c in columns], orient="row")
            frames[table.name] = frame.sort(pl.all())
    return frames


def test_marquee_through_its_mapping_gives_the_contract_files_analytics(
    make_database, home, tmp_path, monkeypatch
):
    tables = the_tenant()
    expected_rows = read_back_from_local_time(tables)
    for name in ("orders", "tickets"):  # the five orders are read back an hour later
        read_back = expected_rows[name].join(
            tables[name], on=tables[name].columns, how="anti", nulls_equal=True
        )
        assert read_back.height >= 5 and read_back["order_id"].n_unique() == 5
    monkeypatch.setenv("BOXOFFICE_LANDING_DIR", str(tmp_path / "landing"))

    contract_db, marquee_db = make_database(), make_database()
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", contract_db)
    monkeypatch.setenv("BOXOFFICE_REPORTS_DIR", str(tmp_path / "reports-contract"))
    with engine.connect("owner") as conn:
        migrate.upgrade(conn)
    loading.load(expected_rows, source="contract files")
    contract_source = source_rows()
    runner.run(WORLD_END, progress=False)
    contract_analytics = analytics()

    platform_url = engine.libpq_url(make_url(make_database()))
    fill_marquee(platform_url, tables)
    monkeypatch.setenv("MARQUEE_DATABASE_URL", platform_url)
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", marquee_db)
    monkeypatch.setenv("BOXOFFICE_REPORTS_DIR", str(tmp_path / "reports-marquee"))
    with engine.connect("owner") as conn:
        migrate.upgrade(conn)
    loaded = CliRunner().invoke(main, ["load", "--mapping", str(EXAMPLE / "mapping.yaml")])
    assert loaded.exit_code == 0, loaded.output

    marquee_source = source_rows()
    for name in SOURCE:
        assert_frame_equal(marquee_source[name], contract_source[name], check_exact=True)
    runner.run(WORLD_END, progress=False)
    marquee_analytics = analytics()
    assert contract_analytics.keys() == marquee_analytics.keys()
    assert contract_analytics["sales_daily"].height > 0
    for name, frame in contract_analytics.items():
        assert_frame_equal(marquee_analytics[name], frame, check_exact=False, rel_tol=1e-9)
