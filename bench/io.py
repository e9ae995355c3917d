"""Benchmark: polars ↔ PostgreSQL, boxoffice's bulk helpers against the usual peers.

- read 1M rows × 6 columns: ``bulk.read_frame`` (ADBC, Arrow end to end) vs
  ``polars.read_database`` over a SQLAlchemy connection (the peer);
- write 200k rows: ``bulk.copy_frame`` (COPY of CSV chunks) vs
  ``polars.DataFrame.write_database`` over SQLAlchemy (the peer).

Best of 3 each, same server, same run.

    .venv/bin/python -m bench.io
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

import numpy as np
import polars as pl
import sqlalchemy as sa

from bench._server import fresh_database, server
from boxoffice.warehouse import bulk, engine

RESULTS = Path(__file__).parent / "results"
READ_ROWS, WRITE_ROWS, REPEAT = 1_000_000, 200_000, 3
QUERY = "select id, at, label, cents, ratio, flag from bench"


def frame(n: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "id": np.arange(n),
            "at": pl.datetime_range(
                dt.datetime(2026, 1, 1),
                dt.datetime(2026, 1, 1) + dt.timedelta(seconds=n - 1),
                "1s",
                eager=True,
                time_zone="UTC",
            ),
            "label": rng.choice(["web", "mobile", "box_office", "partner"], n),
            "cents": rng.integers(0, 100_000, n),
            "ratio": rng.random(n),
            "flag": rng.random(n) < 0.5,
        }
    )


def best(fn) -> float:
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    with server() as url:
        os.environ["BOXOFFICE_DATABASE_URL"] = fresh_database(url, "bench_io")
        ddl = "create table bench (id bigint, at timestamptz, label text, cents bigint,"
        ddl += " ratio float8, flag boolean)"
        with engine.connect() as conn:
            conn.execute(sa.text(ddl))
            bulk.copy_frame(conn, "public.bench", frame(READ_ROWS))
        eng = engine.engine()

        def peer_read():
            with eng.connect() as conn:
                return pl.read_database(QUERY, conn)

        ours_read = best(lambda: bulk.read_frame(QUERY, role="owner"))
        peer_read_s = best(peer_read)
        assert bulk.read_frame(QUERY, role="owner").height == peer_read().height == READ_ROWS

        data = frame(WRITE_ROWS, seed=1)

        def ours_write():
            with engine.connect() as conn:
                conn.execute(sa.text("truncate bench"))
                bulk.copy_frame(conn, "public.bench", data)

        def peer_write():
            with engine.connect() as conn:
                conn.execute(sa.text("truncate bench"))
            data.write_database("bench", eng, if_table_exists="append")

        ours_write_s, peer_write_s = best(ours_write), best(peer_write)

    results = {
        f"read {READ_ROWS:,} rows": {
            "boxoffice read_frame (ADBC)": ours_read,
            "peer pl.read_database (SQLAlchemy)": peer_read_s,
        },
        f"write {WRITE_ROWS:,} rows": {
            "boxoffice copy_frame (COPY)": ours_write_s,
            "peer write_database (SQLAlchemy)": peer_write_s,
        },
    }
    for case, timings in results.items():
        (ours_name, ours), (peer_name, peer) = timings.items()
        print(
            f"{case:<20} {ours_name:<36} {ours:7.2f} s | {peer_name:<36} {peer:7.2f} s"
            f" | {peer / ours:5.1f}× faster"
        )
    RESULTS.mkdir(exist_ok=True)
    record = {
        "benchmark": "io",
        "date": dt.date.today().isoformat(),
        "cpus": os.cpu_count(),
        "best_of": REPEAT,
        "seconds": results,
    }
    (RESULTS / "io.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
