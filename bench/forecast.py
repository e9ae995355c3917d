"""Venue demand forecasts for many daily series: boxoffice vs statsforecast's AutoETS.

    .venv/bin/python -m bench.forecast [--series 1000] [--horizon 28]

Both forecast the same simulated series (the shapes of venue demand: a weekly pattern, a level
that wanders, a trend in some, Poisson counts, 120–400 days of history each) ``horizon`` days
past a holdout, on every core, in the same run. Reported per system: wall time (statsforecast
cold, with numba compiling, and warm), MASE against the holdout (scaled by the in-sample
seasonal naive error, averaged over series), and the coverage of the 80 % and 95 % intervals.
statsforecast is installed only into ``~/.cache/boxoffice-bench/statsforecast-venv``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

RESULTS = Path(__file__).parent / "results"
VENV = Path.home() / ".cache" / "boxoffice-bench" / "statsforecast-venv"
START = dt.date(2025, 1, 6)

STATSFORECAST = r"""
import json, sys, time
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoETS
train = pd.read_parquet(sys.argv[1])
h = int(sys.argv[2])
out = {}
for run in ("cold", "warm"):
    started = time.perf_counter()
    sf = StatsForecast(models=[AutoETS(season_length=7)], freq="D", n_jobs=-1)
    fc = sf.forecast(df=train, h=h, level=[80, 95])
    out[run] = time.perf_counter() - started
fc = fc.reset_index() if "unique_id" not in fc.columns else fc
fc.to_parquet(sys.argv[3])
print(json.dumps(out))
"""


def simulate(n: int, horizon: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        days = int(rng.integers(120, 400)) + horizon
        week = rng.normal(0, 0.25, 7)
        level = np.log(rng.uniform(5, 120)) + np.cumsum(rng.normal(0, 0.02, days))
        trend = rng.choice([0.0, rng.normal(0, 0.002)], p=[0.6, 0.4]) * np.arange(days)
        y = rng.poisson(np.exp(level + trend + week[np.arange(days) % 7]))
        rows.append(
            pl.DataFrame(
                {
                    "venue_id": f"s{i:04d}",
                    "local_date": [START + dt.timedelta(days=d) for d in range(days)],
                    "tickets_sold": y.astype(float),
                    "gross_cents": y.astype(float),  # unused by the comparison
                }
            )
        )
    return pl.concat(rows)


def scores(actual: pl.DataFrame, predicted: pl.DataFrame, train: pl.DataFrame) -> dict:
    """MASE (mean over series), and the 80 % / 95 % coverage over every held-out day."""
    scale = (
        train.sort("venue_id", "local_date")
        .with_columns(pl.col("y").diff(7).over("venue_id").abs().alias("e"))
        .group_by("venue_id")
        .agg(pl.col("e").mean().alias("scale"))
    )
    j = actual.join(predicted, on=["venue_id", "local_date"]).join(scale, on="venue_id")
    per = j.group_by("venue_id").agg(((pl.col("y") - pl.col("mean")).abs().mean()).alias("mae"),
                                     pl.col("scale").first())  # fmt: skip
    y = pl.col("y")
    inside = {
        level: float(
            j.select(
                ((y >= pl.col(f"lower_{level}")) & (y <= pl.col(f"upper_{level}"))).mean()
            ).item()
        )
        for level in (80, 95)
    }
    mase = per.filter(pl.col("scale") > 0).select((pl.col("mae") / pl.col("scale")).mean()).item()
    return {"mase": round(float(mase), 4), "coverage_80": round(inside[80], 4),
            "coverage_95": round(inside[95], 4), "series_compared": per.height}  # fmt: skip


def venv_python() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {VENV} with statsforecast …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "statsforecast", "pyarrow"],
                       check=True)  # fmt: skip
    return python


def main() -> None:
    from boxoffice.forecast import forecast_venues

    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--horizon", type=int, default=28)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    h = args.horizon
    world = simulate(args.series, h, args.seed)
    last = world.group_by("venue_id").agg(pl.col("local_date").max().alias("last"))
    world = world.join(last, on="venue_id")
    cut = pl.col("local_date") > pl.col("last") - pl.duration(days=h)
    train, held = world.filter(~cut).drop("last"), world.filter(cut).drop("last")
    actual = held.select("venue_id", "local_date", pl.col("tickets_sold").alias("y"))
    train_y = train.select("venue_id", "local_date", pl.col("tickets_sold").alias("y"))

    started = time.perf_counter()
    ours = forecast_venues(train.with_columns(pl.col("gross_cents") * 0), horizon=h)
    ours_seconds = time.perf_counter() - started
    ours = ours.filter(pl.col("measure") == "tickets_sold").rename({"date": "local_date"})
    # the form with the most Akaike weight (the model names list them heaviest first)
    models = (
        ours.group_by("venue_id")
        .agg(pl.col("model").first().str.extract(r"^(ETS\([^)]*\)|[a-z ]+)").alias("model"))
        .get_column("model")
        .value_counts()
    )

    python = venv_python()
    with tempfile.TemporaryDirectory() as tmp:
        tin, tout = Path(tmp) / "train.parquet", Path(tmp) / "fc.parquet"
        train_y.rename({"venue_id": "unique_id", "local_date": "ds"}).with_columns(
            pl.col("ds").cast(pl.Datetime("ns"))
        ).write_parquet(tin)
        out = subprocess.run([str(python), "-c", STATSFORECAST, str(tin), str(h), str(tout)],
                             check=True, capture_output=True, text=True).stdout  # fmt: skip
        seconds = json.loads(out.strip().splitlines()[-1])
        fc = pl.read_parquet(tout)
    theirs = fc.select(
        pl.col("unique_id").alias("venue_id"),
        pl.col("ds").cast(pl.Date).alias("local_date"),
        pl.col("AutoETS").alias("mean"),
        *(pl.col(f"AutoETS-{side}-{lv}").clip(lower_bound=0).alias(f"{b}_{lv}")
          for lv in (80, 95) for side, b in (("lo", "lower"), ("hi", "upper"))),
    )  # fmt: skip
    result = {
        "benchmark": "forecast",
        "date": dt.date.today().isoformat(),
        "series": args.series,
        "horizon_days": h,
        "boxoffice": {
            "seconds": round(ours_seconds, 2),
            **scores(actual, ours, train_y),
            "heaviest_form": dict(zip(models["model"], models["count"], strict=True)),
        },
        "statsforecast_autoets": {
            "seconds_cold": round(seconds["cold"], 2),
            "seconds_warm": round(seconds["warm"], 2),
            **scores(actual, theirs, train_y),
        },
    }
    sf = result["statsforecast_autoets"]
    result["time_ratio_vs_warm"] = round(ours_seconds / sf["seconds_warm"], 2)
    result["time_ratio_vs_cold"] = round(ours_seconds / sf["seconds_cold"], 2)
    result["mase_ratio"] = round(result["boxoffice"]["mase"] / sf["mase"], 4)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "forecast.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
