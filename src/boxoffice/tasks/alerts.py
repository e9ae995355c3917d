"""``alerts``: each tenant's rules of ``alerts.yaml`` (``docs/alerts.md``) judged on the run's
date, their states moved (ok → pending → firing → resolved), every change of state recorded
with its value, bounds and explanation, the notifications queued with them in the same
transaction, and the queue then delivered (``boxoffice.alerts.send``) within the rules' time
budget — what is not delivered stays queued and is retried, with backoff, by later
evaluations.

Judged here: threshold and change rules on the sales metrics, and the built-in
``delivery-failing`` rule; the other kinds and metrics are listed as not judged. A rules file
that is not right fails the task before any tenant is judged; a date judged again changes
nothing and queues nothing (it only retries what is queued).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from boxoffice import config
from boxoffice.alerts import evaluate, notify, rules, send, series
from boxoffice.tasks import context
from boxoffice.tasks.base import ALERT_RULES, Outcome, Scope, Task, progress
from boxoffice.warehouse import alerts as stored
from boxoffice.warehouse import reads

SALES_METRICS = {"net_revenue", "tickets", "orders", "refund_rate", "average_order_value"}


@dataclass(frozen=True)
class Params:
    rules: str = ALERT_RULES  # the rules file, relative to the project
    history_days: int = 60  # local days of sales read: the longest window and its base

    def __post_init__(self) -> None:
        if self.history_days < 14:
            raise ValueError(f"need history_days ≥ 14, got {self.history_days}")


def judged_here(rule: rules.Rule) -> bool:
    return (
        rule.kind in ("threshold", "change") and rule.metric in SALES_METRICS
    ) or rule.condition == "delivery_failed"


def rules_file(params: Params) -> Path:
    path = Path(params.rules)
    return path if path.is_absolute() else config.project_root() / path


def delivery_judged(failing: pl.DataFrame) -> pl.DataFrame:
    """The ``delivery-failing`` rule's judgement: per channel that has notifications, breached
    when one is still queued after the rules' ``failing_after`` attempts."""
    what = pl.format(
        "{} attempt(s), last error: {}", pl.col("attempts"), pl.col("last_error").fill_null("none")
    )
    return failing.select(
        pl.col("channel").alias("scope_key"),
        pl.col("attempts").cast(pl.Float64).alias("value"),
        pl.lit(None, pl.Float64).alias("lower"),
        pl.lit(None, pl.Float64).alias("upper"),
        pl.col("failing").alias("breached"),
        what.alias("explanation"),
    )


def judge_tenant(
    scope: Scope,
    name: str,
    own: tuple[rules.Rule, ...],
    channels: dict[str, rules.Channel],
    delivery: rules.Delivery,
    params: Params,
    now: dt.datetime,
) -> dict:
    """One tenant's rules on ``scope.as_of``: its new states and events, the notifications
    they send, and the rules left."""
    daily, per_event, events = scope.read(stored.read_alert_sales, days=params.history_days)
    before = scope.read(stored.read_alert_states)
    failing = scope.read(stored.failing_channels, attempts=delivery.failing_after)
    states, changes = [], []
    for rule in own:
        if not judged_here(rule):
            continue
        if rule.condition == "delivery_failed":
            judged = delivery_judged(failing)
        else:
            frame = series.sales_series(daily, per_event, events, rule.scope, scope.tenant)
            judged = evaluate.judge(frame, rule, scope.as_of)
        after, happened = evaluate.step(
            before, judged, rule, scope.as_of, again=rule.per_evaluation
        )
        states.append(after)
        changes.append(happened)
    after = pl.concat(states) if states else pl.DataFrame(schema=evaluate.STATES)
    changed = pl.concat(changes) if changes else pl.DataFrame(schema=evaluate.EVENTS)
    queued, notified = notify.plan(
        tenant=(scope.tenant, name),
        rules=own,
        channels=channels,
        before=before,
        after=after,
        events=changed,
        silences=scope.read(stored.read_silences),
        as_of=scope.as_of,
        now=now,
        labels=scope.read(stored.read_labels),
    )
    return {
        "states": after,
        "events": changed,
        "queued": queued,
        "notified": notified,
        "not judged": [r.name for r in own if not judged_here(r)],
    }


def deliver(
    tenant: str,
    channels: dict[str, rules.Channel],
    delivery: rules.Delivery,
    *,
    now: dt.datetime,
    deadline: float,
) -> dict[str, int]:
    """Deliver ``tenant``'s due notifications until ``deadline`` (``time.monotonic()``)."""

    def one(row: dict) -> None:
        channel = channels.get(row["channel"])
        if channel is None:
            raise send.DeliveryError(f"channel {row['channel']} is no longer in the rules file")
        send.deliver(channel, row, timeout=delivery.timeout_seconds)

    return stored.deliver_due(
        one, tenant=tenant, now=now, deadline=deadline, backoff=notify.backoff
    )


def evaluate_rules(
    run: context.RunContext, params: Params, *, now: dt.datetime | None = None
) -> dict[str, dict]:
    """Every tenant of the run judged and saved, one transaction per tenant (a tenant already
    judged for the date is left as it is, so a run that failed part-way is finished by the
    next), then every tenant's queue delivered within the rules' ``delivery.max_seconds``."""
    rule_set = rules.read_rules(rules_file(params))  # a bad file fails before any tenant
    now = now or dt.datetime.now(dt.UTC)
    names = dict(reads.list_tenants().rows())
    done = {}
    for i, tenant in enumerate(run.tenants, 1):
        started = time.perf_counter()
        name = names.get(tenant, "")
        own, channels = rule_set.for_tenant(tenant, name)
        result = judge_tenant(
            Scope(TASK, run.as_of, tenant), name, own, channels, rule_set.delivery, params, now
        )
        result["written"] = stored.save_alerts(
            result["states"],
            result["events"],
            tenant=tenant,
            queued=result["queued"],
            notified=result["notified"],
            now=now,
        )
        result["channels"] = channels
        done[tenant] = result
        progress(TASK.name, tenant, i, len(run.tenants), time.perf_counter() - started)
    deadline = time.monotonic() + rule_set.delivery.max_seconds
    for tenant, result in done.items():
        result["delivered"] = deliver(
            tenant, result.pop("channels"), rule_set.delivery, now=now, deadline=deadline
        )
    return done


def summary(outcome: Outcome) -> pl.DataFrame:
    """Per tenant: its scopes by state, the changes of this date, the notifications queued and
    delivered, the rules not judged."""
    rows = []
    for tenant, result in outcome.prepared.items():
        counts = dict(result["states"].group_by("state").len().rows())
        rows.append(
            {
                "tenant": tenant,
                **{s: counts.get(s, 0) for s in ("ok", "pending", "firing", "resolved")},
                "changes": result["events"].height,
                "queued": result["written"]["notifications"],
                "sent": result["delivered"]["sent"],
                "failed": result["delivered"]["failed"],
                "not judged": ", ".join(result["not judged"]),
            }
        )
    return pl.DataFrame(rows)


TASK = Task(
    name="alerts",
    params=Params,
    reads=(
        ALERT_RULES,
        "analytics.sales_daily",
        "analytics.event_sales_daily",
        "analytics.events",
        "source.venues",
        "analytics.alert_states",
        "analytics.alert_silences",
        "analytics.notifications",
    ),
    loads=(
        "analytics.alert_states",
        "analytics.alert_events",
        "analytics.notifications",
        "analytics.notification_attempts",
    ),
    prepare=evaluate_rules,
    finish=summary,
)
