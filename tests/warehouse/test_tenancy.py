"""Tenant isolation by row-level security, tested as the non-bypassing roles themselves."""

import datetime as dt
import io
import time
import uuid

import polars as pl
import psycopg
import pytest
import sqlalchemy as sa

from boxoffice import customers, forecast, metrics, pricing
from boxoffice.alerts import evaluate as alert_rules
from boxoffice.alerts import series as alert_series
from boxoffice.alerts.rules import Rule
from boxoffice.ingest import ingest_stream
from boxoffice.monitoring.reconciliation import reconciliation_query
from boxoffice.warehouse import alerts as stored_alerts
from boxoffice.warehouse import (
    engine,
    erasure,
    read_attribution_inputs,
    read_customer_summary,
    read_event_sales,
    read_events,
    read_frame,
    read_sales_daily,
    read_ticket_type_sales,
    refresh_sales,
    replace_partitions,
    schema,
    write_partitions,
)
from boxoffice.warehouse import pricing as wp
from tests.conftest import build_small_world
from tests.ingest.conftest import event, ndjson

TENANT_TABLES = [f"{t.schema}.{t.name}" for t in schema.tenant_tables()]
CUSTOMER_TABLES = [
    schema.customer_rfm,
    schema.customer_segments,
    schema.customer_value,
    schema.customer_models,
]
SOURCE_TABLES = [
    f"{t.schema}.{t.name}" for t in schema.metadata.sorted_tables if t.schema == "source"
]


@pytest.fixture(scope="module")
def two_tenants(make_database, tmp_path_factory):
    """Own world (raw rows are added for both tenants): returns (url, tenant A, tenant B)."""
    world = build_small_world(make_database(), tmp_path_factory.mktemp("w") / "m.json", seed=5)
    a, b = (t["tenant_id"] for t in world["manifest"]["tenants"])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BOXOFFICE_DATABASE_URL", world["url"])
        ingest_stream(
            io.BytesIO(ndjson(*(event(tenant=t) for t in (a, a, b, b)))), name="two tenants"
        )
        refresh_sales([a, b])
        replace_partitions(
            [
                *metrics.sales.dimension_queries(),
                reconciliation_query(),
                metrics.funnel.funnel_query(),
            ],
            as_of=dt.date(2026, 10, 31),
            tenants=[a, b],
        )
        for tenant in (a, b):  # one queued change each
            with engine.connect("owner", tenant=tenant) as conn:
                conn.execute(
                    sa.text(
                        "update source.tickets set fee_cents = fee_cents + 1 where ticket_id ="
                        " (select ticket_id from source.tickets where tenant_id = :t limit 1)"
                    ),
                    {"t": tenant},
                )
        for table, frames in _customer_tables([a, b]).items():
            write_partitions(table, frames, as_of=dt.date(2026, 10, 31))
        attributed = {
            t: metrics.attribution.campaign_attribution(
                *read_attribution_inputs(as_of=dt.date(2026, 10, 31), tenant=t)
            )
            for t in (a, b)
        }
        write_partitions(schema.attribution, attributed, as_of=dt.date(2026, 10, 31))
        for table, frames in _forecast_tables([a, b]).items():
            write_partitions(table, frames, as_of=dt.date(2026, 10, 31))
        _pricing_tables([a, b])
        _alert_tables([a, b])
        for tenant in (a, b):  # an erasure each (of a customer the world does not have)
            erasure.forget_customers(tenant, [str(uuid.uuid4())])
    return world["url"], a, b


def _customer_tables(tenants) -> dict:
    """Each tenant's customer partitions, computed as the rfm and customer-value tasks do."""
    tables = {t: {} for t in CUSTOMER_TABLES}
    for tenant in tenants:
        summary = read_customer_summary(as_of=dt.date(2026, 10, 31), tenant=tenant)
        scores = customers.score_rfm(summary)
        value = customers.value_customers(summary)
        tables[schema.customer_rfm][tenant] = scores
        tables[schema.customer_segments][tenant] = customers.segment_summary(scores)
        tables[schema.customer_value][tenant] = value.values
        tables[schema.customer_models][tenant] = value.models
    return tables


