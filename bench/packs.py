"""Report packs: each tenant's size and render time.

Renders every tenant's pack (``report.pdf``, ``report.xlsx``, ``report.html``) of the newest
completed run in the configured database, as ``boxoffice report`` does, ``--repeat`` times into
a scratch folder; reports per tenant and file the size and the median seconds, and the time to
compute the frames they share. Writes ``bench/results/packs-<label>.json``.

    python -m bench.packs --label medium [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from boxoffice import config, warehouse
from boxoffice.reports import packs
from boxoffice.tasks import report
from boxoffice.warehouse import reads

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="local")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    root = config.settings().reports_dir
    for tenant, name in warehouse.list_tenants().rows():
        as_of = reads.latest_as_of(tenant=tenant, role="pipeline")
        if as_of is None:
            continue
        timings: dict[str, list[float]] = {}
        sizes: dict[str, int] = {}
        for _ in range(args.repeat):
            started = time.perf_counter()
            frames = report.frames(tenant, as_of)
            timings.setdefault("frames", []).append(time.perf_counter() - started)
            with tempfile.TemporaryDirectory(dir=root) as scratch:
                written = packs.write_pack(frames, Path(scratch), reports_root=root, top=5)
            for fmt, w in written.items():
                timings.setdefault(fmt, []).append(w["seconds"])
                sizes[fmt] = w["bytes"]
        row = {
            "tenant": name,
            "as_of": str(as_of),
            "seconds": {k: round(statistics.median(v), 2) for k, v in timings.items()},
            "kB": {k: round(v / 1000, 1) for k, v in sizes.items()},
        }
        row["seconds"]["pack"] = round(sum(row["seconds"].values()), 2)
        rows.append(row)
        print(json.dumps(row))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"packs-{args.label}.json"
    out.write_text(json.dumps({"repeat": args.repeat, "tenants": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
