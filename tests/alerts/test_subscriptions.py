"""reports.yaml read and checked: tenants' settings, subscriptions and their cadence in their
time zone, each bad entry one clear error with its line; and what a pack's message carries
(attached under the size limit, linked above it)."""

import datetime as dt
from pathlib import Path

import pytest

from boxoffice.alerts.rules import read_rules
from boxoffice.alerts.subscriptions import (
    ADDRESSES,
    Cadence,
    SettingsError,
    TenantSettings,
    addressed,
    pack,
    read_settings,
)

T1, T2 = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
TENANTS = {T1: "Harbor Arts", T2: "Northwind Live"}
GOOD = f"""
defaults: {{currency: GBP}}
delivery: {{attach_up_to_mb: 2}}
tenants:
  Harbor Arts: {{currency: EUR, timezone: Europe/Paris, paper: Letter}}
subscriptions:
  - name: weekly-pack
    tenant: Harbor Arts
    to: [gm@harbor.test, ops]
    cadence: weekly on monday
    formats: [pdf, link]
  - name: month-end
    tenant: {T2}
    to: cfo@northwind.test
    cadence: monthly on 31
    timezone: Pacific/Auckland
    days: 31
"""


def rules(tmp_path: Path):
    path = tmp_path / "alerts.yaml"
    path.write_text(
        "channels:\n  ops: {type: webhook, url_env: OPS_URL}\n"
        "  desk: {type: email, to: [desk@harbor.test, gm@harbor.test]}\n"
    )
    return read_rules(path)


def settings(tmp_path: Path, text: str):
    path = tmp_path / "reports.yaml"
    path.write_text(text)
    return read_settings(path, tenants=TENANTS, rules=rules(tmp_path))


def test_a_good_file_gives_each_tenant_its_settings_and_its_subscriptions(tmp_path):
    read = settings(tmp_path, GOOD)
    assert read.for_tenant(T1, "Harbor Arts") == TenantSettings("EUR", "Europe/Paris", "Letter")
    assert read.for_tenant(T2, "Northwind Live") == TenantSettings("GBP", "UTC", "A4")
    assert read.attach_up_to_bytes == 2_000_000
    weekly, month_end = read.subscriptions
    assert (weekly.to, weekly.cadence, weekly.formats, weekly.days) == (
        ("gm@harbor.test", "ops"), Cadence("weekly", 0), ("pdf", "link"), 7
    )  # fmt: skip
    assert str(month_end.cadence) == "monthly on 31" and month_end.days == 31
    assert read.subscriptions_of(T1, "Harbor Arts") == (weekly,)
    assert read.subscriptions_of(T2) == (month_end,)


def test_no_file_is_every_default(tmp_path):
    read = read_settings(tmp_path / "absent.yaml")
    assert read.defaults == TenantSettings() and read.subscriptions == ()


