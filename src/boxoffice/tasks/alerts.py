"""``alerts``: each tenant's rules of ``alerts.yaml`` (``docs/alerts.md``) judged on the run's
date, their states moved (ok → pending → firing → resolved), every change of state recorded
with its value, bounds and explanation, the notifications queued with them in the same
transaction, and the queue then delivered (``boxoffice.alerts.send``) within the rules' time
budget — what is not delivered stays queued and is retried, with backoff, by later
evaluations.

Judged here: threshold, change and anomaly rules on every metric series (sales, the
conversion rate, the upcoming events' sales velocity, dead letters), thresholds on the door
scan rate of the day's events, freshness rules, the dead-letter and reconciliation
operational rules, and the built-in ``delivery-failing`` rule; ``run_failed`` rules are
judged by the runner when a run finishes (:func:`record_run`). A rules file
that is not right fails the task before any tenant is judged; a date judged again changes
nothing and queues nothing (it only retries what is queued).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from boxoffice import config
from boxoffice.alerts import evaluate, notify, outbox, rules, series
from boxoffice.tasks import context
from boxoffice.tasks.base import ALERT_RULES, Outcome, Scope, Task, progress
from boxoffice.warehouse import alerts as stored
from boxoffice.warehouse import reads


@dataclass(frozen=True)
class Params:
    rules: str = ALERT_RULES  # the rules file, relative to the project
    history_days: int = 60  # local days of sales read at least (more when a rule needs them)

    def __post_init__(self) -> None:
        if self.history_days <= evaluate.ANOMALY_HISTORY:
            raise ValueError(
                f"need history_days > {evaluate.ANOMALY_HISTORY} (the anomaly models' history),"
                f" got {self.history_days}"
            )


def on_series(rule: rules.Rule) -> bool:
    """A rule judged on a daily metric series: the sales facts, the conversion funnel, the
    events' pickup or the dead letters."""
    return rule.kind in ("threshold", "change", "anomaly") and rule.metric != "scan_rate"


def on_scans(rule: rules.Rule) -> bool:
    """A threshold on the door scans of the events of the day."""
    return rule.kind == "threshold" and rule.metric == "scan_rate"


def on_operations(rule: rules.Rule) -> bool:
    """A freshness rule, or an operational one on the day's dead letters or reconciliation."""
    return rule.kind == "freshness" or rule.condition in ("dead_letters", "reconciliation")


def reference_time(as_of: dt.date, now: dt.datetime) -> dt.datetime:
    """When data is judged fresh or stale: the end of ``as_of`` (UTC), or now if sooner — a
    run of a past date judges the data as it stood at that date's end."""
    return min(now, dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), dt.UTC))


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


def series_for(
    rule: rules.Rule, read: Callable[..., Any], tenant: str, as_of: dt.date, days: int
) -> pl.DataFrame:
    """The daily frame ``rule`` is judged on, over at least the ``days`` local days to
    ``as_of``; ``read(reader, **kwargs)`` calls a warehouse reader for the tenant and date."""
    if rule.metric == "conversion_rate":
        return series.funnel_series(read(reads.read_funnel), tenant)
    if rule.metric == "dead_letters":
        frame = read(stored.read_dead_letter_days, days=days)
        return frame.select(pl.lit(tenant).alias("scope_key"), pl.all())
    if rule.metric == "sales_velocity":
        span = [as_of - dt.timedelta(days=k) for k in reversed(range(days))]
        return series.velocity_series(read(reads.read_event_sales), read(reads.read_events), span)
    daily, per_event, events = read(stored.read_alert_sales, days=days)
    return series.sales_series(daily, per_event, events, rule.scope, tenant)


def judge_tenant(
    scope: Scope,
    name: str,
    own: tuple[rules.Rule, ...],
    channels: dict[str, rules.Channel],
    delivery: rules.Delivery,
    params: Params,
    now: dt.datetime,
) -> dict:
    """One tenant's rules on ``scope.as_of``: its new states and events and the notifications
    they send (``run_failed`` rules are the runner's: :func:`record_run`)."""
    failing = scope.read(stored.failing_channels, attempts=delivery.failing_after)
    before = reference_time(scope.as_of, now)
    seen = scope.read(stored.read_operations, before=before) if any(map(on_operations, own)) else {}
    judged = {}
    for rule in own:
        if rule.condition == "delivery_failed":
            judged[rule] = delivery_judged(failing)
        elif on_series(rule):
            days = evaluate.days_needed(rule)  # each day of pickup is a forecast: no more
            if rule.metric != "sales_velocity":
                days = max(params.history_days, days)
            frame = series_for(rule, scope.read, scope.tenant, scope.as_of, days)
            judged[rule] = evaluate.judge(frame, rule, scope.as_of)
        elif on_operations(rule):
            judged[rule] = evaluate.judge_operations(rule, seen, scope.tenant, before)
        elif on_scans(rule):
            scans = scope.read(stored.read_event_scans, days=max(rule.window, 1))
            judged[rule] = evaluate.judge(series.scan_series(scans), rule, scope.as_of)
    return settle(
        (scope.tenant, name),
        judged,
        channels,
        before=scope.read(stored.read_alert_states),
        silences=scope.read(stored.read_silences),
        labels=scope.read(stored.read_labels),
        as_of=scope.as_of,
        now=now,
    )


