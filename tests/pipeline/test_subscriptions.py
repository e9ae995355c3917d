"""Subscriptions of reports.yaml delivered against the built small world, through a real mail
server and a real webhook receiver on 127.0.0.1: a pack due is mailed once with its PDF and
workbook, a failed mail is retried by the next delivery, a second delivery the same day sends
nothing, a webhook gets links, and a period whose run has not completed gets one "delayed"
notice instead of an older pack."""

import datetime as dt
import subprocess

import polars as pl
import pytest
from click.testing import CliRunner

from boxoffice.cli import main
from boxoffice.pipeline import packs
from boxoffice.warehouse import alerts as stored
from boxoffice.warehouse import reads
from tests.alerts.servers import closed_port, http_server, mail_server

AS_OF = dt.date(2026, 10, 31)
SUNDAY = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)  # 09:00 in Paris
BASE = "https://reports.venue.test/boxoffice"

RULES = """
channels:
  ops-hook: {type: webhook, url_env: OPS_HOOK_URL}
rules: []
"""


@pytest.fixture
def project(built_world, monkeypatch, tmp_path):
    """A project whose reports.yaml subscribes one tenant weekly (on Sunday, Paris time) and
    the other daily; reports go to a folder of the test's own."""
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", built_world["url"])
    tenants = reads.list_tenants().sort("name")
    (first, first_name), (second, second_name) = tenants.rows()
    (tmp_path / "alerts.yaml").write_text(RULES)
    (tmp_path / "reports.yaml").write_text(
        f"""
tenants:
  {first_name}: {{currency: EUR, timezone: Europe/Paris}}
subscriptions:
  - name: weekly-pack
    tenant: {first_name}
    to: [gm@venue.test, ops-hook]
    cadence: weekly on sunday
    formats: [pdf, xlsx, link]
    days: 7
  - name: daily-pack
    tenant: {second}
    to: ceo@venue.test
    cadence: daily
"""
    )
    monkeypatch.setenv("BOXOFFICE_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("BOXOFFICE_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("BOXOFFICE_REPORTS_URL", BASE)
    return {"first": (first, first_name), "second": (second, second_name), "dir": tmp_path}


def deliveries(tenant: str) -> pl.DataFrame:
    mine = stored.read_notifications(tenant=tenant)
    return mine.filter(pl.col("rule").str.starts_with("subscription:")).sort("notification_id")


def test_a_due_pack_is_mailed_once_with_its_files_and_a_failed_mail_is_retried(
    project, monkeypatch, tmp_path
):
    first, name = project["first"]
    with mail_server(tmp_path) as (url, mailbox), http_server() as (hook, hooks):
        monkeypatch.setenv("OPS_HOOK_URL", f"{hook}/ops")
        # the mail server is down: the webhook gets its links, the mail stays queued
        monkeypatch.setenv("BOXOFFICE_SMTP_URL", f"smtp://127.0.0.1:{closed_port()}?starttls=off")
        done, delivered = packs.deliver(now=SUNDAY)
        weekly = next(r for r in done if r["subscription"] == "weekly-pack")
        assert (weekly["tenant"], weekly["as_of"], weekly["done"]) == (first, AS_OF, "queued")
        assert delivered[first] == {"sent": 1, "failed": 1}
        [(path, posted)] = hooks.posts
        assert path == "/ops"
        folder = f"{AS_OF}/harbor-arts/weekly-pack"
        assert posted["kind"] == "report-pack" and posted["subscription"] == "weekly-pack"
        assert posted["period"] == {"start": "2026-10-25", "end": "2026-10-31"}
        assert posted["links"] == {
            "pdf": f"{BASE}/{folder}/report.pdf",
            "xlsx": f"{BASE}/{folder}/report.xlsx",
            "html": f"{BASE}/{folder}/report.html",
        }
        assert "attach" not in posted and "files" not in posted
        queued = deliveries(first).filter(pl.col("status") == "queued")
        assert queued["recipient"].to_list() == ["gm@venue.test"]
        assert "connection refused" in queued["last_error"][0]

        # the next delivery, after the backoff, with the server up: mailed, once
        monkeypatch.setenv("BOXOFFICE_SMTP_URL", url)
        later = SUNDAY + dt.timedelta(minutes=6)
        done, delivered = packs.deliver(now=later)
        assert next(r for r in done if r["subscription"] == "weekly-pack")["done"] == "already"
        assert delivered[first] == {"sent": 1, "failed": 0}
        [(sender, _, message, tls)] = [m for m in mailbox.messages if m[1] == ["gm@venue.test"]]
        assert sender == "alerts@boxoffice.test"
        assert tls and message["Subject"] == (
            f"[boxoffice] {name}: report pack weekly-pack (2026-10-31)"
        )
        files = {p.get_filename(): p.get_content() for p in message.iter_attachments()}
        assert sorted(files) == ["report.pdf", "report.xlsx"]
        assert files["report.pdf"][:5] == b"%PDF-" and files["report.xlsx"][:2] == b"PK"
        pdf = project["dir"] / "mailed.pdf"
        pdf.write_bytes(files["report.pdf"])
        text = subprocess.run(["pdftotext", pdf, "-"], capture_output=True, check=True).stdout
        assert f"{name}: executive report" in text.decode()
        assert "The 7 days 2026-10-25 to 2026-10-31" in text.decode()
        assert "EUR " in text.decode() and "(Europe/Paris)" in text.decode()
        body = message.get_body(("plain",)).get_content()
        assert "the 7 days 2026-10-25 to 2026-10-31" in body
        assert f"{BASE}/{folder}/report.html" in body  # the link to the page

        # the same day again: nothing is sent twice
        sent = len(mailbox.messages)
        done, delivered = packs.deliver(now=later + dt.timedelta(hours=3))
        assert delivered[first] == {"sent": 0, "failed": 0}
        assert len(mailbox.messages) == sent and len(hooks.posts) == 1
        log = deliveries(first)
        assert log.select("channel", "recipient", "status", "attempts").rows() == [
            ("(addresses)", "gm@venue.test", "sent", 2),
            ("ops-hook", "ops-hook", "sent", 1),
        ]


def test_a_period_whose_run_has_not_completed_gets_one_delayed_notice(
    project, monkeypatch, tmp_path
):
    second, name = project["second"]
    with mail_server(tmp_path) as (url, mailbox):
        monkeypatch.setenv("BOXOFFICE_SMTP_URL", url)
        monkeypatch.setenv("OPS_HOOK_URL", "http://127.0.0.1:9/unused")
        monday = dt.datetime(2026, 11, 2, 7, 0, tzinfo=dt.UTC)  # the pack of 2026-11-01: no run
        for hours in (0, 2):
            done, _ = packs.deliver(now=monday + dt.timedelta(hours=hours))
            daily = next(r for r in done if r["subscription"] == "daily-pack")
            assert daily["as_of"] == dt.date(2026, 11, 1)
            assert daily["done"] == ("delayed" if hours == 0 else "delayed (told before)")
        [(_, _, message, _)] = [m for m in mailbox.messages if m[1] == ["ceo@venue.test"]]
        subject = f"[boxoffice] {name}: report pack delayed daily-pack (2026-11-01)"
        assert message["Subject"].strip() == subject  # a long subject is folded
        assert "is delayed: that run has not completed" in message.get_content()
        assert not list(message.iter_attachments())  # no older pack in its place
        of_the_day = deliveries(second).filter(pl.col("evaluated") == dt.date(2026, 11, 1))
        assert of_the_day.select("event", "recipient", "status").rows() == [
            ("delayed", "ceo@venue.test", "sent")
        ]


def test_report_renders_one_file_on_demand_and_refuses_a_date_without_a_run(project, tmp_path):
    first, name = project["first"]
    out = tmp_path / "harbor.xlsx"
    result = CliRunner().invoke(
        main, ["report", "--tenant", first, "--as-of", "2026-10-31", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{out}: ")
    assert out.read_bytes()[:2] == b"PK"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".report")) == []
    refused = CliRunner().invoke(
        main, ["report", "--tenant", first, "--as-of", "2026-11-01", "--format", "pdf"]
    )
    assert refused.exit_code == 1
    assert f"{name} has no completed run of 2026-11-01" in refused.output
