"""``ingest``: new behaviour-event files of the landing folder become batches in ``raw``
(validated, pseudonymized, deduplicated; every rejected line a dead letter with its reason). A
file that cannot be read at all (a corrupt gzip file) is set aside in ``rejected/`` with its
reason, and the others go on. Then each tenant's event stream is reconciled for the run's
``as_of`` — days below 80 % of their trailing 7-day mean, and days whose purchase events
disagree with online orders, are flagged — and its conversion funnel counted."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from boxoffice import metrics
from boxoffice.ingest import landing
from boxoffice.monitoring.reconciliation import flagged_days, reconciliation_query
from boxoffice.tasks import context
from boxoffice.tasks.base import LANDING, Outcome, Scope, Task
from boxoffice.warehouse import reads, schema

# what the task reads back for its notebook, besides its own inputs
REVIEWED = ("raw.ingest_batches", "raw.dead_letter", "analytics.event_reconciliation")


@dataclass(frozen=True)
class Params:
    reconcile_days: int = 60  # days of event counts reconciled
    funnel_days: int = 90  # the conversion funnel covers sessions started in these days

    def __post_init__(self) -> None:
        if self.reconcile_days < 1 or self.funnel_days < 1:
            raise ValueError(
                "need reconcile_days and funnel_days ≥ 1, got"
                f" {self.reconcile_days} and {self.funnel_days}"
            )


def load(run: context.RunContext, params: Params) -> landing.Landed:
    """Ingest the landing folder's new files (none when there is no folder)."""
    folder = landing.landing_dir()
    return landing.ingest_new(folder) if folder.is_dir() else landing.Landed()


def review(outcome: Outcome) -> dict:
    """What the notebook shows once the partitions are committed: the newest batches and the
    dead letters' reasons of the 30 days to ``as_of`` (platform-wide), and per tenant its
    reconciled days and the flagged ones."""
    since = outcome.run.as_of - dt.timedelta(days=30)
    tenants = {}
    for tenant in outcome.run.tenants:
        days = Scope(outcome.task, outcome.run.as_of, tenant).read(reads.read_reconciliation)
        tenants[tenant] = {"days": days, "flagged": flagged_days(days) if days.height else days}
    return {
        "batches": reads.read_batches(limit=30),
        "reasons": reads.read_dead_letter_reasons(since=since),
        "tenants": tenants,
    }


TASK = Task(
    name="ingest",
    params=Params,
    reads=(LANDING, "raw.event_day_counts", "raw.events", "source.orders", *REVIEWED),
    loads=(
        "raw.events",
        "raw.event_day_counts",
        "raw.ingest_batches",
        "raw.dead_letter",
    ),
    writes=(schema.event_reconciliation, schema.funnel_daily),
    prepare=load,
    finish=review,
    queries=lambda params: [
        reconciliation_query(days=params.reconcile_days),
        metrics.funnel.funnel_query(days=params.funnel_days),
    ],
)
