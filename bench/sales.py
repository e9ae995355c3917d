"""Benchmark: sales facts on a large world.

(a) Dashboard queries answered from the pre-aggregates (``analytics.sales_daily``, as the
    reader role a dashboard uses) against the seeds' way: ``DATE_TRUNC`` over every ticket at
    request time (as the pipeline role, the only one that may read ``source``). Two questions
    a venue manager asks: net revenue and tickets per day over the last 30 days, and per month
    over the whole history. Median of 7 runs each, after one warm-up; goal ≥ 100× and < 50 ms.
(b) The incremental refresh after one new day (a day of sales copied from the last one, with
    refunds of earlier sales on the new day and scans) against a full rebuild. Goal ≤ 5 %.

    .venv/bin/python -m bench.sales --scale large
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import psycopg

from bench._server import fresh_database, server

RESULTS = Path(__file__).parent / "results"
AS_OF = dt.date(2026, 10, 31)
RUNS = 7

QUESTIONS = {
    "per day, last 30 days": {
        "ours": """
            select local_date, sum(net_cents) as net, sum(tickets_sold) as tickets
            from analytics.sales_daily
            where local_date > %(as_of)s::date - 30 and local_date <= %(as_of)s
            group by 1 order by 1
        """,
        "seeds": """
            select date_trunc('day', t.sold_at) as day,
                   sum(t.price_cents) filter (where t.status <> 'refunded') as net,
                   count(*) as tickets
            from source.tickets t
            where t.sold_at > %(as_of)s::date - 29
            group by 1 order by 1
        """,
    },
    "per month, all history": {
        "ours": """
            select date_trunc('month', local_date) as month, sum(net_cents) as net,
                   sum(tickets_sold) as tickets
            from analytics.sales_daily
            where local_date <= %(as_of)s
            group by 1 order by 1
        """,
        "seeds": """
            select date_trunc('month', t.sold_at) as month,
                   sum(t.price_cents) filter (where t.status <> 'refunded') as net,
                   count(*) as tickets
            from source.tickets t
            group by 1 order by 1
        """,
    },
}

# one new day for every tenant: the orders and tickets of the last day, a day later, with new
# ids; 1,000 earlier sales refunded and the new day's events scanned (updates the triggers see)
NEW_DAY = """
create temporary table new_orders on commit drop as
    select tenant_id, order_id as old_id, gen_random_uuid() as order_id, customer_id, channel,
           created_at + interval '1 day' as created_at
    from source.orders where created_at >= %(day)s and created_at < %(day)s::date + 1;
insert into source.orders (tenant_id, order_id, customer_id, channel, created_at)
    select tenant_id, order_id, customer_id, channel, created_at from new_orders;
insert into source.tickets (tenant_id, ticket_id, order_id, event_id, price_cents, fee_cents,
                            ticket_type, sold_at, status)
    select t.tenant_id, gen_random_uuid(), n.order_id, t.event_id, t.price_cents, t.fee_cents,
           t.ticket_type, t.sold_at + interval '1 day', 'sold'
    from source.tickets t join new_orders n on n.tenant_id = t.tenant_id and n.old_id = t.order_id;
update source.tickets set status = 'refunded', refunded_at = %(day)s::date + 1 + interval '15 h'
    where ticket_id in (select ticket_id from source.tickets
                        where status = 'sold' and sold_at < %(day)s order by ticket_id limit 1000);
update source.tickets set status = 'scanned', scanned_at = %(day)s::date + 1 + interval '19 h'
    where ticket_id in (select ticket_id from source.tickets
                        where status = 'sold' and sold_at < %(day)s order by sold_at desc
                        limit 5000);
