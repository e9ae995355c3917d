"""Bad input to the command line: one line on stderr, exit 1 (failed) or 2 (usage), never a
traceback, and nothing written."""

from __future__ import annotations

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from boxoffice.cli import main
from boxoffice.warehouse import engine

UNKNOWN = "00000000-0000-4000-8000-000000000000"
INJECTION = "'; drop table x; --"


def counts(url: str) -> tuple[int, int, int]:
    """Rows of the tables a command could write: runs, ingest batches, price decisions."""
    with psycopg.connect(engine.libpq_url(make_url(url))) as conn:
        return conn.execute(
            "select (select count(*) from analytics.pipeline_runs),"
            " (select count(*) from raw.ingest_batches),"
            " (select count(*) from analytics.price_history)"
        ).fetchone()


def one_line_error(args: list[str], code: int, message: str):
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    return result


@pytest.fixture
def inputs(world, tmp_path, monkeypatch):
    """The small world, a reports directory that must stay absent, a binary file."""
    monkeypatch.delenv("BOXOFFICE_TENANT", raising=False)
    monkeypatch.setenv("BOXOFFICE_REPORTS_DIR", str(tmp_path / "reports"))
    (tmp_path / "binary").write_bytes(bytes(range(256)) * 4)
    return {
        "A": world["manifest"]["tenants"][0]["tenant_id"],
        "dir": str(tmp_path),
        "binary": str(tmp_path / "binary"),
        "missing_dir": str(tmp_path / "nowhere" / "prices.csv"),
    }


CASES = {
    # the command line itself
    "unknown log format": (
        ["--log-format", "xml", "tenants"],
        2,
        "Invalid value for '--log-format'",
    ),
    "unknown command": (["rnu"], 2, "No such command 'rnu'"),
    # run
    "run: empty date": (["run", "--as-of", ""], 1, "as_of must be a date like 2026-10-31, got ''"),
    "run: no date": (["run"], 2, "Missing option '--as-of'"),
    "run: malformed date": (["run", "--as-of", "2026-02-30"], 1, "as_of must be a date like"),
    "run: date before any data": (
        ["run", "--as-of", "1999-12-31"],
        1,
        "as_of 1999-12-31 is before the first sales data (",
    ),
    "run: date after the data": (
        ["run", "--as-of", "2026-11-01"],
        1,
        "as_of 2026-11-01 is after the newest sales data (2026-10-31)",
    ),
    "run: empty tenant": (
        ["run", "--as-of", "2026-10-31", "--tenant", ""],
        2,
        "--tenant is empty",
    ),
    "run: non-UUID tenant": (
        ["run", "--as-of", "2026-10-31", "--tenant", "acme"],
        1,
        "tenant must be a UUID, got 'acme'",
    ),
    "run: unknown tenant": (
        ["run", "--as-of", "2026-10-31", "--tenant", UNKNOWN],
        1,
        f"unknown tenant(s): {UNKNOWN}",
    ),
    "run: repeated tenant": (
        ["run", "--as-of", "2026-10-31", "--tenant", "{A},{A}"],
        1,
        "tenant {A} is given twice",
    ),
    "run: empty tenant entry": (
        ["run", "--as-of", "2026-10-31", "--tenant", "{A},"],
        1,
        "tenants: empty entry in '{A},'",
    ),
    "run: injection as date": (["run", "--as-of", INJECTION], 1, "as_of must be a date like"),
    "run: injection as tenant": (
        ["run", "--as-of", "2026-10-31", "--tenant", INJECTION],
        1,
        "tenant must be a UUID",
    ),
    # pricing
    "pricing: empty tenant": (["pricing", "list", "--tenant", ""], 2, "which tenant?"),
    "pricing: non-UUID tenant": (
        ["pricing", "list", "--tenant", "acme"],
        2,
        "tenant must be a UUID, got 'acme'",
    ),
    "pricing: unknown tenant": (
        ["pricing", "list", "--tenant", UNKNOWN],
        1,
        f"tenant {UNKNOWN} has no completed run",
    ),
    "pricing: unknown tenant's export": (
        ["pricing", "export", "--tenant", UNKNOWN],
        1,
        f"tenant {UNKNOWN} has no completed run",
    ),
    "pricing: unknown tenant's recommendation": (
        ["pricing", "approve", UNKNOWN, "--by", "x", "--tenant", UNKNOWN],
        1,
        "no such recommendation",
    ),
    "pricing: repeated tenant": (
        ["pricing", "list", "--tenant", "{A},{A}"],
        2,
        "tenant must be a UUID",
    ),
    "pricing: injection as status": (
        ["pricing", "list", "--tenant", "{A}", "--status", INJECTION],
        2,
        "Invalid value for '--status'",
    ),
    "pricing: injection as tenant": (
        ["pricing", "export", "--tenant", INJECTION],
        2,
        "tenant must be a UUID",
    ),
    "pricing: injection as recommendation": (
        ["pricing", "approve", INJECTION, "--by", "x", "--tenant", "{A}"],
        1,
        INJECTION,
    ),
    "pricing: directory as output file": (
        ["pricing", "export", "--tenant", "{A}", "--out", "{dir}"],
        2,
        "is a directory",
    ),
    "pricing: output in a missing directory": (
        ["pricing", "export", "--tenant", "{A}", "--out", "{missing_dir}"],
        2,
        "--out: no directory",
    ),
    # retention
    "retention: empty days": (["retention", "--older-than", ""], 2, "'' is not a valid integer"),
    "retention: a directory as policy": (["retention", "--config", "/"], 2, "is a directory"),
    "retention: out of range": (
        ["retention", "--older-than", "99999999999"],
        2,
        "99999999999 is not in the range 1<=x<=36500",
    ),
    "retention: zero days": (["retention", "--older-than", "0"], 2, "not in the range"),
    "retention: negative days": (["retention", "--older-than", "-3"], 2, "not in the range"),
    "retention: injection": (
        ["retention", "--older-than", INJECTION],
        2,
        "is not a valid integer",
    ),
    # doctor
    "doctor: extra argument": (["doctor", "now"], 2, "unexpected extra argument"),
    # db
    "db: empty revision": (["db", "upgrade", "--revision", ""], 2, "empty revision"),
    "db: empty downgrade revision": (["db", "downgrade", " "], 2, "empty revision"),
    "db: unknown revision": (["db", "downgrade", "zz99"], 2, "migrations:"),
    "db: injection as revision": (["db", "upgrade", "--revision", INJECTION], 2, "migrations:"),
    "db: unknown role": (["db", "url", "--role", "admin"], 2, "Invalid value for '--role'"),
    # schedule
    "schedule: directory as config": (["schedule", "--config", "{dir}"], 2, "is a directory"),
    "schedule: binary file as config": (
        ["schedule", "--once", "--config", "{binary}"],
        2,
        "not a YAML schedule",
    ),
}


