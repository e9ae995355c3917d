"""Crash safety, proved: `boxoffice run` killed (SIGKILL to its process group) during ingest,
inside a task's partition write, between two tasks and during the report. After each kill no
process of the run is left, the run lock is free, the run is recorded as not finished (never
succeeded), readers still see no half-built date, and in the end a plain rerun leaves every
table as an uninterrupted run of the same world does. `boxoffice synth` killed mid-load leaves
the previous world whole."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from boxoffice.synth.stream import write_event_stream
from boxoffice.warehouse import engine, runs, schema
from tests.conftest import WORLD_END, build_small_world

AS_OF = WORLD_END.isoformat()
# generated ids and times, which differ between any two runs; every other column is compared
# (floating-point ones to 7 significant digits: a parallel sum may differ in its last bits
# between any two runs, crashed or not)
VOLATILE = {
    "raw.ingest_batches": {"batch_id", "input_name", "started_at", "finished_at"},  # + the path
    "raw.events": {"batch_id", "received_at"},
    "raw.event_ids": {"batch_id"},
    "raw.event_day_counts": {"last_batch_id", "updated_at"},
    "raw.dead_letter": {"dead_letter_id", "batch_id", "received_at"},
    "source.ticket_changes": {"change_id", "recorded_at"},
    "analytics.sales_refresh": {"refreshed_at", "mode", "days"},  # how, not what
    "analytics.price_recommendations": {"created_at", "decided_at"},
    "analytics.pipeline_runs": None,  # the run history itself differs, by design
    "analytics.run_lock": None,
}


def _sql(url: str, statement: str, params=()):
    with psycopg.connect(engine.libpq_url(make_url(url))) as conn:
        return conn.execute(statement, params).fetchall()


def _rows(table: sa.Table) -> str | None:
    """Each row of ``table`` as text, volatile columns left out (None: not compared)."""
    volatile = VOLATILE.get(f"{table.schema}.{table.name}", set())
    if volatile is None:
        return None
    columns = [
        f'"{c.name}"::real' if isinstance(c.type, sa.Float) else f'"{c.name}"'
        for c in table.columns
        if c.name not in volatile
    ]
    return f"row({', '.join(columns)})::text"


def tables(url: str) -> dict[str, list[str]]:
    """Every compared table's rows as sorted text."""
    out = {}
    for table in schema.metadata.sorted_tables:
        if (row := _rows(table)) is not None:
            name = f"{table.schema}.{table.name}"
            out[name] = [r for (r,) in _sql(url, f"select {row} from {name} order by 1")]
    return out


def checksums(url: str) -> dict[str, str]:
    """md5 over each table's rows (volatile columns left out), order-independent."""
    return {
        name: hashlib.md5("|".join(rows).encode()).hexdigest() for name, rows in tables(url).items()
    }


def differences(expected: dict[str, list[str]], url: str) -> dict[str, dict[str, list[str]]]:
    """Per differing table, a few rows only one side has (what a failure shows)."""
    out = {}
    for name, rows in tables(url).items():
        if rows != expected[name]:
            mine, theirs = set(rows), set(expected[name])
            out[name] = {"only here": sorted(mine - theirs)[:3], "only in the reference":
                         sorted(theirs - mine)[:3]}  # fmt: skip
    return out


def _world(make_database, tmp_path: Path, name: str) -> dict:
    world = build_small_world(make_database(), tmp_path / name / "manifest.json")
    landing = tmp_path / name / "landing"
    landing.mkdir()
    return {**world, "landing": landing, "reports": tmp_path / name / "reports"}


def _env(world: dict, tmp_path: Path, mark: str) -> dict:
    return {
        **os.environ,
        "BOXOFFICE_DATABASE_URL": world["url"],
        "BOXOFFICE_LANDING_DIR": str(world["landing"]),
        "BOXOFFICE_REPORTS_DIR": str(world["reports"]),
        "BOXOFFICE_HOME": str(tmp_path / "home"),
        "BOXOFFICE_CRASH_MARK": mark,  # inherited by every process of the run
    }


def _run(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "boxoffice.cli", "run", "--as-of", AS_OF],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: what a supervisor kills
    )


