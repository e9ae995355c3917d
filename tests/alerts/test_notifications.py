"""Notifications against real servers started here on 127.0.0.1 (``tests/alerts/servers.py``):
mail over STARTTLS with a login, webhook JSON and Slack text; a server that fails, is slower
than the timeout or is down leaves the notification queued, and a later evaluation delivers it
exactly once; the time budget; a failing channel told through the other; silences, re-notify
and acknowledgement; no secret in any table."""

import datetime as dt

import polars as pl
import pytest
import sqlalchemy as sa

from boxoffice.tasks.alerts import record_run
from boxoffice.tasks.context import RunContext
from boxoffice.warehouse import alerts as stored
from boxoffice.warehouse import engine, loading
from tests.alerts.servers import PASSWORD, closed_port, http_server, mail_server
from tests.alerts.world import D, T, judge, tenant

T0 = dt.datetime(2026, 10, 15, 6, 0, tzinfo=dt.UTC)
DROP = "tickets over 1 day(s): 4.0 against 10.0 a week earlier (-60.0 %)"


def rules(tmp_path, notify: str, **delivery) -> str:
    settings = {"timeout_seconds": 0.5, "max_seconds": 30, "failing_after": 10, **delivery}
    path = tmp_path / "alerts.yaml"
    path.write_text(
        "channels:\n"
        "  ops: {type: email, to: [ops@venue.example, boss@venue.example]}\n"
        "  hook: {type: webhook, url_env: TEST_HOOK_URL}\n"
        "  chat: {type: webhook, url_env: TEST_CHAT_URL, format: slack}\n"
        "  slow2: {type: webhook, url_env: TEST_HOOK_URL}\n"
        "  slow3: {type: webhook, url_env: TEST_HOOK_URL}\n"
        f"delivery: {settings}\n"
        "rules:\n"
        "  - name: tickets-drop\n"
        "    kind: change\n"
        "    metric: tickets\n"
        "    against: same_weekday_last_week\n"
        "    below: -50\n"
        "    renotify_hours: 1\n"
        f"    notify: [{notify}]\n"
    )
    return path


def dropping(days: int = 1) -> None:
    """Each of ``days`` days from D sells 4 tickets against 10 a week earlier."""
    sold = {}
    for i in range(days):
        sold[D + dt.timedelta(days=i - 7)] = 10
        sold[D + dt.timedelta(days=i)] = 4
    loading.load(tenant(sold), source="test")


def queue() -> pl.DataFrame:
    return stored.read_notifications(tenant=T).sort("notification_id")


def attempts() -> list[tuple]:
    with engine.connect("owner") as conn:
        return conn.execute(
            sa.text(
                "select notification_id, attempt, error from analytics.notification_attempts"
                " order by notification_id, attempt"
            )
        ).all()


def body(event: str, *, ack: bool = True) -> str:
    lines = [
        f"tickets-drop is {event} for Harbor, evaluated {D}.",
        "tickets below -50 percent",
        "",
        f"- Harbor: {DROP}",
    ]
    if ack:
        lines += [
            "",
            f"Acknowledge: boxoffice alerts ack tickets-drop {T} --tenant {T} --by YOUR-NAME",
            f"Silence: boxoffice alerts silence tickets-drop --tenant {T}"
            " --until 'YYYY-MM-DD HH:MM' --reason WHY --by YOUR-NAME",
        ]
    return "\n".join(lines) + "\n"


