"""``boxoffice db dump | restore``: a round trip keeps every table's content, roles and security."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from boxoffice.cli import main
from boxoffice.warehouse import embedded, engine
from tests import test_timeouts

silent_port = test_timeouts.silent_port  # a fixture: a port that accepts and never answers

TABLES_SQL = """
    select schemaname || '.' || tablename from pg_tables
    where schemaname in ('public', 'source', 'raw', 'analytics') order by 1
"""


def checksums(url: str) -> dict[str, tuple[int, str | None]]:
    """Rows and an order-independent digest of every boxoffice table (the owner bypasses RLS),
    but ``source.dumps``: the dumped database records the dump, made after its own snapshot."""
    with psycopg.connect(engine.libpq_url(make_url(url))) as conn:
        tables = [name for (name,) in conn.execute(TABLES_SQL) if name != "source.dumps"]
        return {
            name: conn.execute(
                f"select count(*), md5(string_agg(t::text, '' order by t::text)) from {name} t"
            ).fetchone()
            for name in tables
        }


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def world_dump(small_world, tmp_path_factory):
    path = tmp_path_factory.mktemp("dump") / "world.dump"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BOXOFFICE_DATABASE_URL", small_world["url"])
        result = cli("db", "dump", str(path))
    assert result.exit_code == 0, result.output
    return path


def test_a_round_trip_keeps_every_tables_checksum(
    small_world, world_dump, make_database, home, monkeypatch
):
    target = make_database()
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", target)
    result = cli("db", "restore", str(world_dump))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"restored {world_dump}\n"
    before, after = checksums(small_world["url"]), checksums(target)
    assert after == before
    with psycopg.connect(engine.libpq_url(make_url(small_world["url"]))) as conn:
        assert str(world_dump.resolve()) in {
            path for (path,) in conn.execute("select path from source.dumps")
        }
    assert before["source.tickets"][0] == small_world["manifest"]["rows"]["tickets"]
    assert "public.alembic_version" in before and "raw.events" in before
    doctor = CliRunner().invoke(main, ["doctor", "--json"])
    assert doctor.exit_code == 0, doctor.output  # migrated, roles in place, RLS forced
    assert json.loads(doctor.output)["problems"] == []


def test_a_non_empty_database_is_refused_unless_forced(small_world, world_dump, migrated_db):
    before = checksums(migrated_db)
    refused = cli("db", "restore", str(world_dump))
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: database t_") and "is not empty" in refused.stderr
    assert "--force" in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert checksums(migrated_db) == before
    forced = cli("db", "restore", "--force", str(world_dump))
    assert forced.exit_code == 0, forced.output
    assert checksums(migrated_db) == checksums(small_world["url"])


def test_what_is_not_a_dump_is_refused_and_changes_nothing(empty_db, tmp_path):
    garbage = tmp_path / "garbage"
    garbage.write_bytes(bytes(range(256)))
    truncated = tmp_path / "truncated.dump"
    truncated.write_bytes(b"PGDMP" + bytes(100))
    cases = [
        ([str(garbage)], 1, f"{garbage} is not a dump (pg_dump custom format)"),
        ([str(truncated)], 1, "pg_restore failed: "),
        ([str(tmp_path)], 2, "is a directory"),
        ([str(tmp_path / "missing.dump")], 2, "does not exist"),
    ]
    for args, code, message in cases:
        result = cli("db", "restore", *args)
        assert (result.exit_code, len(result.stderr.splitlines())) == (code, 1), result.output
        assert message in result.stderr and "Traceback" not in result.output
    assert checksums(empty_db) == {}


def test_dump_refuses_an_existing_file_and_a_directory(world_dump, small_world, monkeypatch):
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", small_world["url"])
    size = world_dump.stat().st_size
    exists = cli("db", "dump", str(world_dump))
    assert (
        exists.exit_code == 1
        and exists.stderr == f"error: {world_dump} exists: dump to a new file\n"
    )
    assert world_dump.stat().st_size == size
    assert cli("db", "dump", str(world_dump.parent)).exit_code == 2


def _pg_dump_child(parent: int) -> int | None:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    program = f.read().split(b"\0")[0]
            except OSError:  # gone meanwhile
                continue
            if int(fields[1]) == parent and program.endswith(b"/pg_dump"):
                return int(entry)
    return None


def test_the_password_goes_by_environment_never_on_the_command_line(tmp_path, silent_port):
    """pg_dump against a server that accepts and never answers waits out its connect timeout:
    long enough to read its command line and environment."""
    port = silent_port
    env = {
        **os.environ,
        "BOXOFFICE_DATABASE_URL": f"postgresql://owner:s3cret@127.0.0.1:{port}/boxoffice",
        "BOXOFFICE_CONNECT_TIMEOUT": "5",
        "BOXOFFICE_HOME": str(tmp_path / "home"),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    out = tmp_path / "x.dump"
    command = [sys.executable, "-m", "boxoffice.cli", "db", "dump", str(out)]
    with subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) as proc:
        child = None
        while child is None and proc.poll() is None:
            time.sleep(0.05)
            child = _pg_dump_child(proc.pid)
        assert child is not None, proc.communicate()
        with open(f"/proc/{child}/cmdline", "rb") as f:
            argv = f.read().decode().split("\0")
        with open(f"/proc/{child}/environ", "rb") as f:
            environ = f.read().decode(errors="replace").split("\0")
        _, stderr = proc.communicate(timeout=60)
    assert f"--dbname=postgresql://owner@127.0.0.1:{port}/boxoffice" in argv
    assert not any("s3cret" in arg for arg in argv)
    assert "PGPASSWORD=s3cret" in environ and "PGCONNECT_TIMEOUT=5" in environ
    assert proc.returncode == 1 and len(stderr.splitlines()) == 1 and "timeout" in stderr
    assert list(tmp_path.iterdir()) == []


def test_a_dump_restores_into_a_new_embedded_database(small_world, world_dump, home, monkeypatch):
    monkeypatch.delenv("BOXOFFICE_DATABASE_URL", raising=False)
    try:
        result = cli("db", "restore", str(world_dump))
        assert result.exit_code == 0, result.output
        url = cli("db", "url").stdout.strip()
        assert checksums(url) == checksums(small_world["url"])
    finally:
        engine.dispose_all()
        embedded.stop(home / "pgdata")
