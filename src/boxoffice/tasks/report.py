"""``report``: each tenant's sales report for the 30 days to ``as_of`` — KPIs, the weekly
revenue trend, channel and category mix, the top and bottom events, cohort retention, the
conversion funnel, campaign attribution and the revenue projection (stored by the
demand-forecast task) — computed here, drawn by
:func:`boxoffice.reports.pages.sales_report` and written to the tenant's own folder."""

from __future__ import annotations

from dataclasses import dataclass

from boxoffice import forecast, metrics, warehouse
from boxoffice.tasks.base import Scope, Task
from boxoffice.warehouse import reads


@dataclass(frozen=True)
class Params:
    days: int = 30  # the report's period: the days ending as_of
    top: int = 5  # events in the top and bottom tables
    currency: str = "USD"  # ISO 4217 code of the tenants' money, shown in the workbook
    paper: str = "A4"  # report.pdf's paper: A4 or Letter

    def __post_init__(self) -> None:
        if self.days < 1 or self.top < 1:
            raise ValueError(f"need days and top ≥ 1, got {self.days} and {self.top}")
        if not (len(self.currency) == 3 and self.currency.isascii() and self.currency.isupper()):
            raise ValueError(f"currency: a three-letter ISO 4217 code, got {self.currency!r}")
        if self.paper not in ("A4", "Letter"):
            raise ValueError(f"paper: A4 or Letter, got {self.paper!r}")


def per_tenant(scope: Scope, params: Params) -> dict:
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
    return {
        "venues": scope.read(reads.read_venues),
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
    }


def tenant_names(run, params: Params):
    """Every tenant's id and name: the tenants' report folders are named from them."""
    return warehouse.list_tenants()


TASK = Task(
    name="report",
    params=Params,
    reads=(
        "analytics.sales_daily",
        "analytics.customer_days",
        "analytics.event_sales_daily",
        "analytics.events",
        "analytics.venues",
        "analytics.funnel_daily",
        "analytics.attribution",
        "analytics.revenue_projections",
        "analytics.revenue_projection_totals",
    ),
    per_tenant=per_tenant,
    prepare=tenant_names,
)
