"""Settings from environment variables, in one place.

| variable                             | meaning                                                 |
|--------------------------------------|---------------------------------------------------------|
| BOXOFFICE_DATABASE_URL               | owner URL; unset → embedded PostgreSQL in the home      |
| BOXOFFICE_PIPELINE_URL               | URL of ``boxoffice_pipeline`` (default: derived)        |
| BOXOFFICE_READER_URL                 | URL of ``boxoffice_reader`` (default: derived)          |
| BOXOFFICE_HOME                       | local state (default ``.boxoffice`` of the project)     |
| BOXOFFICE_PII_KEY                    | secret of customer_key (default: generated)             |
| BOXOFFICE_TENANT                     | tenant of a dashboard server                            |
| BOXOFFICE_REPORTS_DIR                | where run artifacts go (default ``reports``)            |
| BOXOFFICE_LANDING_DIR                | where event files arrive (default ``landing``)          |
| BOXOFFICE_CONNECT_TIMEOUT            | seconds to connect, start-up included (default 5)       |
| BOXOFFICE_STATEMENT_TIMEOUT          | per statement, owner and reader (default 60 s; 0: none) |
| BOXOFFICE_PIPELINE_STATEMENT_TIMEOUT | the same for the pipeline role (default 0: none)        |
| BOXOFFICE_LOG_FORMAT                 | ``text`` (default) or ``json`` (one object per record)  |
| BOXOFFICE_PROJECT_DIR                | the project (default: found from the working directory) |
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

CONNECT_TIMEOUT_S = 5
STATEMENT_TIMEOUT_S = 60  # a CLI command or a dashboard view: a minute is already broken
PIPELINE_STATEMENT_TIMEOUT_S = 0  # a large world's pipeline statements run for minutes
# reports/<as_of>/_operations/: the executed task notebooks and the run log, every tenant in
# them; each tenant has a folder of its own beside it (no tenant folder starts with "_")
OPERATIONS = "_operations"


class ConfigError(ValueError):
    """An environment variable has an invalid value; the message names it."""


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str | None
    pipeline_url: str | None
    reader_url: str | None
    tenant: str | None
    reports_dir: Path
    landing_dir: Path
    connect_timeout: int = CONNECT_TIMEOUT_S
    statement_timeout: float = STATEMENT_TIMEOUT_S
    pipeline_statement_timeout: float = PIPELINE_STATEMENT_TIMEOUT_S
    workers: int = 1  # processes one pipeline task may keep busy (its share of the cores)

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def embedded(self) -> bool:
        return self.database_url is None


def project_root() -> Path:
    """The project: ``BOXOFFICE_PROJECT_DIR``, else the nearest directory at or above the
    working directory that holds ``pipeline.yaml`` (notebook and dashboard kernels run in
    sub-directories of it), else the checkout this package was installed from, else the working
    directory. The one finder: settings, the pipeline and the dashboards all start here."""
    if explicit := os.environ.get("BOXOFFICE_PROJECT_DIR"):
        return Path(explicit).absolute()
    here = Path.cwd()
    checkout = Path(__file__).resolve().parents[2]
    candidates = (here, *here.parents, checkout)
    return next((d for d in candidates if (d / "pipeline.yaml").is_file()), here)


def settings() -> Settings:
    """Read the settings from the environment (cheap; read at each call, never cached).
    Relative defaults are anchored at :func:`project_root`, so every process of a project —
    the CLI, pipeline notebooks, dashboard kernels — finds the same home and reports."""
    env = os.environ
    root = project_root()
    home = root / Path(env.get("BOXOFFICE_HOME", ".boxoffice")).expanduser()
    return Settings(
        home=home,
        database_url=env.get("BOXOFFICE_DATABASE_URL") or None,
        pipeline_url=env.get("BOXOFFICE_PIPELINE_URL") or None,
        reader_url=env.get("BOXOFFICE_READER_URL") or None,
        tenant=env.get("BOXOFFICE_TENANT") or None,
        reports_dir=root / Path(env.get("BOXOFFICE_REPORTS_DIR", "reports")).expanduser(),
        landing_dir=root / Path(env.get("BOXOFFICE_LANDING_DIR", "landing")).expanduser(),
        connect_timeout=int(_seconds("BOXOFFICE_CONNECT_TIMEOUT", CONNECT_TIMEOUT_S, integer=True)),
        statement_timeout=_seconds("BOXOFFICE_STATEMENT_TIMEOUT", STATEMENT_TIMEOUT_S),
        pipeline_statement_timeout=_seconds(
            "BOXOFFICE_PIPELINE_STATEMENT_TIMEOUT", PIPELINE_STATEMENT_TIMEOUT_S
        ),
        workers=_count("BOXOFFICE_WORKERS", os.cpu_count() or 1),
    )


def _count(name: str, default: int) -> int:
    """A whole number of at least 1 from ``name``, else ``default``."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1, got {text!r}")
    return int(text)


def _seconds(name: str, default: float, *, integer: bool = False) -> float:
    """A duration in seconds from ``name``: a whole number of at least 1 when ``integer``
    (libpq's connect timeout), else a number of at least 0 (0: no limit) up to a day."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        value = None
    low = 1 if integer else 0
    if value is None or not low <= value <= 86_400:
        kind = "whole number of seconds" if integer else "number of seconds"
        raise ConfigError(f"{name} must be a {kind} from {low} to 86400, got {text!r}")
    return value


def log_format() -> str:
    """``BOXOFFICE_LOG_FORMAT``: ``text`` (the default) or ``json``."""
    value = os.environ.get("BOXOFFICE_LOG_FORMAT", "").strip().lower() or "text"
    if value not in ("text", "json"):
        raise ConfigError(f"BOXOFFICE_LOG_FORMAT must be text or json, got {value!r}")
    return value


def pii_key() -> bytes:
    """The secret of ``customer_key``: ``BOXOFFICE_PII_KEY``, else a key generated once into
    ``<home>/pii.key`` (mode 0600) and reused, so keys stay stable across runs (a rotating salt
    would break every join over time: ``docs/architecture.md``)."""
    if key := os.environ.get("BOXOFFICE_PII_KEY"):
        return key.encode()
    path = settings().home / "pii.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race: use its key
            return path.read_text().strip().encode()
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()
