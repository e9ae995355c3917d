"""JSON logs: one object per line, with the run id and tenant bound at the time of each record."""

from __future__ import annotations

import io
import json
import logging

import pytest
from click.testing import CliRunner

from boxoffice import logs
from boxoffice.cli import main
from boxoffice.warehouse import engine, migrate

TENANT = "7a1e3f52-0c4b-4d0e-9a51-3b8f2d6c9e10"


@pytest.fixture
def records():
    """The JSON lines of what the ``boxoffice.test`` logger writes."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("boxoffice.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    logger.removeHandler(handler)


def test_bind_tags_records_and_restores_the_enclosing_values(records):
    log = logging.getLogger("boxoffice.test")
    log.info("before")
    with logs.bind(run_id="r-1"):
        with logs.bind(tenant=TENANT):
            log.warning("inside %s", "both")
        with logs.bind(run_id=None):
            log.info("run cleared")
        log.info("run only")
    log.info("after")
    got = [(r["message"], r["level"], r["run_id"], r["tenant"]) for r in records()]
    assert got == [
        ("before", "INFO", None, None),
        ("inside both", "WARNING", "r-1", TENANT),
        ("run cleared", "INFO", None, None),
        ("run only", "INFO", "r-1", None),
        ("after", "INFO", None, None),
    ]
    first = records()[0]
    assert sorted(first) == ["level", "logger", "message", "run_id", "tenant", "time"]
    assert first["logger"] == "boxoffice.test" and first["time"].endswith("+00:00")


def test_a_tenant_scoped_connection_binds_its_tenant(migrated_db, records):
    log = logging.getLogger("boxoffice.test")
    with logs.bind(run_id="r-2"), engine.connect("pipeline", tenant=TENANT):
        log.info("scoped")
    with engine.connect("pipeline"):
        log.info("unscoped")
    assert [(r["message"], r["run_id"], r["tenant"]) for r in records()] == [
        ("scoped", "r-2", TENANT),
        ("unscoped", None, None),
    ]


@pytest.mark.parametrize(
    ("args", "env"),
    [(["--log-format", "json"], None), ([], "json")],
    ids=["option", "environment"],
)
def test_the_cli_logs_one_json_object_per_line(empty_db, monkeypatch, args, env):
    if env:
        monkeypatch.setenv("BOXOFFICE_LOG_FORMAT", env)
    result = CliRunner().invoke(main, ["-v", *args, "db", "upgrade"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"database at {migrate.head()} (was empty)\n"
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert lines, "alembic logs each migration at INFO"
    assert {line["logger"] for line in lines} >= {"alembic.runtime.migration"}
    assert all((line["run_id"], line["tenant"]) == (None, None) for line in lines)
    assert any(line["message"].startswith("Running upgrade") for line in lines)


def test_text_is_the_default_and_a_bad_format_is_one_line(empty_db, monkeypatch):
    result = CliRunner().invoke(main, ["-v", "db", "upgrade"], catch_exceptions=False)
    assert any(line.startswith("Running upgrade") for line in result.stderr.splitlines())
    monkeypatch.setenv("BOXOFFICE_LOG_FORMAT", "xml")
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 2
    assert result.stderr == "error: BOXOFFICE_LOG_FORMAT must be text or json, got 'xml'\n"