def test_firing_and_resolving_mail_each_recipient_over_starttls_with_a_login(
    migrated_db, tmp_path, monkeypatch
):
    path = rules(tmp_path, "ops")
    dropping()
    with mail_server(tmp_path) as (url, mailbox):
        monkeypatch.setenv("BOXOFFICE_SMTP_URL", url)
        judge(D, path, now=T0)
        assert [(m[0], m[1], m[3]) for m in mailbox.messages] == [
            ("alerts@boxoffice.test", ["ops@venue.example"], True),
            ("alerts@boxoffice.test", ["boss@venue.example"], True),
        ]
        mail = mailbox.messages[0][2]
        assert mail["Subject"] == "[boxoffice] Harbor: tickets-drop firing (Harbor)"
        assert mail["To"] == "ops@venue.example"
        assert mail.get_content().replace("\r\n", "\n") == body("firing")
        assert queue().select("event", "recipient", "status", "attempts").rows() == [
            ("firing", "ops@venue.example", "sent", 1),
            ("firing", "boss@venue.example", "sent", 1),
        ]
        assert [a[1:] for a in attempts()] == [(1, None), (1, None)]

        judge(D, path, now=T0 + dt.timedelta(hours=3))  # the same date: nothing is sent again
        assert len(mailbox.messages) == 2

        loading.load(
            tenant(
                {
                    D - dt.timedelta(days=7): 10,
                    D: 4,
                    D - dt.timedelta(days=6): 5,
                    D + dt.timedelta(days=1): 5,
                }
            ),
            source="test",
        )
        judge(D + dt.timedelta(days=1), path, now=T0 + dt.timedelta(days=1))
        resolved = [m[2] for m in mailbox.messages[2:]]
        assert [m["Subject"] for m in resolved] == [
            "[boxoffice] Harbor: tickets-drop resolved (Harbor)"
        ] * 2
        assert (
            resolved[0]
            .get_content()
            .startswith(
                f"tickets-drop is resolved for Harbor, evaluated {D + dt.timedelta(days=1)}."
            )
        )


def test_webhooks_get_the_documented_json_and_slack_text(migrated_db, tmp_path, monkeypatch):
    path = rules(tmp_path, "hook, chat")
    dropping()
    with http_server() as (base, hooks):
        monkeypatch.setenv("TEST_HOOK_URL", f"{base}/hook/T0-secret")
        monkeypatch.setenv("TEST_CHAT_URL", f"{base}/chat")
        judge(D, path, now=T0)
        ids = dict(queue().select("channel", "notification_id").rows())
        subject = "[boxoffice] Harbor: tickets-drop firing (Harbor)"
        assert hooks.posts == [
            (
                "/hook/T0-secret",
                {
                    "tenant": {"id": T, "name": "Harbor"},
                    "rule": "tickets-drop",
                    "kind": "change",
                    "metric": "tickets",
                    "event": "firing",
                    "evaluated": "2026-10-14",
                    "description": "tickets below -50 percent",
                    "scope": "tenant",
                    "scopes": [
                        {
                            "scope_key": T,
                            "label": "Harbor",
                            "value": -60.0,
                            "lower": -50.0,
                            "upper": None,
                            "explanation": DROP,
                        }
                    ],
                    "subject": subject,
                    "text": body("firing"),
                    "notification_id": ids["hook"],
                },
            ),
            ("/chat", {"text": f"*{subject}*\n{body('firing')}"}),
        ]


def test_a_failing_slow_or_down_server_keeps_it_queued_until_a_later_evaluation_delivers_it_once(
    migrated_db, tmp_path, monkeypatch
):
    path = rules(tmp_path, "hook")
    dropping()
    with http_server() as (base, hooks):
        monkeypatch.setenv("TEST_HOOK_URL", f"{base}/hook/T0-secret")
        hooks.mode = "fail"
        judge(D, path, now=T0)
        row = queue().row(0, named=True)
        assert (row["status"], row["attempts"], row["last_error"]) == (
            "queued",
            1,
            "webhook hook: HTTP 500 Internal Server Error",
        )
        assert row["next_attempt_at"] == T0 + dt.timedelta(minutes=5)  # backoff: 5 min

        judge(D, path, now=T0 + dt.timedelta(minutes=1))  # not due yet: not tried
        assert queue()["attempts"].to_list() == [1]

        hooks.mode = "slow"  # answers after 2 s; the timeout is 0.5 s
        judge(D, path, now=T0 + dt.timedelta(minutes=10))
        row = queue().row(0, named=True)
        assert (row["attempts"], row["last_error"]) == (2, "webhook hook: no answer within 0.5 s")
        assert row["next_attempt_at"] == T0 + dt.timedelta(minutes=20)  # then 10 min
        with engine.connect("owner") as conn:
            took = conn.execute(
                sa.text("select seconds from analytics.notification_attempts where attempt = 2")
            ).scalar_one()
        assert took < hooks.delay  # it gave up; it did not wait for the answer

        monkeypatch.setenv("TEST_HOOK_URL", f"http://127.0.0.1:{closed_port()}/hook/T0-secret")
        judge(D, path, now=T0 + dt.timedelta(minutes=30))
        assert queue()["last_error"].to_list() == ["webhook hook: connection refused"]

        monkeypatch.setenv("TEST_HOOK_URL", f"{base}/hook/T0-secret")
        hooks.mode = "ok"
        judge(D, path, now=T0 + dt.timedelta(hours=2))
        judge(D, path, now=T0 + dt.timedelta(hours=9))
        assert [p[1]["event"] for p in hooks.posts] == ["firing"]  # once
        assert queue().select("status", "attempts", "last_error").rows() == [("sent", 4, None)]
        assert [a[1:] for a in attempts()] == [
            (1, "webhook hook: HTTP 500 Internal Server Error"),
            (2, "webhook hook: no answer within 0.5 s"),
            (3, "webhook hook: connection refused"),
            (4, None),
        ]


