"""A tenant's workbook of a run (``report.xlsx``): the report's tables as sheets a person can
sort and filter. First the run's parameters, then the key figures with their change against
the period before, daily sales by venue and channel, every event that sold in the period, the
channel and category mix (tickets sold per channel; tickets net of refunds per event and
category, as on the report page), the customer segments, the customers at high churn risk, the
period's price recommendations and the approved price changes. Money is in currency units
(cents ÷ 100) with the tenant's currency in its number format; every sheet has a frozen header
row, an autofilter and columns fitted to their contents. The numbers are the report task's
frames (:mod:`boxoffice.tasks.report`), so they are the report page's and the PDF's.

Customers appear by ``customer_key`` only: the keyed hash of the platform's customer id
(``docs/reports.md`` says how a platform, which holds the same key, maps them back)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import xlsxwriter

import boxoffice

COUNT = "#,##0"
PERCENT = "0.0%"
DATE = "yyyy-mm-dd"
MONEY_WIDTH = 110  # pixels: "USD 1,234,567.50"


def money(currency: str) -> str:
    """The number format of an amount in ``currency`` (an ISO 4217 code): ``USD 1,234.50``."""
    return f'"{currency}" #,##0.00'


@dataclass(frozen=True)
class Sheet:
    name: str  # at most 31 characters (Excel's limit)
    frame: pl.DataFrame
    formats: Mapping[str, str] = field(default_factory=dict)  # column → number format


def report_sheets(frames: Mapping[str, object]) -> list[Sheet]:
    """The sheets of one tenant's workbook from the ``report`` task's frames (the period ends
    on the run's date)."""
    start, end = frames["period"]
    venues = frames["venues"]
    name = venues["tenant_name"][0] if venues.height else ""
    own = frames["settings"]
    currency = own.currency
    cash = money(currency)
    parameters = pl.DataFrame(
        {
            "parameter": ["tenant", "tenant id", "as of", "period start", "period end",
                          "currency", "reporting time zone", "boxoffice version"],
            "value": [name, frames["tenant"], str(frames["as_of"]), str(start), str(end),
                      currency, own.timezone, boxoffice.__version__],
        }
    )  # fmt: skip
    kpis = frames["kpis"]
    in_money = pl.col("metric").is_in(["revenue", "average_order_value"])
    units = pl.when(in_money).then(pl.lit(currency)).otherwise(pl.col("metric")).alias("unit")
    key_figures = kpis.select(
        pl.col("metric").str.replace_all("_", " "),
        units,
        *(
            pl.when(in_money).then(pl.col(c) / 100).otherwise(pl.col(c)).alias(c)
            for c in ("value", "previous")
        ),
        "change",
    )
    names = venues.select("venue_id", pl.col("name").alias("venue"))
    sales = frames["sales"].filter(pl.col("local_date").is_between(start, end))
    daily = (
        sales.join(names, on="venue_id", how="left")
        .select(
            pl.col("local_date").alias("date"),
            "venue",
            "channel",
            "orders",
            pl.col("tickets_sold").alias("tickets sold"),
            pl.col("refunded_tickets").alias("tickets refunded"),
            *((pl.col(f"{c}_cents") / 100).alias(c) for c in ("gross", "refund", "net")),
        )
        .sort("date", "venue", "channel")
    )
    events = (
        frames["events"]
        .join(names, on="venue_id", how="left")
        .select(
            pl.col("name").alias("event"),
            "category",
            "venue",
            pl.col("tickets").alias("tickets (net)"),
            (pl.col("net_cents") / 100).alias("net revenue"),
            pl.col("sell_through").alias("sell-through"),
        )
        .sort("net revenue", descending=True)
    )

    def mix(frame: pl.DataFrame, key: str, tickets: str, header: str) -> pl.DataFrame:
        return frame.select(
            key,
            pl.col(tickets).alias(header),
            (pl.col("net_cents") / 100).alias("net revenue"),
            "share",
        ).sort("net revenue", key, descending=[True, False])

    segments = frames["segments"].select(
        "segment",
        "customers",
        (pl.col("revenue") / 100).alias("revenue"),
        "purchases",
        (pl.col("average_order_value") / 100).alias("average order"),
        pl.col("share_of_customers").alias("share of customers"),
        pl.col("share_of_revenue").alias("share of revenue"),
    )
    at_risk = frames["at_risk"].select(
        "customer_key",
        "segment",
        pl.col("churn_risk").alias("churn risk"),
        pl.col("p_alive").alias("P(alive)"),
        pl.col("days_since_last").alias("days since last purchase"),
        pl.col("frequency").alias("repeat purchases"),
        (pl.col("clv_12m") / 100).alias("value, next 12 months"),
    )
    recommended = frames["recommendations"].select(
        pl.col("as_of").alias("run"),
        pl.col("event").fill_null(pl.col("event_id")).alias("event"),
        "status",
        (pl.col("current_price_cents") / 100).alias("price then"),
        (pl.col("recommended_price_cents") / 100).alias("recommended"),
        pl.col("demand_score").alias("demand score"),
        (pl.col("expected_revenue_current") / 100).alias("expected revenue then"),
        (pl.col("expected_revenue_recommended") / 100).alias("expected if changed"),
        pl.col("valid_until").alias("valid until"),
        pl.col("decided_by").alias("decided by"),
        "reason",
    )
    event_names = frames["events"].select("event_id", pl.col("name").alias("event"))
    history = (
        frames["price_history"]
        .join(event_names, on="event_id", how="left")
        .select(
            pl.col("approved_at").dt.convert_time_zone(own.timezone).dt.replace_time_zone(None)
            .alias(f"approved ({own.timezone})"),
            pl.col("event").fill_null(pl.col("event_id")).alias("event"),
            (pl.col("old_price_cents") / 100).alias("old price"),
            (pl.col("new_price_cents") / 100).alias("new price"),
            pl.col("approved_by").alias("approved by"),
            "reason",
        )
    )  # fmt: skip
    return [
        Sheet("Run", parameters),
        Sheet("Key figures", key_figures,
              {"value": "#,##0.00", "previous": "#,##0.00", "change": PERCENT}),
        Sheet("Daily sales", daily,
              {"date": DATE, "orders": COUNT, "tickets sold": COUNT, "tickets refunded": COUNT,
               "gross": cash, "refund": cash, "net": cash}),
        Sheet("Events", events,
              {"tickets (net)": COUNT, "net revenue": cash, "sell-through": PERCENT}),
        Sheet("Channels", mix(frames["channel_mix"], "channel", "tickets_sold", "tickets sold"),
              {"tickets sold": COUNT, "net revenue": cash, "share": PERCENT}),
        Sheet("Categories", mix(frames["category_mix"], "category", "tickets", "tickets (net)"),
              {"tickets (net)": COUNT, "net revenue": cash, "share": PERCENT}),
        Sheet("Segments", segments,
              {"customers": COUNT, "revenue": cash, "purchases": COUNT, "average order": cash,
               "share of customers": PERCENT, "share of revenue": PERCENT}),
        Sheet("At-risk customers", at_risk,
              {"P(alive)": "0.000", "days since last purchase": COUNT, "repeat purchases": COUNT,
               "value, next 12 months": cash}),
        Sheet("Price recommendations", recommended,
              {"run": DATE, "price then": cash, "recommended": cash, "demand score": "0.00",
               "expected revenue then": cash, "expected if changed": cash, "valid until": DATE}),
        Sheet("Price history", history,
              {f"approved ({own.timezone})": "yyyy-mm-dd hh:mm", "old price": cash,
               "new price": cash}),
    ]  # fmt: skip


def write_workbook(path: Path, sheets: Sequence[Sheet]) -> Path:
    """Write ``sheets`` as one workbook at ``path``, atomically (a reader never sees half a
    file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.tmp")
    try:
        with xlsxwriter.Workbook(partial) as book:
            for sheet in sheets:
                sheet.frame.write_excel(
                    workbook=book,
                    worksheet=sheet.name[:31],
                    column_formats=dict(sheet.formats),
                    autofit=True,
                    column_widths={  # autofit measures the bare number, not "USD 1,234.50"
                        c: MONEY_WIDTH for c, f in sheet.formats.items() if f.startswith('"')
                    },
                    autofilter=True,
                    freeze_panes=(1, 0),
                    header_format={"bold": True},
                    table_style=None,
                )
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path
