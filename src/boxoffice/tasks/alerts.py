"""``alerts``: each tenant's rules of ``alerts.yaml`` (``docs/alerts.md``) judged on the run's
date, and their states moved (ok → pending → firing → resolved), every change of state
recorded with its value, bounds and explanation. Threshold and change rules on the sales
metrics are judged; the other kinds and metrics are not built yet and are listed as such. A
rules file that is not right fails the task before any tenant is judged; a date judged again
changes nothing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from boxoffice import config
from boxoffice.alerts import evaluate, rules, series
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
    return rule.kind in ("threshold", "change") and rule.metric in SALES_METRICS


def rules_file(params: Params) -> Path:
    path = Path(params.rules)
    return path if path.is_absolute() else config.project_root() / path


def judge_tenant(scope: Scope, own: tuple[rules.Rule, ...], params: Params) -> dict:
    """One tenant's rules on ``scope.as_of``: its new states and events, and the rules left."""
    daily, per_event, events = scope.read(stored.read_alert_sales, days=params.history_days)
    before = scope.read(stored.read_alert_states)
    states, changes = [], []
    for rule in own:
        if not judged_here(rule):
            continue
        frame = series.sales_series(daily, per_event, events, rule.scope, scope.tenant)
        after, happened = evaluate.step(
            before, evaluate.judge(frame, rule, scope.as_of), rule, scope.as_of
        )
        states.append(after)
        changes.append(happened)
    return {
        "states": pl.concat(states) if states else pl.DataFrame(schema=evaluate.STATES),
        "events": pl.concat(changes) if changes else pl.DataFrame(schema=evaluate.EVENTS),
        "not judged": [r.name for r in own if not judged_here(r)],
    }


def evaluate_rules(run: context.RunContext, params: Params) -> dict[str, dict]:
    """Every tenant of the run judged and saved, one transaction per tenant (a tenant already
    judged for the date is left as it is, so a run that failed part-way is finished by the
    next)."""
    rule_set = rules.read_rules(rules_file(params))  # a bad file fails before any tenant
    names = dict(reads.list_tenants().rows())
    done = {}
    for i, tenant in enumerate(run.tenants, 1):
        started = time.perf_counter()
        own, _channels = rule_set.for_tenant(tenant, names.get(tenant, ""))
        result = judge_tenant(Scope(TASK, run.as_of, tenant), own, params)
        result["written"] = stored.save_alerts(result["states"], result["events"], tenant=tenant)
        done[tenant] = result
        progress(TASK.name, tenant, i, len(run.tenants), time.perf_counter() - started)
    return done


def summary(outcome: Outcome) -> pl.DataFrame:
    """Per tenant: its scopes by state, the changes of this date, the rules not judged."""
    rows = []
    for tenant, result in outcome.prepared.items():
        counts = dict(result["states"].group_by("state").len().rows())
        rows.append(
            {
                "tenant": tenant,
                **{s: counts.get(s, 0) for s in ("ok", "pending", "firing", "resolved")},
                "changes": result["events"].height,
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
        "analytics.alert_states",
    ),
    loads=("analytics.alert_states", "analytics.alert_events"),
    prepare=evaluate_rules,
    finish=summary,
)
