"""Settings from environment variables, in one place.

| variable                  | meaning                                                     |
|---------------------------|-------------------------------------------------------------|
| BOXOFFICE_DATABASE_URL    | owner/admin URL; unset → embedded PostgreSQL in the home    |
| BOXOFFICE_PIPELINE_URL    | URL for the ``boxoffice_pipeline`` role (default: derived)  |
| BOXOFFICE_READER_URL      | URL for the ``boxoffice_reader`` role (default: derived)    |
| BOXOFFICE_HOME            | local state (default ``.boxoffice`` of the project root)    |
| BOXOFFICE_PII_KEY         | secret of customer_key (default: generated into the home)   |
| BOXOFFICE_TENANT          | tenant of a dashboard server                                |
| BOXOFFICE_REPORTS_DIR     | where run artifacts go (default ``reports``)                |
| BOXOFFICE_LANDING_DIR     | where event files arrive (default ``landing``)              |
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str | None
    pipeline_url: str | None
    reader_url: str | None
    tenant: str | None
    reports_dir: Path
    landing_dir: Path

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def embedded(self) -> bool:
        return self.database_url is None


def project_root() -> Path:
    """The nearest directory at or above the working directory that holds ``pipeline.yaml``
    (notebook and dashboard kernels run in sub-directories of it), else the working directory."""
    here = Path.cwd()
    return next((d for d in (here, *here.parents) if (d / "pipeline.yaml").is_file()), here)


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
    )


def pii_key() -> bytes:
    """The secret of ``customer_key``: ``BOXOFFICE_PII_KEY``, else a key generated once into
    ``<home>/pii.key`` (mode 0600) and reused, so keys stay stable across runs (DESIGN.md §3:
    a rotating salt would break every join over time)."""
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
