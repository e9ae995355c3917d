"""The overview dashboard in a real browser: `boxoffice dashboards` (Voila) on a free localhost
port, driven by Debian's Chromium through playwright. Never skipped: without a browser it fails.

Screenshots and the measured render times land in ``test-artifacts/`` at the project root.
"""

import datetime as dt
import json
import statistics
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from boxoffice.warehouse import engine
from tests.dashboards.conftest import ARTIFACTS, TOKEN, serve, status

DAYS = 90  # the dashboard's default period


@pytest.fixture(scope="module")
def tenants(built_world):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BOXOFFICE_DATABASE_URL", built_world["url"])
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "select tenant_id::text, sum(net_cents) from analytics.sales_daily"
                    " where local_date <= :d and local_date > :d - :n group by 1 order by 1"
                ),
                {"d": dt.date(2026, 10, 31), "n": DAYS},
            ).all()
    return [(tenant, int(net)) for tenant, net in rows]


@pytest.fixture(scope="module")
def server(built_world, tenants, tmp_path_factory):
    with serve(built_world["url"], tmp_path_factory, "--tenant", tenants[0][0]) as base:
        yield f"{base}/voila/render/overview.ipynb"


def _open(browser, url: str):
    """Open the dashboard and wait for its seven figures: once, with no reload. A page that
    has not rendered within the wait fails the test (pages used to hang at "Executing 1 of 2":
    the lost ZeroMQ wake-up that ``boxoffice.dashboards.server`` repairs)."""
    page = browser.new_page(viewport={"width": 1300, "height": 1100})
    started = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=120_000)
    # 120 s: on this machine a first render with the pool drained (a cold kernel, the whole
    # customer history read, the projection fitted) took over 45 s
    page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot').length >= 7", timeout=120_000
    )
    return page, time.perf_counter() - started


def _money(cents: int) -> str:
    return f"{cents / 100:,.2f}"


