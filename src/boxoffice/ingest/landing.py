"""The landing folder: where event files arrive, and which of them are new.

A file is new until a batch with the same content (SHA-256 of its bytes) has been stored, so a
file renamed or copied again is not ingested twice, and a file whose batch failed is retried
on the next run. Writers should move finished files in atomically (write ``x.ndjson.part``,
then rename): names starting with ``.`` or ending in ``.part``/``.tmp`` are ignored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from boxoffice import config
from boxoffice.ingest.batch import BatchResult, ingest_path
from boxoffice.warehouse import engine

SUFFIXES = (".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")


def landing_dir() -> Path:
    return config.settings().landing_dir


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def candidates(folder: Path) -> list[Path]:
    """Event files in ``folder`` (not recursive), by name."""
    if not folder.is_dir():
        raise FileNotFoundError(f"landing folder {folder} does not exist")
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.name.endswith(SUFFIXES)
    )


def pending(folder: Path) -> list[Path]:
    """The files of ``folder`` whose content has not been ingested yet."""
    files = {file_sha256(p): p for p in candidates(folder)}
    if not files:
        return []
    with engine.connect("pipeline") as conn:
        done = conn.execute(
            sa.text(
                "select input_sha256 from raw.ingest_batches"
                " where input_sha256 = any(:shas) and finished_at is not null"
            ),
            {"shas": list(files)},
        ).scalars()
        seen = set(done)
    return sorted(p for sha, p in files.items() if sha not in seen)


def ingest_new(
    folder: Path | None = None, *, on_file: Callable[[Path], None] | None = None
) -> list[BatchResult]:
    """Ingest every new file of the landing folder, one batch each, in name order."""
    results = []
    for path in pending(folder or landing_dir()):
        if on_file:
            on_file(path)
        results.append(ingest_path(path))
    return results
