"""The tenant's firing alerts, for the overview page: what fires, since when, why, and a button
to acknowledge it (through ``analytics.acknowledge_alert``, as the reader role: who
acknowledged is recorded, and the alert is not re-notified while it keeps firing)."""

from __future__ import annotations

import datetime as dt
import html

import ipywidgets as w
import polars as pl

from boxoffice.dashboards._ui import message
from boxoffice.warehouse import alerts as stored


class FiringAlerts:
    """Build with the tenant, then show ``.layout``; ``refresh()`` reads again."""

    def __init__(self, tenant: str, *, since: dt.date) -> None:
        self.tenant, self.since = tenant, since
        self.who = w.Text(description="Your name", placeholder="recorded with each acknowledgement")
        self.said = w.HTML()
        self.rows = w.VBox()
        self.layout = w.VBox([w.HTML("<h3 style='margin:8px 0 0'>Alerts</h3>"), self.rows])
        self.refresh()

    def refresh(self) -> None:
        try:
            states = stored.read_alert_states(tenant=self.tenant, role="reader")
            why = stored.read_alert_events(tenant=self.tenant, since=self.since, role="reader")
        except ValueError as exc:  # a WarehouseError too
            self.rows.children = [message(f"Cannot read the alerts: {exc}", error=True)]
            return
        firing = states.filter(pl.col("state") == "firing").sort("since", descending=True)
        if firing.is_empty():
            self.rows.children = [message("No alert is firing.")]
            return
        latest = {
            (e["rule"], e["scope_key"]): e["explanation"]
            for e in why.filter(pl.col("to_state") == "firing").rows(named=True)[::-1]
        }
        self.rows.children = [
            self.who,
            self.said,
            *(
                self._row(r, latest.get((r["rule"], r["scope_key"]), ""))
                for r in firing.iter_rows(named=True)
            ),
        ]

    def _row(self, r: dict, explanation: str) -> w.Widget:
        text = (
            f"<b>{html.escape(r['rule'])}</b> · {html.escape(r['scope_key'])} · firing since"
            f" {r['since']}<br><span style='color:#555'>{html.escape(explanation)}</span>"
        )
        if r["acknowledged_by"]:
            done = f"acknowledged by {html.escape(r['acknowledged_by'])}"
            return w.HTML(f"<div class='bx-alert'>{text}<br><i>{done}</i></div>")
        button = w.Button(description="Acknowledge", button_style="warning")
        button.on_click(lambda _b: self.acknowledge(r["rule"], r["scope_key"]))
        return w.HBox([w.HTML(f"<div class='bx-alert'>{text}</div>"), button])

    def acknowledge(self, rule: str, scope_key: str) -> None:
        """Acknowledge by the name typed above; say what happened."""
        try:
            row = stored.acknowledge(
                tenant=self.tenant, rule=rule, scope_key=scope_key, by=self.who.value
            )
        except stored.Refused as exc:
            self.said.value = message(str(exc), error=True).value
            return
        self.said.value = message(f"{rule}: acknowledged by {row['acknowledged_by']}").value
        self.refresh()
