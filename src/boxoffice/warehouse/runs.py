"""Run bookkeeping in the warehouse, all as the pipeline role: the run lock,
``analytics.pipeline_runs``, and how many rows a run's partitions hold."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from boxoffice.warehouse import engine
from boxoffice.warehouse.schema import pipeline_runs


class LockHeld(RuntimeError):
    """Another run holds the pipeline's run lock."""


@contextmanager
def run_lock() -> Iterator[int]:
    """Hold the run lock — the row of ``analytics.run_lock``, locked ``for update`` in a
    transaction kept open on a connection of its own — or raise :class:`LockHeld` at once.
    Locking the row needs ``UPDATE`` on it, which only the pipeline role has, so no reader can
    block a run. The lock lives as long as the connection: a killed run releases it too.
    Yields the connection's server process id, which is alive exactly while the run is."""
    with engine.engine("pipeline").connect() as conn:
        try:
            conn.execute(sa.text("select from analytics.run_lock for update nowait"))
        except sa.exc.OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                raise LockHeld("another boxoffice run is in progress (run lock held)") from None
            raise
        try:
            yield conn.execute(sa.select(sa.func.pg_backend_pid())).scalar_one()
        finally:
            conn.rollback()


LOCK_NOT_AVAILABLE = "55P03"
DIED = "abandoned: its process ended without recording an outcome (killed or crashed)"


def record_start(
    as_of: dt.date, tenants: Sequence[str], trigger: str, backend_pid: int
) -> uuid.UUID:
    """Record a run that holds the run lock (``backend_pid``: its lock connection). Runs still
    recorded as running cannot be — the lock was free — so they are marked abandoned first."""
    run_id = uuid.uuid4()
    with engine.connect("pipeline") as conn:
        conn.execute(
            pipeline_runs.update()
            .where(pipeline_runs.c.status == "running")
            .values(status="abandoned", finished_at=sa.func.now(), error=DIED)
        )
        conn.execute(
            pipeline_runs.insert().values(
                run_id=run_id,
                as_of=as_of,
                tenants=",".join(tenants),
                trigger=trigger,
                status="running",
                started_at=sa.func.now(),
                backend_pid=backend_pid,
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


def dead_runs() -> list[dict]:
    """Runs recorded as running whose lock connection is gone: they died without an outcome
    (the next run records them as abandoned)."""
    query = sa.text(
        "select run_id, as_of, started_at from analytics.pipeline_runs r"
        " where status = 'running' and not exists"
        "   (select from pg_stat_activity a"
        "     where a.pid = r.backend_pid and a.backend_start <= r.started_at)"
        " order by started_at"
    )
    with engine.connect("pipeline") as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def finished_ok(as_of: dt.date) -> bool:
    """Whether the newest run of ``as_of`` finished (succeeded or found everything up to date):
    if not, it died or failed part-way, and the next run rebuilds the date."""
    query = (
        sa.select(pipeline_runs.c.status)
        .where(pipeline_runs.c.as_of == as_of)
        .order_by(pipeline_runs.c.started_at.desc())
        .limit(1)
    )
    with engine.connect("pipeline") as conn:
        return conn.execute(query).scalar() in (None, "succeeded", "skipped")


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
    """Rows in each table's ``(tenant, as_of)`` partitions, summed over ``tenants``."""
    rows = {f"{t.schema}.{t.name}": 0 for t in tables}
    with engine.connect("pipeline") as conn:
        for tenant in tenants:
            engine.set_tenant(conn, tenant)
            for t in tables:
                count = sa.select(sa.func.count()).where(t.c.as_of == as_of)
                rows[f"{t.schema}.{t.name}"] += conn.execute(count).scalar_one()
        engine.set_tenant(conn, None)
    return rows


def source_change_mark() -> str:
    """How many changes of ``source`` sales were ever queued (the change queue's sequence, not
    its rows, which a refresh consumes): the ``sales-aggregates`` task's parameter, so Ploomber
    runs it again when tickets change, and not when nothing did."""
    with engine.connect("pipeline") as conn:
        return str(
            conn.execute(
                sa.text(
                    "select pg_sequence_last_value("
                    "pg_get_serial_sequence('source.ticket_changes', 'change_id'))"
                )
            ).scalar_one()
            or 0
        )
