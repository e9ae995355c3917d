"""The customers dashboard: segments, their movement, lifetime value, and who is at risk.

Reads the newest ``analytics.customer_*`` partitions as the reader role scoped to the tenant
(``BOXOFFICE_TENANT``). Customers appear only as ``customer_key``. The at-risk list filters by
segment and churn risk and downloads as CSV or XLSX.
"""

from __future__ import annotations

import ipywidgets as w
import polars as pl

from boxoffice import customers, warehouse
from boxoffice.dashboards._ui import TenantPage, message, show, table
from boxoffice.reports import charts, export

LIST_ROWS = 25
RISK_OPTIONS = [("High", ("high",)), ("High + medium", ("high", "medium")), ("All", ())]


def _money_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """Cents → currency units for display and export."""
    money = [c for c in ("clv_12m", "revenue", "average_order_value") if c in frame.columns]
    return frame.with_columns((pl.col(c) / 100).round(2) for c in money)


class Customers(TenantPage):
    """Build with a tenant (default ``BOXOFFICE_TENANT``), then ``display(page.layout)``."""

    def _build(self) -> w.Widget:
        as_of, tenant, role = self.as_of, self.tenant, self.role
        try:
            self.customers = warehouse.read_customers(**self.read)
            segments = warehouse.read_customer_segments(**self.read)
            before = warehouse.previous_customer_run(as_of=as_of, tenant=tenant, role=role)
            previous = (
                warehouse.read_segments_of(as_of=before, tenant=tenant, role=role)
                if before
                else None
            )
        except (warehouse.WarehouseError, ValueError) as exc:
            return message(f"Cannot read the warehouse: {exc}", error=True)
        if self.customers.is_empty():
            return message(f"No customers in the run of {as_of}.")

        overview = w.Output()
        show(
            overview,
            charts.segment_treemap(segments),
            table(
                _money_columns(segments).with_columns(
                    (pl.col("share_of_customers", "share_of_revenue") * 100).round(1)
                )
            ),
        )
        movement = w.Output()
        if previous is None:
            show(movement, message("Segment movement appears after a second run."))
        else:
            moves = customers.segment_movement(previous, self.customers)
            show(movement, w.HTML(f"<h3>Since {before}</h3>"), charts.segment_movement(moves))
        value = w.Output()
        if self.customers["clv_12m"].null_count() < self.customers.height:
            show(value, charts.clv_distribution(self.customers.drop_nulls("clv_12m")))
        else:
            show(value, message("No lifetime values for this run."))

        present = [s for s in customers.SEGMENTS if s in set(self.customers["segment"])]
        self.segments = w.SelectMultiple(
            options=present, rows=min(6, len(present)), description="Segments"
        )
        self.risk = w.ToggleButtons(options=RISK_OPTIONS, description="Churn risk")
        self.count = w.HTML()
        self.downloads = w.HTML()
        self.table = w.Output()
        for control in (self.segments, self.risk):
            control.observe(lambda _change: self.refresh(), names="value")
        self.refresh()
        header = w.HTML(
            f"<h2 style='margin:0'>Customers</h2><p class='bx-as-of' style='margin:0;"
            f"color:#666'>Scores as of {as_of}: {self.customers.height:,} customers</p>"
        )
        return w.VBox(
            [
                header,
                overview,
                movement,
                value,
                w.HTML("<h3>Customers at risk, most valuable first</h3>"),
                w.HBox([self.segments, self.risk], layout=w.Layout(flex_flow="row wrap")),
                w.HBox([self.count, self.downloads], layout=w.Layout(gap="16px")),
                self.table,
            ]
        )

    def refresh(self) -> None:
        """Filter the at-risk list and rebuild its table and downloads."""
        listed = _money_columns(
            customers.at_risk_list(
                self.customers.drop_nulls("churn_risk"),
                segments=list(self.segments.value),
                risks=list(self.risk.value),
            )
        )
        self.downloads.value = " · ".join(
            [
                export.download_link(
                    export.csv_bytes(listed), "customers.csv", mime="text/csv", label="CSV"
                ),
                export.download_link(
                    export.xlsx_bytes(listed, sheet="customers"),
                    "customers.xlsx",
                    mime=export.XLSX_MIME,
                    label="XLSX",
                ),
            ]
        )
        show(self.table, table(listed.head(LIST_ROWS)))
        # The count goes last: it tells a reader (and the browser test) that the
        # downloads and the table already hold this filter's rows.
        self.count.value = f"<b class='bx-count'>{listed.height:,}</b> customers"
