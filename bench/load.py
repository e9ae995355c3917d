"""Benchmark: `boxoffice load --from DIR` against dlt loading the same Parquet files.

One world (``boxoffice synth --to``: one Parquet file per contract table) is loaded into fresh
databases of one throwaway embedded server:

- **boxoffice**: ``boxoffice load --from DIR`` into a migrated database (every row checked
  against the contract in PostgreSQL, upserted by key under row-level security, the change
  queue's triggers on), then its checksums against the same world loaded directly by
  ``boxoffice synth``;
- **incremental**: 1 % of the tickets changed (their price) and 0.1 % deleted (as a
  ``tickets.deleted.parquet`` tombstone file) loaded on top, its checksums against the same
  change made with SQL in the direct world;
- **dlt**: dlt's defaults for a Parquet → PostgreSQL load (its ``filesystem`` source and
  ``read_parquet`` transformer, the ``postgres`` destination and its default loader file
  format), in its own virtual environment (created on first use under
  ``~/.cache/boxoffice-bench``).

Each load runs as its own process under ``/usr/bin/time``: wall time and peak RSS (max resident
set of the loading process; PostgreSQL's own memory is not in it).

    .venv/bin/python -m bench.load --scale large --also medium
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
from pathlib import Path
from urllib.parse import quote

import polars as pl
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from bench._server import fresh_database, server
from boxoffice.warehouse import engine

RESULTS = Path(__file__).parent / "results"
DLT_VENV = Path.home() / ".cache" / "boxoffice-bench" / "dlt-venv"
DLT_VERSION = "1.31.0"
SOURCE = ["tenants", "venues", "events", "customers", "orders", "tickets", "campaign_touches"]
END = dt.date(2026, 10, 31)

DLT_SCRIPT = """
import json
import sys
import dlt
from dlt.sources.filesystem import filesystem, read_parquet

