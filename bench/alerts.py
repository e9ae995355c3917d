"""Precision and recall of the default alert rules on known anomalies, against the naive rule.

    .venv/bin/python -m bench.alerts [--scale small|medium] [--seeds 5] [--workers 2]

For each seed a world is built with ``boxoffice synth``'s known anomalies (``--anomalies``:
per tenant two each of a web-channel outage day, a two-day refund wave at 3× the usual rate, a
+60 % sales spike and a scanner outage on an event's day; the sizes are fixed in
``boxoffice.synth.anomalies``) into a throwaway embedded server, and its sales facts
refreshed. Then every default rule of the project's ``alerts.yaml`` that judges a metric series
is replayed, evaluated on each of the world's last 90 days as the alerts task would
(``boxoffice.alerts.evaluate.replay``: the same judge and state machine), and so is the naive
rule on the same metrics and scopes: breached when the day's value is outside 80–120 % of its
trailing 7-day mean (the reconciliation's rule; for an event's scan rate, the mean of the
tenant's events of the 7 days before).

Scoring, per tenant, by alarm: an **alarm** is one time a rule fires in a scope, from the day
it starts firing to the last before it resolves. An alarm is true when it overlaps an anomaly's
days (from its first to one after its last: venues' local days are not the tenant's home days)
in a scope that holds it (the tenant, its venues, channels, categories or events; a scanner
outage: its event, by a scan-rate rule); an anomaly is **found** when a true alarm overlaps it.
Every other alarm is a **false alarm**. Recall = found / anomalies; precision = true alarms /
alarms; false alarms are per tenant and 90 days.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pickle
import tempfile
import time
import warnings
from pathlib import Path

import polars as pl

RESULTS = Path(__file__).parent / "results"
END = dt.date(2026, 10, 31)
DAYS = 90
HISTORY = 60  # days read before the first evaluated day: the anomaly models' history
NAIVE_BAND = (0.8, 1.2)


def build(scale: str, seed: int) -> dict:
    """The world of ``seed`` with anomalies: per tenant its series frames and anomalies."""
    from boxoffice import warehouse
    from boxoffice.synth import WorldSpec, build_world
    from boxoffice.warehouse import alerts as stored
    from boxoffice.warehouse import embedded, engine, migrate
    from boxoffice.warehouse.bulk import read_frame

    with embedded.temporary() as url:
        os.environ["BOXOFFICE_DATABASE_URL"] = url
        os.environ["BOXOFFICE_HOME"] = tempfile.mkdtemp()
        with engine.connect("owner") as conn:
            migrate.upgrade(conn)
        spec = WorldSpec(scale, seed, END, anomalies=True)
        manifest = build_world(spec, Path(tempfile.mkdtemp()) / "m.json")
        tenants = [t["tenant_id"] for t in manifest["tenants"]]
        warehouse.refresh_sales(tenants)
        out = {}
        for t in manifest["tenants"]:
            tenant = t["tenant_id"]
            daily, per_event, _ = stored.read_alert_sales(
                as_of=END, tenant=tenant, days=DAYS + HISTORY, role="pipeline"
            )
            events = read_frame(
                "select e.event_id, e.category, (e.starts_at at time zone v.timezone)::date"
                " as start_date, count(*) filter (where k.status = 'scanned') as scanned,"
                " count(*) filter (where k.status <> 'refunded') as held"
                " from source.events e join source.venues v using (tenant_id, venue_id)"
                " left join source.tickets k using (tenant_id, event_id)"
                " group by 1, 2, 3",
                role="pipeline",
                tenant=tenant,
            )
            out[tenant] = {
                "daily": daily,
                "per_event": per_event,
                "events": events,
                "anomalies": t["anomalies"],
            }
        engine.dispose_all()
    return out


def series_for(rule, world: dict, tenant: str) -> pl.DataFrame:
    from boxoffice.alerts import series

    if rule.metric == "scan_rate":
        return series.scan_series(world["events"])
    return series.sales_series(
        world["daily"], world["per_event"], world["events"], rule.scope, tenant
    )


def naive_episodes(rule, frame: pl.DataFrame, start: dt.date, end: dt.date) -> list[tuple]:
    """The naive rule on ``rule``'s metric and scope, day by day: its firing episodes."""
    from boxoffice.alerts.evaluate import window
    from boxoffice.alerts.metrics import METRICS

    m = METRICS[rule.metric]
    out, firing = [], {}
    day = start
    while day <= end:
        now = window(frame, rule.metric, day, 1)
        if rule.metric == "scan_rate":  # the tenant's events of the 7 days before
            before = frame.filter(
                pl.col("date").is_between(day - dt.timedelta(days=7), day - dt.timedelta(days=1))
            )
            ratio = before[m.numerator].sum() / max(before[m.denominator].sum(), 1)
            mean = {k: ratio if before.height else None for k in now["scope_key"]}
        else:
            past = [window(frame, rule.metric, day - dt.timedelta(days=k), 1) for k in range(1, 8)]
            mean = dict(pl.concat(past).group_by("scope_key").agg(pl.col("value").mean()).rows())
        for key, value, volume in now.rows():
            usual = mean.get(key)
            judged = value is not None and usual not in (None, 0) and volume >= rule.min_volume
            breached = judged and not (NAIVE_BAND[0] * usual <= value <= NAIVE_BAND[1] * usual)
            if breached and key not in firing:
                firing[key] = day
            elif judged and not breached and key in firing:
                out.append((key, firing.pop(key), day - dt.timedelta(days=1)))
        day += dt.timedelta(days=1)
    return out + [(k, d, end) for k, d in firing.items()]


