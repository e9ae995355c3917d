"""Which notifications an evaluation sends, and what they say. Pure: frames in, frames out
(the alerts task queues them; :mod:`boxoffice.alerts.send` delivers them).

An evaluation notifies, per rule:

- **firing**: the scopes that started firing; **resolved**: the scopes that stopped;
- **renotify**: the scopes still firing that this evaluation judged, when the rule has a
  ``renotify_hours`` and the last notification is at least that old (or there was none, e.g. it
  fired while silenced), unless someone acknowledged them.

A silenced scope (a silence of its rule, for it or for every scope, until a later time) is
left out. The scopes of one rule and event go in **one** message (a channel outage that drops
every venue is one notification listing the venues), sent to each of the rule's channels: one
row per channel and recipient (an e-mail address; a webhook's channel name). The key — rule,
date evaluated, event — makes it once: a date evaluated again queues nothing new (a rule judged
on every evaluation, like ``delivery-failing``, changes state at most once per evaluation, and
its key holds the evaluation's time).

The built-in ``delivery-failing`` rule, whose scopes are channels, notifies through the
tenant's other channels (through the failing ones only when there are no others).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from boxoffice.alerts.rules import DELIVERY_FAILING, Channel, Rule

QUEUED = {
    "key": pl.String,
    "rule": pl.String,
    "event": pl.String,
    "evaluated": pl.Date,
    "scope_keys": pl.List(pl.String),
    "channel": pl.String,
    "recipient": pl.String,
    "subject": pl.String,
    "body": pl.String,
    "payload": pl.Object,
}
SILENCES = {"rule": pl.String, "scope_key": pl.String, "until": pl.Datetime("us", "UTC")}
WORDS = {"firing": "firing", "resolved": "resolved", "renotify": "still firing", "test": "test"}


def plan(
    *,
    tenant: tuple[str, str],
    rules: tuple[Rule, ...],
    channels: dict[str, Channel],
    before: pl.DataFrame,
    after: pl.DataFrame,
    events: pl.DataFrame,
    silences: pl.DataFrame,
    as_of: dt.date,
    now: dt.datetime,
    labels: dict[str, str] | None = None,
) -> tuple[list[dict], list[tuple[str, str]]]:
    """The notifications to queue (one dict per channel and recipient, :data:`QUEUED`'s
    fields) and the (rule, scope) pairs they notify, whose ``notified_at`` becomes ``now``.
    ``before`` and ``after`` are the states around the evaluation, ``events`` its changes."""
    labels = labels or {}
    judged_before = {
        (r["rule"], r["scope_key"]): r["evaluated"] for r in before.iter_rows(named=True)
    }
    quiet = _silenced(silences, now)
    queued: list[dict] = []
    notified: list[tuple[str, str]] = []
    for rule in rules:
        scopes: dict[str, list[dict]] = {"firing": [], "resolved": [], "renotify": []}
        for e in events.filter(pl.col("rule") == rule.name).iter_rows(named=True):
            if e["to_state"] in ("firing", "resolved"):
                scopes[e["to_state"]].append(e)
        started = {e["scope_key"] for e in scopes["firing"]}
        for s in after.filter(
            (pl.col("rule") == rule.name) & (pl.col("state") == "firing")
        ).iter_rows(named=True):
            last = judged_before.get((rule.name, s["scope_key"]))
            if s["scope_key"] in started or (last is not None and last >= as_of):
                continue  # just fired, or this date was already judged
            if s["acknowledged_by"] is None and _due(rule, s["notified_at"], now):
                scopes["renotify"].append(
                    s | {"explanation": f"firing since {s['since']}: {_value(s)}"}
                )
        for event, rows in scopes.items():
            rows = [r for r in rows if not quiet(rule.name, r["scope_key"])]
            if not rows:
                continue
            targets = _targets(rule, channels, after)
            message = compose(tenant, rule, event, rows, as_of, labels)
            queued += addressed(message, _key(rule, as_of, event, now), targets, channels)
            if targets:
                notified += [(rule.name, r["scope_key"]) for r in rows]
    return queued, notified


def addressed(
    message: dict, key: str, targets: tuple[str, ...], channels: dict[str, Channel]
) -> list[dict]:
    """``message`` once per channel of ``targets`` and recipient (each address of an e-mail
    channel; a webhook's channel name), under ``key``."""
    return [
        message | {"key": key, "channel": name, "recipient": recipient}
        for name in targets
        for recipient in (channels[name].to if channels[name].type == "email" else (name,))
    ]


def _key(rule: Rule, as_of: dt.date, event: str, now: dt.datetime) -> str:
    """What makes a notification once: its rule, date and event — and, for a rule judged on
    every evaluation, the evaluation's time."""
    key = f"{rule.name}|{as_of}|{event}"
    return f"{key}|{now.isoformat()}" if rule.per_evaluation else key


def _due(rule: Rule, notified_at: dt.datetime | None, now: dt.datetime) -> bool:
    if notified_at is None:
        return True
    return rule.renotify_hours is not None and now - notified_at >= dt.timedelta(
        hours=rule.renotify_hours
    )


def _silenced(silences: pl.DataFrame, now: dt.datetime):
    active = [
        (s["rule"], s["scope_key"]) for s in silences.iter_rows(named=True) if s["until"] > now
    ]

    def quiet(rule: str, scope_key: str) -> bool:
        return any(r == rule and k in (None, scope_key) for r, k in active)

    return quiet


def _targets(rule: Rule, channels: dict[str, Channel], after: pl.DataFrame) -> tuple[str, ...]:
    if rule.name != DELIVERY_FAILING.name:
        return tuple(c for c in rule.notify if c in channels)
    failing = set(
        after.filter((pl.col("rule") == rule.name) & (pl.col("state") == "firing"))["scope_key"]
    )
    others = tuple(c for c in sorted(channels) if c not in failing)
    return others or tuple(sorted(failing & set(channels)))


def _value(row: dict) -> str:
    bounds = [f"above {row['upper']:g}" if row["upper"] is not None else ""]
    bounds.append(f"below {row['lower']:g}" if row["lower"] is not None else "")
    held = " or ".join(b for b in bounds if b)
    value = "none" if row["value"] is None else f"{row['value']:g}"
    return f"value {value}" + (f" (fires {held})" if held else "")


def compose(
    tenant: tuple[str, str],
    rule: Rule,
    event: str,
    rows: list[dict],
    as_of: dt.date,
    labels: dict[str, str],
) -> dict:
    """One message about ``rows`` (scopes with their ``value``, ``lower``, ``upper`` and
    ``explanation``): subject, plain-text body, and the JSON document a webhook gets."""
    tenant_id, tenant_name = tenant
    who = tenant_name or tenant_id
    labels = {tenant_id: who, **labels}
    scope = rule.scope
    shown = [labels.get(r["scope_key"], r["scope_key"]) for r in rows]
    what = shown[0] if len(rows) == 1 else f"{len(rows)} {scope}s"
    named = "" if scope == "tenant" else f"{scope} "
    subject = f"[boxoffice] {who}: {rule.name} {WORDS[event]} ({what})"
    lines = [
        f"{rule.name} is {WORDS[event]} for {who}, evaluated {as_of}.",
        rule.description,
        "",
        *(f"- {named}{label}: {r['explanation']}" for label, r in zip(shown, rows, strict=True)),
    ]
    if event in ("firing", "renotify"):
        first = rows[0]["scope_key"]
        lines += [
            "",
            f"Acknowledge: boxoffice alerts ack {rule.name} {first} --tenant {tenant_id}"
            " --by YOUR-NAME",
            f"Silence: boxoffice alerts silence {rule.name} --tenant {tenant_id}"
            " --until 'YYYY-MM-DD HH:MM' --reason WHY --by YOUR-NAME",
        ]
    body = "\n".join(lines) + "\n"
    payload = {
        "tenant": {"id": tenant_id, "name": tenant_name},
        "rule": rule.name,
        "kind": rule.kind,
        "metric": rule.metric,
        "event": event,
        "evaluated": as_of.isoformat(),
        "description": rule.description,
        "scope": rule.scope,
        "scopes": [
            {
                "scope_key": r["scope_key"],
                "label": label,
                **{k: r.get(k) for k in ("value", "lower", "upper", "explanation")},
            }
            for label, r in zip(shown, rows, strict=True)
        ],
        "subject": subject,
        "text": body,
    }
    return {
        "rule": rule.name,
        "event": event,
        "evaluated": as_of,
        "scope_keys": [r["scope_key"] for r in rows],
        "subject": subject,
        "body": body,
        "payload": payload,
    }


BACKOFF_FIRST = dt.timedelta(minutes=5)
BACKOFF_MOST = dt.timedelta(hours=6)


def backoff(attempts: int) -> dt.timedelta:
    """How long a notification that failed ``attempts`` times waits before the next try:
    exponential backoff, ``5 min · 2^(attempts − 1)``, at most 6 hours (5, 10, 20, 40 min, …)."""
    return min(BACKOFF_FIRST * 2 ** (attempts - 1), BACKOFF_MOST)
