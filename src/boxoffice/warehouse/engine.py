"""Connections: one URL per role, pooled engines, and tenant-scoped sessions.

Three roles talk to the warehouse:

- ``owner`` — whoever ``BOXOFFICE_DATABASE_URL`` names (the embedded superuser by default): runs
  migrations and loads the ``source`` schema;
- ``pipeline`` — ``boxoffice_pipeline``: reads ``source``, writes ``raw`` and ``analytics``;
- ``reader`` — ``boxoffice_reader``: reads ``analytics`` (dashboards, BI tools).

Neither ``boxoffice_pipeline`` nor ``boxoffice_reader`` bypasses row-level security, so each of
their sessions sees exactly one tenant: the one set with :func:`set_tenant`.

Every connection — pooled SQLAlchemy engines and ADBC reads alike — gets the same libpq
parameters (:func:`session_parameters`): a connect timeout that covers the whole
start-up (a server that accepts TCP and never answers fails within it), and a statement timeout
per role: ``BOXOFFICE_STATEMENT_TIMEOUT`` for the owner and reader roles (CLI commands,
dashboards, BI tools), ``BOXOFFICE_PIPELINE_STATEMENT_TIMEOUT`` for the pipeline role.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Literal
from urllib.parse import quote, urlencode

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url

from boxoffice import config, logs
from boxoffice.warehouse import embedded

Role = Literal["owner", "pipeline", "reader"]
ROLE_NAMES: dict[str, str] = {"pipeline": "boxoffice_pipeline", "reader": "boxoffice_reader"}
WORK_MEM = "64MB"  # per sort or hash: a tenant's customers (~500k rows) stay in memory


class WarehouseError(RuntimeError):
    """The warehouse is unreachable or misconfigured; the message says what and where."""


def _sqlalchemy_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except (sa.exc.ArgumentError, ValueError):  # never echo the URL: it may hold a password
        raise WarehouseError(
            "malformed database URL: expected postgresql://user[:password]@host[:port]/database"
        ) from None
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername != "postgresql+psycopg":
        raise WarehouseError(
            f"unsupported database URL scheme {parsed.drivername!r}: use postgresql://"
        )
    return parsed if parsed.password else _as_user(parsed, parsed.username)  # drop "user:@"


_create_embedded = False


def create_embedded_if_missing() -> None:
    """Let this process initialise the embedded server if there is none yet (``db upgrade``).
    Everything else refuses, so a process started in the wrong directory cannot quietly create
    an empty second database."""
    global _create_embedded
    _create_embedded = True


def owner_url() -> URL:
    """The owner's URL: ``BOXOFFICE_DATABASE_URL``, else the embedded server (started on demand)."""
    s = config.settings()
    if s.database_url:
        return _sqlalchemy_url(s.database_url)
    if not _create_embedded and not embedded.is_initialised(s.pgdata):
        raise WarehouseError(
            f"no embedded database in {s.pgdata}: run `boxoffice db upgrade` (or `make demo`),"
            " or set BOXOFFICE_DATABASE_URL"
        )
    try:
        return _sqlalchemy_url(embedded.ensure_running(s.pgdata))
    except embedded.EmbeddedError as exc:
        raise WarehouseError(str(exc)) from exc


def database_url(role: Role = "owner") -> URL:
    """URL for ``role``: an explicit ``BOXOFFICE_<ROLE>_URL``, else the owner's URL with the role's
    user name and no password (what the embedded server's local trust authentication accepts)."""
    if role == "owner":
        return owner_url()
    if role not in ROLE_NAMES:
        raise ValueError(f"unknown role {role!r}; expected one of owner, pipeline, reader")
    s = config.settings()
    explicit = s.pipeline_url if role == "pipeline" else s.reader_url
    if explicit:
        return _sqlalchemy_url(explicit)
    return _as_user(owner_url(), ROLE_NAMES[role])


def _as_user(url: URL, username: str | None) -> URL:
    """``url`` for ``username`` and no password (``URL.set`` cannot unset a password)."""
    return URL.create(url.drivername, username, None, url.host, url.port, url.database, url.query)


def libpq_url(url: URL, parameters: dict[str, str] | None = None) -> str:
    """A plain ``postgresql://`` URL for libpq clients (psql, ADBC, BI tools), with
    ``parameters`` (e.g. :func:`session_parameters`) added to its query, over any of the same
    name. Spaces are encoded as ``%20``: libpq does not read ``+`` as a space."""
    plain = url.set(drivername="postgresql", query={})
    text = plain.render_as_string(hide_password=False)
    query = {k: v if isinstance(v, str) else v[-1] for k, v in url.query.items()}
    query.update(parameters or {})
    return f"{text}?{urlencode(query, quote_via=quote)}" if query else text


