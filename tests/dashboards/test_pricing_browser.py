"""The events & pricing dashboard in a real browser: the recommendation queue of one tenant,
an approval recorded in the price history under the name typed, a refused second decision,
and the forecast charts."""

import datetime as dt

import pytest
import sqlalchemy as sa

from boxoffice.dashboards.pricing import QUEUE_ROWS
from boxoffice.warehouse import engine
from boxoffice.warehouse import pricing as wp
from tests.dashboards.conftest import ARTIFACTS, TOKEN, serve

AS_OF = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def tenant(built_world):
    first, other = (t["tenant_id"] for t in built_world["manifest"]["tenants"][:2])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BOXOFFICE_DATABASE_URL", built_world["url"])
        pending = wp.read_recommendations(tenant=first, status="pending")
        foreign = wp.read_recommendations(tenant=other, status="pending")
    assert pending.height > 0, "the pipeline run published no recommendation to decide"
    return {"id": first, "pending": pending, "foreign": foreign}


@pytest.fixture(scope="module")
def page(built_world, tenant, browser, tmp_path_factory):
    with serve(built_world["url"], tmp_path_factory, "--tenant", tenant["id"]) as base:
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(f"{base}/voila/render/pricing.ipynb?token={TOKEN}", wait_until="commit")
        page.wait_for_selector(".bx-queue-count", timeout=120_000)
        # booking curve, venue forecast, backtest accuracy
        page.wait_for_function(
            "document.querySelectorAll('.js-plotly-plot').length >= 3", timeout=60_000
        )
        yield page
        page.close()


def test_queue_charts_and_tenant_isolation(page, tenant):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "pricing.png"), full_page=True)
    text = page.inner_text("body")
    assert int(page.inner_text(".bx-queue-count")) == tenant["pending"].height
    shown_first = tenant["pending"].head(QUEUE_ROWS)
    assert page.locator(".bx-rec").count() == shown_first.height
    for label in ("booking curve and forecast", "per day, actual and forecast",
                  "Forecast accuracy", "No approved price yet."):  # fmt: skip
        assert label in text
    ids = set(shown_first["recommendation_id"])
    shown = {page.locator(".bx-rec").nth(i).get_attribute("data-id")
             for i in range(page.locator(".bx-rec").count())}  # fmt: skip
    assert shown == ids
    assert not shown & set(tenant["foreign"]["recommendation_id"])


def test_approve_records_the_decision_and_a_second_decision_is_refused(page, tenant, built_world):
    first = page.locator(".bx-rec").first
    rec_id = first.get_attribute("data-id")
    card = page.locator(".widget-hbox", has=page.locator(f".bx-rec[data-id='{rec_id}']")).last
    card.get_by_role("button", name="Approve").click()
    page.wait_for_selector("text=say who decides", timeout=30_000)  # no name yet
    page.get_by_label("Your name").fill("Dana Venue")
    page.get_by_label("Your name").press("Tab")
    card.get_by_role("button", name="Approve").click()
    page.wait_for_selector(".bx-decided", timeout=30_000)
    assert "approved" in page.inner_text(".bx-decided") and "Dana Venue" in page.inner_text(
        ".bx-decided"
    )
    page.wait_for_selector(".bx-history", timeout=30_000)
    assert "Dana Venue" in page.inner_text(".bx-history")
    page.screenshot(path=str(ARTIFACTS / "pricing-approved.png"), full_page=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BOXOFFICE_DATABASE_URL", built_world["url"])
        with engine.connect() as conn:
            row = conn.execute(
                sa.text(
                    "select h.approved_by, h.new_price_cents, r.status from"
                    " analytics.price_history h join analytics.price_recommendations r"
                    " using (tenant_id, recommendation_id) where recommendation_id = :id"
                ),
                {"id": rec_id},
            ).one()
    expected = tenant["pending"].filter(tenant["pending"]["recommendation_id"] == rec_id)
    assert tuple(row) == ("Dana Venue", expected["recommended_price_cents"][0], "approved")
    assert page.locator(f".bx-rec[data-id='{rec_id}']").count() == 0  # left the queue
