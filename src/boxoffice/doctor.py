"""``boxoffice doctor``: measured health of the warehouse, never assumed.

Unhealthy (exit 1) when the database cannot be reached within the connect timeout, when its
migrations are not at this code's head, when a boxoffice role can bypass row-level security,
when a tenant table lacks forced RLS, or when the newest pipeline run failed or died (a run
still recorded as running whose process is gone). Row counts and the age of the newest data
are reported for each schema, and the database's size with the oldest data kept (raw events,
run partitions, report folders) — what the retention policy bounds.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from dataclasses import dataclass, field

import sqlalchemy as sa

from boxoffice import config
from boxoffice.warehouse import embedded, engine, migrate, schema, tenancy

FIX = "run `boxoffice db upgrade`"


@dataclass
class Report:
    url: str = ""
    server_version: str | None = None
    latency_ms: float | None = None
    revision: str | None = None
    head: str = field(default_factory=migrate.head)
    schemas: dict[str, dict] = field(default_factory=dict)
    storage: dict = field(default_factory=dict)
    load: dict | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {
            "healthy": self.healthy,
            "url": self.url,
            "server_version": self.server_version,
            "latency_ms": self.latency_ms,
            "migration": {"current": self.revision, "head": self.head},
            "schemas": self.schemas,
            "storage": self.storage,
            "load": self.load,
            "problems": self.problems,
            "notes": self.notes,
        }


def diagnose() -> Report:
    report = Report()
    s = config.settings()
    if s.embedded and not embedded.is_initialised(s.pgdata):
        report.url = f"embedded PostgreSQL in {s.pgdata}"
        report.problems.append(
            f"no embedded database in {s.pgdata}: run `boxoffice db upgrade` (or `make demo`)"
        )
        return report
    if s.embedded and not embedded.is_running(s.pgdata):
        report.notes.append(f"the embedded server in {s.pgdata} was not running: started it")
    try:
        url = engine.database_url("owner")
        report.url = url.set(drivername="postgresql").render_as_string(hide_password=True)
        with engine.connect("owner") as conn:
            report.latency_ms = _latency_ms(conn)
            report.server_version = conn.execute(sa.text("show server_version")).scalar_one()
            _check_migrations(conn, report)
            if report.revision == report.head:
                _check_security(conn, report)
                _check_runs(conn, report)
                _check_loads(conn, report)
                _measure_data(conn, report)
                _measure_storage(conn, report)
    except engine.WarehouseError as exc:
        report.problems.append(f"database unreachable: {exc}")
    except sa.exc.DBAPIError as exc:
        report.problems.append(f"database error: {str(exc.orig).strip().splitlines()[0]}")
    return report


def _latency_ms(conn) -> float:
    samples = []
    for _ in range(5):
        t = time.perf_counter()
        conn.execute(sa.text("select 1"))
        samples.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(samples), 3)


def _check_migrations(conn, report: Report) -> None:
    report.revision = migrate.current(conn)
    if report.revision is None:
        report.problems.append(
            f"database has no boxoffice migrations (head is {report.head}): {FIX}"
        )
    elif report.revision != report.head:
        report.problems.append(
            f"migrations at {report.revision}, code expects {report.head}: {FIX}"
        )


def _check_security(conn, report: Report) -> None:
    roles = dict(
        conn.execute(
            sa.text(
                "select rolname, rolbypassrls or rolsuper from pg_roles where rolname = any(:r)"
            ),
            {"r": [tenancy.PIPELINE, tenancy.READER]},
        ).all()
    )
    for role in (tenancy.PIPELINE, tenancy.READER):
        if role not in roles:
            report.problems.append(f"role {role} is missing: run `boxoffice db upgrade`")
        elif roles[role]:
            report.problems.append(f"role {role} bypasses row-level security")
    flags = {
        f"{ns}.{rel}": (enabled, forced)
        for ns, rel, enabled, forced in conn.execute(
            sa.text(
                "select n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity"
                " from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                " where n.nspname = any(:s) and c.relkind in ('r', 'p')"
            ),
            {"s": list(schema.SCHEMAS)},
        )
    }
    for table in schema.tenant_tables():
        name = f"{table.schema}.{table.name}"
        if flags.get(name) != (True, True):
            report.problems.append(f"{name}: row-level security is not enabled and forced")


def _check_runs(conn, report: Report) -> None:
    """The newest run must have finished: failed, abandoned, or dead while recorded running
    (its lock connection is gone) is a problem until a later run of the date completes."""
    last = conn.execute(
        sa.text(
            "select as_of, status, error, started_at, status = 'running' and not exists"
            " (select from pg_stat_activity a where a.pid = r.backend_pid"
            "  and a.backend_start <= r.started_at) as dead"
            " from analytics.pipeline_runs r order by started_at desc limit 1"
        )
    ).one_or_none()
    if last is None:
        return
    when = f"the newest run (as_of {last.as_of}, started {last.started_at:%Y-%m-%d %H:%M %Z})"
    if last.dead or last.status == "abandoned":
        report.problems.append(
            f"{when} died without an outcome (killed or crashed): the next run rebuilds its date"
        )
    elif last.status == "failed":
        report.problems.append(f"{when} failed: {last.error}")


def _check_loads(conn, report: Report) -> None:
    """The newest ``boxoffice load`` (checks aside): what it did; refused or failed is a problem
    until a later load succeeds (nothing of it was written)."""
    last = conn.execute(
        sa.select(schema.loads)
        .where(schema.loads.c.outcome != "checked")
        .order_by(schema.loads.c.finished_at.desc())
        .limit(1)
    ).one_or_none()
    if last is None:
        return
    kinds = ("read", "inserted", "updated", "deleted", "rejected")
    totals = {k: sum(t.get(k, 0) for t in last.tables.values()) for k in kinds}
    report.load = {
        "source": last.source,
        "mode": last.mode,
        "outcome": last.outcome,
        "finished_at": last.finished_at,
        "seconds": round((last.finished_at - last.started_at).total_seconds(), 1),
        "rows": totals,
        "problems": last.problems,
    }
    when = f"the newest load (from {last.source}, {last.finished_at:%Y-%m-%d %H:%M %Z})"
    if last.outcome == "refused":
        report.problems.append(
            f"{when} was refused: {last.problems:,} problem(s), nothing written"
            " (`boxoffice load --check` lists them)"
        )
    elif last.outcome == "failed":
        report.problems.append(f"{when} failed: {last.error}")


def _measure_storage(conn, report: Report) -> None:
    size = conn.execute(sa.text("select pg_database_size(current_database())")).scalar_one()
    events = conn.execute(sa.select(sa.func.min(schema.raw_events.c.occurred_at))).scalar()
    runs = [conn.execute(sa.select(sa.func.min(t.c.as_of))).scalar() for t in schema.PER_RUN]
    reports = config.settings().reports_dir
    folders = sorted(
        p.name for p in (reports.iterdir() if reports.is_dir() else ()) if _is_date(p.name)
    )
    report.storage = {
        "database_bytes": size,
        "oldest_raw_event": events.isoformat() if events else None,
        "oldest_run_partition": min((d for d in runs if d), default=None),
        "oldest_report_folder": folders[0] if folders else None,
    }


def _is_date(name: str) -> bool:
    try:
        return dt.date.fromisoformat(name).isoformat() == name
    except ValueError:
        return False


def _measure_data(conn, report: Report) -> None:
    now = dt.datetime.now(dt.UTC)
    for schema_name in schema.SCHEMAS:
        tables = [t for t in schema.metadata.sorted_tables if t.schema == schema_name]
        rows, newest = {}, None
        for table in tables:
            fresh = table.info.get("freshness")
            columns = [sa.func.count()] + ([sa.func.max(table.c[fresh])] if fresh else [])
            count, *latest = conn.execute(sa.select(*columns).select_from(table)).one()
            rows[table.name] = count
            if latest and latest[0] is not None:
                moment = _as_datetime(latest[0])
                newest = max(newest, moment) if newest else moment
        report.schemas[schema_name] = {
            "rows": rows,
            "total_rows": sum(rows.values()),
            "newest": newest.isoformat() if newest else None,
            "age_hours": round((now - newest).total_seconds() / 3600, 1) if newest else None,
        }
    if report.schemas.get("source", {}).get("total_rows") == 0:
        report.notes.append("source is empty: `boxoffice synth` generates a demo world")


def _as_datetime(value: dt.date | dt.datetime) -> dt.datetime:
    """Dates (local days in analytics) count from the start of the day, in UTC."""
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value, dt.time(), dt.UTC)
