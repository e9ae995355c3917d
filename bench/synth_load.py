"""Benchmark: generate and load a synthetic world.

boxoffice (foreign keys and secondary indexes dropped for the load and recreated, validated,
in the same transaction) against the peer: the same COPY with every constraint in place
(per-row foreign-key checks and index maintenance). Each variant runs in its own process on a
fresh database of one embedded server, so peak memory (max RSS) is per variant.

    .venv/bin/python -m bench.synth_load --scale large
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
from pathlib import Path

from bench._server import fresh_database, server

VARIANTS = {"boxoffice (deferred constraints)": True, "peer (constraints in place)": False}
RESULTS = Path(__file__).parent / "results"


def run_variant(scale: str, seed: int, defer: bool) -> dict:
    from boxoffice.synth import WorldSpec, build_world
    from boxoffice.warehouse import engine, migrate

    with engine.connect() as conn:
        migrate.upgrade(conn)
    started = time.perf_counter()
    manifest = build_world(
        WorldSpec(scale, seed, dt.date(2026, 10, 31)),
        Path(tempfile.mkdtemp()) / "manifest.json",
        defer_constraints=defer,
    )
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "tickets": manifest["rows"]["tickets"],
        "customers": manifest["rows"]["customers"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant is not None:  # child process
        print(json.dumps(run_variant(args.scale, args.seed, args.variant == "True")))
        return
    results = {}
    with server() as url:
        for i, (name, defer) in enumerate(VARIANTS.items()):
            env = {**os.environ, "BOXOFFICE_DATABASE_URL": fresh_database(url, f"bench_{i}")}
            cmd = [
                sys.executable,
                "-m",
                "bench.synth_load",
                "--scale",
                args.scale,
                "--seed",
                str(args.seed),
                "--variant",
                str(defer),
            ]
            out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
            results[name] = json.loads(out.strip().splitlines()[-1])
            r = results[name]
            line = f"{r['seconds']:>7.1f} s {r['max_rss_mib']:>6} MiB {r['tickets']:,} tickets"
            print(f"{name:<36} {line}", flush=True)
    ours, peer = results.values()
    ratio = peer["seconds"] / ours["seconds"]
    print(f"boxoffice is {ratio:.2f}× the peer's speed ({args.scale}, seed {args.seed})")
    RESULTS.mkdir(exist_ok=True)
    record = {
        "benchmark": "synth_load",
        "scale": args.scale,
        "seed": args.seed,
        "date": dt.date.today().isoformat(),
        "cpus": os.cpu_count(),
        "results": results,
        "speedup_vs_peer": round(ratio, 2),
    }
    (RESULTS / f"synth_load_{args.scale}.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
