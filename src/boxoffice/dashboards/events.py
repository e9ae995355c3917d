"""The events dashboard: every event's performance (filter, sort, download), sell-through
against days to go, the conversion funnel, cohort retention and campaign attribution.

Reads only ``analytics`` partitions of the newest run, as the reader role scoped to the tenant
(``BOXOFFICE_TENANT``); numbers come from :mod:`boxoffice.metrics`, figures from
:mod:`boxoffice.reports.charts`.
"""

from __future__ import annotations

import datetime as dt

import ipywidgets as w
import polars as pl

from boxoffice import metrics, warehouse
from boxoffice.dashboards._ui import TenantPage, message, show, table
from boxoffice.reports import charts, export

LIST_ROWS = 50
SORTS = [
    ("Days to the event", "days_to_event"),
    ("Sell-through", "sell_through"),
    ("Sales velocity (7 days)", "velocity"),
    ("Tickets sold", "sold"),
    ("Net revenue", "net_cents"),
    ("Revenue per seat", "revpas"),
    ("Utilization", "utilization"),
    ("Start", "start_date"),
    ("Name", "name"),
]
FUNNEL_DAYS = [("7 days", 7), ("30 days", 30), ("90 days", 90)]


def _listing(selected: pl.DataFrame, venues: pl.DataFrame) -> pl.DataFrame:
    """The selected events as a viewer reads them: names, money in currency units, shares in
    per cent."""
    return selected.join(
        venues.select("venue_id", pl.col("name").alias("venue")), on="venue_id", how="left"
    ).select(
        pl.col("name").alias("event"),
        "category",
        "venue",
        pl.col("start_date").alias("start"),
        pl.col("days_to_event").alias("days_to_go"),
        "capacity",
        "sold",
        (pl.col("sell_through") * 100).round(1).alias("sell_through_pct"),
        pl.col("velocity").round(2).alias("tickets_per_day"),
        (pl.col("utilization") * 100).round(1).alias("utilization_pct"),
        (pl.col("net_cents") / 100).round(2).alias("net_revenue"),
        (pl.col("revpas") / 100).round(2).alias("revenue_per_seat"),
    )


