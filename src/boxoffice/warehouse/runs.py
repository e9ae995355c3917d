"""Run bookkeeping in the warehouse: the pipeline's advisory lock, ``analytics.pipeline_runs``,
and how many rows a run's partitions hold."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from boxoffice.warehouse import engine
from boxoffice.warehouse.schema import pipeline_runs

LOCK_KEY = 0x626F786F6666  # "boxoff": the pipeline's advisory lock


class LockHeld(RuntimeError):
    """Another session holds the pipeline's advisory lock."""


@contextmanager
def advisory_lock() -> Iterator[None]:
    """Hold the pipeline's session-level advisory lock, or raise :class:`LockHeld` at once.
    The lock lives as long as its connection, so a killed run releases it too."""
    with engine.engine("pipeline").connect() as conn:
        got = conn.execute(sa.select(sa.func.pg_try_advisory_lock(LOCK_KEY))).scalar_one()
        conn.commit()
        if not got:
            raise LockHeld("another boxoffice run is in progress (advisory lock held)")
        try:
            yield
        finally:
            conn.execute(sa.select(sa.func.pg_advisory_unlock(LOCK_KEY)))
            conn.commit()


def record_start(as_of: dt.date, tenants: Sequence[str], trigger: str) -> uuid.UUID:
    run_id = uuid.uuid4()
    with engine.connect("pipeline") as conn:
        conn.execute(
            pipeline_runs.insert().values(
                run_id=run_id,
                as_of=as_of,
                tenants=",".join(tenants),
                trigger=trigger,
                status="running",
                started_at=sa.func.now(),
            )
        )
    return run_id


def record_finish(
    run_id: uuid.UUID, status: str, *, error: str | None = None, report_path: Path | None = None
) -> None:
    with engine.connect("pipeline") as conn:
        conn.execute(
            pipeline_runs.update()
            .where(pipeline_runs.c.run_id == run_id)
            .values(
                status=status,
                finished_at=sa.func.now(),
                error=error,
                report_path=str(report_path) if report_path else None,
            )
        )


def completed_dates() -> set[dt.date]:
    """Dates with a run that succeeded or found everything up to date."""
    query = sa.select(pipeline_runs.c.as_of).where(
        pipeline_runs.c.status.in_(["succeeded", "skipped"])
    )
    with engine.connect("pipeline") as conn:
        return set(conn.execute(query.distinct()).scalars())


def partition_rows(
    tables: Sequence[sa.Table], as_of: dt.date, tenants: Sequence[str]
) -> dict[str, int]:
    """Rows in each table's ``(tenant, as_of)`` partitions (read as the owner, across tenants)."""
    ids = [uuid.UUID(t) for t in tenants]
    with engine.connect("owner") as conn:
        return {
            f"{t.schema}.{t.name}": conn.execute(
                sa.select(sa.func.count()).where(t.c.as_of == as_of, t.c.tenant_id.in_(ids))
            ).scalar_one()
            for t in tables
        }


def source_change_mark() -> str:
    """How many changes of ``source`` sales were ever queued (the change queue's sequence, not
    its rows, which a refresh consumes): the ``sales-aggregates`` task's parameter, so Ploomber
    runs it again when tickets change, and not when nothing did."""
    with engine.connect("owner") as conn:
        return str(
            conn.execute(
                sa.text(
                    "select pg_sequence_last_value("
                    "pg_get_serial_sequence('source.ticket_changes', 'change_id'))"
                )
            ).scalar_one()
            or 0
        )
