"""The landing folder: where event files arrive, and which of them are new.

A file is new until a batch with the same content (SHA-256 of its bytes) has been stored, so a
file renamed or copied again is not ingested twice, and a file whose batch failed is retried
on the next run. Writers should move finished files in atomically (write ``x.ndjson.part``,
then rename): names starting with ``.`` or ending in ``.part``/``.tmp`` are ignored.

A file that fails as a whole (:class:`~boxoffice.ingest.batch.InputError`: a corrupt gzip
file) would fail every run; it is *set aside* instead: moved to ``rejected/`` inside the
folder, with ``<name>.reason`` next to it saying why (a later file of the same name replaces
both), and the other files are ingested. Once repaired, it is put back to be ingested.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from boxoffice import config
from boxoffice.ingest.batch import BatchResult, InputError, ingest_path
from boxoffice.warehouse import engine

SUFFIXES = (".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")
REJECTED = "rejected"


@dataclass(frozen=True)
class SetAside:
    path: Path  # where the file is now, in rejected/
    reason: str


@dataclass
class Landed:
    """What one pass over the landing folder did."""

    batches: list[BatchResult] = field(default_factory=list)
    set_aside: list[SetAside] = field(default_factory=list)


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


def set_aside(path: Path, reason: str) -> SetAside:
    """Move ``path`` into the ``rejected/`` folder next to it, with ``<name>.reason``."""
    folder = path.parent / REJECTED
    folder.mkdir(exist_ok=True)
    target = path.rename(folder / path.name)
    target.with_name(f"{target.name}.reason").write_text(reason + "\n")
    return SetAside(target, reason)


def ingest_new(
    folder: Path | None = None, *, ingest: Callable[[Path], BatchResult] = ingest_path
) -> Landed:
    """Ingest every new file of the landing folder, one batch each, in name order, with
    ``ingest``; set aside the files that fail as a whole."""
    landed = Landed()
    for path in pending(folder or landing_dir()):
        try:
            landed.batches.append(ingest(path))
        except InputError as exc:
            landed.set_aside.append(set_aside(path, str(exc)))
    return landed
