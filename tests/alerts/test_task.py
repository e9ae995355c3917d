"""The alerts task on a real warehouse: a hand-made tenant whose sales drop by 60 % against
the same weekday a week earlier fires a change rule, keeps firing on the same date run again
(nothing new), and resolves when sales come back; a rules file that is not right stops a run
before anything is written."""

import datetime as dt
import io
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from boxoffice import tasks, warehouse
from boxoffice.ingest.batch import ingest_stream
from boxoffice.pipeline import runner
from boxoffice.tasks.alerts import TASK
from boxoffice.warehouse import alerts as stored
from boxoffice.warehouse import engine, loading, schema, write_partitions
from tests.alerts.world import D, E, T, tenant
from tests.alerts.world import judge as world_judge
from tests.ingest.conftest import event, ndjson

ROOT = Path(__file__).parents[2]
RULES = """
channels: {ops: {type: email, to: ops@venue.example}}
rules:
  - name: tickets-drop
    kind: change
    metric: tickets
    against: same_weekday_last_week
    below: -50
    notify: ops
"""


def judge(as_of: dt.date, rules_path) -> dict:
    warehouse.refresh_sales([T])
    outcome = tasks.execute(TASK, as_of=as_of, tenants=T, params={"rules": str(rules_path)})
    return outcome.prepared[T]


def test_a_drop_fires_stays_put_when_judged_again_and_resolves(migrated_db, tmp_path):
    path = tmp_path / "alerts.yaml"
    path.write_text(RULES)
    week_ago = D - dt.timedelta(days=7)
    loading.load(tenant({week_ago: 10, D: 4}), source="test")
    judge(D, path)
    states = stored.read_alert_states(tenant=T)
    assert states.select("rule", "scope_key", "state", "since", "count", "value").rows() == [
        ("tickets-drop", T, "firing", D, 1, -60.0)  # 4 against 10: 100 · (4 − 10) / 10
    ]
    events = stored.read_alert_events(tenant=T, since=D, role="pipeline")
    assert events.select("rule", "from_state", "to_state", "explanation").rows() == [
        (
            "tickets-drop",
            "ok",
            "firing",
            "tickets over 1 day(s): 4.0 against 10.0 a week earlier (-60.0 %)",
        )
    ]
    # its notification is queued; with no mail server configured it stays queued
    queue = stored.read_notifications(tenant=T)
    assert queue.select("rule", "event", "channel", "recipient", "status", "attempts").rows() == [
        ("tickets-drop", "firing", "ops", "ops@venue.example", "queued", 1)
    ]
    assert queue["last_error"][0] == "BOXOFFICE_SMTP_URL is not set: no mail server to send through"
    again = judge(D, path)  # the same date: nothing changes, nothing new is queued
    assert again["events"].height == 0 and again["written"]["notifications"] == 0
    mine = stored.read_alert_states(tenant=T).filter(pl.col("rule") == "tickets-drop")
    assert mine.equals(states)
    assert stored.read_notifications(tenant=T).height == 1

    next_day, its_week_ago = D + dt.timedelta(days=1), D - dt.timedelta(days=6)
    loading.load(tenant({week_ago: 10, D: 4, its_week_ago: 5, next_day: 5}), source="test")
    judge(next_day, path)
    resolved = stored.read_alert_states(tenant=T).filter(pl.col("rule") == "tickets-drop")
    assert resolved.select("state", "since", "count").rows() == [("resolved", next_day, 0)]
    events = stored.read_alert_events(tenant=T, since=D, role="pipeline")
    assert events.select("as_of", "from_state", "to_state").rows() == [
        (next_day, "firing", "resolved"),
        (D, "ok", "firing"),
    ]
    # another tenant's view of the same tables is empty (RLS)
    other = "99999999-9999-4999-8999-999999999999"
    assert stored.read_alert_states(tenant=other).height == 0


def test_a_rules_file_that_is_not_right_stops_a_run_before_anything_is_written(
    migrated_db, tmp_path, monkeypatch
):
    loading.load(tenant({D: 4}), source="test")
    (tmp_path / "alerts.yaml").write_text("rules:\n  - name: x\n    kind: guess\n")
    (tmp_path / "pipeline.yaml").write_text((ROOT / "pipeline.yaml").read_text())
    monkeypatch.setenv("BOXOFFICE_PROJECT_DIR", str(tmp_path))
    with pytest.raises(runner.PipelineError, match=r"alerts\.yaml, line 3: rule x: kind: one of"):
        runner.run(D, progress=False)
    assert stored.read_alert_states(tenant=T).height == 0