"""


def _timed(conn: psycopg.Connection, sql: str) -> tuple[float, int]:
    started = time.perf_counter()
    rows = conn.execute(sql, {"as_of": AS_OF}).fetchall()
    return time.perf_counter() - started, len(rows)


def dashboard_queries(tenant: str) -> dict:
    from boxoffice.warehouse import engine

    def connect(role: str) -> psycopg.Connection:
        conn = psycopg.connect(engine.libpq_url(engine.database_url(role)), autocommit=True)
        conn.execute("select set_config('app.tenant_id', %s, false)", [tenant])
        return conn

    results = {}
    with connect("reader") as reader, connect("pipeline") as pipeline:
        for question, sql in QUESTIONS.items():
            timings = {}
            for name, conn in (("ours", reader), ("seeds", pipeline)):
                _timed(conn, sql[name])  # warm-up
                runs = [_timed(conn, sql[name]) for _ in range(RUNS)]
                timings[name] = {
                    "median_ms": round(statistics.median(t for t, _ in runs) * 1000, 2),
                    "rows": runs[0][1],
                }
            timings["speedup"] = round(timings["seeds"]["median_ms"] / timings["ours"]["median_ms"])
            results[question] = timings
    return results


def refreshes(tenants: list[str]) -> dict:
    from boxoffice.warehouse import engine, forget_sales_refresh, refresh_sales

    forget_sales_refresh(tenants)
    started = time.perf_counter()
    refresh_sales(tenants)
    full = time.perf_counter() - started
    url = engine.libpq_url(engine.database_url("owner"))
    with psycopg.connect(url) as conn:
        for statement in NEW_DAY.split(";\n"):
            if statement.strip():
                conn.execute(statement, {"day": AS_OF})
    with psycopg.connect(url) as conn:
        queued = conn.execute(
            "select count(distinct (tenant_id, utc_date)) from source.ticket_changes"
        ).fetchone()[0]
    started = time.perf_counter()
    done = refresh_sales(tenants)
    incremental = time.perf_counter() - started
    return {
        "full_seconds": round(full, 2),
        "incremental_seconds": round(incremental, 2),
        "incremental_share": round(incremental / full, 4),
        "queued_tenant_days": queued,
        "local_days_recomputed": sum(len(r.days or []) for r in done),
    }


def main() -> None:
    # load all the code now, so that edits made while a run goes on cannot mix versions
    import boxoffice.customers
    import boxoffice.metrics
    import boxoffice.warehouse  # noqa: F401

    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="large", choices=["small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    from boxoffice.synth import WorldSpec, build_world
    from boxoffice.warehouse import engine, migrate

    with server() as url:
        os.environ["BOXOFFICE_DATABASE_URL"] = fresh_database(url, "bench_sales")
        with engine.connect("owner") as conn:
            migrate.upgrade(conn)
        manifest = build_world(
            WorldSpec(args.scale, args.seed, AS_OF), Path(tempfile.mkdtemp()) / "manifest.json"
        )
        tenants = [t["tenant_id"] for t in manifest["tenants"]]
        print(f"world: {manifest['rows']['tickets']:,} tickets, {len(tenants)} tenants", flush=True)
        refresh = refreshes(tenants)
        print(
            f"full rebuild {refresh['full_seconds']} s; after one new day, incremental "
            f"{refresh['incremental_seconds']} s = {refresh['incremental_share']:.1%} of full",
            flush=True,
        )
        with psycopg.connect(engine.libpq_url(engine.database_url("owner")), autocommit=True) as c:
            c.execute("vacuum analyze")  # as a scheduled database would be
        queries = dashboard_queries(tenants[0])
        for question, r in queries.items():
            print(
                f"{question}: ours {r['ours']['median_ms']} ms, seeds {r['seeds']['median_ms']} ms"
                f" → {r['speedup']}×",
                flush=True,
            )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"sales_{args.scale}.json"
    out.write_text(
        json.dumps(
            {
                "benchmark": "sales",
                "scale": args.scale,
                "seed": args.seed,
                "date": dt.date.today().isoformat(),
                "cpus": os.cpu_count(),
                "tickets": manifest["rows"]["tickets"],
                "refresh": refresh,
                "dashboard_queries": queries,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