def _marked(mark: str) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and f"BOXOFFICE_CRASH_MARK={mark}".encode() in (
                proc / "environ"
            ).read_bytes().split(b"\0"):
                pids.append(int(proc.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return pids


def _kill_when(process: subprocess.Popen, ready: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 600
    while not ready():
        assert process.poll() is None, f"the run ended before {what}: {process.stderr.read()}"
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _busy_with(url: str, pattern: str) -> Callable[[], bool]:
    """A pipeline session whose current or last statement of an open transaction matches."""
    return lambda: bool(
        _sql(
            url,
            "select 1 from pg_stat_activity where usename = %s"
            " and state in ('active', 'idle in transaction') and query ilike %s",
            [engine.ROLE_NAMES["pipeline"], pattern],
        )
    )


def _after_a_crash(world: dict, mark: str, monkeypatch) -> None:
    """What must hold after any kill."""
    deadline = time.monotonic() + 20  # a child notices its parent's death within a poll
    while (left := _marked(mark)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left == [], f"processes of the killed run are still alive: {left}"
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", world["url"])
    [(status, pid)] = _sql(
        world["url"],
        "select status, backend_pid from analytics.pipeline_runs order by started_at desc limit 1",
    )
    assert status == "running"  # as the dead run left it: not finished, never succeeded
    deadline = time.monotonic() + 10  # the server ends the session when it sees the socket close
    while _sql(world["url"], "select 1 from pg_stat_activity where pid = %s", [pid]):
        assert time.monotonic() < deadline, "the killed run's session outlived it"
        time.sleep(0.1)
    assert [r["as_of"] for r in runs.dead_runs()] == [WORLD_END]
    with runs.run_lock():  # free: the killed session's transaction is gone with it
        pass
    # no reader sees the date: its run did not finish
    with psycopg.connect(engine.libpq_url(engine.database_url("reader"))) as conn:
        for tenant in (t["tenant_id"] for t in world["manifest"]["tenants"]):
            conn.execute("select set_config('app.tenant_id', %s, false)", [tenant])
            assert conn.execute("select count(*) from analytics.completed_runs").fetchone() == (0,)


@pytest.mark.slow
def test_a_run_killed_anywhere_leaves_nothing_half_done_and_a_rerun_completes_it(
    make_database, tmp_path, monkeypatch
):
    reference, crashed = (_world(make_database, tmp_path, n) for n in ("reference", "crashed"))
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", reference["url"])  # the stream reads orders
    files = write_event_stream(
        reference["landing"],
        start=WORLD_END - dt.timedelta(days=13),
        end=WORLD_END,
        seed=3,
        malformed=0.002,
        duplicates=0.005,
    )
    for f in files:
        shutil.copy(f, crashed["landing"])
    mark = uuid.uuid4().hex
    ok = _run(_env(reference, tmp_path, mark))
    assert ok.wait() == 0, ok.stderr.read()
    expected = tables(reference["url"])

    env = _env(crashed, tmp_path, mark)
    url, nb = crashed["url"], crashed["reports"] / AS_OF / "_operations"
    between, report = nb / ".attribution.ipynb.metadata", nb / "report.ipynb"
    points = [
        ("during ingest", _busy_with(url, "%ingest_staging%"), report),
        ("inside a partition write", _busy_with(url, "%staging_customer_value%"), report),
        ("between two tasks", between.exists, between),
        ("during the report", report.exists, report),
    ]
    for what, ready, leftover in points:
        leftover.unlink(missing_ok=True)  # a killed run before may have left it: wait for ours
        _kill_when(_run(env), ready, what)
        _after_a_crash(crashed, mark, monkeypatch)

    rerun = _run(env)
    assert rerun.wait() == 0, rerun.stderr.read()
    statuses = _sql(url, "select status from analytics.pipeline_runs order by started_at")
    assert [s for (s,) in statuses] == ["abandoned"] * 4 + ["succeeded"]
    assert differences(expected, url) == {}
    assert (nb / "report.html").stat().st_size > 0


def test_synth_killed_mid_load_leaves_the_previous_world_whole(make_database, tmp_path):
    world = build_small_world(make_database(), tmp_path / "synth" / "manifest.json")
    before, manifest = checksums(world["url"]), world["manifest_path"].read_bytes()
    env = {**os.environ, "BOXOFFICE_DATABASE_URL": world["url"], "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "boxoffice.cli", "synth", "--scale", "small", "--seed", "99"]
    command += ["--manifest", str(world["manifest_path"]), "--event-days", "0"]
    process = subprocess.Popen(
        command, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    for line in process.stderr:  # the first tenant is in, uncommitted; the second is coming
        if "tenant 1/2" in line:
            break
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert checksums(world["url"]) == before
    assert world["manifest_path"].read_bytes() == manifest
