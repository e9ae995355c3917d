"""Connect and statement timeouts: a silent database fails every command within the configured
timeout with one line, and a statement running past its role's limit is cancelled."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from boxoffice.warehouse import bulk, engine

TENANT = "7a1e3f52-0c4b-4d0e-9a51-3b8f2d6c9e10"


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts every connection and never sends a byte."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:  # the listener was closed
                return

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for conn in held:
        conn.close()


def boxoffice(*args: str, env: dict[str, str], cwd) -> subprocess.CompletedProcess:
    """The CLI in a fresh process, bounded: a hang fails the test instead of stalling it."""
    return subprocess.run(
        [sys.executable, "-m", "boxoffice.cli", *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
    )


COMMANDS = [
    ["tenants"],
    ["run", "--as-of", "2026-10-31"],
    ["schedule", "--once"],
    ["pricing", "list", "--tenant", TENANT],
    ["pricing", "export", "--tenant", TENANT],
    ["retention", "--older-than", "30"],
    ["doctor"],
    ["db", "upgrade"],
    ["db", "downgrade", "base"],
    ["synth", "--event-days", "0"],
    ["ingest", "events.ndjson"],
    ["db", "dump", "new.dump"],
    ["db", "restore", "old.dump"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a[:2]) for a in COMMANDS])
def test_a_silent_database_is_one_line_naming_the_timeout(args, silent_port, tmp_path):
    (tmp_path / "events.ndjson").write_text("{}\n")
    (tmp_path / "old.dump").write_bytes(b"PGDMP" + bytes(100))
    project = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = boxoffice(
        *args,
        cwd=tmp_path,
        env={
            "BOXOFFICE_DATABASE_URL": f"postgresql://boxoffice@127.0.0.1:{silent_port}/boxoffice",
            "BOXOFFICE_CONNECT_TIMEOUT": "1",
            "BOXOFFICE_HOME": str(tmp_path / "home"),
            "BOXOFFICE_PROJECT_DIR": project,
            "PYTHONPATH": os.pathsep.join(sys.path),
        },
    )
    lines = done.stderr.splitlines()
    assert done.returncode == 1, done.stderr
    assert len(lines) == 1, done.stderr
    assert "timeout" in lines[0] and "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.ndjson", "old.dump"]


def test_reader_statements_past_the_statement_timeout_are_cancelled(migrated_db, monkeypatch):
    monkeypatch.setenv("BOXOFFICE_STATEMENT_TIMEOUT", "1")
    message = (
        r"statement timeout: a statement of the reader role ran longer than 1 s "
        r"\(BOXOFFICE_STATEMENT_TIMEOUT; 0 for no limit\)"
    )
    with pytest.raises(engine.WarehouseError, match=message), engine.connect("reader") as conn:
        conn.execute(sa.text("select pg_sleep(5)"))
    with pytest.raises(engine.WarehouseError, match=message):
        bulk.read_frame("select pg_sleep(5)", role="reader")


def test_each_role_gets_its_configured_statement_timeout(migrated_db, monkeypatch):
    monkeypatch.setenv("BOXOFFICE_STATEMENT_TIMEOUT", "2.5")
    monkeypatch.setenv("BOXOFFICE_PIPELINE_STATEMENT_TIMEOUT", "600")
    query = "select current_setting('statement_timeout') as t"
    shown = {role: bulk.read_frame(query, role=role)["t"][0] for role in ("owner", "reader")}
    with engine.connect("pipeline") as conn:
        shown["pipeline"] = conn.execute(sa.text(query)).scalar_one()
    assert shown == {"owner": "2500ms", "reader": "2500ms", "pipeline": "10min"}


def test_defaults_limit_cli_sessions_to_a_minute_and_leave_the_pipeline_unlimited(
    migrated_db, monkeypatch
):
    monkeypatch.delenv("BOXOFFICE_STATEMENT_TIMEOUT", raising=False)
    monkeypatch.delenv("BOXOFFICE_PIPELINE_STATEMENT_TIMEOUT", raising=False)
    query = "select current_setting('statement_timeout') as t"
    assert bulk.read_frame(query, role="reader")["t"][0] == "1min"
    assert bulk.read_frame(query, role="pipeline")["t"][0] == "0"
    with engine.connect("owner") as conn:
        engine.without_statement_timeout(conn)  # bulk work of the owner: loads, migrations
        assert conn.execute(sa.text(query)).scalar_one() == "0"
    with engine.connect("owner") as conn:  # only for that transaction
        assert conn.execute(sa.text(query)).scalar_one() == "1min"
