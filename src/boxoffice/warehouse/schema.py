"""The warehouse's tables as SQLAlchemy Core metadata: the model Alembic migrations must match.

Conventions (``docs/architecture.md``): money in integer cents (``*_cents``), times as
``timestamptz`` in UTC, UUID identifiers, ``tenant_id`` on every tenant-owned row. Tenant-owned
tables key on ``(tenant_id, <id>)`` and reference each other through that pair, so a row can
never point at another tenant's row, and the same index serves the RLS predicate and the
lookup.

``Table.info["freshness"]`` names the column whose maximum says how fresh a table is (doctor).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

SCHEMAS = ("source", "raw", "analytics")
CHANNELS = ("web", "mobile", "box_office", "partner")
TICKET_STATUSES = ("sold", "refunded", "scanned")
TICKET_TYPES = ("standard", "premium", "vip", "concession")
CATEGORIES = ("concert", "sports", "theatre", "comedy", "family")

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


# hex HMAC keys compare bytewise: faster sorts, groups and index builds than a libc locale
CUSTOMER_KEY = sa.Text(collation="C")


def _uuid(name: str, **kw) -> sa.Column:
    return sa.Column(name, UUID(as_uuid=True), nullable=False, **kw)


def _tenant() -> sa.Column:
    return _uuid("tenant_id")


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


# ------------------------------------------------------------------------------------- source
tenants = sa.Table(
    "tenants",
    metadata,
    _uuid("tenant_id", primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    _ts("created_at"),
    schema="source",
    info={"freshness": "created_at"},
)

venues = sa.Table(
    "venues",
    metadata,
    _tenant(),
    _uuid("venue_id"),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("city", sa.Text, nullable=False),
    sa.Column("timezone", sa.Text, nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "venue_id"),
    sa.ForeignKeyConstraint(["tenant_id"], ["source.tenants.tenant_id"]),
    sa.CheckConstraint("capacity > 0", name="capacity_positive"),
    schema="source",
)

events = sa.Table(
    "events",
    metadata,
    _tenant(),
    _uuid("event_id"),
    _uuid("venue_id"),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    _ts("on_sale_at"),
    _ts("starts_at"),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("base_price_cents", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "event_id"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "venue_id"], ["source.venues.tenant_id", "source.venues.venue_id"]
    ),
    sa.CheckConstraint(_in("category", CATEGORIES), name="category_known"),
    sa.CheckConstraint("on_sale_at < starts_at", name="on_sale_before_start"),
    sa.CheckConstraint("capacity > 0", name="capacity_positive"),
    sa.CheckConstraint("base_price_cents >= 0", name="base_price_non_negative"),
    schema="source",
)

customers = sa.Table(
    "customers",
    metadata,
    _tenant(),
    _uuid("customer_id"),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("full_name", sa.Text, nullable=False),
    _ts("created_at"),
    sa.PrimaryKeyConstraint("tenant_id", "customer_id"),
    sa.ForeignKeyConstraint(["tenant_id"], ["source.tenants.tenant_id"]),
    schema="source",
    info={"freshness": "created_at"},
)

orders = sa.Table(
    "orders",
    metadata,
    _tenant(),
    _uuid("order_id"),
    _uuid("customer_id"),
    sa.Column("channel", sa.Text, nullable=False),
    _ts("created_at"),
    sa.PrimaryKeyConstraint("tenant_id", "order_id"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "customer_id"], ["source.customers.tenant_id", "source.customers.customer_id"]
    ),
    sa.CheckConstraint(_in("channel", CHANNELS), name="channel_known"),
    sa.Index(None, "tenant_id", "customer_id", "created_at"),
    schema="source",
    info={"freshness": "created_at"},
)

tickets = sa.Table(
    "tickets",
    metadata,
    _tenant(),
    _uuid("ticket_id"),
    _uuid("order_id"),
    _uuid("event_id"),
    sa.Column("price_cents", sa.BigInteger, nullable=False),
    sa.Column("fee_cents", sa.BigInteger, nullable=False),
    sa.Column("ticket_type", sa.Text, nullable=False),
    _ts("sold_at"),
    sa.Column("status", sa.Text, nullable=False),
    _ts("refunded_at", nullable=True),
    _ts("scanned_at", nullable=True),
    sa.PrimaryKeyConstraint("tenant_id", "ticket_id"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "order_id"], ["source.orders.tenant_id", "source.orders.order_id"]
    ),
    sa.ForeignKeyConstraint(
        ["tenant_id", "event_id"], ["source.events.tenant_id", "source.events.event_id"]
    ),
    sa.CheckConstraint("price_cents >= 0 and fee_cents >= 0", name="money_non_negative"),
    sa.CheckConstraint(_in("ticket_type", TICKET_TYPES), name="ticket_type_known"),
    sa.CheckConstraint(_in("status", TICKET_STATUSES), name="status_known"),
    sa.CheckConstraint(
        "(status = 'refunded') = (refunded_at is not null) and refunded_at >= sold_at is not false",
        name="refund_consistent",
    ),
    sa.CheckConstraint("(status = 'scanned') = (scanned_at is not null)", name="scan_consistent"),
    sa.Index(None, "tenant_id", "event_id"),
    sa.Index(None, "tenant_id", "sold_at"),
    sa.Index(None, "tenant_id", "refunded_at", postgresql_where=sa.text("refunded_at is not null")),
    schema="source",
    info={"freshness": "sold_at"},
)

# UTC days whose tickets changed (written by statement triggers on source.tickets and
# source.orders), consumed by the sales refresh; see migration 0006
ticket_changes = sa.Table(
    "ticket_changes",
    metadata,
    sa.Column("change_id", sa.BigInteger, sa.Identity(), primary_key=True),
    _uuid("tenant_id"),
    sa.Column("utc_date", sa.Date, nullable=False),
    sa.Column(
        "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Index(None, "tenant_id"),
    schema="source",
)

campaign_touches = sa.Table(
    "campaign_touches",
    metadata,
    _tenant(),
    _uuid("touch_id"),
    _uuid("customer_id"),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("campaign", sa.Text, nullable=False),
    _ts("touched_at"),
    sa.PrimaryKeyConstraint("tenant_id", "touch_id"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "customer_id"], ["source.customers.tenant_id", "source.customers.customer_id"]
    ),
    sa.Index(None, "tenant_id", "customer_id", "touched_at"),
    schema="source",
    info={"freshness": "touched_at"},
)

# one row per customer forgotten (`boxoffice forget`): no PII, the SHA-256 of the customer's key;
# what was removed (rows per table, report files), and the dumps made before that still hold it
erasures = sa.Table(
    "erasures",
    metadata,
    _tenant(),
    sa.Column("key_sha256", sa.Text, nullable=False),
    _ts("erased_at"),
    sa.Column("rows", JSONB, nullable=False),
    sa.Column("files", JSONB, nullable=False),
    sa.Column("dumps_holding", JSONB, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "key_sha256"),  # no foreign key: it outlives reloads
    schema="source",
)

# every `boxoffice db dump` written (the owner's): an erasure names the dumps made before it
dumps = sa.Table(
    "dumps",
    metadata,
    sa.Column("path", sa.Text, nullable=False),
    _ts("made_at"),
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("path", "made_at"),
    schema="source",
)

# every `boxoffice load` (the owner's; no role of the application reads it): where its rows came
# from, what it did per table, the cursors' high-water marks after it, and how it ended. The
# newest loaded row of a source holds the marks its next incremental load starts from.
LOAD_MODES = ("incremental", "full")
LOAD_OUTCOMES = ("loaded", "checked", "refused", "failed")
loads = sa.Table(
    "loads",
    metadata,
    _uuid("load_id", primary_key=True),
    sa.Column("source", sa.Text, nullable=False),  # the folder, or the mapping's name
    sa.Column("mode", sa.Text, nullable=False),
    _ts("started_at"),
    _ts("finished_at"),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("tables", JSONB, nullable=False),  # table → read, inserted, updated, … rejected
    sa.Column("marks", JSONB, nullable=False),  # table → its cursor's high-water mark
    sa.Column("problems", sa.Integer, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.CheckConstraint(_in("mode", LOAD_MODES), name="mode_known"),
    sa.CheckConstraint(_in("outcome", LOAD_OUTCOMES), name="outcome_known"),
    sa.CheckConstraint("finished_at >= started_at", name="finished_after_start"),
    sa.Index(None, "source", "finished_at"),
    schema="source",
)

# the rows a `boxoffice load --quarantine` kept out, each with every problem it had
load_rejects = sa.Table(
    "load_rejects",
    metadata,
    sa.Column("reject_id", sa.BigInteger, sa.Identity(), primary_key=True),
    _uuid("load_id"),
    sa.Column("table_name", sa.Text, nullable=False),
    sa.Column("row", sa.BigInteger, nullable=False),  # its number in its file or query
    sa.Column("key", sa.Text, nullable=True),
    sa.Column("problems", JSONB, nullable=False),  # [{column, rule, detail}]
    sa.Column("values", JSONB, nullable=False),  # the row as it came, every column as text
    sa.ForeignKeyConstraint(["load_id"], ["source.loads.load_id"], ondelete="cascade"),
    sa.Index(None, "load_id"),
    schema="source",
)

# ---------------------------------------------------------------------------------------- raw
ingest_batches = sa.Table(
    "ingest_batches",
    metadata,
    _uuid("batch_id", primary_key=True),
    sa.Column("input_name", sa.Text, nullable=False),
    sa.Column("input_sha256", sa.Text),
    _ts("started_at"),
    _ts("finished_at", nullable=True),
    sa.Column("received", sa.BigInteger, nullable=False),
    sa.Column("stored", sa.BigInteger, nullable=False),
    sa.Column("duplicates", sa.BigInteger, nullable=False),
    sa.Column("rejected", sa.BigInteger, nullable=False),
    sa.Column("late", sa.BigInteger, nullable=False, server_default="0"),
    sa.CheckConstraint("received = stored + duplicates + rejected", name="counts_add_up"),
    sa.CheckConstraint("late <= stored", name="late_are_stored"),
    sa.Index(None, "input_sha256"),
    schema="raw",
    info={"freshness": "started_at"},
)

# Partitioned by month of occurred_at, so retention drops whole months. A unique key on a
# partitioned table must contain the partition key, so uniqueness of (source, event_id)
# *forever* lives in raw.event_ids, which outlives the partitions.
raw_events = sa.Table(
    "events",
    metadata,
    _tenant(),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("event_id", sa.Text, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("schema_version", sa.Text, nullable=False),
    _ts("occurred_at"),
    _ts("received_at"),
    sa.Column("session_id", sa.Text),
    sa.Column("customer_key", sa.Text),
    sa.Column("channel", sa.Text),
    sa.Column("trace_id", sa.Text),
    _uuid("batch_id"),
    sa.Column("payload", JSONB, nullable=False),
    sa.Index(None, "tenant_id", "occurred_at"),
    schema="raw",
    postgresql_partition_by="RANGE (occurred_at)",
    info={"freshness": "occurred_at"},
)

event_ids = sa.Table(
    "event_ids",
    metadata,
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("event_id", sa.Text, nullable=False),
    _uuid("batch_id"),  # no foreign key: a per-row check would double the cost of ingesting
    sa.PrimaryKeyConstraint("source", "event_id"),
    schema="raw",
)

# Stored events per (tenant, UTC day, type), maintained by each batch: the reconciliation's
# counts without scanning raw.events, and the marker of days a batch touched (updated_at)
# that downstream tasks recompute — late and out-of-order events included.
event_day_counts = sa.Table(
    "event_day_counts",
    metadata,
    _tenant(),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("events", sa.BigInteger, nullable=False),
    _uuid("last_batch_id"),
    _ts("updated_at"),
    sa.PrimaryKeyConstraint("tenant_id", "day", "type"),
    sa.Index(None, "updated_at"),
    schema="raw",
    info={"freshness": "updated_at"},
)

# Rejected input, across tenants: `claimed_tenant` is whatever the event said (it may be
# missing or malformed), so this is an operator's table without row-level security, and the
# reader role cannot read it. The payload is masked (no emails, IPs, phone numbers).
dead_letter = sa.Table(
    "dead_letter",
    metadata,
    sa.Column("dead_letter_id", sa.BigInteger, sa.Identity(), primary_key=True),
    _uuid("batch_id"),
    sa.Column("line_number", sa.BigInteger, nullable=False),
    _ts("received_at"),
    sa.Column("claimed_tenant", sa.Text),
    sa.Column("event_type", sa.Text),
    sa.Column("field", sa.Text, nullable=False),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.ForeignKeyConstraint(["batch_id"], ["raw.ingest_batches.batch_id"]),
    sa.Index(None, "batch_id"),
    sa.Index(None, "received_at"),
    schema="raw",
    info={"freshness": "received_at"},
)

# One row: events before `events_before` were dropped by retention; ingest rejects them.
retention = sa.Table(
    "retention",
    metadata,
    sa.Column("singleton", sa.Boolean, primary_key=True, server_default=sa.true()),
    _ts("events_before"),
    _ts("updated_at"),
    sa.CheckConstraint("singleton", name="one_row"),
    schema="raw",
)


# ---------------------------------------------------------------------------------- analytics
def _sales_facts(name: str, *grain: sa.Column | sa.CheckConstraint) -> sa.Table:
    """A sales fact table: one row per tenant, local day and ``grain`` with the sales measures;
    kept current incrementally, not per run (see boxoffice.metrics.sales)."""
    keys = ["tenant_id", "local_date", *(c.name for c in grain if isinstance(c, sa.Column))]
    return sa.Table(
        name,
        metadata,
        _tenant(),
        sa.Column("local_date", sa.Date, nullable=False),
        *grain,
        sa.Column("tickets_sold", sa.Integer, nullable=False),
        sa.Column("gross_cents", sa.BigInteger, nullable=False),
        sa.Column("fee_cents", sa.BigInteger, nullable=False),
        sa.Column("refunded_tickets", sa.Integer, nullable=False),
        sa.Column("refund_cents", sa.BigInteger, nullable=False),
        sa.Column("net_cents", sa.BigInteger, nullable=False),
        sa.Column("orders", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint(*keys),
        sa.CheckConstraint(
            "net_cents = gross_cents - refund_cents", name="net_is_gross_less_refunds"
        ),
        schema="analytics",
        info={"freshness": "local_date"},
    )


def _event_grain() -> list[sa.Column]:
    return [
        _uuid("venue_id"),
        _uuid("event_id"),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("ticket_type", sa.Text, nullable=False),
    ]


sales_hourly = _sales_facts(
    "sales_hourly",
    sa.Column("local_hour", sa.SmallInteger, nullable=False),
    *_event_grain(),
    sa.CheckConstraint("local_hour between 0 and 23", name="hour_of_day"),
)
event_sales_daily = _sales_facts("event_sales_daily", *_event_grain())
# what dashboards read: a few dozen rows per tenant and day
sales_daily = _sales_facts(
    "sales_daily", _uuid("venue_id"), sa.Column("channel", sa.Text, nullable=False)
)

# ordered by customer: the customer summary groups by key and day without sorting
customer_days = sa.Table(
    "customer_days",
    metadata,
    _tenant(),
    sa.Column("customer_key", CUSTOMER_KEY, nullable=False),
    sa.Column("local_date", sa.Date, nullable=False),
    _uuid("venue_id"),
    sa.Column("orders", sa.Integer, nullable=False),
    sa.Column("tickets", sa.Integer, nullable=False),
    sa.Column("gross_cents", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "customer_key", "local_date", "venue_id"),
    sa.Index(None, "tenant_id", "local_date"),
    schema="analytics",
    info={"freshness": "local_date"},
)

# each tenant's last refresh of the sales facts; no row means the next refresh is a full one
sales_refresh = sa.Table(
    "sales_refresh",
    metadata,
    _tenant(),
    _ts("refreshed_at"),
    sa.Column("mode", sa.Text, nullable=False),
    sa.Column("days", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id"),
    sa.CheckConstraint("mode in ('full', 'incremental')", name="mode_known"),
    schema="analytics",
)

venues_dim = sa.Table(
    "venues",
    metadata,
    _tenant(),
    sa.Column("as_of", sa.Date, nullable=False),
    _uuid("venue_id"),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("city", sa.Text, nullable=False),
    sa.Column("timezone", sa.Text, nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("tenant_name", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "as_of", "venue_id"),
    schema="analytics",
)

# the events of a run, with their local start day and the scans so far (attendance)
events_dim = sa.Table(
    "events",
    metadata,
    _tenant(),
    sa.Column("as_of", sa.Date, nullable=False),
    _uuid("event_id"),
    _uuid("venue_id"),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    _ts("on_sale_at"),
    _ts("starts_at"),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("base_price_cents", sa.BigInteger, nullable=False),
    sa.Column("scanned", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "as_of", "event_id"),
    schema="analytics",
)

event_reconciliation = sa.Table(
    "event_reconciliation",
    metadata,
    _tenant(),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("events", sa.BigInteger, nullable=False),
    sa.Column("rolling_mean_7d", sa.Float),
    sa.Column("orders", sa.BigInteger),
    sa.Column("low_volume", sa.Boolean, nullable=False),
    sa.Column("orders_mismatch", sa.Boolean, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "as_of", "day", "type"),
    sa.CheckConstraint("day <= as_of", name="no_future_days"),
    schema="analytics",
    info={"freshness": "day"},
)

# the conversion funnel of the run's window: sessions by the UTC day of their first event
funnel_daily = sa.Table(
    "funnel_daily",
    metadata,
    _tenant(),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("sessions", sa.Integer, nullable=False),
    sa.Column("event_views", sa.Integer, nullable=False),
    sa.Column("carts", sa.Integer, nullable=False),
    sa.Column("checkouts", sa.Integer, nullable=False),
    sa.Column("purchases", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "as_of", "day", "channel"),
    sa.CheckConstraint(
        "sessions >= event_views and event_views >= carts and carts >= checkouts"
        " and checkouts >= purchases",
        name="steps_narrow",
    ),
    schema="analytics",
    info={"freshness": "day"},
)

# Customers: one row per tenant, as_of, customer_key. Values are in cents (gross at sale);
# recency and T count days.
customer_rfm = sa.Table(
    "customer_rfm",
    metadata,
    _tenant(),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("customer_key", CUSTOMER_KEY, nullable=False),
    sa.Column("frequency", sa.Integer, nullable=False),
    sa.Column("recency", sa.Float, nullable=False),
    sa.Column("T", sa.Float, nullable=False),
    sa.Column("monetary_value", sa.Float, nullable=False),
    sa.Column("purchases", sa.Integer, nullable=False),
    sa.Column("total_value", sa.Float, nullable=False),
    sa.Column("days_since_last", sa.Integer, nullable=False),
    sa.Column("r", sa.SmallInteger, nullable=False),
    sa.Column("f", sa.SmallInteger, nullable=False),
    sa.Column("m", sa.SmallInteger, nullable=False),
    sa.Column("fm", sa.SmallInteger, nullable=False),
    sa.Column("segment", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "as_of", "customer_key"),
    sa.CheckConstraint('recency <= "T"', name="recency_within_age"),
    sa.CheckConstraint("purchases = frequency + 1", name="purchases_are_repeats_plus_one"),
    schema="analytics",
)

customer_segments = sa.Table(
    "customer_segments",
    metadata,
    _tenant(),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("segment", sa.Text, nullable=False),
    sa.Column("customers", sa.Integer, nullable=False),
    sa.Column("revenue", sa.Float, nullable=False),
    sa.Column("purchases", sa.Integer, nullable=False),
    sa.Column("average_order_value", sa.Float, nullable=False),
    sa.Column("share_of_customers", sa.Float, nullable=False),
    sa.Column("share_of_revenue", sa.Float, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "as_of", "segment"),
    schema="analytics",
)

customer_value = sa.Table(
    "customer_value",
    metadata,
    _tenant(),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("customer_key", CUSTOMER_KEY, nullable=False),
    sa.Column("p_alive", sa.Float, nullable=False),
    sa.Column("expected_purchases_90d", sa.Float, nullable=False),
    sa.Column("expected_spend", sa.Float, nullable=False),
    sa.Column("clv_12m", sa.Float, nullable=False),
    sa.Column("churn_risk", sa.Text, nullable=False),
    sa.Column("recency_risk", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "as_of", "customer_key"),
    sa.CheckConstraint("p_alive between 0 and 1", name="p_alive_is_a_probability"),
    sa.CheckConstraint("clv_12m >= 0", name="clv_not_negative"),
    schema="analytics",
)

customer_models = sa.Table(
    "customer_models",
    metadata,
    _tenant(),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("param", sa.Text, nullable=False),
    sa.Column("estimate", sa.Float, nullable=False),
    sa.Column("std_error", sa.Float),
    sa.Column("log_likelihood", sa.Float, nullable=False),
    sa.Column("n_customers", sa.Integer, nullable=False),
    sa.Column("converged", sa.Boolean, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "as_of", "model", "param"),
    schema="analytics",
)

# attribution of the run's order revenue to campaign touches, per model
attribution = sa.Table(
    "attribution",
    metadata,
    _tenant(),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("campaign", sa.Text, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("revenue_cents", sa.BigInteger, nullable=False),
    sa.Column("orders", sa.Float, nullable=False),
    sa.Column("share", sa.Float),
    sa.Column("lookback_days", sa.Integer, nullable=False),
    sa.Column("half_life_days", sa.Float, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "as_of", "model", "campaign", "channel"),
    sa.CheckConstraint(
        _in("model", ("first_touch", "last_touch", "linear", "time_decay", "position_based")),
        name="model_known",
    ),
    schema="analytics",
)


# demand forecasts: per venue and day (tickets sold, gross cents), with prediction intervals
def _bounds() -> list[sa.Column]:
    return [
        sa.Column(name, sa.Float, nullable=False)
        for name in ("mean", "lower_80", "upper_80", "lower_95", "upper_95")
    ]


def _daily_forecast_checks() -> list[sa.CheckConstraint]:
    """A daily forecast row lies after its run's date and its intervals nest."""
    return [
        sa.CheckConstraint("date > as_of", name="future_days"),
        sa.CheckConstraint(
            "lower_95 <= lower_80 and lower_80 <= upper_80 and upper_80 <= upper_95",
            name="intervals_nest",
        ),
    ]