def test_a_report_settings_file_that_is_not_right_stops_a_run_before_anything_is_written(
    migrated_db, tmp_path, monkeypatch
):
    loading.load(tenant({D: 4}), source="test")
    (tmp_path / "alerts.yaml").write_text("rules: []\n")
    (tmp_path / "reports.yaml").write_text(
        "subscriptions:\n  - {name: weekly, tenant: Nowhere Hall, to: a@b.test, cadence: daily}\n"
    )
    (tmp_path / "pipeline.yaml").write_text((ROOT / "pipeline.yaml").read_text())
    monkeypatch.setenv("BOXOFFICE_PROJECT_DIR", str(tmp_path))
    with pytest.raises(
        runner.PipelineError,
        match=r"reports\.yaml, line 2: subscription weekly: tenant: no tenant 'Nowhere Hall'",
    ):
        runner.run(D, progress=False)
    with engine.connect("owner") as conn:
        assert conn.execute(sa.text("select count(*) from analytics.pipeline_runs")).scalar() == 0


def test_a_door_scan_rate_under_its_threshold_fires_on_the_events_day(migrated_db, tmp_path):
    path = tmp_path / "alerts.yaml"
    path.write_text(
        "rules:\n  - {name: scans, kind: threshold, metric: scan_rate, scope: event,"
        " below: 0.5, min_volume: 50}\n"
    )
    loading.load(tenant({D - dt.timedelta(days=3): 60}, starts=D, scanned=10), source="test")
    world_judge(D - dt.timedelta(days=1), path)  # the day before: no event of the day
    assert stored.read_alert_states(tenant=T).height == 0
    world_judge(D, path)
    # held 60, scanned 10: 10 / 60 = 0.1667 < 0.5
    states = stored.read_alert_states(tenant=T).filter(pl.col("rule") == "scans")
    assert states.select("scope_key", "state", "value").rows() == [(E, "firing", 10 / 60)]


def test_freshness_and_dead_letters_are_judged_on_the_day(migrated_db, tmp_path):
    path = tmp_path / "alerts.yaml"
    path.write_text(
        "rules:\n"
        "  - {name: stale, kind: freshness, of: sales, older_than_hours: 36}\n"
        "  - {name: no-run, kind: freshness, of: run, older_than_hours: 24}\n"
        "  - {name: letters, kind: operational, condition: dead_letters, above: 1}\n"
    )
    loading.load(tenant({D - dt.timedelta(days=3): 5}), source="test")
    # two lines claiming the tenant that the ingest rejects (no session_id), received on D
    bad = [event(tenant=T, session_id=None, id=f"e{i}") for i in range(2)]
    ingest_stream(
        io.BytesIO(ndjson(*bad)),
        name="bad",
        now=dt.datetime.combine(D, dt.time(9), dt.UTC),
    )
    world_judge(D, path)
    states = stored.read_alert_states(tenant=T).sort("rule")
    # the newest sale, noon of D − 3, is 3.5 days = 84 h old at the end of D (UTC midnight)
    assert states.select("rule", "state", "value").rows() == [
        ("letters", "firing", 2.0),
        ("no-run", "firing", None),
        ("stale", "firing", 84.0),
    ]
    events = stored.read_alert_events(tenant=T, since=D, role="pipeline").sort("rule")
    assert events["explanation"].to_list() == [
        "2 behaviour event(s) rejected on the day (more than 1 fires)",
        f"no completed run at all before {D + dt.timedelta(days=1)} 00:00 UTC",
        f"the newest sale ({D - dt.timedelta(days=3)} 12:00 UTC) is 84.0 h old at"
        f" {D + dt.timedelta(days=1)} 00:00 UTC",
    ]


def test_the_conversion_rate_and_the_dead_letters_are_series_a_rule_can_watch(
    migrated_db, tmp_path
):
    path = tmp_path / "alerts.yaml"
    path.write_text(
        "rules:\n"
        "  - {name: converts, kind: threshold, metric: conversion_rate, window: 2, below: 0.05}\n"
        "  - {name: letters-week, kind: threshold, metric: dead_letters, window: 7, above: 2}\n"
    )
    loading.load(tenant({D - dt.timedelta(days=3): 5}), source="test")
    counts = {"event_views": [30, 30, 9], "carts": [10, 10, 3], "checkouts": [5, 5, 2]}
    funnel = pl.DataFrame(  # the day before the window, then its two days
        {"day": [D - dt.timedelta(days=k) for k in (2, 1, 0)], "channel": "web",
         "sessions": [100, 100, 60], **counts, "purchases": [1, 3, 2]}
    )  # fmt: skip
    write_partitions(schema.funnel_daily, {T: funnel}, as_of=D)
    # three lines claiming the tenant that the ingest rejects: two on D, one six days before
    for day, n in ((D - dt.timedelta(days=6), 1), (D, 2)):
        bad = [event(tenant=T, session_id=None, id=f"{day}-{i}") for i in range(n)]
        at = dt.datetime.combine(day, dt.time(9), dt.UTC)
        ingest_stream(io.BytesIO(ndjson(*bad)), name=f"bad-{day}", now=at)
    world_judge(D, path)
    states = stored.read_alert_states(tenant=T).sort("rule")
    assert states.select("rule", "state", "value").rows() == [
        ("converts", "firing", pytest.approx(5 / 160)),  # (3 + 2) / (100 + 60)
        ("letters-week", "firing", 3.0),
    ]