def _forecast_tables(tenants) -> dict:
    """Each tenant's forecast partitions, computed as the demand-forecast task does (a short
    horizon and one backtest origin: only the rows matter here)."""
    as_of = dt.date(2026, 10, 31)
    tables = {t: {} for t in (schema.demand_forecasts, schema.forecast_backtests)}
    tables[schema.event_forecasts] = {}
    tables[schema.revenue_projections], tables[schema.revenue_projection_totals] = {}, {}
    for tenant in tenants:
        sales = read_sales_daily(as_of=as_of, tenant=tenant)
        projected = forecast.project(
            metrics.sales.rollup(sales, "day"), date_col="period", end=as_of, paths=200
        )
        (
            tables[schema.revenue_projections][tenant],
            tables[schema.revenue_projection_totals][tenant],
        ) = forecast.projection.to_rows(projected)
        demand = forecast.daily_demand(sales, end=as_of)
        tables[schema.demand_forecasts][tenant] = forecast.forecast_venues(demand, horizon=3)
        tables[schema.forecast_backtests][tenant] = forecast.backtest_venues(
            demand, horizon=7, origins=1
        )
        tables[schema.event_forecasts][tenant] = forecast.pickup_forecast(
            read_event_sales(as_of=as_of, tenant=tenant),
            read_events(as_of=as_of, tenant=tenant),
            as_of,
        )
    return tables


def _alert_tables(tenants) -> None:
    """Each tenant's alert state and event, judged as the alerts task does (a rule that any
    day's sales break, so it fires at once)."""
    as_of, rule = dt.date(2026, 10, 31), Rule("any-sales", "threshold", metric="tickets", above=-1)
    for tenant in tenants:
        daily, per_event, events = stored_alerts.read_alert_sales(
            as_of=as_of, tenant=tenant, days=7
        )
        judged = alert_rules.judge(
            alert_series.sales_series(daily, per_event, events, "tenant", tenant), rule, as_of
        )
        states, changes = alert_rules.step(
            pl.DataFrame(schema=alert_rules.STATES), judged, rule, as_of
        )
        assert changes["to_state"].to_list() == ["firing"]
        queued = [
            {"key": "k", "rule": rule.name, "event": "firing", "evaluated": as_of,
             "scope_keys": [tenant], "channel": "ops", "recipient": "ops@venue.example",
             "subject": "s", "body": "b", "payload": {}}
        ]  # fmt: skip
        stored_alerts.save_alerts(states, changes, tenant=tenant, queued=queued)

        def refuse(_row):
            raise RuntimeError("mail server: connection refused")

        done = stored_alerts.deliver_due(
            refuse,
            tenant=tenant,
            now=dt.datetime.now(dt.UTC),
            deadline=time.monotonic() + 30,
            backoff=lambda _n: dt.timedelta(minutes=5),
        )
        assert done == {"sent": 0, "failed": 1}  # queued, and its attempt logged
        stored_alerts.add_silence(
            tenant=tenant,
            rule=rule.name,
            scope_key=None,
            until=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
            reason="test",
            by="test",
        )


