"""The events dashboard in a real browser: event performance filtered, sorted and downloaded,
the funnel, cohort heatmap and attribution — for one tenant only."""

import base64
import datetime as dt
import io
import time

import polars as pl
import pytest
from playwright.sync_api import expect

from boxoffice import metrics, warehouse
from tests.dashboards.conftest import ARTIFACTS, TOKEN, serve

AS_OF = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def tenant(built_world):
    """The first tenant's event performance as the dashboard must show it, and the other
    tenant's event names (to check that none appear)."""
    first, other = (t["tenant_id"] for t in built_world["manifest"]["tenants"][:2])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BOXOFFICE_DATABASE_URL", built_world["url"])
        performance = metrics.events.event_performance(
            warehouse.read_event_sales(as_of=AS_OF, tenant=first),
            warehouse.read_events(as_of=AS_OF, tenant=first),
            AS_OF,
        )
        foreign = set(warehouse.read_events(as_of=AS_OF, tenant=other)["name"])
    return {"id": first, "performance": performance, "foreign": foreign - set(performance["name"])}


@pytest.fixture(scope="module")
def page(built_world, tenant, browser, tmp_path_factory):
    with serve(built_world["url"], tmp_path_factory, "--tenant", tenant["id"]) as base:
        page = browser.new_page(viewport={"width": 1300, "height": 1100})
        page.goto(f"{base}/voila/render/events.ipynb?token={TOKEN}", wait_until="commit")
        page.wait_for_selector(".bx-count", timeout=120_000)
        # pace, funnel, cohort heatmap, attribution
        page.wait_for_function(
            "document.querySelectorAll('.js-plotly-plot').length >= 4", timeout=60_000
        )
        yield page
        page.close()


def _wait_for_count(page, expected: int) -> None:
    page.wait_for_function(
        "document.querySelector('.bx-count').innerText.replace(/,/g, '') == " + f"'{expected}'",
        timeout=30_000,
    )


def _csv(page) -> pl.DataFrame:
    href = page.get_attribute("a.bx-download[download='events.csv']", "href")
    return pl.read_csv(io.BytesIO(base64.b64decode(href.split("base64,", 1)[1])))


def _csv_when(page, ready, timeout_s: float = 30.0) -> pl.DataFrame:
    """The events CSV once ``ready(frame)`` holds (the dashboard updates it asynchronously),
    or the last one seen after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not ready(frame := _csv(page)) and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    return frame


def test_upcoming_events_funnel_cohorts_and_attribution(page, tenant):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "events.png"), full_page=True)
    text = page.inner_text("body")
    upcoming = metrics.events.select_events(tenant["performance"])
    assert int(page.inner_text(".bx-count").replace(",", "")) == upcoming.height
    assert f"data as of {AS_OF}" in text
    for label in (
        "Sell-through against days to the event",
        "Conversion funnel",
        "Cohort retention",
        "Revenue by campaign and attribution model",
    ):
        assert label in text
    assert upcoming["name"][0] in text  # the soonest event heads the list
    assert not [name for name in tenant["foreign"] if name in text]
    assert "Traceback" not in text


def test_sort_filter_and_download(page, tenant):
    performance = tenant["performance"]
    page.get_by_role("button", name="All").click()
    _wait_for_count(page, performance.height)
    page.get_by_label("Sort by").select_option(label="Sell-through")
    page.get_by_label("largest first").check()
    expected = metrics.events.select_events(
        performance, when="all", sort_by="sell_through", descending=True
    )
    # the first row alone can already match before the sort arrives (a CI run read the
    # previous list's CSV that way): wait for the whole download
    listed = _csv_when(page, lambda frame: frame["event"].to_list() == expected["name"].to_list())
    assert listed["event"].to_list() == expected["name"].to_list()
    # the download is set before the table is redrawn: wait for the table's own update
    expect(page.locator(".bx-events tr:nth-child(2) td").first).to_have_text(
        expected["name"][0], timeout=30_000
    )
    assert listed["sell_through_pct"][0] == pytest.approx(
        round(expected["sell_through"][0] * 100, 1)
    )
    category = expected["category"][0]
    page.get_by_label("Category").select_option(label=category)
    in_category = expected.filter(pl.col("category") == category)
    _wait_for_count(page, in_category.height)
    assert set(_csv(page)["category"]) == {category}
    xlsx = page.get_attribute("a.bx-download[download='events.xlsx']", "href")
    assert base64.b64decode(xlsx.split("base64,", 1)[1])[:2] == b"PK"
    page.screenshot(path=str(ARTIFACTS / "events-filtered.png"), full_page=True)