def session_parameters(role: Role) -> dict[str, str]:
    """The libpq connection parameters of every boxoffice session of ``role``: the connect
    timeout (libpq waits at least 2 s), the role's statement timeout (0: none) and work_mem."""
    s = config.settings()
    timeout = s.pipeline_statement_timeout if role == "pipeline" else s.statement_timeout
    return {
        "connect_timeout": str(s.connect_timeout),
        "application_name": "boxoffice",
        "options": f"-c work_mem={WORK_MEM} -c statement_timeout={round(timeout * 1000)}",
    }


def statement_timeout_error(role: Role) -> WarehouseError:
    """The error of a statement of ``role`` cancelled by its statement timeout."""
    s = config.settings()
    if role == "pipeline":
        name, seconds = "BOXOFFICE_PIPELINE_STATEMENT_TIMEOUT", s.pipeline_statement_timeout
    else:
        name, seconds = "BOXOFFICE_STATEMENT_TIMEOUT", s.statement_timeout
    return WarehouseError(
        f"statement timeout: a statement of the {role} role ran longer than {seconds:g} s"
        f" ({name}; 0 for no limit)"
    )


_ENGINES: dict[tuple[str, tuple[tuple[str, str], ...]], Engine] = {}


def _engine(url: str, parameters: dict[str, str]) -> Engine:
    key = (url, tuple(sorted(parameters.items())))
    if key in _ENGINES:
        return _ENGINES[key]
    eng = _ENGINES[key] = sa.create_engine(url, pool_pre_ping=True, connect_args=parameters)

    @sa.event.listens_for(eng, "reset")
    def _forget_tenant(dbapi_conn, record, reset_state):  # never hand a tenant to the next user
        if not reset_state.terminate_only:  # settings are transactional: commit the reset
            dbapi_conn.rollback()
            with dbapi_conn.cursor() as cur:
                cur.execute("select set_config('app.tenant_id', '', false)")
            dbapi_conn.commit()

    return eng


def engine(role: Role = "owner") -> Engine:
    return _engine(
        database_url(role).render_as_string(hide_password=False), session_parameters(role)
    )


def parse_tenant(tenant: str | uuid.UUID) -> uuid.UUID:
    try:
        return tenant if isinstance(tenant, uuid.UUID) else uuid.UUID(str(tenant))
    except ValueError:
        raise ValueError(f"tenant must be a UUID, got {tenant!r}") from None


def set_tenant(conn: Connection, tenant: str | uuid.UUID | None) -> None:
    """Scope the session to one tenant (``app.tenant_id``, read by every RLS policy).

    The value is a bound parameter of ``set_config`` — never formatted into SQL. ``None`` clears
    it, after which RLS shows no tenant rows at all (fail closed).
    """
    value = "" if tenant is None else str(parse_tenant(tenant))
    conn.execute(sa.select(sa.func.set_config("app.tenant_id", value, False)))


@contextmanager
def connect(role: Role = "owner", tenant: str | uuid.UUID | None = None) -> Iterator[Connection]:
    """A connection in one transaction, committed on success and rolled back on any error;
    scoped to ``tenant`` when given."""
    eng = engine(role)
    try:
        conn = eng.connect()
    except sa.exc.OperationalError as exc:
        raise WarehouseError(
            f"cannot connect to {eng.url!r} as {role}: {_first_line(exc)}"
        ) from exc
    try:
        with conn, conn.begin(), logs.bind(tenant=tenant) if tenant is not None else nullcontext():
            if tenant is not None:
                set_tenant(conn, tenant)
            yield conn
    except sa.exc.OperationalError as exc:
        if "statement timeout" in str(exc.orig):
            raise statement_timeout_error(role) from exc
        raise


def without_statement_timeout(conn: Connection) -> None:
    """Lift the statement timeout for the rest of ``conn``'s transaction: for the owner's bulk
    work (loading a world, migrating), whose statements legitimately run for minutes."""
    conn.execute(sa.text("set local statement_timeout = 0"))


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def dispose_all() -> None:
    """Close every pooled connection, the Arrow reads' kept ones too (before dropping a
    database, or after a fork)."""
    from boxoffice.warehouse import bulk  # imports this module

    for eng in list(_ENGINES.values()):
        eng.dispose()
    _ENGINES.clear()
    bulk.close_idle()
