"""Settings from environment variables, in one place.

| variable                  | meaning                                                     |
|---------------------------|-------------------------------------------------------------|
| BOXOFFICE_DATABASE_URL    | owner/admin URL; unset → embedded PostgreSQL in the home    |
| BOXOFFICE_PIPELINE_URL    | URL for the ``boxoffice_pipeline`` role (default: derived)  |
| BOXOFFICE_READER_URL      | URL for the ``boxoffice_reader`` role (default: derived)    |
| BOXOFFICE_HOME            | working directory for local state (default ``.boxoffice``)  |
| BOXOFFICE_TENANT          | tenant of a dashboard server                                |
| BOXOFFICE_REPORTS_DIR     | where run artifacts go (default ``reports``)                |
"""

from __future__ import annotations

import os
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

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def embedded(self) -> bool:
        return self.database_url is None


def settings() -> Settings:
    """Read the settings from the environment (cheap; read at each call, never cached)."""
    env = os.environ
    home = Path(env.get("BOXOFFICE_HOME", ".boxoffice")).expanduser().absolute()
    return Settings(
        home=home,
        database_url=env.get("BOXOFFICE_DATABASE_URL") or None,
        pipeline_url=env.get("BOXOFFICE_PIPELINE_URL") or None,
        reader_url=env.get("BOXOFFICE_READER_URL") or None,
        tenant=env.get("BOXOFFICE_TENANT") or None,
        reports_dir=Path(env.get("BOXOFFICE_REPORTS_DIR", "reports")).expanduser().absolute(),
    )
