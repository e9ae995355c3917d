"""A tenant's workbook, from hand-made report frames, read back with openpyxl: its sheets,
values in currency units, number formats, frozen headers and autofilters; customers by key
only; price history in the tenant's time zone."""

import datetime as dt

import openpyxl
import polars as pl
import pytest

import boxoffice
from boxoffice.alerts.subscriptions import TenantSettings
from boxoffice.reports.workbook import report_sheets, write_workbook

D = dt.date(2026, 10, 31)
START = D - dt.timedelta(days=1)
T = "11111111-1111-4111-8111-111111111111"
SALES_COLUMNS = ["local_date", "venue_id", "channel", "tickets_sold", "gross_cents",
                 "refunded_tickets", "refund_cents", "net_cents", "orders"]  # fmt: skip


def frames() -> dict:
    return {
        "tenant": T,
        "as_of": D,
        "settings": TenantSettings(currency="EUR", timezone="Europe/Paris"),
        "period": (START, D),
        "venues": pl.DataFrame(
            {"venue_id": ["v1", "v2"], "name": ["Hall", "Loft"],
             "tenant_name": ["Harbor Arts"] * 2}
        ),
        "kpis": pl.DataFrame(
            {"metric": ["revenue", "tickets", "customers", "average_order_value"],
             "value": [123450.0, 40.0, 12.0, 2500.0],
             "previous": [100000.0, 50.0, 10.0, None],
             "change": [0.2345, -0.2, 0.2, None]}
        ),
        "sales": pl.DataFrame(
            [(D - dt.timedelta(days=2), "v1", "web", 9, 900, 0, 0, 900, 9),  # before the period
             (D, "v2", "mobile", 3, 15000, 1, 5000, 10000, 2),
             (START, "v1", "web", 4, 8050, 0, 0, 8050, 1)],
            schema=SALES_COLUMNS, orient="row",
        ),
        "events": pl.DataFrame(
            {"event_id": ["e1", "e2"], "name": ["Gala", "Jazz"], "category": ["concert"] * 2,
             "venue_id": ["v1", "v2"], "tickets": [4, 2], "net_cents": [8050, 10000],
             "sell_through": [0.04, 0.125]}
        ),
        "channel_mix": pl.DataFrame(
            {"channel": ["mobile", "web"], "net_cents": [10000, 8050], "tickets_sold": [3, 4],
             "share": [10000 / 18050, 8050 / 18050]}
        ),
        "category_mix": pl.DataFrame(
            {"category": ["concert"], "net_cents": [18050], "tickets": [6], "share": [1.0]}
        ),
        "segments": pl.DataFrame(
            {"segment": ["Champions", "Lost"], "customers": [2, 10], "revenue": [90000, 10000],
             "purchases": [9, 10], "average_order_value": [10000, 1000],
             "share_of_customers": [2 / 12, 10 / 12], "share_of_revenue": [0.9, 0.1]}
        ),
        "at_risk": pl.DataFrame(
            {"customer_key": ["k9"], "segment": ["Lost"], "churn_risk": ["high"],
             "p_alive": [0.125], "days_since_last": [200], "frequency": [1],
             "recency_risk": ["high"], "clv_12m": [1250.0]}
        ),
        "recommendations": pl.DataFrame(
            {"as_of": [D], "event_id": ["e1"], "event": ["Gala"], "status": ["pending"],
             "current_price_cents": [5000], "recommended_price_cents": [5500],
             "demand_score": [0.8], "expected_revenue_current": [100000.0],
             "expected_revenue_recommended": [104500.0], "reason": ["selling fast"],
             "valid_until": [D + dt.timedelta(days=3)], "decided_by": [None]}
        ),
        "price_history": pl.DataFrame(
            {"approved_at": [dt.datetime(2026, 10, 30, 23, 30, tzinfo=dt.UTC)],
             "event_id": ["e2"], "old_price_cents": [4000], "new_price_cents": [4400],
             "approved_by": ["ana"], "reason": ["late demand"]}
        ),
    }  # fmt: skip