def test_one_evaluation_delivers_no_longer_than_its_budget(migrated_db, tmp_path, monkeypatch):
    path = rules(tmp_path, "hook, slow2, slow3", max_seconds=0.8)
    dropping()
    with http_server() as (base, hooks):
        monkeypatch.setenv("TEST_HOOK_URL", f"{base}/hook")
        hooks.mode = "slow"  # every attempt takes its 0.5 s timeout
        judge(D, path, now=T0)
        tried = queue()["attempts"].to_list()
        assert all(n <= 1 for n in tried) and 0 in tried  # what the budget left stays queued


def test_a_channel_that_keeps_failing_is_told_through_the_other(migrated_db, tmp_path, monkeypatch):
    path = rules(tmp_path, "ops", failing_after=2)
    dropping()
    monkeypatch.setenv("BOXOFFICE_SMTP_URL", f"smtp://127.0.0.1:{closed_port()}")
    with http_server() as (base, hooks):
        for name in ("TEST_HOOK_URL", "TEST_CHAT_URL"):
            monkeypatch.setenv(name, f"{base}/{name}")
        judge(D, path, now=T0)
        judge(D, path, now=T0 + dt.timedelta(hours=1))  # each mail now failed twice
        assert hooks.posts == []
        judge(D, path, now=T0 + dt.timedelta(hours=2))
        told = {path: doc for path, doc in hooks.posts}
        assert sorted(told) == ["/TEST_CHAT_URL", "/TEST_HOOK_URL"]  # the other channels
        doc = told["/TEST_HOOK_URL"]
        assert (doc["rule"], doc["event"], doc["scope"]) == (
            "delivery-failing",
            "firing",
            "channel",
        )
        assert doc["scopes"] == [
            {
                "scope_key": "ops",
                "label": "ops",
                "value": 2.0,
                "lower": None,
                "upper": None,
                "explanation": "2 attempt(s), last error: mail server: connection refused",
            }
        ]


def test_silences_renotify_and_acknowledgement(migrated_db, tmp_path, monkeypatch):
    path = rules(tmp_path, "hook")
    dropping(days=4)
    day = lambda i: D + dt.timedelta(days=i)  # noqa: E731
    with http_server() as (base, hooks):
        monkeypatch.setenv("TEST_HOOK_URL", f"{base}/hook")
        stored.add_silence(
            tenant=T,
            rule="tickets-drop",
            scope_key=None,
            until=T0 + dt.timedelta(hours=12),
            reason="planned outage",
            by="ann",
        )
        judge(day(0), path, now=T0)
        assert hooks.posts == [] and queue().height == 0  # silenced: fired, told nobody
        judge(day(1), path, now=T0 + dt.timedelta(days=1))  # the silence is over
        assert [(p[1]["event"], p[1]["subject"]) for p in hooks.posts] == [
            ("renotify", "[boxoffice] Harbor: tickets-drop still firing (Harbor)")
        ]
        judge(day(2), path, now=T0 + dt.timedelta(days=1, minutes=30))  # within renotify_hours
        assert len(hooks.posts) == 1
        judge(day(3), path, now=T0 + dt.timedelta(days=1, hours=2))
        assert len(hooks.posts) == 2
        assert hooks.posts[1][1]["scopes"][0]["explanation"] == (
            f"firing since {D}: value -60 (fires below -50)"
        )

        acknowledged = stored.acknowledge(tenant=T, rule="tickets-drop", scope_key=T, by="ann")
        assert (acknowledged["state"], acknowledged["acknowledged_by"]) == ("firing", "ann")
        with pytest.raises(stored.Refused, match="already acknowledged by ann"):
            stored.acknowledge(tenant=T, rule="tickets-drop", scope_key=T, by="bob")
        with pytest.raises(stored.Refused, match="no alert tickets-drop for nowhere"):
            stored.acknowledge(tenant=T, rule="tickets-drop", scope_key="nowhere", by="bob")


