"""The customers dashboard in a real browser: segments, movement since the previous run, CLV,
and the at-risk list with its filters and downloads — for one tenant only."""

import base64
import datetime as dt
import io

import polars as pl
import pytest
import sqlalchemy as sa

from boxoffice import customers, warehouse
from boxoffice.warehouse import schema
from tests.dashboards.conftest import ARTIFACTS, TOKEN, serve

AS_OF, BEFORE = dt.date(2026, 10, 31), dt.date(2026, 10, 3)


@pytest.fixture(scope="module")
def tenant(built_world):
    """The first tenant, with an earlier RFM run (scored from the same purchase days up to
    BEFORE) so that segment movement has something to show."""
    tenant = built_world["manifest"]["tenants"][0]["tenant_id"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BOXOFFICE_DATABASE_URL", built_world["url"])
        days = warehouse.read_frame(
            "select customer_key, local_date, gross_cents from analytics.customer_days"
            " where local_date <= $1",
            [AS_OF],
            tenant=tenant,
        )
        earlier = customers.score_rfm(
            customers.summarize_customers(
                days, as_of=BEFORE, date_col="local_date", value_col="gross_cents"
            )
        )
        warehouse.write_partitions(schema.customer_rfm, {tenant: earlier}, as_of=BEFORE)
        with warehouse.connect("owner") as conn:  # readers see a run date once it completed
            conn.execute(
                sa.text(
                    "insert into analytics.pipeline_runs (run_id, as_of, tenants, trigger,"
                    " status, started_at, finished_at) values (gen_random_uuid(), :d, :t,"
                    " 'test', 'succeeded', now(), now())"
                ),
                {"d": BEFORE, "t": tenant},
            )
        now = warehouse.read_customers(as_of=AS_OF, tenant=tenant)
        other = built_world["manifest"]["tenants"][1]["tenant_id"]
        foreign = warehouse.read_customers(as_of=AS_OF, tenant=other)
    return {"id": tenant, "customers": now, "earlier": earlier, "foreign": foreign}


@pytest.fixture(scope="module")
def page(built_world, tenant, browser, tmp_path_factory):
    with serve(built_world["url"], tmp_path_factory, "--tenant", tenant["id"]) as base:
        page = browser.new_page(viewport={"width": 1300, "height": 1100})
        page.goto(f"{base}/voila/render/customers.ipynb?token={TOKEN}", wait_until="commit")
        page.wait_for_selector(".bx-count", timeout=120_000)
        page.wait_for_function(
            "document.querySelectorAll('.js-plotly-plot').length >= 3", timeout=60_000
        )
        yield page
        page.close()


def _count(page) -> int:
    return int(page.inner_text(".bx-count").replace(",", ""))


def test_segments_movement_value_and_the_high_risk_list(page, tenant):
    frame = tenant["customers"]
    text = page.inner_text("body")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "customers.png"), full_page=True)
    assert f"Scores as of {AS_OF}: {frame.height:,} customers" in text
    assert f"Since {BEFORE}" in text and "Segment movement since the previous run" in text
    assert "Customer lifetime value, next 12 months" in text
    assert _count(page) == frame.filter(pl.col("churn_risk") == "high").height
    top = customers.at_risk_list(frame)["customer_key"][0]
    assert top[:24] in text  # the most valuable high-risk customer heads the list (key cut)
    assert not [k for k in tenant["foreign"]["customer_key"] if k[:24] in text]


def test_filters_and_downloads(page, tenant):
    frame = tenant["customers"]
    page.get_by_role("button", name="All").click()
    page.wait_for_function(
        f"document.querySelector('.bx-count').innerText.replace(/,/g, '') == '{frame.height}'",
        timeout=30_000,
    )
    segment = customers.at_risk_list(frame, risks=[])["segment"][0]
    page.get_by_role("listbox").select_option(label=segment)
    expected = frame.filter(pl.col("segment") == segment).height
    page.wait_for_function(
        f"document.querySelector('.bx-count').innerText.replace(/,/g, '') == '{expected}'",
        timeout=30_000,
    )
    href = page.get_attribute("a.bx-download[download='customers.csv']", "href")
    listed = pl.read_csv(io.BytesIO(base64.b64decode(href.split("base64,", 1)[1])))
    assert listed.height == expected and set(listed["segment"]) == {segment}
    xlsx = page.get_attribute("a.bx-download[download='customers.xlsx']", "href")
    assert base64.b64decode(xlsx.split("base64,", 1)[1])[:2] == b"PK"