def rows(sheet) -> list[tuple]:
    return list(sheet.iter_rows(values_only=True))


def test_the_workbook_holds_the_reports_tables_in_currency_units(tmp_path):
    path = write_workbook(
        tmp_path / "harbor" / "report.xlsx",
        report_sheets(frames()),
    )
    assert [p.name for p in path.parent.iterdir()] == ["report.xlsx"]  # no partial file left
    plain = tmp_path / "plain.txt"
    plain.write_text("")
    assert path.stat().st_mode == plain.stat().st_mode  # readable as any file the run writes
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Run", "Key figures", "Daily sales", "Events", "Channels",
                               "Categories", "Segments", "At-risk customers",
                               "Price recommendations", "Price history"]  # fmt: skip
    assert rows(book["Run"]) == [
        ("parameter", "value"),
        ("tenant", "Harbor Arts"),
        ("tenant id", T),
        ("as of", "2026-10-31"),
        ("period start", "2026-10-30"),
        ("period end", "2026-10-31"),
        ("currency", "EUR"),
        ("reporting time zone", "Europe/Paris"),
        ("boxoffice version", boxoffice.__version__),
    ]
    key = book["Key figures"]
    assert rows(key) == [
        ("metric", "unit", "value", "previous", "change"),
        ("revenue", "EUR", 1234.5, 1000, 0.2345),
        ("tickets", "tickets", 40, 50, -0.2),
        ("customers", "customers", 12, 10, 0.2),
        ("average order value", "EUR", 25, None, None),
    ]
    assert key["E2"].number_format == "0.0%"
    daily = book["Daily sales"]
    assert rows(daily) == [
        ("date", "venue", "channel", "orders", "tickets sold", "tickets refunded", "gross",
         "refund", "net"),
        (dt.datetime(2026, 10, 30), "Hall", "web", 1, 4, 0, 80.5, 0, 80.5),
        (dt.datetime(2026, 10, 31), "Loft", "mobile", 2, 3, 1, 150, 50, 100),
    ]  # fmt: skip
    assert daily["G2"].number_format == '"EUR" #,##0.00'
    assert daily["A2"].number_format == "yyyy-mm-dd"
    assert daily.column_dimensions["G"].width > 15  # room for "EUR 1,234,567.50"
    assert rows(book["Events"])[1:] == [
        ("Jazz", "concert", "Loft", 2, 100, 0.125),
        ("Gala", "concert", "Hall", 4, 80.5, 0.04),
    ]
    assert rows(book["Channels"])[1] == ("mobile", 3, 100, pytest.approx(10000 / 18050))
    assert rows(book["Segments"])[1:] == [
        ("Champions", 2, 900, 9, 100, pytest.approx(1 / 6), 0.9),
        ("Lost", 10, 100, 10, 10, pytest.approx(5 / 6), 0.1),
    ]
    at_risk = book["At-risk customers"]
    assert rows(at_risk) == [
        ("customer_key", "segment", "churn risk", "P(alive)", "days since last purchase",
         "repeat purchases", "value, next 12 months"),
        ("k9", "Lost", "high", 0.125, 200, 1, 12.5),
    ]  # fmt: skip
    assert at_risk["G2"].number_format == '"EUR" #,##0.00'
    recommended = rows(book["Price recommendations"])
    assert recommended[1][:5] == (dt.datetime(2026, 10, 31), "Gala", "pending", 50, 55)
    assert recommended[1][6:8] == (1000, 1045)
    assert rows(book["Price history"]) == [
        ("approved (Europe/Paris)", "event", "old price", "new price", "approved by", "reason"),
        (dt.datetime(2026, 10, 31, 0, 30), "Jazz", 40, 44, "ana", "late demand"),  # UTC+1
    ]  # fmt: skip
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        [table] = sheet.tables.values()  # the whole sheet is one table with a filter
        assert table.ref == sheet.dimensions and table.autoFilter.ref == table.ref, sheet.title
        assert all(c.font.bold for c in sheet[1]), sheet.title