def test_the_pack_due_is_the_newest_delivery_day_in_the_subscriptions_time_zone(tmp_path):
    weekly, month_end = settings(tmp_path, GOOD).subscriptions
    friday = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
    # weekly on Monday, in the tenant's Paris time: Monday 2026-11-30, the pack of the 29th
    assert weekly.due(friday, "Europe/Paris") == (dt.date(2026, 11, 30), dt.date(2026, 11, 29))
    # monthly on the 31st: in November, its last day; Auckland is 13 hours ahead of UTC
    assert month_end.due(friday, "UTC") == (dt.date(2026, 11, 30), dt.date(2026, 11, 29))
    new_year = dt.datetime(2026, 12, 31, 11, 30, tzinfo=dt.UTC)  # 00:30 on Jan 1 in Auckland
    assert month_end.due(new_year, "UTC") == (dt.date(2026, 12, 31), dt.date(2026, 12, 30))
    assert month_end.due(new_year - dt.timedelta(hours=1), "UTC")[0] == dt.date(2026, 12, 31)
    assert Cadence("daily").latest(dt.date(2026, 3, 1)) == dt.date(2026, 3, 1)
    assert Cadence("monthly", 30).latest(dt.date(2026, 3, 1)) == dt.date(2026, 2, 28)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("tenant: Grand Hall", "line 4: subscription s: tenant: no tenant 'Grand Hall'"),
        ("cadence: fortnightly", "line 6: subscription s: cadence: daily, weekly on a weekday"
         " or monthly on a day (1-31), got 'fortnightly'"),
        ("cadence: weekly on funday", "got 'weekly on funday'"),
        ("cadence: monthly on 32", "got 'monthly on 32'"),
        ("to: []", "line 5: subscription s: to: one or more e-mail addresses or channels"),
        ("to: [pager]", "to: 'pager' is neither an address nor a channel of alerts.yaml"
         " (desk, ops)"),
        ("formats: [pdf, csv]", "formats: some of pdf, xlsx, link, got ['pdf', 'csv']"),
        ("timezone: Mars/Olympus", "timezone: an IANA time zone, got 'Mars/Olympus'"),
        ("days: 0", "days: the days the pack covers (1-366), got 0"),
        ("when: always", "line 7: subscription s: when: not a field of a subscription"),
    ],
)  # fmt: skip
def test_a_bad_subscription_is_one_clear_error_with_its_line(tmp_path, entry, message):
    fields = {"name": "s", "tenant": "Harbor Arts", "to": "[gm@harbor.test]", "cadence": "daily"}
    key = entry.split(":")[0]
    fields[key] = entry.split(": ", 1)[1]
    body = "\n".join(f"    {k}: {v}" for k, v in fields.items())
    text = f"subscriptions:\n  -\n{body}\n"
    with pytest.raises(SettingsError, match=r"reports\.yaml, line") as caught:
        settings(tmp_path, text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("subscriptions:\n  - {tenant: Harbor Arts, to: a@b.test, cadence: daily}",
         "line 2: name: lower case letters"),
        ("subscriptions:\n  - {name: s, to: a@b.test, cadence: daily}",
         "line 2: subscription s: tenant: required"),
        ("tenants:\n  Harbor Arts: {currency: euro}",
         "line 2: tenants.Harbor Arts.currency: a three-letter ISO 4217 code (EUR), got 'euro'"),
        ("tenants:\n  Grand Hall: {currency: EUR}", "line 2: tenants.Grand Hall: no tenant"),
        ("defaults: {paper: A5}", "line 1: defaults.paper: A4 or Letter, got 'A5'"),
        ("delivery: {attach_up_to_mb: 0}", "attach_up_to_mb: megabytes in (0, 100], got 0"),
        ("subscriptions: {}", "subscriptions: a list of subscriptions"),
        ("subscriptions:\n  - {name: s, tenant: Harbor Arts, to: a@b.test, cadence: daily}\n"
         "  - {name: s, tenant: Harbor Arts, to: a@b.test, cadence: daily}",
         "line 3: subscriptions: a second one named s"),
        ("defaults: [", "not YAML"),
    ],
)  # fmt: skip
def test_a_bad_file_is_one_clear_error(tmp_path, text, message):
    with pytest.raises(SettingsError) as caught:
        settings(tmp_path, text)
    assert message in str(caught.value) and str(caught.value).startswith(str(tmp_path))


def test_a_pack_is_attached_under_the_limit_and_linked_above_it(tmp_path):
    weekly, _ = settings(
        tmp_path, GOOD.replace("formats: [pdf, link]", "formats: [pdf, xlsx]")
    ).subscriptions
    tenant = (T1, "Harbor Arts")
    files = {f: f"2026-11-29/harbor-arts/weekly-pack/report.{f}" for f in ("pdf", "xlsx", "html")}
    sizes = {"pdf": 600_000, "xlsx": 400_000, "html": 100_000}
    small = pack(weekly, tenant, dt.date(2026, 11, 29), files, sizes, limit=1_000_000)
    assert small["payload"]["attach"] == [files["pdf"], files["xlsx"]]
    assert small["payload"]["links"] == {}
    assert small["body"].splitlines() == [
        "Harbor Arts: the report pack weekly-pack, the 7 days 2026-11-23 to 2026-11-29 (the run"
        " of 2026-11-29).",
        "Attached: report.pdf (600 kB), report.xlsx (400 kB).",
    ]
    big = pack(weekly, tenant, dt.date(2026, 11, 29), files, sizes, limit=900_000)
    assert big["payload"]["attach"] == []
    assert big["payload"]["links"] == {"pdf": files["pdf"], "xlsx": files["xlsx"]}
    assert "are 1.0 MB together, more than the 0.9 MB a mail carries here" in big["body"]


def test_each_recipient_gets_a_pack_once(tmp_path):
    weekly, _ = settings(
        tmp_path, GOOD.replace("to: [gm@harbor.test, ops]", "to: [gm@harbor.test, desk, ops]")
    ).subscriptions
    _, channels = rules(tmp_path).for_tenant(T1, "Harbor Arts")
    message = {"rule": "subscription:weekly-pack", "payload": {}}
    rows = addressed(message, "k", weekly, channels)
    assert [(r["channel"], r["recipient"]) for r in rows] == [
        (ADDRESSES, "gm@harbor.test"),  # named itself, and in desk: once
        ("desk", "desk@harbor.test"),
        ("ops", "ops"),
    ]