def episodes(events: pl.DataFrame, end: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """(scope, first day firing, last day firing) of each time a scope fired, from a replay's
    changes of state."""
    out, started = [], {}
    for e in events.sort("as_of").iter_rows(named=True):
        if e["to_state"] == "firing":
            started[e["scope_key"]] = e["as_of"]
        elif e["from_state"] == "firing" and e["scope_key"] in started:
            out.append((e["scope_key"], started.pop(e["scope_key"]), e["as_of"] - dt.timedelta(1)))
    return out + [(k, d, end) for k, d in started.items()]


def replay_one(task: tuple) -> tuple:
    """One (seed, tenant, rule): the firing episodes of the rule and of the naive rule."""
    from boxoffice.alerts.evaluate import replay

    seed, tenant, rule, frame = task
    start, end = END - dt.timedelta(days=DAYS - 1), END
    started = time.perf_counter()
    ours = episodes(replay(frame, rule, start, end), end)
    took = time.perf_counter() - started
    return seed, tenant, rule, ours, naive_episodes(rule, frame, start, end), took


def score(alarms: list[tuple], worlds: dict) -> dict:
    """Recall, precision and false alarms of firing episodes (seed, tenant, rule, metric,
    scope, first day, last day). An episode is true when it overlaps an anomaly's days (from
    its first to one after its last) in a scope that holds it — a scan-rate episode a scanner
    outage of its event, any other a sales anomaly; an anomaly is found when a true episode
    overlaps it."""
    found, hits, false = set(), 0, 0
    by_rule: dict[str, int] = {}
    for seed, tenant, rule, metric, key, first, last in alarms:
        hit = False
        for i, a in enumerate(worlds[seed][tenant]["anomalies"]):
            begins = dt.date.fromisoformat(a["first_day"])
            ends = dt.date.fromisoformat(a["last_day"]) + dt.timedelta(days=1)
            if a["kind"] == "scanner_outage":
                holds = metric == "scan_rate" and key == a["event_id"]
            else:
                holds = metric != "scan_rate"
            if holds and first <= ends and last >= begins:
                found.add((seed, tenant, i))
                hit = True
        hits += hit
        false += not hit
        if not hit:
            by_rule[rule] = by_rule.get(rule, 0) + 1
    per_kind: dict[str, list[int]] = {}
    anomalies = 0
    for seed, world in worlds.items():
        for tenant, w in world.items():
            for i, a in enumerate(w["anomalies"]):
                counts = per_kind.setdefault(a["kind"], [0, 0])
                counts[0] += (seed, tenant, i) in found
                counts[1] += 1
                anomalies += 1
    tenant_windows = sum(len(world) for world in worlds.values())
    return {
        "anomalies": anomalies,
        "found": len(found),
        "recall": round(len(found) / anomalies, 3) if anomalies else None,
        "alarms": len(alarms),
        "precision": round(hits / len(alarms), 3) if alarms else None,
        "false_alarms": false,
        "false_alarms_per_tenant_per_90_days": round(false / tenant_windows, 2),
        "recall_by_kind": {k: f"{v[0]}/{v[1]}" for k, v in sorted(per_kind.items())},
        "false_alarms_by_rule": by_rule,
    }


def main() -> None:
    warnings.simplefilter("ignore")
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="small", choices=["small", "medium"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rules", type=Path, default=None, help="[default: alerts.yaml]")
    parser.add_argument("--only", nargs="*", default=None, help="rule names to replay")
    parser.add_argument("--cache", type=Path, default=None, help="keep the built worlds here")
    args = parser.parse_args()
    os.environ.setdefault("BOXOFFICE_PII_KEY", "bench")
    from boxoffice import config
    from boxoffice.alerts.rules import read_rules
    from boxoffice.forecast.venue_demand import parallel_map

    rules = [
        r
        for r in read_rules(args.rules or config.project_root() / "alerts.yaml").rules
        if r.kind in ("threshold", "change", "anomaly") and (not args.only or r.name in args.only)
    ]
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    worlds, started = {}, time.perf_counter()
    for seed in seeds:
        kept = args.cache and args.cache / f"alerts-{args.scale}-{seed}.pickle"
        if kept and kept.exists():
            worlds[seed] = pickle.loads(kept.read_bytes())
        else:
            worlds[seed] = build(args.scale, seed)
            if kept:
                kept.parent.mkdir(parents=True, exist_ok=True)
                kept.write_bytes(pickle.dumps(worlds[seed]))
        print(f"seed {seed}: world built ({time.perf_counter() - started:.0f} s)", flush=True)
    tasks = [
        (seed, tenant, rule, series_for(rule, w, tenant))
        for seed, world in worlds.items()
        for tenant, w in world.items()
        for rule in rules
    ]
    done = parallel_map(replay_one, tasks, workers=args.workers)
    ours = [
        (seed, tenant, rule.name, rule.metric, *episode)
        for seed, tenant, rule, fired, _, _ in done
        for episode in fired
    ]
    naive = [
        (seed, tenant, rule.name, rule.metric, *episode)
        for seed, tenant, rule, _, fired, _ in done
        for episode in fired
    ]
    by_rule = {}
    for _, _, rule, fired, nfired, took in done:
        r = by_rule.setdefault(rule.name, {"alarms": 0, "naive_alarms": 0, "seconds": 0.0})
        r["alarms"] += len(fired)
        r["naive_alarms"] += len(nfired)
        r["seconds"] = round(r["seconds"] + took, 1)
    result = {
        "command": f"python -m bench.alerts --scale {args.scale} --seeds {args.seeds}"
        f" --first-seed {args.first_seed}"
        + (f" --rules {args.rules}" if args.rules else "")
        + (f" --only {' '.join(args.only)}" if args.only else ""),
        "scale": args.scale,
        "seeds": list(seeds),
        "days": DAYS,
        "rules": [r.name for r in rules],
        "default_rules": score(ours, worlds),
        "naive_rule": score(naive, worlds),
        "by_rule": by_rule,
        "seconds": round(time.perf_counter() - started, 1),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"alerts_{args.scale}{'_' + '_'.join(args.only) if args.only else ''}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
