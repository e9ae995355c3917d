"""The operations page in a real browser: served by `boxoffice dashboards --operations`, it
shows every batch's accounting, dead letters by reason and each tenant's reconciliation; a
tenant's dashboard server refuses to show it."""

import pytest
import sqlalchemy as sa

from boxoffice.warehouse import engine
from tests.dashboards.conftest import ARTIFACTS, TOKEN, serve


@pytest.fixture(scope="module")
def truth(built_world):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BOXOFFICE_DATABASE_URL", built_world["url"])
        with engine.connect() as conn:
            received, rejected = conn.execute(
                sa.text("select sum(received), sum(rejected) from raw.ingest_batches")
            ).one()
            names = conn.execute(sa.text("select name from source.tenants order by 1")).scalars()
            return {"received": int(received), "rejected": int(rejected), "names": list(names)}


def _text(browser, url: str, *, wait_for: str, shot: str) -> str:
    page = browser.new_page(viewport={"width": 1300, "height": 1100})
    page.goto(url, wait_until="commit", timeout=120_000)
    page.wait_for_selector(wait_for, timeout=90_000)
    text = page.inner_text("body")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
    page.close()
    return text


def test_operations_page_shows_batches_dead_letters_and_reconciliation(
    built_world, browser, truth, tmp_path_factory
):
    assert truth["received"] > 0 and truth["rejected"] > 0  # the world's stream has bad lines
    with pytest.MonkeyPatch.context() as mp:  # a notification the mail server keeps refusing
        mp.setenv("BOXOFFICE_DATABASE_URL", built_world["url"])
        with engine.connect() as conn:
            tenant = conn.execute(sa.text("select min(tenant_id::text) from source.tenants"))
            tenant = tenant.scalar_one()
        with engine.connect("owner", tenant=tenant) as conn:
            conn.execute(
                sa.text(
                    "insert into analytics.notifications (tenant_id, key, rule, event, scope_keys,"
                    " channel, recipient, subject, body, payload, status, attempts, last_error,"
                    " created_at, next_attempt_at) values (:t, 'test-stuck', 'run-failed',"
                    " 'firing', array['x'], 'operations', 'ops@venue.example', 's', 'b', '{}',"
                    " 'queued', 4, 'mail server: login refused (535)', now(), now())"
                ),
                {"t": tenant},
            )
    try:
        with serve(built_world["url"], tmp_path_factory, "--operations") as base:
            text = _text(
                browser,
                f"{base}/voila/render/operations.ipynb?token={TOKEN}",
                wait_for="text=Notifications not delivered",
                shot="operations.png",
            )
    finally:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("BOXOFFICE_DATABASE_URL", built_world["url"])
            with engine.connect("owner", tenant=tenant) as conn:
                conn.execute(
                    sa.text("delete from analytics.notifications where key = 'test-stuck'")
                )
    assert "mail server: login refused (535)" in text and "ops@venue.example" in text
    assert f"{truth['received']:,}" in text  # the received tile
    assert f"{truth['rejected']:,}" in text
    for heading in (
        "Ingest batches",
        "Dead letters, last 30 days",
        "Reconciliation",
        "Notifications not delivered",
    ):
        assert heading in text
    for name in truth["names"]:
        assert name in text
    assert "Traceback" not in text


def test_a_tenant_server_refuses_the_operations_page(built_world, browser, truth, tmp_path_factory):
    tenant = built_world["manifest"]["tenants"][0]["tenant_id"]
    with serve(built_world["url"], tmp_path_factory, "--tenant", tenant) as base:
        text = _text(
            browser,
            f"{base}/voila/render/operations.ipynb?token={TOKEN}",
            wait_for=".bx-message",
            shot="operations-refused-on-a-tenant-server.png",
        )
    assert "served by `boxoffice dashboards --operations` only" in text
    assert f"{truth['received']:,}" not in text
