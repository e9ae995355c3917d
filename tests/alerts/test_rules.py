"""alerts.yaml read and checked: the project's own file, a tenant's section, and each kind of
mistake named by its file, line, rule and field."""

from pathlib import Path

import pytest

from boxoffice.alerts.rules import DELIVERY_FAILING, Channel, Delivery, Rule, RulesError, read_rules

PROJECT = Path(__file__).parents[2] / "alerts.yaml"

GOOD = """\
channels:
  ops: {type: email, to: ops@venue.example}
  chat: {type: webhook, url_env: CHAT_WEBHOOK_URL, format: slack}
defaults:
  notify: [ops]
  renotify_hours: 12
rules:
  - name: few-tickets
    kind: threshold
    metric: tickets
    scope: venue
    window: 7
    below: 100
    for: 2
  - name: revenue-drop
    kind: change
    metric: net_revenue
    against: same_weekday_last_week
    below: -30
    notify: chat
tenants:
  Harbor Arts:
    channels:
      harbor: {type: email, to: [boss@harbor.example, desk@harbor.example]}
    rules:
      - name: few-tickets
        kind: threshold
        metric: tickets
        below: 10
        notify: [harbor, ops]
    disable: [revenue-drop]
"""


def test_a_good_file_gives_its_rules_with_the_defaults_filled_in(tmp_path):
    path = tmp_path / "alerts.yaml"
    path.write_text(GOOD)
    rules = read_rules(path)
    assert rules.channels == {
        "ops": Channel("ops", "email", to=("ops@venue.example",)),
        "chat": Channel("chat", "webhook", url_env="CHAT_WEBHOOK_URL", format="slack"),
    }
    assert rules.rules == (
        Rule(
            "few-tickets",
            "threshold",
            metric="tickets",
            scope="venue",
            window=7,
            below=100,
            pending=2,
            notify=("ops",),
            renotify_hours=12,
            description="tickets below 100 tickets",
            line=8,
        ),
        Rule(
            "revenue-drop",
            "change",
            metric="net_revenue",
            against="same_weekday_last_week",
            below=-30,
            notify=("chat",),
            renotify_hours=12,
            description="net_revenue below -30 percent",
            line=15,
        ),
    )
    # another tenant gets the defaults; Harbor Arts its own few-tickets and no revenue-drop
    # (and every tenant the built-in delivery-failing)
    assert rules.for_tenant("0000", "Lantern Stages") == (
        (*rules.rules, DELIVERY_FAILING),
        rules.channels,
    )
    harbor, channels = rules.for_tenant("1111", "Harbor Arts")
    assert [(r.name, r.scope, r.below, r.notify, r.line) for r in harbor[:-1]] == [
        ("few-tickets", "tenant", 10, ("harbor", "ops"), 26)
    ]
    assert harbor[-1] == DELIVERY_FAILING
    assert sorted(channels) == ["chat", "harbor", "ops"]
    assert channels["harbor"].to == ("boss@harbor.example", "desk@harbor.example")


def test_the_project_file_is_valid():
    rules = read_rules(PROJECT)
    kinds = {r.kind for r in rules.rules}
    assert kinds == {"anomaly", "change", "threshold", "freshness", "operational"}
    assert all(r.notify == ("operations",) for r in rules.rules)


