"""Benchmark: `boxoffice ingest` against a row-by-row INSERT loop and a raw COPY.

Input: NDJSON of CloudEvents — page views, searches, carts, checkouts, purchases and scans with
customer ids, IPs, user agents and e-mails to pseudonymize — with 5 % malformed lines and 3 %
duplicated lines (the issue's mix).

- **ours**: ``boxoffice ingest FILE --json`` in a child process (validation, pseudonymization,
  dedup, dead letters, accounting; one transaction);
- **peer (a)**, the seeds' way: ``json.loads`` each line and ``INSERT`` it, one statement and
  one commit per event, no validation, no dedup, as the owner (no row-level security); also
  reported with all inserts in one transaction, the kindest form of the loop. Row-by-row cost
  does not depend on file size, so it runs on the first ``PEER_A_LINES`` lines, compared in
  events/s;
- **peer (b)**: ``COPY`` of the already-clean rows (exactly what ours stored, exported with
  ``COPY TO``) into an empty ``raw.events`` with its partitions, as the owner.

Each variant gets a fresh database on the same throwaway server. Peak memory (max RSS) of the
ingest process is measured for a quarter of the file and for the whole file.

    .venv/bin/python -m bench.ingest [--events 1000000] [--workers 0]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import orjson
import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench._server import fresh_database, server
from boxoffice.warehouse import engine, migrate

RESULTS = Path(__file__).parent / "results"
PEER_A_LINES = 50_000
TENANTS = [str(uuid.UUID(int=i + 1, version=4)) for i in range(4)]
TYPES = ["page_view", "search", "event_view", "add_to_cart", "checkout_started", "purchase"]
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
]
MALFORMED = [
    b'{"specversion": "1.0", "id": "x", "source": "/web", "type": "page_view", "ti',
    b'{"specversion": "1.0", "source": "/web", "type": "page_view", "time": "2026-10-01"}',
    b"not json at all",
]


def make_events(n: int, seed: int = 0) -> list[bytes]:
    """``n`` lines: 92 % valid events, 5 % malformed, 3 % repeats of earlier lines."""
    rng = np.random.default_rng(seed)
    base = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    seconds = np.sort(rng.integers(0, 30 * 86400, n))
    kinds = rng.random(n)
    events = [str(uuid.UUID(int=int(x), version=4)) for x in rng.integers(0, 2**62, 50)]
    lines: list[bytes] = []
    for i in range(n):
        if kinds[i] < 0.05:
            lines.append(MALFORMED[i % len(MALFORMED)])
            continue
        if kinds[i] < 0.08 and lines:
            lines.append(lines[int(rng.integers(0, len(lines)))])
            continue
        type_ = TYPES[i % len(TYPES)]
        data = {
            "session_id": f"s-{i // 6}",
            "channel": "web" if i % 3 else "mobile",
            "ip": f"203.0.{i % 250}.{i % 200}",
            "user_agent": AGENTS[i % 3],
            "url": f"https://tickets.example/e/{i % 50}",
        }
        if i % 4 == 0:
            data["customer_id"] = str(uuid.UUID(int=i % 100_000 + 1, version=4))
        if type_ == "search":
            data["query"] = "jazz night"
        elif type_ != "page_view":
            data["event_id"] = events[i % 50]
        if type_ in ("add_to_cart", "checkout_started", "purchase"):
            data["quantity" if type_ != "purchase" else "tickets"] = 2
            data["price_cents" if type_ == "add_to_cart" else "value_cents"] = 9000
        if type_ == "checkout_started":
            data["email"] = f"fan{i}@example.org"
        if type_ == "purchase":
            data["order_id"] = str(uuid.UUID(int=i + 1, version=4))
        event = {
            "specversion": "1.0",
            "id": str(uuid.UUID(int=i + 1, version=4)),
            "source": "/web",
            "type": type_,
            "time": (base + dt.timedelta(seconds=int(seconds[i])))
            .isoformat()
            .replace("+00:00", "Z"),
            "tenantid": TENANTS[i % len(TENANTS)],
            "data": data,
        }
        lines.append(orjson.dumps(event))
    return lines


def prepare(url: str, name: str) -> str:
    db = fresh_database(url, name)
    os.environ["BOXOFFICE_DATABASE_URL"] = db
    with engine.connect() as conn:
        migrate.upgrade(conn)
        for i, tenant in enumerate(TENANTS):
            conn.execute(
                sa.text("insert into source.tenants values (:t, :n, now())"),
                {"t": tenant, "n": f"tenant {i}"},
            )
    return db


def _peak_rss_mib(pid: int) -> float | None:
    """VmHWM: the peak resident set of the process's current image (ru_maxrss of a child
    would include the parent's memory at fork time)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    kib = next((ln.split()[1] for ln in status.splitlines() if ln.startswith("VmHWM")), None)
    return int(kib) / 1024 if kib else None  # None too once the process is a zombie


