"""Report packs outside a run: one tenant's on demand (``boxoffice report``), and the
subscriptions of ``reports.yaml`` delivered (``boxoffice subscriptions deliver``, and by
``boxoffice schedule`` after each run).

Delivering a subscription, for its newest delivery day up to now in its time zone (a pack
that is due is never replaced by an older one):

- its pack covers the ``days`` ending the day before; when the run of that day has not
  completed for the tenant (it failed, or is still to come), the recipients get one short
  "delayed" notice instead, and the pack follows once the run has completed;
- the pack is rendered into ``reports/<as_of>/<tenant>/<subscription>/`` and queued in the
  notification log (``analytics.notifications``) once per recipient under the key
  ``subscription:<name>|<as_of>|pack``, so a period is never sent twice;
- the queue is then delivered like the alerts' (:mod:`boxoffice.alerts.outbox`): a failure
  stays queued, is retried with backoff by later deliveries and runs, and is listed on the
  operations page.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import polars as pl

from boxoffice import config, warehouse
from boxoffice.alerts import outbox, subscriptions
from boxoffice.alerts.rules import Channel, RuleSet, read_rules
from boxoffice.alerts.subscriptions import ReportSettings, Subscription
from boxoffice.pipeline.runner import PipelineError
from boxoffice.reports import packs, pages
from boxoffice.tasks import report
from boxoffice.tasks.base import ALERT_RULES, REPORT_SETTINGS
from boxoffice.warehouse import alerts as stored
from boxoffice.warehouse import reads


def render(
    tenant: str,
    as_of: dt.date,
    *,
    formats: tuple[str, ...] = tuple(packs.FILES),
    folder: Path | None = None,
    days: int | None = None,
) -> dict[str, dict]:
    """Render ``tenant``'s pack of ``as_of`` (the ``days`` ending then; the report task's
    period by default) into ``folder`` (the tenant's folder of ``reports/<as_of>/``); the run
    of ``as_of`` must have completed for the tenant."""
    names = dict(warehouse.list_tenants().rows())
    if tenant not in names:
        raise PipelineError(f"unknown tenant {tenant}")
    if not completed(tenant, as_of):
        raise PipelineError(
            f"{names[tenant]} has no completed run of {as_of}: `boxoffice run --as-of {as_of}`"
        )
    params = report.TASK.configure({"days": days} if days else {})
    root = config.settings().reports_dir
    folder = folder or root / as_of.isoformat() / folder_of(tenant)
    frames = report.frames(tenant, as_of, params)
    return packs.write_pack(frames, folder, reports_root=root, top=params.top, formats=formats)


def completed(tenant: str, as_of: dt.date) -> bool:
    return as_of in reads.completed_run_dates(tenant=tenant)


def folder_of(tenant: str) -> str:
    return pages.tenant_folders(warehouse.list_tenants())[tenant]


def load_settings() -> tuple[ReportSettings, RuleSet]:
    """The project's ``reports.yaml`` checked against the warehouse's tenants and the channels
    of its ``alerts.yaml``."""
    rules = read_rules(config.project_root() / ALERT_RULES)
    settings = subscriptions.read_settings(
        config.project_root() / REPORT_SETTINGS,
        tenants=dict(warehouse.list_tenants().rows()),
        rules=rules,
    )
    return settings, rules


def deliver(
    *, now: dt.datetime | None = None, say=lambda line: None
) -> tuple[list[dict], dict[str, dict[str, int]]]:
    """Deliver every subscription that is due at ``now`` (see the module docstring), then
    each of their tenants' queues. Returns one row per subscription — its tenant, the run date
    its pack ends on, what was done (``queued``, ``delayed``, ``already`` queued before, or
    ``failed: why``) — and per tenant the notifications sent and failed."""
    now = now or dt.datetime.now(dt.UTC)
    settings, rules = load_settings()
    tenants = warehouse.list_tenants()
    names = dict(tenants.rows())
    ids = {name: tenant for tenant, name in names.items()}
    done = []
    for subscription in settings.subscriptions:
        tenant = subscription.tenant if subscription.tenant in names else ids[subscription.tenant]
        own = settings.for_tenant(tenant, names[tenant])
        day, as_of = subscription.due(now, own.timezone)
        _, channels = rules.for_tenant(tenant, names[tenant])
        try:
            outcome = _queue(subscription, (tenant, names[tenant]), as_of, channels, settings, now)
        except Exception as exc:  # one subscription's failure is told, the others go on
            outcome = f"failed: {exc}"
        say(f"{subscription.name} ({names[tenant]}, {day}, pack of {as_of}): {outcome}")
        done.append({"subscription": subscription.name, "tenant": tenant, "as_of": as_of,
                     "done": outcome})  # fmt: skip
    deadline = time.monotonic() + rules.delivery.max_seconds
    delivered = {}
    for tenant in dict.fromkeys(row["tenant"] for row in done):
        _, channels = rules.for_tenant(tenant, names[tenant])
        delivered[tenant] = outbox.deliver(
            tenant, channels, rules.delivery, now=now, deadline=deadline
        )
        say(f"{names[tenant]}: {delivered[tenant]['sent']} sent,"
            f" {delivered[tenant]['failed']} failed")  # fmt: skip
    return done, delivered


def _queue(
    subscription: Subscription,
    tenant: tuple[str, str],
    as_of: dt.date,
    channels: dict[str, Channel],
    settings: ReportSettings,
    now: dt.datetime,
) -> str:
    key = subscriptions.key(subscription, as_of)
    queued = stored.read_notifications(tenant=tenant[0])
    if queued.filter(queued["key"] == f"{key}|pack").height:
        return "already"
    if not completed(tenant[0], as_of):
        if queued.filter(queued["key"] == f"{key}|delayed").height:
            return "delayed (told before)"
        message = subscriptions.delayed(subscription, tenant, as_of)
        rows = subscriptions.addressed(message, f"{key}|delayed", subscription, channels)
        _save(rows, tenant[0], now)
        return "delayed"
    formats = tuple(f for f in ("pdf", "xlsx") if f in subscription.formats)
    root = config.settings().reports_dir
    folder = root / as_of.isoformat() / folder_of(tenant[0]) / subscription.name
    written = render(
        tenant[0], as_of, formats=(*formats, "html"), folder=folder, days=subscription.days
    )
    files = {f: str(w["path"].relative_to(root)) for f, w in written.items()}
    sizes = {f: w["bytes"] for f, w in written.items()}
    message = subscriptions.pack(
        subscription, tenant, as_of, files, sizes, limit=settings.attach_up_to_bytes
    )
    rows = subscriptions.addressed(message, f"{key}|pack", subscription, channels)
    _save(rows, tenant[0], now)
    return "queued"


def _save(rows: list[dict], tenant: str, now: dt.datetime) -> None:
    empty = pl.DataFrame()
    stored.save_alerts(empty, empty, tenant=tenant, queued=rows, now=now)