def replace(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("rules: [", r"line 1: not YAML \(expected the node content"),
        ("- 1", r"line 1: the rules file: a mapping"),
        (
            "rule: []",
            r"line 1: rule: not a field of the rules file \(channels, defaults, delivery,",
        ),
        ("rules:\n  - kind: threshold", r"line 2: name: lower case letters"),
        (
            replace(GOOD, "kind: change", "kind: ratio"),
            r"line 16: rule revenue-drop: kind: one of threshold, change, anomaly, freshness, "
            r"operational, got 'ratio'",
        ),
        (
            replace(GOOD, "metric: tickets\n    scope", "metric: seats\n    scope"),
            r"line 10: rule few-tickets: metric: one of net_revenue, tickets, ",
        ),
        (
            replace(GOOD, "    window: 7\n", "    window: 0\n"),
            r"line 12: rule few-tickets: window: a whole number of days ≥ 1, got 0",
        ),
        (
            replace(GOOD, "    below: 100\n", ""),
            r"line 8: rule few-tickets: above or below: at least one",
        ),
        (
            replace(GOOD, "    for: 2\n", "    for: 2\n    sensitivity: 0.9\n"),
            r"line 15: rule few-tickets: sensitivity: not a field of a threshold rule",
        ),
        (
            replace(GOOD, "notify: chat", "notify: pager"),
            r"line 20: rule revenue-drop: notify: no channel 'pager' \(channels: chat, ops\)",
        ),
        (
            replace(GOOD, "  notify: [ops]", "  notify: [opps]"),
            r"line 5: rule few-tickets: notify: no channel 'opps'",
        ),
        (
            replace(GOOD, "scope: venue", "scope: event\n    metric: conversion_rate"),
            r"line 12: not YAML \('metric' given twice\)",
        ),
        (
            replace(GOOD, "metric: net_revenue", "metric: conversion_rate\n    scope: venue"),
            r"line 18: rule revenue-drop: scope: conversion_rate is measured per tenant, not venue",
        ),
        (
            replace(GOOD, "metric: net_revenue", "metric: scan_rate\n    scope: event"),
            r"line 16: rule revenue-drop: kind: scan_rate is judged by threshold rules",
        ),
        (
            replace(GOOD, "url_env: CHAT_WEBHOOK_URL", "url_env: https://hooks.example/T0/secret"),
            r"line 3: channels\.chat\.url_env: the environment variable holding the URL",
        ),
        (
            replace(GOOD, "to: ops@venue.example", "to: ops"),
            r"line 2: channels\.ops\.to: one or more e-mail addresses",
        ),
        (
            replace(GOOD, "type: email, to: ops", "type: sms, to: ops"),
            r"line 2: channels\.ops\.type: email or webhook, got 'sms'",
        ),
        (
            replace(GOOD, "disable: [revenue-drop]", "disable: [revenue-dip]"),
            r"line 31: tenants\.Harbor Arts\.disable: no default rule revenue-dip",
        ),
        (
            replace(GOOD, "        below: 10\n", "        below: 10\n        window: -1\n"),
            r"line 30: rule few-tickets: window: a whole number of days ≥ 1, got -1",
        ),
        (
            replace(GOOD, "  - name: revenue-drop", "  - name: few-tickets"),
            r"line 15: rules: a second rule named few-tickets",
        ),
        (
            "rules:\n  - name: s\n    kind: freshness\n    of: sales",
            r"line 2: rule s: older_than_hours: required",
        ),
        (
            "rules:\n  - name: d\n    kind: operational\n    condition: dead_letters",
            r"line 2: rule d: above: required for dead_letters",
        ),
        (
            "rules:\n  - name: a\n    kind: anomaly\n    metric: tickets\n    sensitivity: 2",
            r"line 5: rule a: sensitivity: a number in \(0\.5, 0\.999\], got 2",
        ),
        (
            "rules:\n  - name: delivery-failing\n    kind: operational\n    condition: run_failed",
            r"line 2: name: delivery-failing is built in",
        ),
        (
            "delivery:\n  timeout_seconds: 0",
            r"line 2: delivery\.timeout_seconds: seconds in \(0, 120\]",
        ),
        ("delivery:\n  retries: 3", r"line 2: retries: not a field of delivery"),
        (
            "rules:\n  - {name: w, kind: anomaly, metric: refunds, robust: 1}\n",
            r"line 2: rule w: robust: true or false, got 1",
        ),
    ],
)
def test_a_wrong_file_is_named_by_line_rule_and_field(tmp_path, text, says):
    path = tmp_path / "alerts.yaml"
    path.write_text(text)
    with pytest.raises(RulesError, match=rf"^{path}, {says}|^{path}: .*{says}") as raised:
        read_rules(path)
    assert "\n" not in str(raised.value)


def test_a_list_where_a_name_belongs_is_a_clear_error(tmp_path):
    path = tmp_path / "alerts.yaml"
    path.write_text("rules:\n  - name: t\n    kind: threshold\n    metric: [tickets]\n    below: 1")
    with pytest.raises(RulesError, match=r"line 4: rule t: metric: one of net_revenue, .*got \["):
        read_rules(path)


def test_delivery_has_defaults_and_takes_its_own(tmp_path):
    path = tmp_path / "alerts.yaml"
    path.write_text("delivery:\n  timeout_seconds: 2.5\n  failing_after: 5\n")
    assert read_rules(path).delivery == Delivery(
        timeout_seconds=2.5, max_seconds=60, failing_after=5
    )
    path.write_text("rules: []\n")
    assert read_rules(path).delivery == Delivery(10, 60, 3)
