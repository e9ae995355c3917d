"""Benchmark: customer intelligence end to end on a large world, and the BG/NBD fit against
``lifetimes``.

1. Setup (timed, not compared): a throwaway embedded server, the synthetic world, and the
   sales facts (``analytics.customer_days`` is what the customer tasks read).
2. End to end, as the ``rfm`` and ``customer-value`` tasks do it, for every tenant: the summary
   computed inside PostgreSQL (by the rfm task, which stores it beside the scores; the
   customer-value task reads it back), RFM scores and segment summary, BG/NBD and Gamma-Gamma
   fits, P(alive), expected purchases, CLV and churn risk, and the four partitions written.
   Goal: ≤ 30 s for ≥ 1 M customers / ≥ 10 M tickets.
3. The BG/NBD fit on the summary of all tenants together: ``fit_bgnbd`` against ``lifetimes``'
   ``BetaGeoFitter`` (unmaintained; installed only into a separate virtual environment, and run
   there in a child process) as it is usually called (one row per customer) and with its
   ``weights`` (one row per distinct (frequency, recency, T), which ``fit_bgnbd`` does
   internally). Both log-likelihoods are evaluated with :func:`bgnbd_log_likelihood`. Goal:
   ≥ 3× faster at an equal or better log-likelihood.
4. For reference: the seeds' way, ``NTILE(5)`` RFM scores in SQL over every order, on demand.

    .venv/bin/python -m bench.customers --scale large
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import psycopg
import sqlalchemy as sa

from bench._server import fresh_database, server

RESULTS = Path(__file__).parent / "results"
AS_OF = dt.date(2026, 10, 31)
LIFETIMES_VENV = Path.home() / ".cache" / "boxoffice-bench" / "lifetimes-venv"

# The seeds' RFM: NTILE quintiles over every customer's orders, computed on demand in SQL.
SEEDS_NTILE_SQL = """
with customer as (
    select o.customer_id,
           max(o.created_at) as last_order,
           count(distinct o.order_id) as orders,
           sum(t.price_cents) as spend
    from source.orders o
    join source.tickets t using (tenant_id, order_id)
    where o.created_at < :end
    group by o.customer_id
)
select customer_id,
       ntile(5) over (order by last_order) as r,
       ntile(5) over (order by orders) as f,
       ntile(5) over (order by spend) as m
from customer
"""

# Run by the lifetimes environment's interpreter: fit, and print seconds and parameters.
LIFETIMES_FIT = """
import json, sys, time
import pandas as pd
from lifetimes import BetaGeoFitter

summary = pd.read_parquet(sys.argv[1])
weighted = sys.argv[2] == "weighted"
if weighted:
    summary = summary.groupby(["frequency", "recency", "T"]).size().rename("weight").reset_index()
started = time.perf_counter()
fitter = BetaGeoFitter().fit(
    summary["frequency"], summary["recency"], summary["T"],
    weights=summary["weight"] if weighted else None,
)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "params": fitter.params_.to_dict()}))
"""


class Stages:
    """Wall-clock seconds per named stage, summed over tenants."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str):
        started = time.perf_counter()
        yield
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def rounded(self) -> dict[str, float]:
        return {k: round(v, 2) for k, v in self.seconds.items()}


def setup(scale: str, seed: int) -> dict:
    from boxoffice import warehouse
    from boxoffice.synth import WorldSpec, build_world
    from boxoffice.warehouse import engine, migrate

    with engine.connect("owner") as conn:
        migrate.upgrade(conn)
    started = time.perf_counter()
    manifest = build_world(
        WorldSpec(scale, seed, AS_OF), Path(tempfile.mkdtemp()) / "manifest.json"
    )
    loaded = time.perf_counter()
    tenants = [t["tenant_id"] for t in manifest["tenants"]]
    warehouse.refresh_sales(tenants)
    return {
        "tenants": tenants,
        "customers": manifest["rows"]["customers"],
        "orders": manifest["rows"]["orders"],
        "tickets": manifest["rows"]["tickets"],
        "world_seconds": round(loaded - started, 1),
        "sales_aggregates_seconds": round(time.perf_counter() - loaded, 1),
    }


def end_to_end(tenants: list[str]) -> tuple[dict, pl.DataFrame]:
    """What the rfm and customer-value tasks do, stage by stage; returns the stage timings and
    the summary of all tenants (for the fit comparison)."""
    from boxoffice import customers, warehouse
    from boxoffice.warehouse import schema

    stage, summaries = Stages(), []
    started = time.perf_counter()
    with warehouse.partition_writer(as_of=AS_OF) as writer:  # the rfm task
        for tenant in tenants:
            with stage("summary computed in PostgreSQL"):
                summary = warehouse.read_customer_summary(as_of=AS_OF, tenant=tenant)
            with stage("RFM scores and segment summary"):
                scores = customers.score_rfm(summary)
                segments = customers.segment_summary(scores)
            with stage("queue the partitions (waits while two are queued)"):
                writer.write(schema.customer_rfm, tenant, scores)
                writer.write(schema.customer_segments, tenant, segments)
        stage_end = time.perf_counter()
    stage.seconds["rfm: wait for the last writes and commit"] = time.perf_counter() - stage_end
    with warehouse.partition_writer(as_of=AS_OF) as writer:  # the customer-value task
        for tenant in tenants:
            with stage("read the summary stored by the rfm task"):
                summary = warehouse.read_scored_summary(as_of=AS_OF, tenant=tenant)
            with stage("BG/NBD + Gamma-Gamma fits, P(alive), CLV, churn risk"):
                value = customers.value_customers(summary)
            with stage("queue the partitions (waits while two are queued)"):
                writer.write(schema.customer_value, tenant, value.values)
                writer.write(schema.customer_models, tenant, value.models)
            summaries.append(summary)
        stage_end = time.perf_counter()
    stage.seconds["customer-value: wait for the last writes and commit"] = (
        time.perf_counter() - stage_end
    )
    total = time.perf_counter() - started
    return {"seconds": round(total, 1), "stages": stage.rounded()}, pl.concat(summaries)


