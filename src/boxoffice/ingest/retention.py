"""Retention: raw events older than the window are dropped a month at a time.

``raw.events`` is partitioned by month of ``occurred_at``, so removing old events is a
``DROP TABLE`` of whole partitions — instant, no dead rows, no vacuum — instead of a slow
``DELETE``. A month is dropped once *all* of it is older than the cutoff (``now − window``), so
events are kept at least as long as the window and at most a month longer. The end of the
newest dropped month becomes ``raw.retention.events_before``: ingestion then rejects events
from before it (to the dead letter, rule ``within-retention``) rather than re-creating a month
that was deliberately dropped. Their ids stay in ``raw.event_ids``: a replay of old files is
still recognised as duplicates. Dead letters received before the cutoff are deleted too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from boxoffice.warehouse import engine


@dataclass(frozen=True)
class RetentionResult:
    cutoff: dt.datetime
    dropped: list[tuple[str, int]]  # (partition, rows)
    dead_letters_deleted: int
    events_before: dt.datetime | None

    def as_dict(self) -> dict:
        return {
            "cutoff": self.cutoff.isoformat(),
            "dropped": [{"partition": p, "rows": n} for p, n in self.dropped],
            "events_deleted": sum(n for _, n in self.dropped),
            "dead_letters_deleted": self.dead_letters_deleted,
            "events_before": self.events_before.isoformat() if self.events_before else None,
        }


def apply_retention(
    older_than_days: int, *, now: dt.datetime | None = None, dry_run: bool = False
) -> RetentionResult:
    """Drop the months of ``raw.events`` entirely older than ``older_than_days`` days, and the
    dead letters received before then, in one transaction as the pipeline role (the drops go
    through ``raw.drop_event_months``, which grants exactly them). ``dry_run`` reports without
    changing anything."""
    if older_than_days < 1:
        raise ValueError(f"--older-than must be at least 1 day, got {older_than_days}")
    try:
        cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=older_than_days)
    except OverflowError:
        raise ValueError(f"--older-than {older_than_days} reaches before the year 1") from None
    with engine.connect("pipeline") as conn:
        before = conn.execute(sa.text("select events_before from raw.retention")).scalar()
        expired = conn.execute(
            sa.text("select * from raw.drop_event_months(:cutoff, :dry)"),
            {"cutoff": cutoff, "dry": dry_run},
        ).all()
        old = {"cutoff": cutoff}
        dead = conn.execute(
            sa.text("select count(*) from raw.dead_letter where received_at < :cutoff"), old
        ).scalar()
        if not dry_run:
            conn.execute(sa.text("delete from raw.dead_letter where received_at < :cutoff"), old)
    if expired:
        newest = max(upper for _, upper, _ in expired)
        before = max(before, newest) if before else newest
    return RetentionResult(cutoff, [(name, rows) for name, _, rows in expired], dead, before)