def _pricing_tables(tenants) -> None:
    """Each tenant's pricing partitions and one approved recommendation (so that every
    pricing table has rows of both tenants); the pricing task's steps with loose rules."""
    as_of = dt.date(2026, 10, 31)
    for tenant in tenants:
        events = read_events(as_of=as_of, tenant=tenant)
        obs = pricing.elasticity.price_observations(
            read_ticket_type_sales(as_of=as_of, tenant=tenant), events
        )
        estimates = pricing.elasticity.estimate_elasticities(obs)
        priced = pricing.price_events(
            metrics.events.event_performance(
                read_event_sales(as_of=as_of, tenant=tenant), events, as_of
            ),
            read_frame(
                "select event_id::text, forecast, pool_events from analytics.event_forecasts",
                tenant=tenant,
            ),
            pricing.event_elasticities(events, estimates),
            pricing.current_prices(obs, events, wp.read_approved_prices(tenant=tenant)),
            rules=pricing.PriceRules(max_relative_se=10, min_pool_events=1),
        )
        write_partitions(
            schema.price_elasticities,
            {tenant: estimates.with_columns(pl.col("venue_id").fill_null("").alias("venue_key"))},
            as_of=as_of,
        )
        write_partitions(schema.event_pricing, {tenant: priced}, as_of=as_of)
        # one recommendation each, whatever the data say: its price is arbitrary here
        one = priced.head(1).with_columns(
            pl.col("current_price_cents").alias("recommended_price_cents"),
            *(pl.lit(1.0).alias(c) for c in ("expected_tickets_current",
              "expected_tickets_recommended", "expected_revenue_current",
              "expected_revenue_recommended")),
        )  # fmt: skip
        wp.publish_recommendations(one, tenant=tenant, as_of=as_of, valid_days=7)
        wp.decide(
            wp.recommendation_id(tenant, one["event_id"][0], as_of),
            "approve",
            by="tester",
            tenant=tenant,
        )


@pytest.fixture
def db(two_tenants, monkeypatch, home):
    url, a, b = two_tenants
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", url)
    return a, b


def _counts(conn, table: str, a: str, b: str) -> tuple[int, int, int]:
    row = conn.execute(
        sa.text(
            f"select count(*) filter (where tenant_id = :a), count(*) filter (where tenant_id = :b),"
            f" count(*) from {table}"
        ),
        {"a": a, "b": b},
    ).one()
    return tuple(row)


ROLE_TABLES = [("pipeline", t) for t in TENANT_TABLES] + [
    ("reader", t) for t in TENANT_TABLES if t.startswith("analytics.")
]


@pytest.mark.parametrize(("role", "table"), ROLE_TABLES, ids=[f"{r}-{t}" for r, t in ROLE_TABLES])
def test_each_role_sees_only_its_tenant(db, role, table):
    a, b = db
    with engine.connect("owner") as conn:  # the superuser owner sees both: the ground truth
        own_a, own_b, _ = _counts(conn, table, a, b)
    assert own_a > 0 and own_b > 0
    with engine.connect(role, tenant=a) as conn:
        assert _counts(conn, table, a, b) == (own_a, 0, own_a)
    with engine.connect(role, tenant=b) as conn:
        assert _counts(conn, table, a, b) == (0, own_b, own_b)


def test_reader_cannot_read_the_cross_tenant_run_history(db):
    a, _ = db
    with (
        engine.connect("reader", tenant=a) as conn,
        pytest.raises(sa.exc.ProgrammingError, match="permission denied"),
    ):
        conn.execute(sa.text("select count(*) from analytics.pipeline_runs"))


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_no_tenant_or_empty_tenant_sees_nothing(db, table):
    with engine.connect("pipeline") as conn:
        assert conn.execute(sa.text(f"select count(*) from {table}")).scalar_one() == 0
        conn.execute(sa.text("select set_config('app.tenant_id', '', false)"))
        assert conn.execute(sa.text(f"select count(*) from {table}")).scalar_one() == 0


@pytest.mark.parametrize("role", ["pipeline", "reader"])
def test_malformed_tenant_mid_session_errors_instead_of_widening_access(db, role):
    a, b = db
    table = "source.tickets" if role == "pipeline" else "raw.events"
    with engine.engine(role).connect() as conn:
        engine.set_tenant(conn, a)
        if role == "reader":
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                conn.execute(sa.text(f"select count(*) from {table}"))
            return
        assert (
            conn.execute(
                sa.text(f"select count(*) from {table} where tenant_id = :b"), {"b": b}
            ).scalar_one()
            == 0
        )
        for hostile in ["not-a-uuid", "' or true --", f"{b}' or '1'='1", "*"]:
            conn.execute(sa.select(sa.func.set_config("app.tenant_id", hostile, False)))
            with pytest.raises(sa.exc.DataError, match="invalid input syntax for type uuid"):
                conn.execute(sa.text(f"select count(*) from {table}"))
            conn.rollback()


