"""``boxoffice alerts``: list, show, ack, silence, test (a sample through the channels, and the
replay of --history) and evaluate, on a real warehouse; bad input is one line and exit 2."""

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from boxoffice.cli import main
from boxoffice.warehouse import alerts as stored
from boxoffice.warehouse import loading
from tests.alerts.servers import http_server
from tests.alerts.world import D, T, tenant

ROOT = Path(__file__).parents[2]
RULES = """
channels: {hook: {type: webhook, url_env: TEST_HOOK_URL}}
defaults: {notify: hook}
rules:
  - {name: tickets-drop, kind: change, metric: tickets, against: same_weekday_last_week,
     below: -50}
  - {name: stale, kind: freshness, of: sales, older_than_hours: 36}
"""


@pytest.fixture
def project(migrated_db, tmp_path, monkeypatch):
    (tmp_path / "pipeline.yaml").write_text((ROOT / "pipeline.yaml").read_text())
    (tmp_path / "alerts.yaml").write_text(RULES)
    monkeypatch.setenv("BOXOFFICE_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("BOXOFFICE_TENANT", T)
    loading.load(tenant({D - dt.timedelta(days=7): 10, D: 4}), source="test")
    with http_server() as (base, hooks):
        monkeypatch.setenv("TEST_HOOK_URL", f"{base}/hook")
        yield tmp_path, hooks


def cli(*args: str):
    return CliRunner().invoke(main, ["alerts", *args])


def test_evaluate_list_show_and_ack(project):
    _, hooks = project
    done = cli("evaluate", "--as-of", str(D))
    assert done.exit_code == 0, done.output
    assert done.output == "Harbor: 1 firing, 0 pending, 1 change(s), 1 queued, 1 sent, 0 failed\n"
    assert [p[1]["event"] for p in hooks.posts] == ["firing"]

    listed = cli("list")
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert lines[0] == "Harbor: 3 rules"
    assert lines[1].startswith("tickets-drop           change      tenant   daily    for 1  → hook")
    assert lines[1].endswith("[1 firing]")
    assert lines[3].startswith("delivery-failing       operational channel")

    shown = cli("show", "tickets-drop")
    assert shown.exit_code == 0
    assert f"  {T}  firing   since {D}  value -60  (evaluated {D})" in shown.output
    assert "ok → firing  tickets over 1 day(s): 4.0 against 10.0 a week earlier" in shown.output
    assert "firing   hook:hook  sent after 1 attempt(s)" in shown.output

    acked = cli("ack", "tickets-drop", T, "--by", "ann")
    assert (acked.exit_code, acked.output) == (0, f"tickets-drop {T}: acknowledged by ann\n")
    again = cli("ack", "tickets-drop", T, "--by", "bob")
    assert again.exit_code == 1
    assert again.output == (f"error: alert tickets-drop for {T} is already acknowledged by ann\n")


def test_silence_takes_a_future_time_and_a_known_rule(project):
    assert cli("silence", "nope", "--until", "2099-01-01", "--reason", "x", "--by", "a").output == (
        "error: no rule nope for this tenant (rules: tickets-drop, stale, delivery-failing)\n"
    )
    bad = cli("silence", "stale", "--until", "soon", "--reason", "x", "--by", "a")
    assert bad.exit_code == 2 and "--until: a time like" in bad.output
    past = cli("silence", "stale", "--until", "2020-01-01 10:00", "--reason", "x", "--by", "a")
    assert past.exit_code == 2 and "is not in the future" in past.output
    assert stored.read_silences(tenant=T).height == 0
    ok = cli(
        "silence", "stale", "--until", "2099-01-01 10:00+01:00", "--reason", "move", "--by", "a"
    )
    assert ok.output == "stale (every scope): silenced until 2099-01-01 09:00 UTC\n"
    assert stored.read_silences(tenant=T).select("rule", "scope_key", "reason").rows() == [
        ("stale", None, "move")
    ]


def test_test_sends_a_sample_and_replays_history(project):
    _, hooks = project
    sent = cli("test", "tickets-drop", "--as-of", str(D))
    assert (sent.exit_code, sent.output) == (0, "hook:hook  sent\n")
    ((_, doc),) = hooks.posts
    assert (doc["event"], doc["subject"]) == (
        "test",
        "[boxoffice] Harbor: tickets-drop test (Harbor)",
    )

    replay = cli(
        "test", "tickets-drop", "--history", "14", "--as-of", str(D + dt.timedelta(days=1))
    )
    assert replay.exit_code == 0, replay.output
    # the drop of D fires; the next day (0 against 0 a week earlier) is not judged, so it holds
    assert replay.stdout.splitlines() == [
        f"tickets-drop over the 14 days to {D + dt.timedelta(days=1)}:"
        " would have fired 1 time(s) in 1 scope(s)",
        f"  {D}  {T}  ok → firing  tickets over 1 day(s): 4.0 against 10.0 a week earlier"
        " (-60.0 %)",
    ]
    assert len(hooks.posts) == 1  # the replay sent nothing
    assert stored.read_alert_states(tenant=T).height == 0  # and wrote nothing

    other = cli("test", "stale", "--history", "14")
    assert other.exit_code == 2
    assert "--history replays threshold, change and anomaly rules" in other.output


def test_a_rules_file_that_is_not_right_is_one_line_and_exit_2(project):
    path, _ = project
    (path / "alerts.yaml").write_text("rules:\n  - name: x\n    kind: guess\n")
    for args in (("list",), ("evaluate",), ("test", "x")):
        result = cli(*args)
        assert result.exit_code == 2, args
        assert result.output == (
            f"error: {path / 'alerts.yaml'}, line 3: rule x: kind: one of threshold, change,"
            " anomaly, freshness, operational, got 'guess'\n"
        )
