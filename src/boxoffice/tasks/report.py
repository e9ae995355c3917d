"""``report``: each tenant's sales report for the 30 days to ``as_of`` — KPIs, the weekly
revenue trend, channel and category mix, the top and bottom events, cohort retention, the
conversion funnel, campaign attribution and the revenue projection (stored by the
demand-forecast task), its customer segments and those at risk, its price recommendations
waiting for a decision and its firing alerts — computed here, drawn by
:mod:`boxoffice.reports.pages` and written to the tenant's own folder with the tenant's
currency, time zone and paper of ``reports.yaml``. :func:`frames` computes one tenant's
outside a run (``boxoffice report``, a subscription's pack)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from boxoffice import config, customers, forecast, metrics, warehouse
from boxoffice.alerts import subscriptions
from boxoffice.tasks.base import REPORT_SETTINGS, Scope, Task
from boxoffice.warehouse import alerts as stored
from boxoffice.warehouse import pricing, reads


@dataclass(frozen=True)
class Params:
    days: int = 30  # the report's period: the days ending as_of
    top: int = 5  # events in the top and bottom tables
    settings: str = REPORT_SETTINGS  # tenants' currency, time zone, paper; relative to project

    def __post_init__(self) -> None:
        if self.days < 1 or self.top < 1:
            raise ValueError(f"need days and top ≥ 1, got {self.days} and {self.top}")


def settings_file(params: Params) -> Path:
    path = Path(params.settings)
    return path if path.is_absolute() else config.project_root() / path


def per_tenant(scope: Scope, params: Params) -> dict:
    venues = scope.read(reads.read_venues)
    name = venues["tenant_name"][0] if venues.height else ""
    own = subscriptions.read_settings(settings_file(params)).for_tenant(scope.tenant, name)
    sales = scope.read(reads.read_sales_daily)
    days = scope.read(reads.read_customer_days)
    event_sales = scope.read(reads.read_event_sales)
    events = scope.read(reads.read_events)
    period = metrics.sales.trailing_period(scope.as_of, days=params.days)
    ranked = metrics.events.period_performance(event_sales, events, *period)
    projected = forecast.projection.from_rows(
        scope.read(reads.read_revenue_projection),
        scope.read(reads.read_revenue_projection_totals),
        metrics.sales.rollup(sales, "day"),
        date_col="period",
    )
    scored = scope.read(reads.read_customers)
    recommended = scope.read(pricing.read_recommendations, role="pipeline")
    return {
        "tenant": scope.tenant,
        "settings": own,
        "as_of": scope.as_of,
        "venues": venues,
        "period": period,
        "sales": sales,
        "events": ranked,
        "kpis": metrics.sales.kpis(sales, days, *period),
        "weekly": metrics.sales.growth(metrics.sales.rollup(sales, "week"), "week"),
        "channel_mix": metrics.sales.channel_mix(sales, *period),
        "category_mix": metrics.events.category_mix(event_sales, events, *period),
        "top": metrics.events.rank_events(ranked, n=params.top),
        "bottom": metrics.events.rank_events(ranked, n=params.top, bottom=True),
        "cohorts": metrics.cohorts.cohort_retention(days, scope.as_of),
        "funnel": metrics.funnel.funnel_steps(scope.read(reads.read_funnel), *period),
        "attribution": scope.read(reads.read_attribution),
        "projection": projected,
        "segments": scope.read(reads.read_customer_segments),
        "at_risk": customers.at_risk_list(scored.drop_nulls("churn_risk"), risks=("high",)),
        "customers": scored.height,
        "recommendations": recommended.filter(pl.col("as_of").is_between(*period)),
        "pending": recommended.filter(
            (pl.col("status") == "pending") & (pl.col("as_of") <= scope.as_of)
        ),
        "price_history": scope.read(pricing.read_price_history, role="pipeline").filter(
            pl.col("approved_at").dt.date() <= scope.as_of
        ),
        "alerts": firing(scope.read(stored.read_alert_states), venues, ranked),
    }


def firing(states: pl.DataFrame, venues: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """The alerts firing for the tenant, each scope named as people call it (its venue or
    event, or the tenant), longest firing first."""
    names = pl.concat(
        [
            venues.select(pl.col("venue_id").alias("scope_key"), pl.col("name").alias("label")),
            events.select(pl.col("event_id").alias("scope_key"), pl.col("name").alias("label")),
        ]
    ).unique("scope_key")
    return (
        states.filter(pl.col("state") == "firing")
        .join(names, on="scope_key", how="left")
        .select(
            "rule",
            pl.coalesce("label", "scope_key").alias("scope"),
            "since",
            "value",
            "acknowledged_by",
        )
        .sort("since", "rule", "scope")
    )


def frames(tenant: str, as_of: dt.date, params: Params | None = None) -> dict:
    """One tenant's report frames for ``as_of``, outside a run: what the task computes for it
    (the partitions read are the completed run's of that date)."""
    return per_tenant(Scope(TASK, as_of, tenant), params or Params())


def tenant_names(run, params: Params):
    """Every tenant's id and name: the tenants' report folders are named from them."""
    return warehouse.list_tenants()


TASK = Task(
    name="report",
    params=Params,
    reads=(
        REPORT_SETTINGS,
        "analytics.sales_daily",
        "analytics.customer_days",
        "analytics.event_sales_daily",
        "analytics.events",
        "analytics.venues",
        "analytics.funnel_daily",
        "analytics.attribution",
        "analytics.revenue_projections",
        "analytics.revenue_projection_totals",
        "analytics.customer_rfm",
        "analytics.customer_value",
        "analytics.customer_segments",
        "analytics.price_recommendations",
        "analytics.price_history",
        "analytics.alert_states",
    ),
    per_tenant=per_tenant,
    prepare=tenant_names,
)