class Events(TenantPage):
    """Build with a tenant (default ``BOXOFFICE_TENANT``), then ``display(page.layout)``."""

    def _build(self) -> w.Widget:
        try:
            self.venues = warehouse.read_venues(**self.read)
            events = warehouse.read_events(**self.read)
            self.performance = metrics.events.event_performance(
                warehouse.read_event_sales(**self.read), events, self.as_of
            )
            self.funnel = warehouse.read_funnel(**self.read)
            days = warehouse.read_customer_days(**self.read)
            attributed = warehouse.read_attribution(**self.read)
        except (warehouse.WarehouseError, ValueError) as exc:
            return message(f"Cannot read the warehouse: {exc}", error=True)

        self.when = w.ToggleButtons(
            options=[("Upcoming", "upcoming"), ("Past", "past"), ("All", "all")],
            description="Events",
            style={"button_width": "80px"},
        )
        self.venue = w.Dropdown(
            description="Venue",
            options=[("All venues", ""), *self.venues.select("name", "venue_id").rows()],
        )
        self.category = w.Dropdown(
            description="Category",
            options=[("All", ""), *((c, c) for c in sorted(set(self.performance["category"])))],
        )
        self.search = w.Text(description="Name", placeholder="contains…", continuous_update=False)
        self.sort = w.Dropdown(description="Sort by", options=SORTS)
        self.descending = w.Checkbox(description="largest first", value=False, indent=False)
        self.count = w.HTML()
        self.downloads = w.HTML()
        self.pace = w.Output()
        self.listing = w.Output()
        controls = [self.when, self.venue, self.category, self.search, self.sort, self.descending]
        for control in controls:
            control.observe(lambda _change: self.refresh(), names="value")

        self.funnel_channel = w.Dropdown(
            description="Channel",
            options=[("All channels", ""), *((c, c) for c in sorted(set(self.funnel["channel"])))],
        )
        self.funnel_days = w.ToggleButtons(
            options=FUNNEL_DAYS, value=30, description="Last", style={"button_width": "70px"}
        )
        self.funnel_out = w.Output()
        for control in (self.funnel_channel, self.funnel_days):
            control.observe(lambda _change: self.refresh_funnel(), names="value")

        cohorts = w.Output()
        retention = metrics.cohorts.cohort_retention(days, self.as_of)
        if retention.filter(pl.col("months_since") > 0).is_empty():
            show(cohorts, message("Cohort retention appears after a second month of sales."))
        else:
            show(cohorts, charts.cohort_heatmap(retention))
        attribution = w.Output()
        if attributed.is_empty():
            show(attribution, message("No attribution for this run."))
        else:
            show(attribution, charts.attribution(attributed))

        self.refresh()
        self.refresh_funnel()
        name = self.venues["tenant_name"][0] if self.venues.height else self.tenant
        header = w.HTML(
            f"<h2 style='margin:0'>Events</h2><p class='bx-as-of' style='margin:0;color:#666'>"
            f"{name}: data as of {self.as_of}</p>"
        )
        wrap = w.Layout(flex_flow="row wrap", gap="8px")
        return w.VBox(
            [
                header,
                w.HBox(controls[:4], layout=wrap),
                w.HBox(controls[4:], layout=wrap),
                self.pace,
                w.HBox([self.count, self.downloads], layout=w.Layout(gap="16px")),
                self.listing,
                w.HTML("<h3>Conversion funnel</h3>"),
                w.HBox([self.funnel_days, self.funnel_channel], layout=wrap),
                self.funnel_out,
                cohorts,
                attribution,
            ]
        )

    def refresh(self) -> None:
        """Filter and sort the events; rebuild the chart, the table and the downloads."""
        selected = metrics.events.select_events(
            self.performance,
            when=self.when.value,
            venue_id=self.venue.value or None,
            category=self.category.value or None,
            search=self.search.value,
            sort_by=self.sort.value,
            descending=self.descending.value,
        )
        listed = _listing(selected, self.venues)
        self.downloads.value = " · ".join(
            [
                export.download_link(
                    export.csv_bytes(listed), "events.csv", mime="text/csv", label="CSV"
                ),
                export.download_link(
                    export.xlsx_bytes(listed, sheet="events"),
                    "events.xlsx",
                    mime=export.XLSX_MIME,
                    label="XLSX",
                ),
            ]
        )
        if selected.is_empty():
            show(self.pace, message("No event matches these filters."))
        else:
            show(self.pace, charts.event_pace(selected))
        more = f" (the first {LIST_ROWS} shown)" if listed.height > LIST_ROWS else ""
        show(self.listing, table(listed.head(LIST_ROWS), css_class="bx-events"), w.HTML(more))
        # the count goes last: it tells a reader (and the browser test) that the chart, the
        # table and the downloads already hold this selection
        self.count.value = f"<b class='bx-count'>{listed.height:,}</b> events{more}"

    def refresh_funnel(self) -> None:
        """The funnel of the sessions of the chosen last days and channel."""
        start = self.as_of - dt.timedelta(days=self.funnel_days.value - 1)
        steps = metrics.funnel.funnel_steps(
            self.funnel, start, self.as_of, channel=self.funnel_channel.value or None
        )
        if steps["sessions"][0] == 0:
            show(self.funnel_out, message("No sessions in this period."))
            return
        shown = steps.with_columns(
            (pl.col("step_conversion", "overall_conversion", "drop_off") * 100).round(1)
        ).rename(
            {
                "step_conversion": "of_step_before_pct",
                "overall_conversion": "of_sessions_pct",
                "drop_off": "drop_off_pct",
            }
        )
        title = f"Sessions of the {self.funnel_days.value} days to {self.as_of}"
        show(self.funnel_out, charts.funnel(steps, title=title), table(shown))