def clear_customer_tables() -> None:
    """Empty the customer tables (and vacuum them) so that every measured run starts alike."""
    from boxoffice.warehouse import engine

    url = engine.libpq_url(engine.database_url("owner"))
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("customer_rfm", "customer_segments", "customer_value", "customer_models"):
            conn.execute(f"truncate analytics.{table}")
            conn.execute(f"vacuum analyze analytics.{table}")


def lifetimes_python() -> Path:
    """The interpreter of a virtual environment holding lifetimes (created on first use)."""
    python = LIFETIMES_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {LIFETIMES_VENV} with lifetimes …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(LIFETIMES_VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q", "lifetimes", "pandas", "pyarrow"]
        subprocess.run(pip, check=True)
    return python


def compare_fits(summary: pl.DataFrame) -> dict:
    from boxoffice.customers import fit_bgnbd
    from boxoffice.customers.bgnbd import bgnbd_log_likelihood

    def log_likelihood(params: dict) -> float:
        return float(
            bgnbd_log_likelihood(params, summary["frequency"], summary["recency"], summary["T"])
            .sum()
            .round(3)
        )

    started = time.perf_counter()
    ours = fit_bgnbd(summary)
    ours_seconds = time.perf_counter() - started
    result = {
        "customers": summary.height,
        "distinct_triples": summary.select("frequency", "recency", "T").n_unique(),
        "boxoffice": {
            "seconds": round(ours_seconds, 2),
            "params": {k: round(v, 5) for k, v in ours.params.items()},
            "log_likelihood": log_likelihood(ours.params),
        },
    }
    python = lifetimes_python()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "summary.parquet"
        summary.select("frequency", "recency", "T").write_parquet(path)
        for variant in ("per customer", "weighted"):
            cmd = [str(python), "-c", LIFETIMES_FIT, str(path), variant.split()[0]]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            fitted = json.loads(out.strip().splitlines()[-1])
            result[f"lifetimes ({variant})"] = {
                "seconds": round(fitted["seconds"], 2),
                "params": {k: round(v, 5) for k, v in fitted["params"].items()},
                "log_likelihood": log_likelihood(fitted["params"]),
                "speedup_of_boxoffice": round(fitted["seconds"] / ours_seconds, 1),
            }
    return result


def seeds_ntile() -> dict:
    from boxoffice.warehouse import engine

    end = dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    with engine.connect("owner") as conn:
        started = time.perf_counter()
        rows = conn.execute(sa.text(SEEDS_NTILE_SQL), {"end": end}).fetchall()
        seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 1), "customers": len(rows)}


def main() -> None:
    # load all the code now, so that edits made while a run goes on cannot mix versions
    import boxoffice.customers
    import boxoffice.metrics
    import boxoffice.warehouse  # noqa: F401

    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="large", choices=["small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with server() as url:
        os.environ["BOXOFFICE_DATABASE_URL"] = fresh_database(url, "bench_customers")
        world = setup(args.scale, args.seed)
        print(
            f"world: {world['customers']:,} customers, {world['tickets']:,} tickets in "
            f"{world['world_seconds']} s; sales aggregates {world['sales_aggregates_seconds']} s",
            flush=True,
        )
        half = world["tenants"][: len(world["tenants"]) // 2]
        e2e = {}
        for label, tenants in (("half of the tenants", half), ("all tenants", world["tenants"])):
            clear_customer_tables()
            e2e[label], summary = end_to_end(tenants)
            e2e[label]["customers"] = summary.height
            print(
                f"end to end, {label}: {e2e[label]['seconds']} s for {summary.height:,} customers"
            )
            for name, seconds in e2e[label]["stages"].items():
                print(f"  {name:<55} {seconds:>7.2f} s", flush=True)
        fits = compare_fits(summary)
        for name in ("boxoffice", "lifetimes (per customer)", "lifetimes (weighted)"):
            r = fits[name]
            print(f"{name:<26} {r['seconds']:>8.2f} s  LL {r['log_likelihood']:,.3f}", flush=True)
        seeds = seeds_ntile()
        print(f"seeds' NTILE RFM in SQL: {seeds['seconds']} s", flush=True)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"customers_{args.scale}.json"
    out.write_text(
        json.dumps(
            {
                "benchmark": "customers",
                "scale": args.scale,
                "seed": args.seed,
                "date": dt.date.today().isoformat(),
                "cpus": os.cpu_count(),
                "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "world": {k: v for k, v in world.items() if k != "tenants"},
                "end_to_end": e2e,
                "bgnbd_fit": fits,
                "seeds_ntile_rfm": seeds,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