def settle(
    tenant: tuple[str, str],
    judged: dict[rules.Rule, pl.DataFrame],
    channels: dict[str, rules.Channel],
    *,
    before: pl.DataFrame,
    silences: pl.DataFrame,
    labels: dict[str, str],
    as_of: dt.date,
    now: dt.datetime,
) -> dict:
    """The rules' judgements turned into states, events and the notifications to queue."""
    states, changes = [], []
    for rule, frame in judged.items():
        after, happened = evaluate.step(before, frame, rule, as_of, again=rule.per_evaluation)
        states.append(after)
        changes.append(happened)
    after = pl.concat(states) if states else pl.DataFrame(schema=evaluate.STATES)
    changed = pl.concat(changes) if changes else pl.DataFrame(schema=evaluate.EVENTS)
    queued, notified = notify.plan(
        tenant=tenant,
        rules=tuple(judged),
        channels=channels,
        before=before,
        after=after,
        events=changed,
        silences=silences,
        as_of=as_of,
        now=now,
        labels=labels,
    )
    return {"states": after, "events": changed, "queued": queued, "notified": notified}


def save(tenant: str, result: dict, now: dt.datetime) -> dict[str, int]:
    return stored.save_alerts(
        result["states"],
        result["events"],
        tenant=tenant,
        queued=result["queued"],
        notified=result["notified"],
        now=now,
    )


def record_run(
    run: context.RunContext, error: str | None, *, now: dt.datetime | None = None
) -> dict[str, dict]:
    """The ``run_failed`` rules of each tenant of a run that finished: firing when it failed
    (``error``, its one line), resolved when a later run succeeds; notified and delivered at
    once. Called by the runner itself, so a failed run is told without any task running."""
    rule_set = rules.read_rules(rules_file(Params()))
    now = now or dt.datetime.now(dt.UTC)
    names = dict(reads.list_tenants().rows())
    deadline = time.monotonic() + rule_set.delivery.max_seconds
    done = {}
    what = error or f"the run of {run.as_of} succeeded"
    for tenant in run.tenants:
        own, channels = rule_set.for_tenant(tenant, names.get(tenant, ""))
        watching = [r for r in own if r.condition == "run_failed"]
        if not watching:
            continue
        judged = pl.DataFrame(
            {
                "scope_key": [tenant],
                "value": [1.0 if error else 0.0],
                "lower": [None],
                "upper": [0.0],
                "breached": [error is not None],
                "explanation": [what],
            },
            schema=evaluate.JUDGED,
        )
        result = settle(
            (tenant, names.get(tenant, "")),
            dict.fromkeys(watching, judged),
            channels,
            before=stored.read_alert_states(tenant=tenant),
            silences=stored.read_silences(tenant=tenant),
            labels={},
            as_of=run.as_of,
            now=now,
        )
        result["written"] = save(tenant, result, now)
        result["delivered"] = outbox.deliver(
            tenant, channels, rule_set.delivery, now=now, deadline=deadline
        )
        done[tenant] = result
    return done


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
        result["written"] = save(tenant, result, now)
        result["channels"] = channels
        done[tenant] = result
        progress(TASK.name, tenant, i, len(run.tenants), time.perf_counter() - started)
    deadline = time.monotonic() + rule_set.delivery.max_seconds
    for tenant, result in done.items():
        result["delivered"] = outbox.deliver(
            tenant, result.pop("channels"), rule_set.delivery, now=now, deadline=deadline
        )
    return done


def summary(outcome: Outcome) -> pl.DataFrame:
    return pl.DataFrame(summary_rows(outcome.prepared))


def summary_rows(prepared: dict[str, dict]) -> list[dict]:
    """Per tenant: its scopes by state, the changes of this date, the notifications queued and
    delivered."""
    rows = []
    for tenant, result in prepared.items():
        counts = dict(result["states"].group_by("state").len().rows())
        rows.append(
            {
                "tenant": tenant,
                **{s: counts.get(s, 0) for s in ("ok", "pending", "firing", "resolved")},
                "changes": result["events"].height,
                "queued": result["written"]["notifications"],
                "sent": result["delivered"]["sent"],
                "failed": result["delivered"]["failed"],
            }
        )
    return rows


def rule_history(rule: rules.Rule, *, tenant: str, as_of: dt.date, days: int) -> pl.DataFrame:
    """The changes of state ``rule`` would have made evaluated on each of the ``days`` days to
    ``as_of`` (``boxoffice alerts test --history``); nothing is written."""
    if not on_series(rule):
        raise ValueError(
            f"rule {rule.name}: --history replays threshold, change and anomaly rules on a"
            f" metric series, not this {rule.kind} rule"
            + (" on each event's door scans" if rule.metric == "scan_rate" else "")
        )
    history = days + max(Params().history_days, evaluate.days_needed(rule))

    def read(reader: Callable[..., Any], **kwargs: Any) -> Any:
        return reader(as_of=as_of, tenant=tenant, **kwargs)

    frame = series_for(rule, read, tenant, as_of, history)
    return evaluate.replay(frame, rule, as_of - dt.timedelta(days=days - 1), as_of)


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
        "source.tickets",
        "raw.events",
        "analytics.completed_runs",
        "raw.dead_letter",
        "analytics.event_reconciliation",
        "analytics.funnel_daily",
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