@pytest.mark.parametrize("table", SOURCE_TABLES)
def test_reader_cannot_read_source_where_the_pii_lives(db, table):
    a, _ = db
    with (
        engine.connect("reader", tenant=a) as conn,
        pytest.raises(sa.exc.ProgrammingError, match="permission denied"),
    ):
        conn.execute(sa.text(f"select count(*) from {table}"))


def test_pipeline_cannot_write_rows_of_another_tenant(db):
    a, b = db
    with engine.connect("pipeline", tenant=a) as conn:
        batch = conn.execute(sa.text("select batch_id from raw.events limit 1")).scalar_one()
        with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
            conn.execute(
                sa.text(
                    "insert into raw.events (source, event_id, tenant_id, type, schema_version, occurred_at,"
                    " received_at, batch_id, payload) values ('x', 'y', :b, 't', 'v1', '2026-10-15', now(), :batch, '{}')"
                ),
                {"b": b, "batch": batch},
            )


def test_pipeline_cannot_modify_source(db):
    a, _ = db
    with (
        engine.connect("pipeline", tenant=a) as conn,
        pytest.raises(sa.exc.ProgrammingError, match="permission denied"),
    ):
        conn.execute(sa.text("delete from source.tickets"))


def test_pooled_connection_forgets_its_tenant(db):
    a, _ = db
    eng = engine.engine("pipeline")
    with engine.connect("pipeline", tenant=a) as conn:
        assert conn.execute(sa.text("select count(*) from source.orders")).scalar_one() > 0
        pid = conn.execute(sa.text("select pg_backend_pid()")).scalar_one()
    assert eng.pool.checkedin() >= 1
    with engine.connect("pipeline") as conn:
        assert conn.execute(sa.text("select pg_backend_pid()")).scalar_one() == pid  # same session
        assert conn.execute(sa.text("select count(*) from source.orders")).scalar_one() == 0


def test_set_tenant_rejects_a_non_uuid_before_it_reaches_sql(db):
    with (
        engine.connect("pipeline") as conn,
        pytest.raises(ValueError, match="tenant must be a UUID"),
    ):
        engine.set_tenant(conn, "abc' or true")


def test_reader_reads_analytics_tables_created_later_through_default_privileges(db):
    a, b = db
    with engine.connect("owner") as conn:
        conn.execute(sa.text("create table analytics.t_probe (tenant_id uuid not null, x int)"))
        conn.execute(sa.text("alter table analytics.t_probe enable row level security"))
        conn.execute(sa.text("alter table analytics.t_probe force row level security"))
        conn.execute(
            sa.text(
                "create policy p on analytics.t_probe using (tenant_id = "
                "nullif(current_setting('app.tenant_id', true), '')::uuid)"
            )
        )
        conn.execute(
            sa.text("insert into analytics.t_probe values (:a, 1), (:b, 2)"), {"a": a, "b": b}
        )
    try:
        with engine.connect("reader", tenant=b) as conn:
            assert conn.execute(
                sa.text("select array_agg(x) from analytics.t_probe")
            ).scalar_one() == [2]
    finally:
        with engine.connect("owner") as conn:
            conn.execute(sa.text("drop table analytics.t_probe"))


def test_a_psycopg_client_gets_the_same_isolation(db):
    """BI tools connect with plain libpq URLs; RLS holds for them too."""
    a, b = db
    url = engine.libpq_url(engine.database_url("pipeline"))
    with psycopg.connect(url) as conn:
        conn.execute("select set_config('app.tenant_id', %s, false)", [a])
        assert (
            conn.execute(
                "select count(*) from source.customers where tenant_id = %s", [b]
            ).fetchone()[0]
            == 0
        )