@pytest.mark.parametrize(("args", "code", "message"), CASES.values(), ids=CASES.keys())
def test_bad_input_is_one_line_and_writes_nothing(inputs, world, tmp_path, args, code, message):
    before = counts(world["url"])
    one_line_error([a.format(**inputs) for a in args], code, message.format(**inputs))
    assert counts(world["url"]) == before
    assert not (tmp_path / "reports").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["binary"]


COMMANDS = [
    ["tenants"],
    ["run", "--as-of", "2026-10-31"],
    ["schedule", "--once"],
    ["pricing", "list", "--tenant", UNKNOWN],
    ["retention", "--older-than", "30"],
    ["db", "upgrade"],
    ["db", "url"],
    ["synth"],
]
MALFORMED = ["postgresql://u:s3cret@host:port/db", "postgresql://u:s3cret@[::1/db", "not a url"]


@pytest.mark.parametrize("url", MALFORMED)
@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a[:2]) for a in COMMANDS])
def test_a_malformed_database_url_is_one_line_for_every_command(home, monkeypatch, args, url):
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", url)
    result = one_line_error(args, 1, "malformed database URL: expected postgresql://")
    assert "s3cret" not in result.output
    assert not home.exists()


def test_doctor_reports_a_malformed_database_url_as_its_one_problem(home, monkeypatch):
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", "postgresql://u:s3cret@host:port/db")
    result = one_line_error(["doctor"], 1, "FAIL database unreachable: malformed database URL")
    assert result.stdout == "unhealthy\n"
    assert "s3cret" not in result.output


BAD_SETTINGS = [
    ("BOXOFFICE_CONNECT_TIMEOUT", "0", "a whole number of seconds from 1 to 86400, got '0'"),
    ("BOXOFFICE_CONNECT_TIMEOUT", "1.5", "a whole number of seconds from 1 to 86400, got '1.5'"),
    ("BOXOFFICE_CONNECT_TIMEOUT", "soon", "a whole number of seconds from 1 to 86400"),
    ("BOXOFFICE_STATEMENT_TIMEOUT", "-1", "a number of seconds from 0 to 86400, got '-1'"),
    ("BOXOFFICE_STATEMENT_TIMEOUT", "nan", "a number of seconds from 0 to 86400, got 'nan'"),
    (
        "BOXOFFICE_PIPELINE_STATEMENT_TIMEOUT",
        "1e9",
        "a number of seconds from 0 to 86400, got '1e9'",
    ),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD_SETTINGS)
@pytest.mark.parametrize("args", [["tenants"], ["doctor"], ["run", "--as-of", "2026-10-31"]])
def test_a_bad_timeout_setting_is_a_usage_error(world, monkeypatch, args, name, value, message):
    monkeypatch.setenv(name, value)
    before = counts(world["url"])
    one_line_error(args, 2, f"{name} must be {message}")
    assert counts(world["url"]) == before
