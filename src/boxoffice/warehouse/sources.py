"""Where a load's rows come from, streamed: a table's rows are written as CSV lines into the
``COPY`` that stages them (:mod:`boxoffice.warehouse.loading`), a batch at a time, so a load's
memory does not grow with its files.

- :func:`frame_rows`: a polars DataFrame (tests, a synthetic world);
- :func:`parquet_rows`: a Parquet file, read by row groups of at most ``BATCH_ROWS`` rows;
- :func:`csv_rows`: a CSV file with a header, its bytes handed to PostgreSQL as they are (its
  CSV rules: an unquoted empty field is null, ``""`` an empty string);
- :func:`read_folder`: ``<table>.parquet`` / ``.csv`` files and ``<table>.deleted`` tombstones;
- a platform's PostgreSQL through a mapping file: :mod:`boxoffice.warehouse.platform`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from boxoffice.warehouse import contract

BATCH_ROWS = 100_000
CHUNK_BYTES = 1 << 20
DELETED = ".deleted"  # a tombstone file's suffix: ``tickets.deleted.csv`` holds tickets' keys

Progress = Callable[[int], None]  # told the units done so far
# opens a progress display for a table, its total (when known) and unit; yields its Progress
Bar = Callable[[str, int | None, str], AbstractContextManager[Progress]]


@dataclass(frozen=True)
class Rows:
    """One table's rows as they come: their ``columns`` in order, where they come from
    (``origin``, for messages), how much there is (``total`` ``unit``\\ s, when known), and
    ``write(copy, progress)``, which writes them to a ``COPY … (format csv)`` in that column
    order — after one header line to skip when ``header``."""

    columns: tuple[str, ...]
    origin: str
    write: Callable[[Any, Progress], None]
    total: int | None = None
    unit: str = "rows"
    header: bool = False


def frame_rows(frame: pl.DataFrame, origin: str = "rows") -> Rows:
    def write(copy, progress: Progress) -> None:
        for offset in range(0, frame.height, BATCH_ROWS):
            _write_frame(copy, frame.slice(offset, BATCH_ROWS))
            progress(min(offset + BATCH_ROWS, frame.height))

    return Rows(tuple(frame.columns), origin, write, frame.height)


def _write_frame(copy, frame: pl.DataFrame) -> None:
    buf = io.BytesIO()
    frame.select(_as_text(frame, c) for c in frame.columns).write_csv(buf, include_header=False)
    copy.write(buf.getbuffer())


def _as_text(frame: pl.DataFrame, name: str) -> pl.Expr:
    """A column as PostgreSQL reads it: an aware time as ISO 8601 with its offset (a naive one
    keeps none, and is then reported), anything else as polars writes it."""
    kind = frame.schema[name]
    if isinstance(kind, pl.Datetime):
        fmt = "%Y-%m-%dT%H:%M:%S%.f" + ("%:z" if kind.time_zone else "")
        return pl.col(name).dt.to_string(fmt)
    return pl.col(name).cast(pl.String)


def parquet_rows(path: Path) -> Rows:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:  # a buffered stream: by default the reader's memory grows with the file it has read
        file = pq.ParquetFile(path, buffer_size=CHUNK_BYTES, pre_buffer=False)
    except (pa.ArrowException, OSError) as exc:
        raise ValueError(f"{path}: not a readable Parquet file ({exc})") from None

    def write(copy, progress: Progress) -> None:
        done = 0
        for batch in file.iter_batches(batch_size=BATCH_ROWS):
            frame = pl.from_arrow(batch)
            _write_frame(copy, frame)
            done += frame.height
            progress(done)

    return Rows(tuple(file.schema_arrow.names), str(path), write, file.metadata.num_rows)


def csv_rows(path: Path) -> Rows:
    try:  # the header line only: the rest is PostgreSQL's to read
        with path.open("rb") as data:
            header = next(csv.reader([data.readline().decode("utf-8-sig")]), None)
    except (UnicodeDecodeError, csv.Error, OSError) as exc:
        raise ValueError(f"{path}: not a readable CSV file ({exc})") from None
    if not header:
        raise ValueError(f"{path}: not a readable CSV file (no header line)")

    def write(copy, progress: Progress) -> None:
        done = 0
        with path.open("rb") as data:
            while chunk := data.read(CHUNK_BYTES):
                copy.write(chunk)
                done += len(chunk)
                progress(done)

    return Rows(tuple(header), str(path), write, path.stat().st_size, "B", header=True)


def read_folder(folder: Path) -> tuple[dict[str, Rows], dict[str, Rows]]:
    """The contract tables in ``folder`` — ``<table>.parquet`` or ``<table>.csv`` each — and
    the tombstones, ``<table>.deleted.parquet`` or ``.csv`` (the keys of rows to delete).
    ValueError names a file that is not a contract table, a table given twice, or a file that
    cannot be read."""
    known = list(contract.BY_NAME)
    tables: dict[str, Rows] = {}
    deletions: dict[str, Rows] = {}
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise ValueError(f"{folder}: no files (expected {', '.join(known)} as .parquet or .csv)")
    for path in files:
        name = path.stem.removesuffix(DELETED)
        given = deletions if path.stem.endswith(DELETED) else tables
        if name not in known or path.suffix not in (".parquet", ".csv"):
            raise ValueError(
                f"{path}: not a contract table file (<table>.parquet or .csv, or"
                f" <table>.deleted.parquet or .csv; tables: {', '.join(known)})"
            )
        if name in given:
            raise ValueError(f"{path}: table {path.stem} given twice")
        given[name] = parquet_rows(path) if path.suffix == ".parquet" else csv_rows(path)
    return tables, deletions


def as_rows(given: dict[str, Rows | pl.DataFrame]) -> dict[str, Rows]:
    """Rows for every table, a DataFrame's too."""
    return {
        name: rows if isinstance(rows, Rows) else frame_rows(rows, f"{name} rows")
        for name, rows in given.items()
    }