demand_forecasts = sa.Table(
    "demand_forecasts",
    metadata,
    _tenant(),
    sa.Column("as_of", sa.Date, nullable=False),
    _uuid("venue_id"),
    sa.Column("measure", sa.Text, nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    *_bounds(),
    sa.Column("model", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "as_of", "venue_id", "measure", "date"),
    *_daily_forecast_checks(),
    schema="analytics",
)

# how the venue forecasts did on the run's history (rolling origins)
forecast_backtests = sa.Table(
    "forecast_backtests",
    metadata,
    _tenant(),
    sa.Column("as_of", sa.Date, nullable=False),
    _uuid("venue_id"),
    sa.Column("measure", sa.Text, nullable=False),
    sa.Column("horizon", sa.Integer, nullable=False),
    sa.Column("origins", sa.Integer, nullable=False),
    sa.Column("mase", sa.Float),
    sa.Column("naive_mase", sa.Float),
    sa.Column("wape", sa.Float),
    sa.Column("coverage_80", sa.Float),
    sa.Column("coverage_95", sa.Float),
    sa.Column("model", sa.Text),
    sa.PrimaryKeyConstraint("tenant_id", "as_of", "venue_id", "measure"),
    schema="analytics",
)

# final tickets of upcoming events by the pickup method
event_forecasts = sa.Table(
    "event_forecasts",
    metadata,
    _tenant(),
    sa.Column("as_of", sa.Date, nullable=False),
    _uuid("event_id"),
    sa.Column("days_before", sa.Integer, nullable=False),
    sa.Column("held", sa.Float, nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("pool", sa.Text),
    sa.Column("pool_events", sa.Integer, nullable=False),
    sa.Column("additive", sa.Float),
    sa.Column("multiplicative", sa.Float),
    sa.Column("method", sa.Text),
    sa.Column("forecast", sa.Float),
    sa.Column("lower_80", sa.Float),
    sa.Column("upper_80", sa.Float),
    sa.Column("lower_95", sa.Float),
    sa.Column("upper_95", sa.Float),
    sa.PrimaryKeyConstraint("tenant_id", "as_of", "event_id"),
    sa.CheckConstraint("forecast <= capacity", name="within_capacity"),
    schema="analytics",
)

# each tenant's daily net revenue (all venues) projected past the run's date, and its totals
revenue_projections = sa.Table(
    "revenue_projections",
    metadata,
    _tenant(),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    *_bounds(),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("aicc", sa.Float, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "as_of", "date"),
    *_daily_forecast_checks(),
    schema="analytics",
)

revenue_projection_totals = sa.Table(
    "revenue_projection_totals",
    metadata,
    _tenant(),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("days", sa.Integer, nullable=False),
    *_bounds(),
    sa.PrimaryKeyConstraint("tenant_id", "as_of", "days"),
    sa.CheckConstraint("days > 0", name="days_positive"),
    schema="analytics",
)

# pricing: every upcoming event's demand score, elasticity and recommendation of a run
event_pricing = sa.Table(
    "event_pricing",
    metadata,
    _tenant(),
    sa.Column("as_of", sa.Date, nullable=False),
    _uuid("event_id"),
    sa.Column("current_price_cents", sa.BigInteger, nullable=False),
    sa.Column("demand_score", sa.Float, nullable=False),
    *(
        sa.Column(f"c_{name}", sa.Float)
        for name in ("sell_through", "velocity", "pace", "scarcity", "urgency")
    ),
    sa.Column("forecast", sa.Float),
    sa.Column("elasticity", sa.Float),
    sa.Column("elasticity_se", sa.Float),
    sa.Column("elasticity_scope", sa.Text),
    sa.Column("recommended_price_cents", sa.BigInteger),
    sa.Column("expected_tickets_current", sa.Float),
    sa.Column("expected_tickets_recommended", sa.Float),
    sa.Column("expected_revenue_current", sa.Float),
    sa.Column("expected_revenue_recommended", sa.Float),
    sa.Column("reason", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "as_of", "event_id"),
    sa.CheckConstraint("demand_score between 0 and 100", name="score_in_range"),
    schema="analytics",
)

# price elasticity estimates of a run, per category and per venue and category
price_elasticities = sa.Table(
    "price_elasticities",
    metadata,
    _tenant(),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("venue_key", sa.Text, nullable=False),  # the venue id, or "" for a category
    sa.Column("n_obs", sa.Integer, nullable=False),
    sa.Column("n_events", sa.Integer, nullable=False),
    sa.Column("elasticity", sa.Float),
    sa.Column("std_error", sa.Float),
    sa.Column("ci_low", sa.Float),
    sa.Column("ci_high", sa.Float),
    sa.Column("identified", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text),
    sa.PrimaryKeyConstraint("tenant_id", "as_of", "scope", "category", "venue_key"),
    schema="analytics",
)

RECOMMENDATION_STATUSES = ("pending", "approved", "rejected", "expired")

# the recommendations a person decides on: kept across runs, not replaced
price_recommendations = sa.Table(
    "price_recommendations",
    metadata,
    _tenant(),
    _uuid("recommendation_id"),
    sa.Column("as_of", sa.Date, nullable=False),
    _uuid("event_id"),
    sa.Column("current_price_cents", sa.BigInteger, nullable=False),
    sa.Column("recommended_price_cents", sa.BigInteger, nullable=False),
    sa.Column("demand_score", sa.Float, nullable=False),
    sa.Column("expected_tickets_current", sa.Float, nullable=False),
    sa.Column("expected_tickets_recommended", sa.Float, nullable=False),
    sa.Column("expected_revenue_current", sa.Float, nullable=False),
    sa.Column("expected_revenue_recommended", sa.Float, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="pending"),
    sa.Column("valid_until", sa.Date, nullable=False),
    _ts("created_at"),
    sa.Column("decided_by", sa.Text),
    _ts("decided_at", nullable=True),
    sa.Column("note", sa.Text),
    sa.PrimaryKeyConstraint("tenant_id", "recommendation_id"),
    sa.CheckConstraint(_in("status", RECOMMENDATION_STATUSES), name="status_known"),
    sa.CheckConstraint(
        "(status = 'pending') = (decided_at is null and decided_by is null)",
        name="decided_iff_not_pending",
    ),
    sa.Index(
        "uq_price_recommendations_one_pending_per_event",
        "tenant_id",
        "event_id",
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    ),
    schema="analytics",
)

# every approved change, written by analytics.decide() only (migration 0010); what the platform
# is to apply is analytics.approved_prices, derived from the approved recommendations
price_history = sa.Table(
    "price_history",
    metadata,
    _tenant(),
    _uuid("change_id"),
    _uuid("event_id"),
    _uuid("recommendation_id"),
    sa.Column("old_price_cents", sa.BigInteger, nullable=False),
    sa.Column("new_price_cents", sa.BigInteger, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("approved_by", sa.Text, nullable=False),
    _ts("approved_at"),
    sa.PrimaryKeyConstraint("tenant_id", "change_id"),
    sa.UniqueConstraint("tenant_id", "recommendation_id"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "recommendation_id"],
        [
            "analytics.price_recommendations.tenant_id",
            "analytics.price_recommendations.recommendation_id",
        ],
    ),
    sa.CheckConstraint("new_price_cents > 0", name="price_positive"),
    schema="analytics",
    info={"freshness": "approved_at"},
)

# running → succeeded | skipped | failed, or abandoned when its process died holding the lock;
# a trigger refuses any change once a run is no longer running (migration 0010)
RUN_STATUSES = ("running", "succeeded", "failed", "skipped", "abandoned")

pipeline_runs = sa.Table(
    "pipeline_runs",
    metadata,
    _uuid("run_id", primary_key=True),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("tenants", sa.Text, nullable=False),
    sa.Column("trigger", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    _ts("started_at"),
    _ts("finished_at", nullable=True),
    sa.Column("error", sa.Text),
    sa.Column("report_path", sa.Text),
    sa.Column("backend_pid", sa.Integer),  # the lock connection's server process
    sa.CheckConstraint(_in("status", RUN_STATUSES), name="status_known"),
    sa.Index(None, "as_of", "started_at"),
    schema="analytics",
    info={"freshness": "started_at"},
)


# one row, locked (select … for update) by the run in progress: only the pipeline role may
run_lock = sa.Table(
    "run_lock",
    metadata,
    sa.Column("singleton", sa.Boolean, primary_key=True, server_default=sa.true()),
    sa.CheckConstraint("singleton", name="one_row"),
    schema="analytics",
)


# what the ticketing platform owns, in load order (the rest of `source` is boxoffice's own)
PLATFORM_TABLES = (tenants, venues, events, customers, orders, tickets, campaign_touches)


# alerts (migration 0016): each rule and scope's state, and every change of state; kept across
# runs (the events carry the date evaluated, but are not a run's partition)
ALERT_STATES = "('ok', 'pending', 'firing', 'resolved')"


def _measured() -> list[sa.Column]:
    return [sa.Column(name, sa.Float) for name in ("value", "lower", "upper")]


alert_states = sa.Table(
    "alert_states",
    metadata,
    _tenant(),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("scope_key", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("since", sa.Date, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("evaluated", sa.Date, nullable=False),
    *_measured(),
    _ts("notified_at", nullable=True),  # the last notification queued for it (migration 0017)
    sa.Column("acknowledged_by", sa.Text),  # while firing, through analytics.acknowledge_alert
    _ts("acknowledged_at", nullable=True),
    sa.CheckConstraint(f"state in {ALERT_STATES}", name="state_known"),
    sa.CheckConstraint("count >= 0", name="count_non_negative"),
    sa.PrimaryKeyConstraint("tenant_id", "rule", "scope_key"),
    schema="analytics",
)

alert_events = sa.Table(
    "alert_events",
    metadata,
    _tenant(),
    sa.Column("event_id", sa.BigInteger, sa.Identity(), nullable=False),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("scope_key", sa.Text, nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("from_state", sa.Text, nullable=False),
    sa.Column("to_state", sa.Text, nullable=False),
    *_measured(),
    sa.Column("explanation", sa.Text, nullable=False),
    sa.Column(
        "recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    ),
    sa.CheckConstraint(
        f"from_state in {ALERT_STATES} and to_state in {ALERT_STATES} and from_state <> to_state",
        name="a_change",
    ),
    sa.PrimaryKeyConstraint("tenant_id", "event_id"),
    sa.Index(None, "tenant_id", "as_of"),
    schema="analytics",
)

# notifications (migration 0017): the queue and log of every message an alert sends, one row
# per channel and recipient (a webhook's recipient is its channel: the URL is a secret), and
# every delivery attempt; silences keep a rule (and scope) from notifying until a time
# (0018: and the report packs of subscriptions, or the notice that one is delayed)
NOTIFICATION_EVENTS = ("firing", "resolved", "renotify", "test", "pack", "delayed")
NOTIFICATION_STATUSES = ("queued", "sent")

notifications = sa.Table(
    "notifications",
    metadata,
    _tenant(),
    sa.Column("notification_id", sa.BigInteger, sa.Identity(), nullable=False),
    sa.Column("key", sa.Text, nullable=False),  # what makes it once: rule, date, event
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("evaluated", sa.Date),
    sa.Column("scope_keys", sa.ARRAY(sa.Text), nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("recipient", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="queued"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    _ts("created_at"),
    _ts("next_attempt_at"),
    _ts("sent_at", nullable=True),
    sa.CheckConstraint(_in("event", NOTIFICATION_EVENTS), name="event_known"),
    sa.CheckConstraint(_in("status", NOTIFICATION_STATUSES), name="status_known"),
    sa.PrimaryKeyConstraint("tenant_id", "notification_id"),
    sa.UniqueConstraint("tenant_id", "key", "channel", "recipient"),
    sa.Index(None, "tenant_id", "status", "next_attempt_at"),
    schema="analytics",
)

notification_attempts = sa.Table(
    "notification_attempts",
    metadata,
    _tenant(),
    sa.Column("notification_id", sa.BigInteger, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    _ts("attempted_at"),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("error", sa.Text),  # none: delivered
    sa.PrimaryKeyConstraint("tenant_id", "notification_id", "attempt"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "notification_id"],
        ["analytics.notifications.tenant_id", "analytics.notifications.notification_id"],
    ),
    schema="analytics",
)

alert_silences = sa.Table(
    "alert_silences",
    metadata,
    _tenant(),
    sa.Column("silence_id", sa.BigInteger, sa.Identity(), nullable=False),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("scope_key", sa.Text),  # none: every scope of the rule
    _ts("until"),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    _ts("created_at"),
    sa.PrimaryKeyConstraint("tenant_id", "silence_id"),
    schema="analytics",
)

# the analytics tables a run writes, one (tenant, as_of) partition each; price recommendations
# and the run history also carry as_of but are kept across runs
PER_RUN = [
    t
    for t in metadata.sorted_tables
    if t.schema == "analytics"
    and "as_of" in t.c
    and t not in (price_recommendations, pipeline_runs, alert_events)
]


def tenant_tables() -> list[sa.Table]:
    """Every table that carries ``tenant_id`` — each must have RLS enabled and forced."""
    return [t for t in metadata.sorted_tables if "tenant_id" in t.c]
