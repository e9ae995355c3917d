"""The embedded server: created on first use, reused by later commands, stopped on request,
started again on demand with its data intact."""

from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from click.testing import CliRunner

from boxoffice.cli import main
from boxoffice.warehouse import embedded, engine, migrate


def cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def embedded_home(home, monkeypatch):
    monkeypatch.delenv("BOXOFFICE_DATABASE_URL", raising=False)
    yield home
    engine.dispose_all()
    embedded.stop(home / "pgdata")


def test_lifecycle_upgrade_url_stop_and_restart(embedded_home):
    assert cli("db", "upgrade").output.startswith(f"database at {migrate.head()} (was empty)")
    assert (embedded_home / "pgdata" / "PG_VERSION").exists()
    url = cli("db", "url").output.strip()
    assert url.startswith("postgresql://postgres@/boxoffice?host=")
    with psycopg.connect(url) as conn:
        assert conn.execute("select version_num from alembic_version").fetchone() == (
            migrate.head(),
        )
        assert conn.execute("show listen_addresses").fetchone() == ("",)  # socket only
    engine.dispose_all()
    assert cli("db", "stop").output.strip() == "stopped"
    assert cli("db", "stop").output.strip() == "not running"
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)
    doctor = cli("doctor")  # started again on demand, and says so …
    assert doctor.exit_code == 0
    note = f"note the embedded server in {embedded_home / 'pgdata'} was not running: started it"
    assert note in doctor.output.splitlines()
    assert "was not running" not in cli("doctor").output  # … once
    assert cli("db", "upgrade").output.strip() == f"database at {migrate.head()}"  # … with its data


def test_reader_url_names_the_reader_role(embedded_home):
    cli("db", "upgrade")
    url = cli("db", "url", "--role", "reader").output.strip()
    with psycopg.connect(url) as conn:
        assert conn.execute("select current_user").fetchone() == ("boxoffice_reader",)


def test_db_stop_refuses_an_external_database(home, monkeypatch):
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", "postgresql://x@127.0.0.1:9/y")
    result = CliRunner().invoke(main, ["db", "stop"])
    assert result.exit_code == 2
    assert "the database is not embedded" in result.output


def test_threads_of_a_fresh_process_may_ask_for_the_server_at_once(embedded_home):
    """A partition writer's thread and the notebook's first read used to race into the
    library's server handle (an AssertionError in `make demo`)."""
    cli("db", "upgrade")
    embedded._verified.clear()  # as in a new process (a notebook kernel)
    with ThreadPoolExecutor(max_workers=4) as pool:
        urls = list(pool.map(lambda _: embedded.ensure_running(embedded_home / "pgdata"), range(8)))
    assert len(set(urls)) == 1 and "/boxoffice?host=" in urls[0]