def test_acknowledged_alerts_are_not_renotified_and_the_reader_cannot_write_states(
    migrated_db, tmp_path, monkeypatch
):
    path = rules(tmp_path, "hook")
    dropping(days=2)
    with http_server() as (base, hooks):
        monkeypatch.setenv("TEST_HOOK_URL", f"{base}/hook")
        judge(D, path, now=T0)
        stored.acknowledge(tenant=T, rule="tickets-drop", scope_key=T, by="ann")
        judge(D + dt.timedelta(days=1), path, now=T0 + dt.timedelta(days=1))
        assert [p[1]["event"] for p in hooks.posts] == ["firing"]  # no renotify: acknowledged
        states = stored.read_alert_states(tenant=T).filter(pl.col("rule") == "tickets-drop")
        assert states.select("state", "acknowledged_by").rows() == [("firing", "ann")]
    with (
        pytest.raises(sa.exc.ProgrammingError, match="permission denied"),
        engine.connect("reader", tenant=T) as conn,
    ):
        conn.execute(sa.text("update analytics.alert_states set acknowledged_by = 'mallory'"))


def test_no_secret_reaches_a_table(migrated_db, tmp_path, monkeypatch):
    path = rules(tmp_path, "ops, hook", timeout_seconds=5)
    dropping()
    with mail_server(tmp_path) as (url, _):
        wrong = url.replace("pa55-w0rd%21", "n0t-the-pa55w0rd")
        monkeypatch.setenv("BOXOFFICE_SMTP_URL", wrong)
        monkeypatch.setenv("TEST_HOOK_URL", f"http://127.0.0.1:{closed_port()}/hook/T0-secret")
        judge(D, path, now=T0)
    errors = set(queue()["last_error"])
    assert errors == {"mail server: login refused (535)", "webhook hook: connection refused"}
    with engine.connect("owner") as conn:
        everything = str(
            conn.execute(sa.text("select * from analytics.notifications")).all()
            + conn.execute(sa.text("select * from analytics.notification_attempts")).all()
        )
    for secret in ("T0-secret", "n0t-the-pa55w0rd", PASSWORD, "127.0.0.1"):
        assert secret not in everything


def test_a_failed_run_fires_run_failed_and_the_next_that_succeeds_resolves_it(
    migrated_db, tmp_path, monkeypatch
):
    (tmp_path / "alerts.yaml").write_text(
        "channels: {hook: {type: webhook, url_env: TEST_HOOK_URL}}\n"
        "rules:\n"
        "  - {name: run-failed, kind: operational, condition: run_failed, notify: hook}\n"
    )
    monkeypatch.setenv("BOXOFFICE_PROJECT_DIR", str(tmp_path))
    dropping()
    run = RunContext(as_of=D, tenants=(T,))
    with http_server() as (base, hooks):
        monkeypatch.setenv("TEST_HOOK_URL", f"{base}/hook")
        record_run(run, "task rfm failed: ZeroDivisionError: division by zero", now=T0)
        record_run(run, "task rfm failed: again", now=T0 + dt.timedelta(minutes=5))  # a retry
        record_run(run, None, now=T0 + dt.timedelta(minutes=10))
        assert [(p[1]["event"], p[1]["scopes"][0]["explanation"]) for p in hooks.posts] == [
            ("firing", "task rfm failed: ZeroDivisionError: division by zero"),
            ("resolved", f"the run of {D} succeeded"),
        ]
    events = stored.read_alert_events(tenant=T, since=D, role="pipeline")
    assert events.select("rule", "from_state", "to_state").rows() == [
        ("run-failed", "firing", "resolved"),
        ("run-failed", "ok", "firing"),
    ]