def _processes() -> list[tuple[str, bytes, bytes]]:
    """(pid, command line, environment) of every process this user can read."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                found.append(
                    (proc.name, (proc / "cmdline").read_bytes(), (proc / "environ").read_bytes())
                )
            except OSError:  # gone meanwhile, or not ours
                continue
    return found


def test_the_token_is_required_and_on_no_command_line_or_kernel(server, browser):
    assert status(server) in (302, 403)
    assert status(f"{server}?token=wrong") in (302, 403)
    page, _ = _open(browser, f"{server}?token={TOKEN}")  # a kernel serves a viewer
    page.close()
    processes = _processes()
    kernels = [p for p in processes if b"ipykernel_launcher" in p[1]]
    assert kernels
    assert not [pid for pid, cmdline, _ in processes if TOKEN.encode() in cmdline]
    # the server took the token out of its environment before starting kernels (Voila itself
    # still hands a kernel the viewer's request URL, query and all: issue 15's login removes
    # the token from URLs)
    assert not [pid for pid, _, environ in kernels if b"BOXOFFICE_DASHBOARD_TOKEN" in environ]


def test_overview_shows_this_tenants_revenue_and_never_another_tenants(server, browser, tenants):
    ARTIFACTS.mkdir(exist_ok=True)
    page, _ = _open(browser, f"{server}?token={TOKEN}")
    text = page.inner_text("body")
    page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)
    (_, own_net), (_, other_net) = tenants
    assert _money(own_net) in text
    assert _money(other_net) not in text
    assert "Traceback" not in text and "Error" not in text
    for label in ("Net revenue", "Tickets sold", "Customers", "Average order value", "Channel mix"):
        assert label in text
    for label in ("Net revenue by event category", "Top 5 events of the period"):
        assert label in text
    assert "Projected net revenue" in text and "actual and projected" in text
    page.close()


def test_granularity_and_venue_filters_update_the_charts(server, browser, built_world, tenants):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BOXOFFICE_DATABASE_URL", built_world["url"])
        with engine.connect() as conn:
            venue, net = conn.execute(
                sa.text(
                    "select v.name, sum(s.net_cents) from analytics.sales_daily s join analytics.venues v"
                    " using (tenant_id, venue_id) where v.as_of = :d and s.local_date > :d - :n"
                    " and s.local_date <= :d"
                    " and s.tenant_id = :t group by v.name order by v.name limit 1"
                ),
                {"d": dt.date(2026, 10, 31), "n": DAYS, "t": tenants[0][0]},
            ).one()
    page, _ = _open(browser, f"{server}?token={TOKEN}")
    assert page.locator("text=Net revenue per week").count() == 1
    trend = page.locator(".js-plotly-plot", has_text="Net revenue per")
    weekly_bars = trend.locator(".bars .point").count()
    page.get_by_role("button", name="Day").click()
    page.wait_for_selector("text=Net revenue per day", timeout=30_000)
    daily_bars = trend.locator(".bars .point").count()
    assert 12 <= weekly_bars <= 14 and daily_bars > 5 * weekly_bars
    page.screenshot(path=str(ARTIFACTS / "overview-daily.png"), full_page=True)
    assert _money(int(net)) not in page.inner_text("body")
    page.locator("select").select_option(label=venue)
    page.wait_for_selector(f"text={_money(int(net))}", timeout=30_000)  # the venue's revenue tile
    page.screenshot(path=str(ARTIFACTS / "overview-venue.png"), full_page=True)
    page.close()


def test_render_and_filter_change_times_median_of_5(server, browser):
    """Measured, not asserted (no timing thresholds in tests): written for the closing note."""
    renders, changes = [], []
    for _ in range(5):
        page, seconds = _open(browser, f"{server}?token={TOKEN}")
        renders.append(seconds)
        started = time.perf_counter()
        page.get_by_role("button", name="Month").click()
        page.wait_for_selector("text=Net revenue per month", timeout=30_000)
        changes.append(time.perf_counter() - started)
        page.close()
    ARTIFACTS.mkdir(exist_ok=True)
    timings = {
        "first_render_s": renders,
        "filter_change_s": changes,
        "median_first_render_s": statistics.median(renders),
        "median_filter_change_s": statistics.median(changes),
    }
    (ARTIFACTS / "dashboard-timings.json").write_text(json.dumps(timings, indent=2) + "\n")
    assert len(renders) == len(changes) == 5


def test_a_firing_alert_is_shown_and_acknowledged_by_the_viewer(
    server, browser, built_world, tenants
):
    tenant = tenants[0][0]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BOXOFFICE_DATABASE_URL", built_world["url"])
        with engine.connect("owner", tenant=tenant) as conn:
            conn.execute(
                sa.text(
                    "insert into analytics.alert_states (tenant_id, rule, scope_key, state,"
                    " since, count, evaluated, value, lower, upper) values (:t, 'test-outage',"
                    " 'web', 'firing', :d, 1, :d, 0, 12, null)"
                    " on conflict (tenant_id, rule, scope_key) do update set state = 'firing',"
                    " acknowledged_by = null"
                ),
                {"t": tenant, "d": dt.date(2026, 10, 31)},
            )
        try:
            page, _ = _open(browser, f"{server}?token={TOKEN}")
            alert = page.locator(".bx-alert", has_text="test-outage")
            assert "web · firing since 2026-10-31" in alert.inner_text()
            page.get_by_placeholder("recorded with each acknowledgement").fill("Ann Example")
            page.get_by_role("button", name="Acknowledge").click()
            page.wait_for_selector("text=acknowledged by Ann Example", timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "overview-alert.png"), full_page=True)
            page.close()
            with engine.connect("owner", tenant=tenant) as conn:
                who = conn.execute(
                    sa.text(
                        "select acknowledged_by from analytics.alert_states"
                        " where tenant_id = :t and rule = 'test-outage' and scope_key = 'web'"
                    ),
                    {"t": tenant},
                ).scalar_one()
            assert who == "Ann Example"
        finally:
            with engine.connect("owner", tenant=tenant) as conn:
                conn.execute(
                    sa.text(
                        "delete from analytics.alert_states"
                        " where tenant_id = :t and rule = 'test-outage'"
                    ),
                    {"t": tenant},
                )
