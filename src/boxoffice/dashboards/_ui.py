"""Small widgets shared by the dashboards."""

from __future__ import annotations

import datetime as dt
import html
from abc import ABC, abstractmethod

import ipywidgets as w
import plotly.io as pio
import polars as pl
from IPython.display import clear_output, display

from boxoffice.formats import number


def message(text: str, *, error: bool = False) -> w.HTML:
    """One line of text for the viewer (red when something is wrong)."""
    color = "#b00020" if error else "#444"
    return w.HTML(f"<p class='bx-message' style='color:{color}'>{html.escape(text)}</p>")


def show(out: w.Output, *items) -> None:
    """Replace what ``out`` shows with ``items`` (widgets, figures, frames)."""
    with out:
        clear_output(wait=True)
        for item in items:
            display(item)


def table(frame: pl.DataFrame, *, css_class: str = "bx-table") -> w.HTML:
    """A plain HTML table of every row, numbers with thousands separators."""

    def cell(value) -> str:
        if value is None or isinstance(value, int | float):
            return number(value)
        return html.escape(str(value))

    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in frame.iter_rows()
    )
    style = (
        f"<style>.{css_class} td,.{css_class} th{{padding:2px 10px;text-align:right;"
        f"font-family:monospace;white-space:nowrap}}.{css_class} td:first-child,"
        f".{css_class} th:first-child{{text-align:left}}</style>"
    )
    return w.HTML(f"{style}<table class='{css_class}'><tr>{head}</tr>{body}</table>")


def newest_run(tenant: str | None, role) -> tuple[dt.date | None, w.Widget | None]:
    """The date of ``tenant``'s newest pipeline run, or the message a page shows instead (no
    tenant configured, no run yet, the warehouse unreachable)."""
    from boxoffice import warehouse

    if not tenant:
        return None, message("Set BOXOFFICE_TENANT to the tenant this dashboard shows.", error=True)
    try:
        as_of = warehouse.latest_as_of(tenant=tenant, role=role)
    except (warehouse.WarehouseError, ValueError) as exc:
        return None, message(f"Cannot read the warehouse: {exc}", error=True)
    if as_of is None:
        return None, message(
            "No pipeline run yet for this tenant: run `boxoffice run`.", error=True
        )
    return as_of, None


class TenantPage(ABC):
    """A dashboard of one tenant (default ``BOXOFFICE_TENANT``) read as ``role``, from its
    newest pipeline run (``as_of``; ``read`` holds the keyword arguments of the warehouse
    reads): subclasses build their widgets in ``_build()``; show ``page.layout``, which is a
    message instead when there is no run or the warehouse cannot be read."""

    def __init__(self, tenant: str | None = None, *, role: str = "reader"):
        from boxoffice import config

        pio.renderers.default = "plotly_mimetype"
        self.tenant = tenant or config.settings().tenant
        self.role = role
        self.as_of, problem = newest_run(self.tenant, role)
        self.read = {"as_of": self.as_of, "tenant": self.tenant, "role": role}
        self.layout: w.Widget = problem or self._build()

    @abstractmethod
    def _build(self) -> w.Widget:
        """The page's widgets, built from the warehouse reads of ``self.read``."""
