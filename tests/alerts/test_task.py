"""The alerts task on a real warehouse: a hand-made tenant whose sales drop by 60 % against
the same weekday a week earlier fires a change rule, keeps firing on the same date run again
(nothing new), and resolves when sales come back; a rules file that is not right stops a run
before anything is written."""

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from boxoffice import tasks, warehouse
from boxoffice.pipeline import runner
from boxoffice.tasks.alerts import TASK
from boxoffice.warehouse import alerts as stored
from boxoffice.warehouse import loading

ROOT = Path(__file__).parents[2]
T = "11111111-1111-4111-8111-111111111111"
V = "22222222-2222-4222-8222-222222222222"
E = "33333333-3333-4333-8333-333333333333"
C = "44444444-4444-4444-8444-444444444444"
D = dt.date(2026, 10, 14)  # a Wednesday; a week earlier: October 7
RULES = """
channels: {ops: {type: email, to: ops@venue.example}}
rules:
  - name: tickets-drop
    kind: change
    metric: tickets
    against: same_weekday_last_week
    below: -50
    notify: ops
  - name: stale
    kind: freshness
    of: sales
    older_than_hours: 36
"""


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def tenant(sold: dict[dt.date, int]) -> dict[str, pl.DataFrame]:
    """One tenant with a venue in UTC and one event; ``sold[day]`` tickets sold at noon that
    day, one order each."""
    days = [d for d, n in sorted(sold.items()) for _ in range(n)]
    orders = [f"55555555-5555-4555-8555-{i:012d}" for i in range(len(days))]
    return {
        "tenants": pl.DataFrame({"tenant_id": [T], "name": ["Harbor"], "created_at": [noon(D)]}),
        "venues": pl.DataFrame(
            {"tenant_id": [T], "venue_id": [V], "name": ["Hall"], "city": ["X"],
             "timezone": ["UTC"], "capacity": [1000]}
        ),
        "events": pl.DataFrame(
            {"tenant_id": [T], "event_id": [E], "venue_id": [V], "name": ["Gala"],
             "category": ["concert"], "on_sale_at": [noon(D - dt.timedelta(days=60))],
             "starts_at": [noon(D + dt.timedelta(days=30))], "capacity": [1000],
             "base_price_cents": [5000]}
        ),
        "customers": pl.DataFrame(
            {"tenant_id": [T], "customer_id": [C], "email": ["a@example.com"],
             "full_name": ["Ann"], "created_at": [noon(D - dt.timedelta(days=60))]}
        ),
        "orders": pl.DataFrame(
            {"tenant_id": T, "order_id": orders, "customer_id": C, "channel": "web",
             "created_at": [noon(d) for d in days]}
        ),
        "tickets": pl.DataFrame(
            {"tenant_id": T, "ticket_id": [o.replace("5555", "6666") for o in orders],
             "order_id": orders, "event_id": E, "price_cents": 5000, "fee_cents": 0,
             "ticket_type": "standard", "sold_at": [noon(d) for d in days], "status": "sold",
             "refunded_at": None, "scanned_at": None},
            schema_overrides={"refunded_at": pl.Datetime("us", "UTC"),
                              "scanned_at": pl.Datetime("us", "UTC")},
        ),
    }  # fmt: skip


def judge(as_of: dt.date, rules_path) -> dict:
    warehouse.refresh_sales([T])
    outcome = tasks.execute(TASK, as_of=as_of, tenants=T, params={"rules": str(rules_path)})
    return outcome.prepared[T]


def test_a_drop_fires_stays_put_when_judged_again_and_resolves(migrated_db, tmp_path):
    path = tmp_path / "alerts.yaml"
    path.write_text(RULES)
    week_ago = D - dt.timedelta(days=7)
    loading.load(tenant({week_ago: 10, D: 4}), source="test")
    first = judge(D, path)
    assert first["not judged"] == ["stale"]
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
    again = judge(D, path)  # the same date: nothing changes
    assert again["events"].height == 0
    assert stored.read_alert_states(tenant=T).equals(states)

    next_day, its_week_ago = D + dt.timedelta(days=1), D - dt.timedelta(days=6)
    loading.load(tenant({week_ago: 10, D: 4, its_week_ago: 5, next_day: 5}), source="test")
    judge(next_day, path)
    assert stored.read_alert_states(tenant=T).select("state", "since", "count").rows() == [
        ("resolved", next_day, 0)
    ]
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
