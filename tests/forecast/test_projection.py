"""Projections: a known trend and weekly pattern are continued, totals are the sums of the
daily means, intervals cover near their nominal rate on series simulated from the model."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from boxoffice.forecast import project

START = dt.date(2026, 1, 5)  # a Monday
WEEK = np.array([0.0, 50.0, 100.0, 150.0, 400.0, 600.0, -100.0])  # Monday … Sunday


def series(values) -> pl.DataFrame:
    days = [START + dt.timedelta(days=i) for i in range(len(values))]
    return pl.DataFrame({"local_date": days, "net_cents": values})


def test_a_trend_and_a_weekly_pattern_are_continued():
    rng = np.random.default_rng(1)
    t = np.arange(140)
    y = 10_000 + 20.0 * t + WEEK[t % 7] + rng.normal(0, 5, t.size)
    p = project(series(y), horizons=(14,))
    truth = 10_000 + 20.0 * np.arange(140, 154) + WEEK[np.arange(140, 154) % 7]
    assert p.model in ("ETS(A,A,A)", "ETS(A,Ad,A)")  # a trend wins the AICc
    assert np.allclose(p.daily["mean"].to_numpy(), truth, rtol=0.01)
    assert p.daily["date"][0] == START + dt.timedelta(days=140)
    assert (p.daily["lower_95"] <= p.daily["lower_80"]).all()
    assert (p.daily["lower_80"] <= p.daily["mean"]).all()
    assert (p.daily["mean"] <= p.daily["upper_80"]).all()
    assert (p.daily["upper_80"] <= p.daily["upper_95"]).all()


def test_totals_are_sums_of_the_daily_means_with_narrower_than_summed_bounds():
    rng = np.random.default_rng(2)
    t = np.arange(120)
    y = 5_000 + WEEK[t % 7] + rng.normal(0, 300, t.size)
    p = project(series(y), horizons=(30, 7))
    assert p.totals["days"].to_list() == [7, 30]
    for days, mean, upper in p.totals.select("days", "mean", "upper_95").iter_rows():
        assert mean == pytest.approx(p.daily["mean"].head(days).sum())
        assert upper < p.daily["upper_95"].head(days).sum()  # errors partly cancel in a sum
    assert p.daily.height == 30


def test_missing_days_count_as_zero():
    rng = np.random.default_rng(3)
    y = 1_000 + WEEK[np.arange(63) % 7] + rng.normal(0, 20, 63)
    y[[10, 20, 30]] = 0.0
    full = project(series(y))
    gaps = series(y).filter(
        ~pl.col("local_date").is_in([START + dt.timedelta(days=i) for i in (10, 20, 30)])
    )
    assert project(gaps).daily.equals(full.daily)


def test_the_projection_starts_after_end_with_quiet_days_as_zeros():
    rng = np.random.default_rng(5)
    y = 1_000 + WEEK[np.arange(56) % 7] + rng.normal(0, 20, 56)
    end = START + dt.timedelta(days=59)  # three days without sales after the last row
    p = project(series(np.concatenate([y, [7.0, 7.0]])), end=START + dt.timedelta(days=55))
    assert p.history.height == 56 and p.daily["date"][0] == START + dt.timedelta(days=56)
    quiet = project(series(y), end=end)
    assert quiet.history["value"].tail(4).to_list() == [0.0, 0.0, 0.0, 0.0]
    assert quiet.daily["date"][0] == end + dt.timedelta(days=1)


def test_intervals_cover_near_their_nominal_rate():
    """60 series simulated from an ETS(A,N,A) process (random-walk level, weekly season,
    Gaussian noise): the share of the next 14 true days inside the 80 % and 95 % intervals."""
    rng = np.random.default_rng(4)
    inside = {80: [], 95: []}
    for _ in range(60):
        n, h = 112, 14
        level = 2_000 + np.cumsum(rng.normal(0, 15, n + h))
        y = level + WEEK[np.arange(n + h) % 7] + rng.normal(0, 60, n + h)
        p = project(series(y[:n]), horizons=(h,), paths=1000, seed=int(rng.integers(1 << 31)))
        for level_pct in (80, 95):
            lo = p.daily[f"lower_{level_pct}"].to_numpy()
            hi = p.daily[f"upper_{level_pct}"].to_numpy()
            inside[level_pct] += list((lo <= y[n:]) & (y[n:] <= hi))
    assert 0.72 <= np.mean(inside[80]) <= 0.88
    assert 0.90 <= np.mean(inside[95]) <= 0.99


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [
        (series(np.ones(27)), {}, "at least 28 days of history, got 27"),
        (series(np.ones(40)), {"horizons": (0,)}, "horizons must be positive"),
        (series(np.ones(40)).drop("net_cents"), {}, "lacks column"),
        (pl.concat([series(np.ones(40)), series(np.ones(1))]), {}, "more than one row for a day"),
        (
            series(np.ones(40)).with_columns(pl.col("local_date").cast(pl.String)),
            {},
            "must be a date column",
        ),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(frame, kwargs, message):
    with pytest.raises(ValueError, match=message):
        project(frame, **kwargs)
