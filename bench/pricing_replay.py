"""Replay the synthetic world's last season with the recommendation policy against static prices.

    .venv/bin/python -m bench.pricing_replay [--scale small|medium] [--season-days 90]

The world (throwaway embedded server) is built and its sales facts refreshed; elasticities are
estimated as the pricing task does, from the sales of events that started before the season;
the season's events (starting in its last ``season-days`` days) are replayed from their own
demand: each event-day's tickets, "de-priced" to the base price with the elasticity the world
produces for their tenant and category (``q · (base / p)^ε``, ε the manifest's
``realized_elasticity``, weaker than the nominal one; capacity-bound days are kept as they
are, a simplification that understates demand at sell-outs). The static policy sells at the
base price, the policy reviews weekly with the estimated elasticities; both see the same
draws. Also replayed with the true elasticities given to the policy (what a perfect estimate
would earn), which separates the estimate's error from the policy's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import tempfile
import warnings
from pathlib import Path

import polars as pl

RESULTS = Path(__file__).parent / "results"
END = dt.date(2026, 10, 31)


def main() -> None:
    warnings.simplefilter("ignore")
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="small", choices=["small", "medium"])
    parser.add_argument("--season-days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    os.environ.setdefault("BOXOFFICE_PII_KEY", "bench")
    from boxoffice import metrics, warehouse
    from boxoffice.pricing import elasticity, simulate
    from boxoffice.synth import WorldSpec, build_world
    from boxoffice.warehouse import embedded, engine, migrate

    with embedded.temporary() as url:
        os.environ["BOXOFFICE_DATABASE_URL"] = url
        os.environ["BOXOFFICE_HOME"] = tempfile.mkdtemp()
        with engine.connect("owner") as conn:
            migrate.upgrade(conn)
        manifest = build_world(
            WorldSpec(args.scale, args.seed, END), Path(tempfile.mkdtemp()) / "m.json"
        )
        tenants = [t["tenant_id"] for t in manifest["tenants"]]
        warehouse.refresh_sales(tenants)
        warehouse.replace_partitions(metrics.sales.dimension_queries(), as_of=END, tenants=tenants)
        # the elasticity the world produces, per tenant (weaker than the nominal one:
        # an order buys 1..8 tickets whatever its spend)
        realized = {t["tenant_id"]: t["realized_elasticity"] for t in manifest["tenants"]}
        season_start = END - dt.timedelta(days=args.season_days)
        results = {}
        for label, use_truth in (("estimated elasticities", False), ("true elasticities", True)):
            parts = []
            for tenant in tenants:
                truth = realized[tenant]
                events = warehouse.read_events(as_of=END, tenant=tenant)
                sales = warehouse.read_ticket_type_sales(as_of=END, tenant=tenant)
                obs = elasticity.price_observations(sales, events)
                before = obs.join(events.select("event_id", "start_date"), on="event_id").filter(
                    pl.col("start_date") < season_start
                )
                est = elasticity.estimate_elasticities(before).filter(
                    (pl.col("scope") == "category") & pl.col("identified")
                )
                estimated = {c: (e, s) for c, e, s in est.select(
                    "category", "elasticity", "std_error").rows()}  # fmt: skip
                if use_truth:
                    estimated = {c: (truth[c], 0.01) for c in truth}
                season = events.filter(
                    (pl.col("start_date") >= season_start) & (pl.col("start_date") <= END)
                )
                demand = (
                    obs.join(season.select("event_id", "category", "base_price_cents"),
                             on="event_id")
                    .with_columns(
                        (pl.col("tickets") * (pl.col("base_price_cents") / pl.col("price"))
                         ** pl.col("category").replace_strict(truth)).alias("expected_at_base")
                    )
                    .select("event_id", "days_to_event", "expected_at_base")
                )  # fmt: skip
                replay = simulate.replay_season(
                    demand, season, true_elasticity=truth, estimated=estimated, seed=args.seed
                )
                parts.append(replay.events)
                results.setdefault(label, {})[tenant] = {
                    "estimated": {c: round(e, 3) for c, (e, _) in estimated.items()},
                    "realized": truth,
                    **{k: (round(v, 4) if isinstance(v, float) else v)
                       for k, v in replay.summary.row(0, named=True).items()},
                }  # fmt: skip
    out = {
        "benchmark": "pricing_replay",
        "scale": args.scale,
        "seed": args.seed,
        "season_days": args.season_days,
        "date": dt.date.today().isoformat(),
        "nominal_elasticity": manifest["truth"]["elasticity"],
        "results": results,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"pricing_replay_{args.scale}.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