folder, credentials, pipelines = sys.argv[1:4]
names = sys.argv[4:]
pipeline = dlt.pipeline(
    pipeline_name="bench_load",
    destination=dlt.destinations.postgres(credentials=json.loads(credentials)),
    dataset_name="dlt_source",
    pipelines_dir=pipelines,
)
resources = [
    (filesystem(bucket_url=folder, file_glob=f"{name}.parquet") | read_parquet()).with_name(name)
    for name in names
]
info = pipeline.run(resources)
formats = {
    job.job_file_info.file_format
    for package in info.load_packages
    for job in package.jobs["completed_jobs"]
}
print(json.dumps({"loader_file_formats": sorted(formats), "dlt": dlt.__version__}))
"""


def timed(cmd: list[str], env: dict[str, str]) -> dict:
    """Run ``cmd`` under /usr/bin/time: its wall seconds and peak RSS (MiB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as measured:
        started = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", measured.name, *cmd],
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        if done.returncode:
            raise SystemExit(f"{cmd[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        rss_kib = int(measured.read().strip().splitlines()[-1])
    return {"seconds": round(seconds, 1), "max_rss_mib": round(rss_kib / 1024), "out": done.stdout}


def checksums(url: str) -> dict[str, list]:
    """Per source table: its rows and an order-free checksum of their text (sum of the first
    60 bits of each row's MD5)."""
    with psycopg.connect(engine.libpq_url(make_url(url))) as conn:
        return {
            t: list(
                conn.execute(
                    sql.SQL(
                        "select count(*), sum(('x' || left(md5(x::text), 15))::bit(60)::bigint)"
                        " from {} x"
                    ).format(sql.Identifier("source", t))
                ).fetchone()
            )
            for t in SOURCE
        }


def change(url: str, folder: Path, into: Path) -> dict[str, int]:
    """Write ``into``: 1 % of the tickets (every 100th by id) with their price raised by 100
    cents, and the keys of 0.1 % (every 1000th, offset 7) as tombstones; make the same change
    with SQL in the database at ``url`` (the direct world). Returns the counts."""
    into.mkdir()
    tickets = pl.scan_parquet(folder / "tickets.parquet").with_row_index("n")
    changed = (
        tickets.filter(pl.col("n") % 100 == 0)
        .with_columns(pl.col("price_cents") + 100)
        .drop("n")
        .collect()
    )
    deleted = tickets.filter(pl.col("n") % 1000 == 7).select("tenant_id", "ticket_id").collect()
    changed.write_parquet(into / "tickets.parquet")
    deleted.write_parquet(into / "tickets.deleted.parquet")
    with psycopg.connect(engine.libpq_url(make_url(url))) as conn:
        conn.execute("create temporary table up (tenant_id uuid, ticket_id uuid)")
        conn.execute("create temporary table gone (tenant_id uuid, ticket_id uuid)")
        for name, frame in (("up", changed), ("gone", deleted)):
            keys = frame.select("tenant_id", "ticket_id").write_csv(include_header=False)
            with conn.cursor().copy(f"copy {name} from stdin (format csv)") as copy:
                copy.write(keys)
        conn.execute(
            "update source.tickets t set price_cents = price_cents + 100 from up"
            " where (t.tenant_id, t.ticket_id) = (up.tenant_id, up.ticket_id)"
        )
        conn.execute(
            "delete from source.tickets t using gone"
            " where (t.tenant_id, t.ticket_id) = (gone.tenant_id, gone.ticket_id)"
        )
    return {"changed": changed.height, "deleted": deleted.height}


def dlt_python() -> Path:
    python = DLT_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {DLT_VENV} with dlt {DLT_VERSION} …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(DLT_VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q", f"dlt[postgres,parquet]=={DLT_VERSION}"]
        subprocess.run(pip, check=True)
    return python


def run_scale(url: str, scale: str, seed: int, work: Path, with_dlt: bool) -> dict:
    from boxoffice.synth import WorldSpec, build_world, write_world_files
    from boxoffice.warehouse import migrate

    spec = WorldSpec(scale, seed, END)
    databases = {n: fresh_database(url, f"bench_load_{scale}_{n}") for n in ("direct", "ours")}
    env = {**os.environ, "BOXOFFICE_HOME": str(work / "home")}
    for db in databases.values():
        os.environ["BOXOFFICE_DATABASE_URL"] = db
        with engine.connect() as conn:
            migrate.upgrade(conn)
    os.environ["BOXOFFICE_DATABASE_URL"] = databases["direct"]
    folder = work / f"{scale}-files"
    manifest = write_world_files(spec, folder, work / f"{scale}.json")
    build_world(spec, work / f"{scale}-direct.json")
    engine.dispose_all()
    size = sum(p.stat().st_size for p in folder.iterdir())
    print(
        f"{scale}: {manifest['rows']['tickets']:,} tickets, files {size / 2**20:,.0f} MiB",
        flush=True,
    )

    boxoffice = str(Path(sys.executable).with_name("boxoffice"))
    ours = timed(
        [boxoffice, "load", "--from", str(folder), "--json"],
        {**env, "BOXOFFICE_DATABASE_URL": databases["ours"]},
    )
    loaded = json.loads(ours.pop("out"))["tables"]
    ours["rows"] = sum(t["inserted"] for t in loaded.values())
    ours["checksums_equal_synth"] = checksums(databases["ours"]) == checksums(databases["direct"])
    print(f"  boxoffice load      {ours}", flush=True)

    result = {
        "tickets": manifest["rows"]["tickets"],
        "files_mib": round(size / 2**20),
        "boxoffice": ours,
    }
    counts = change(databases["direct"], folder, work / f"{scale}-change")
    incremental = timed(
        [boxoffice, "load", "--from", str(work / f"{scale}-change"), "--json"],
        {**env, "BOXOFFICE_DATABASE_URL": databases["ours"]},
    )
    tickets = json.loads(incremental.pop("out"))["tables"]["tickets"]
    incremental |= counts | {"updated": tickets["updated"], "deleted_rows": tickets["deleted"]}
    incremental["checksums_equal_synth"] = checksums(databases["ours"]) == checksums(
        databases["direct"]
    )
    incremental["of_full"] = round(incremental["seconds"] / ours["seconds"], 3)
    print(f"  incremental         {incremental}", flush=True)
    result["incremental"] = incremental

    if with_dlt:
        target = make_url(fresh_database(url, f"bench_load_{scale}_dlt"))
        credentials = {  # a Unix socket: its folder, percent-encoded, is the host in a DSN
            "database": target.database,
            "username": target.username,
            "password": target.password or "",
            "host": quote(target.query["host"], safe=""),
            "port": target.port or 5432,
        }
        script = work / "dlt_load.py"
        script.write_text(DLT_SCRIPT)
        peer = timed(
            [
                str(dlt_python()),
                str(script),
                str(folder),
                json.dumps(credentials),
                str(work / "dlt"),
                *SOURCE,
            ],
            {
                **os.environ,
                "RUNTIME__LOG_LEVEL": "WARNING",
                "DLT_TELEMETRY_DISABLED": "1",
            },
        )
        peer |= json.loads(peer.pop("out").strip().splitlines()[-1])
        with psycopg.connect(engine.libpq_url(target)) as conn:
            peer["rows"] = sum(
                conn.execute(
                    sql.SQL("select count(*) from {}").format(sql.Identifier("dlt_source", t))
                ).fetchone()[0]
                for t in SOURCE
            )
        print(f"  dlt                 {peer}", flush=True)
        result["dlt"] = peer
        result["dlt_over_boxoffice"] = round(peer["seconds"] / ours["seconds"], 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="large", choices=["small", "medium", "large"])
    parser.add_argument("--also", choices=["small", "medium", "large"], help="a second scale")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-dlt", action="store_true", help="skip the peer")
    args = parser.parse_args()
    results = {}
    with server() as url, tempfile.TemporaryDirectory() as tmp:
        for scale in [s for s in (args.also, args.scale) if s]:
            work = Path(tmp) / scale
            work.mkdir()
            results[scale] = run_scale(url, scale, args.seed, work, not args.no_dlt)
    if args.also:
        small, big = results[args.also], results[args.scale]
        results["peak_rss_ratio"] = round(
            big["boxoffice"]["max_rss_mib"] / small["boxoffice"]["max_rss_mib"], 2
        )
    print(json.dumps(results, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"load-{args.scale}.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