def ours(db: str, path: Path, workers: int) -> dict:
    """`boxoffice ingest` in a child process: wall time, counts, and its peak memory (of the
    main process; parsing processes, with ``workers``, come on top)."""
    env = {**os.environ, "BOXOFFICE_DATABASE_URL": db}
    out = Path(tempfile.mktemp(suffix=".json"))
    started = time.perf_counter()
    command = ["ingest", str(path), "--json", "--workers", str(workers)]
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "boxoffice.cli", *command],
            env=env,
            stdout=sink,
        )
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, _peak_rss_mib(proc.pid) or 0.0)
            time.sleep(0.05)
    seconds = time.perf_counter() - started
    assert proc.returncode == 0, out.read_text()
    [counts] = json.loads(out.read_text())
    return {"seconds": seconds, "max_rss_mib": round(peak, 1), **counts}


def peer_row_by_row(db: str, lines: list[bytes], *, autocommit: bool) -> float:
    """One INSERT per event: committed one by one as the seeds' request handlers did
    (``autocommit``), or all in one transaction (the kindest variant of the loop)."""
    url = engine.libpq_url(make_url(db))
    with psycopg.connect(url, autocommit=autocommit) as conn, conn.cursor() as cur:
        cur.execute(
            "select raw.ensure_event_partitions(array['2026-10-01'::date, '2026-11-01'::date])"
        )
        batch = uuid.uuid4()
        cur.execute(
            "insert into raw.ingest_batches (batch_id, input_name, started_at, received, stored,"
            " duplicates, rejected) values (%s, 'peer', now(), 0, 0, 0, 0)",
            (batch,),
        )
        started = time.perf_counter()
        for line in lines:
            try:
                e = json.loads(line)
                cur.execute(
                    "insert into raw.events (tenant_id, source, event_id, type, schema_version,"
                    " occurred_at, received_at, session_id, batch_id, payload)"
                    " values (%s, %s, %s, %s, 'v1', %s, now(), %s, %s, %s)",
                    (e["tenantid"], e["source"], e["id"], e["type"], e["time"],
                     e["data"].get("session_id"), batch, json.dumps(e["data"])),
                )  # fmt: skip
            except (ValueError, KeyError):
                continue
        return time.perf_counter() - started


def peer_raw_copy(db: str, clean: Path) -> float:
    with psycopg.connect(engine.libpq_url(make_url(db))) as conn, conn.cursor() as cur:
        cur.execute(
            "select raw.ensure_event_partitions(array['2026-10-01'::date, '2026-11-01'::date])"
        )
        started = time.perf_counter()
        with cur.copy("copy raw.events from stdin") as copy, clean.open("rb") as f:
            while block := f.read(1 << 20):
                copy.write(block)
        return time.perf_counter() - started


def export_clean(db: str, path: Path) -> int:
    with psycopg.connect(engine.libpq_url(make_url(db))) as conn, conn.cursor() as cur:
        with cur.copy("copy (select * from raw.events) to stdout") as copy, path.open("wb") as f:
            for block in copy:
                f.write(block)
        return cur.execute("select count(*) from raw.events").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=0, help="ingest --workers (parsing)")
    args = parser.parse_args()
    n, workers = args.events, args.workers
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    lines = make_events(n)
    full, quarter = tmp / "events.ndjson", tmp / "quarter.ndjson"
    full.write_bytes(b"\n".join(lines) + b"\n")
    quarter.write_bytes(b"\n".join(lines[: n // 4]) + b"\n")
    sample, lines = lines[:PEER_A_LINES], None  # free the rest before measuring
    with server() as url:
        small = ours(prepare(url, "bench_ingest_quarter"), quarter, workers)
        db = prepare(url, "bench_ingest_ours")
        result = ours(db, full, workers)
        clean = tmp / "clean.copy"
        rows = export_clean(db, clean)
        copy_s = peer_raw_copy(prepare(url, "bench_ingest_copy"), clean)
        row_s = peer_row_by_row(prepare(url, "bench_ingest_rows"), sample, autocommit=True)
        row_txn_s = peer_row_by_row(prepare(url, "bench_ingest_rows_txn"), sample, autocommit=False)
    rate = n / result["seconds"]
    table = {
        "events": n,
        "ours_workers": workers,
        "file_mib": round(full.stat().st_size / 2**20, 1),
        "ours": {
            k: result[k]
            for k in ("seconds", "received", "stored", "duplicates", "rejected", "max_rss_mib")
        },
        "ours_events_per_s": round(rate),
        "ours_quarter_file_max_rss_mib": small["max_rss_mib"],
        "peer_row_by_row_events_per_s": round(PEER_A_LINES / row_s),
        "peer_row_by_row_one_transaction_events_per_s": round(PEER_A_LINES / row_txn_s),
        "peer_raw_copy_rows": rows,
        "peer_raw_copy_seconds": round(copy_s, 2),
        "peer_raw_copy_events_per_s": round(rows / copy_s),
        "ratio_vs_row_by_row": round(rate / (PEER_A_LINES / row_s), 1),
        "ratio_vs_row_by_row_one_transaction": round(rate / (PEER_A_LINES / row_txn_s), 2),
        "ratio_vs_raw_copy": round(rate / (rows / copy_s), 2),
        "date": dt.date.today().isoformat(),
    }
    RESULTS.mkdir(exist_ok=True)
    name = f"ingest_workers{workers}.json" if workers else "ingest.json"
    (RESULTS / name).write_text(json.dumps(table, indent=2) + "\n")
    print(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()
