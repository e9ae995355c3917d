"""Venue demand forecasts: the fallbacks by hand, exact ETS intervals covering near their nominal
rates on simulated seasonal series, venues' series built and forecast in parallel."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from boxoffice.forecast import projection
from boxoffice.forecast import venue_demand as vd

Z80, Z95 = 1.2815515655446004, 1.959963984540054


def test_seasonal_naive_by_hand():
    y = np.array([1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 14, 15, 16, 17], dtype=float)
    f = vd.forecast_series(y, 9)  # 14 days: too short for ETS
    assert f.model == "seasonal naive"
    assert f.mean.tolist() == [11, 12, 13, 14, 15, 16, 17, 11, 12]
    # every seasonal difference is 10: σ = 10; the second week ahead is two steps of it
    sd = np.array([10.0] * 7 + [10 * np.sqrt(2)] * 2)
    assert f.upper_80 == pytest.approx(f.mean + Z80 * sd)
    assert f.lower_95 == pytest.approx(np.maximum(f.mean - Z95 * sd, 0))  # truncated at zero
    assert f.lower_95[0] == 0.0 and f.lower_80[6] == pytest.approx(17 - Z80 * 10)


def test_mean_for_a_short_history_and_constant_for_a_flat_one():
    f = vd.forecast_series(np.array([2.0, 4.0, 6.0]), 2)
    sd = 2.0 * np.sqrt(1 + 1 / 3)  # sample standard deviation 2
    assert f.model == "mean" and f.mean.tolist() == [4.0, 4.0]
    assert f.upper_95 == pytest.approx([4 + Z95 * sd] * 2)
    flat = vd.forecast_series(np.zeros(60), 3)
    assert flat.model == "constant" and flat.upper_95.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("y", "horizon", "message"),
    [([], 3, "at least one day"), ([1.0, np.nan], 3, "missing"), ([1.0], 0, "horizon")],
    ids=["empty", "nan", "horizon"],
)
def test_bad_histories_are_refused(y, horizon, message):
    with pytest.raises(ValueError, match=message):
        vd.forecast_series(np.array(y), horizon)


def test_ets_intervals_cover_near_their_nominal_rates():
    """60 series from ETS(A,N,A) (level 200, α = 0.3, a weekly season, σ = 20), 140 days
    each, 14 days ahead: 840 checked days."""
    rng = np.random.default_rng(7)
    week = np.array([-40.0, -30.0, -10.0, 0.0, 20.0, 50.0, 10.0])
    inside_80 = inside_95 = 0
    models = set()
    for _ in range(60):
        level, y = 200.0, []
        for t in range(154):
            e = rng.normal(0, 20)
            y.append(level + week[t % 7] + e)
            level += 0.3 * e
        y = np.array(y)
        f = vd.forecast_series(y[:140], 14)
        models.add(f.model)
        test = y[140:]
        inside_80 += int(((test >= f.lower_80) & (test <= f.upper_80)).sum())
        inside_95 += int(((test >= f.lower_95) & (test <= f.upper_95)).sum())
    heaviest = {re.match(r"ETS\([^)]*\)", model).group() for model in models}
    assert heaviest <= {"ETS(A,N,A)", "ETS(A,A,A)", "ETS(A,Ad,A)"}  # the additive truth wins
    assert 0.74 <= inside_80 / 840 <= 0.86
    assert 0.91 <= inside_95 / 840 <= 0.98


def test_akaike_weights_by_hand():
    class Fit:
        def __init__(self, aicc):
            self.aicc = aicc

    w = projection.akaike_weights({"a": Fit(100.0), "b": Fit(102.0), "c": Fit(110.0)})
    total = 1 + np.exp(-1) + np.exp(-5)  # Δ = 0, 2, 10: exp(−Δ/2)
    assert w == pytest.approx({"a": 1 / total, "b": np.exp(-1) / total, "c": np.exp(-5) / total})
    assert w["a"] == pytest.approx(0.7275, abs=1e-4) and w["c"] == pytest.approx(0.0049, abs=1e-4)


def test_initial_states_recover_a_line_and_a_season_from_every_week():
    week = np.array([-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0])
    t = np.arange(70)
    level, slope, season = projection.initial_states(
        10 + 0.5 * t + week[t % 7], trend=True, seasonal="add"
    )
    # the centred 7-day average of a line plus a zero-sum season is the line itself, starting
    # at day 3: 10 + 0.5·3 = 11.5 at x = 1 of the fitted line, so the intercept is 11
    assert season == pytest.approx(week) and slope == pytest.approx(0.5)
    assert level == pytest.approx(11.0)
    ratios = np.array([0.5, 0.75, 1.0, 1.0, 1.0, 1.25, 1.5])
    _, none, mul = projection.initial_states(40 * ratios[t % 7], trend=False, seasonal="mul")
    assert none is None and mul == pytest.approx(ratios)
    with pytest.raises(ValueError, match="two seasons"):
        projection.initial_states(np.ones(13), trend=False, seasonal="add")
    with pytest.raises(ValueError, match="odd season"):
        projection.initial_states(np.ones(48), trend=False, seasonal="add", season=12)


def test_the_forecast_averages_every_form_with_its_akaike_weight():
    rng = np.random.default_rng(3)
    t = np.arange(120)
    y = rng.poisson(40 * np.array([0.6, 0.8, 1.0, 1.0, 1.1, 1.5, 1.9])[t % 7]).astype(float)
    f = vd.forecast_series(y, 7)
    fits = projection.fit_forms(pd.Series(y))
    weights = projection.akaike_weights(fits)
    assert set(fits) == {"ETS(A,N,A)", "ETS(A,A,A)", "ETS(A,Ad,A)", "ETS(M,N,M)", "ETS(M,Ad,M)"}
    kept = {n: w for n, w in weights.items() if w >= vd.MIN_WEIGHT}
    mean = sum(w * np.asarray(fits[n].forecast(7)) for n, w in kept.items()) / sum(kept.values())
    assert f.mean == pytest.approx(mean)
    heaviest = max(kept, key=kept.get)
    assert f.model.startswith(heaviest)
    assert (f.lower_95 <= f.lower_80).all() and (f.lower_80 <= f.mean).all()
    assert (f.mean <= f.upper_80).all() and (f.upper_80 <= f.upper_95).all()


def test_daily_demand_sums_channels_and_fills_quiet_days():
    d = dt.date
    sales = pl.DataFrame(
        {
            "venue_id": ["a", "a", "a", "b"],
            "local_date": [d(2026, 3, 1), d(2026, 3, 1), d(2026, 3, 3), d(2026, 3, 2)],
            "channel": ["web", "mobile", "web", "web"],
            "tickets_sold": [2, 3, 1, 4],
            "gross_cents": [200, 300, 100, 400],
        }
    )
    demand = vd.daily_demand(sales, end=d(2026, 3, 3))
    assert demand.rows() == [
        ("a", d(2026, 3, 1), 5.0, 500.0),
        ("a", d(2026, 3, 2), 0.0, 0.0),
        ("a", d(2026, 3, 3), 1.0, 100.0),
        ("b", d(2026, 3, 2), 4.0, 400.0),
        ("b", d(2026, 3, 3), 0.0, 0.0),
    ]
    assert vd.daily_demand(sales, end=d(2026, 2, 1)).is_empty()


def test_venues_forecast_in_parallel_as_in_one_process():
    rng = np.random.default_rng(3)
    start = dt.date(2026, 1, 1)
    days = [start + dt.timedelta(days=i) for i in range(70)]
    demand = pl.DataFrame(
        {
            "venue_id": ["a"] * 70 + ["b"] * 20,
            "local_date": days + days[:20],
            "tickets_sold": np.concatenate([rng.poisson(30, 70), rng.poisson(5, 20)]) * 1.0,
            "gross_cents": np.concatenate([rng.poisson(3000, 70), rng.poisson(500, 20)]) * 1.0,
        }
    )
    serial = vd.forecast_venues(demand, horizon=7, workers=1)
    parallel = vd.forecast_venues(demand, horizon=7, workers=2)
    assert serial.equals(parallel)
    assert serial.height == 2 * 2 * 7
    b = serial.filter(pl.col("venue_id") == "b")
    assert b["date"].min() == start + dt.timedelta(days=20)  # the day after b's last
    assert set(b["model"]) == {"seasonal naive"}
    assert (serial["lower_95"] <= serial["lower_80"]).all()
    assert (serial["upper_80"] <= serial["upper_95"]).all()
    assert (serial["lower_95"] >= 0).all()


def test_the_busiest_venue_sold_the_most_tickets():
    d = dt.date(2026, 3, 1)
    demand = pl.DataFrame(
        {"venue_id": ["a", "a", "b"], "local_date": [d, d, d], "tickets_sold": [3.0, 4.0, 6.0],
         "gross_cents": [0.0, 0.0, 0.0]}
    )  # fmt: skip
    assert vd.busiest_venue(demand) == "a"  # 7 against 6
    assert vd.busiest_venue(demand.clear()) is None


def test_pool_workers_exit_when_their_parent_is_killed(tmp_path):
    mark = f"BOXOFFICE_TEST_POOL={tmp_path.name}"
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from boxoffice.forecast.venue_demand import parallel_map;"
            " parallel_map(time.sleep, [120, 120], workers=2)",
        ],
        env={**os.environ, "BOXOFFICE_TEST_POOL": tmp_path.name},
    )

    def marked() -> set[int]:
        pids = set()
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and mark.encode() in (proc / "environ").read_bytes():
                    pids.add(int(proc.name))
            except OSError:
                continue
        return pids

    deadline = time.monotonic() + 60
    while len(marked() - {parent.pid}) < 2:  # both workers started and sleeping
        assert time.monotonic() < deadline and parent.poll() is None
        time.sleep(0.1)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10  # each worker looks at its parent twice a second
    while (left := marked()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert left == set()
