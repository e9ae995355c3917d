# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Pricing
# Price elasticity per category and per venue (log-log, within events) →
# `analytics.price_elasticities`; for every upcoming event its current price, demand score
# (five components) and — only with confidence — the price that maximizes expected revenue
# within the floor, cap and step → `analytics.event_pricing`; the recommendations published as
# `pending` for a person to approve or reject (`boxoffice pricing`, the pricing dashboard) in
# `analytics.price_recommendations`, superseding the pending ones of earlier runs.

# %% tags=["parameters"]
upstream = None
product = None
as_of = None
tenants = None
floor = 0.70  # × base price
cap = 1.50  # × base price
max_step = 0.15  # largest change per recommendation
valid_days = 7  # a recommendation not decided in this many days expires

# %%
import polars as pl
from IPython.display import Markdown, display

from boxoffice import metrics, pricing, warehouse
from boxoffice.pipeline import context
from boxoffice.reports import charts
from boxoffice.warehouse import pricing as published
from boxoffice.warehouse import schema

charts.use_notebook_renderer()
run = context.parse(as_of=as_of, tenants=tenants)
rules = pricing.PriceRules(floor=float(floor), cap=float(cap), max_step=float(max_step))

# %%
results = {}
for tenant in run.tenants:
    read = {"as_of": run.as_of, "tenant": tenant}
    events = warehouse.read_events(**read)
    observations = pricing.elasticity.price_observations(
        warehouse.read_ticket_type_sales(**read), events
    )
    estimates = pricing.elasticity.estimate_elasticities(observations)
    priced = pricing.price_events(
        metrics.events.event_performance(warehouse.read_event_sales(**read), events, run.as_of),
        warehouse.read_event_forecasts(**read),
        pricing.event_elasticities(events, estimates),
        pricing.current_prices(
            observations, events, published.read_approved_prices(tenant=tenant, role="pipeline")
        ),
        rules=rules,
    )
    results[tenant] = (estimates, priced, events)

with warehouse.partition_writer(as_of=run.as_of) as writer:
    for tenant, (estimates, priced, _) in results.items():
        writer.write(
            schema.price_elasticities,
            tenant,
            estimates.with_columns(pl.col("venue_id").fill_null("").alias("venue_key")),
        )
        writer.write(schema.event_pricing, tenant, priced)
counts = {
    tenant: published.publish_recommendations(
        priced.drop_nulls("recommended_price_cents"),
        tenant=tenant,
        as_of=run.as_of,
        valid_days=int(valid_days),
        started=events.filter(pl.col("start_date") <= run.as_of)["event_id"].to_list(),
    )
    for tenant, (_, priced, events) in results.items()
}
counts

# %%
for tenant, (estimates, priced, events) in results.items():
    display(Markdown(f"## Tenant `{tenant}`"))
    display(charts.elasticities(estimates))
    display(charts.demand_scores(priced, events))
    display(
        priced.drop_nulls("recommended_price_cents")
        .join(events.select("event_id", "name", "start_date"), on="event_id")
        .select("name", "start_date", "current_price_cents", "recommended_price_cents",
                "demand_score", "reason")
        .sort("start_date")
    )  # fmt: skip
