"""Daily demand forecasts per venue — tickets sold and gross ticket revenue — with 80 % and
95 % prediction intervals, for many series in parallel.

Demand is what sold on a local day (``tickets_sold``, ``gross_cents`` of
``analytics.sales_daily``, channels summed): refunds are a later, separate process and do not
lower a day's demand. Days without sales count as zero.

Model (:func:`forecast_series`), in order of preference:

* **ETS** with a weekly season — ETS(A,N,A), ETS(A,A,A), ETS(A,Ad,A) and, for a series with
  sales every day, ETS(M,N,M) and ETS(M,Ad,M)
  (:func:`boxoffice.forecast.projection.fit_forms`; Hyndman, Koehler, Ord & Snyder 2008) —
  every form fitted, and their forecasts averaged with Akaike weights
  ``w_i ∝ exp(−ΔAICc_i / 2)`` (Kolassa 2011): the mean and each bound, which is quantile
  averaging (Lichtendahl, Grushka-Cockayne & Winkler 2013). A form's intervals are the exact
  Gaussian ones of the additive (linear) forms (Hyndman et al. 2008, ch. 6:
  ``ŷ_{T+h} ± z · σ_h``) and the quantiles of 2,000 simulated paths (seeded) for the
  multiplicative ones. Averaging over forms instead of picking the smallest AICc forecasts
  better when two forms fit about equally well (bench/forecast.py, 1,000 series: MASE 0.888,
  against 0.894 for the smallest AICc started from statsmodels' five-week heuristic).
  ``model`` names the forms of at least 5 % weight, heaviest first.
* **Seasonal naive** when the history is shorter than :data:`MIN_ETS_DAYS` (but at least two
  weeks) or ETS cannot be fitted: ``ŷ_{T+h} = y_{T+h−7(k+1)}``, ``k = ⌊(h−1)/7⌋``, with
  ``σ_h = σ · √(k+1)``, σ the RMS of the in-sample seasonal differences (Hyndman &
  Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., §5.5).
* **Mean** for a history shorter than two weeks: ``ŷ = ȳ``, ``σ_h = s · √(1 + 1/T)``.
* **Constant** when every day had the same value (e.g. a venue that never sold): that value,
  with no uncertainty.

Demand is never negative: means and bounds are truncated at zero (the additive error model can
put probability on negative days; truncation keeps each bound's meaning as a quantile, since
the quantiles of max(Y, 0) are the max of Y's quantiles and 0).
"""

from __future__ import annotations

import datetime as dt
import os
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from statistics import NormalDist

import numpy as np
import pandas as pd
import polars as pl

from boxoffice.forecast.projection import akaike_weights, fit_forms
from boxoffice.frames import require
from boxoffice.lifetime import exit_with_parent

MEASURES = ("tickets_sold", "gross_cents")
MIN_ETS_DAYS = 35  # five weeks: a weekly season, a trend and their start values
MIN_NAIVE_DAYS = 14
LEVELS = (80, 95)  # the prediction intervals stored with every forecast, in percent
SEASON = 7
MIN_WEIGHT = 0.001  # forms with less Akaike weight do not change a forecast's digits


@dataclass(frozen=True)
class SeriesForecast:
    """``mean`` and the bounds are arrays of the horizon's length; ``model`` names the form;
    ``bounds[level]`` is the ``level`` % prediction interval's (lower, upper)."""

    model: str
    mean: np.ndarray
    bounds: dict[float, tuple[np.ndarray, np.ndarray]]

    lower_80 = property(lambda self: self.bounds[80][0])
    upper_80 = property(lambda self: self.bounds[80][1])
    lower_95 = property(lambda self: self.bounds[95][0])
    upper_95 = property(lambda self: self.bounds[95][1])


def z_of(level: float) -> float:
    """The standard normal quantile of a central ``level`` % interval (1.96 for 95)."""
    return NormalDist().inv_cdf(0.5 + level / 200)


def _intervals(model: str, mean: np.ndarray, sd: np.ndarray, levels) -> SeriesForecast:
    bounds = {
        level: (np.maximum(mean - z_of(level) * sd, 0.0), np.maximum(mean + z_of(level) * sd, 0.0))
        for level in levels
    }
    return SeriesForecast(model, np.maximum(mean, 0.0), bounds)


def forecast_series(
    y: np.ndarray, horizon: int, *, levels: tuple[float, ...] = LEVELS
) -> SeriesForecast:
    """Forecast the ``horizon`` days after the daily history ``y`` (oldest first, no gaps),
    with the prediction intervals of ``levels`` (percent, each in (0, 100))."""
    y = np.asarray(y, dtype=float)
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1 day, got {horizon}")
    if y.size == 0:
        raise ValueError("a forecast needs at least one day of history")
    if not np.isfinite(y).all():
        raise ValueError("history has missing or infinite values")
    if not all(0 < level < 100 for level in levels):
        raise ValueError(f"interval levels are percentages in (0, 100), got {levels}")
    if np.ptp(y) == 0:
        return _intervals("constant", np.full(horizon, y[0]), np.zeros(horizon), levels)
    if y.size >= MIN_ETS_DAYS:
        try:
            # a pandas series: statsmodels 0.15's get_prediction fails on a numpy history
            fits = fit_forms(pd.Series(y), season=SEASON)
            combined = _ets_combination(fits, y.size, horizon, levels)
        except (ValueError, np.linalg.LinAlgError):  # degenerate: fall back below
            combined = None
        if combined is not None:
            return combined
    if y.size >= MIN_NAIVE_DAYS:
        return seasonal_naive(y, horizon, levels=levels)
    sd = y.std(ddof=1) * np.sqrt(1 + 1 / y.size)
    return _intervals("mean", np.full(horizon, y.mean()), np.full(horizon, sd), levels)


def _ets_combination(fits: dict, start: int, horizon: int, levels) -> SeriesForecast | None:
    """The forms' forecasts averaged with their Akaike weights — the mean and each bound
    (quantile averaging; Lichtendahl, Grushka-Cockayne & Winkler 2013, *Management Science*
    59(7)) —, forms under :data:`MIN_WEIGHT` left out. ``None`` when a kept form's forecast is
    not finite."""
    weights = {n: w for n, w in akaike_weights(fits).items() if w >= MIN_WEIGHT}
    total = sum(weights.values())
    combined = np.zeros((1 + 2 * len(levels), horizon))
    for name, w in weights.items():
        # exact Gaussian intervals for the additive forms, quantiles of 2,000 simulated
        # paths (fixed seed) for the multiplicative ones
        frame = fits[name].get_prediction(
            start=start,
            end=start + horizon - 1,
            simulate_repetitions=2000,
            rng=np.random.default_rng(0),
        )
        bounds = {level: np.asarray(frame.pred_int(alpha=1 - level / 100)) for level in levels}
        rows = np.vstack(
            [np.asarray(frame.predicted_mean)]
            + [bounds[level][:, side] for level in levels for side in (0, 1)]
        )
        if not np.isfinite(rows).all():
            return None
        combined += w / total * rows
    shown = sorted(weights, key=weights.get, reverse=True)
    model = (
        shown[0]
        if len(shown) == 1
        else " + ".join(
            f"{n} {weights[n] / total:.0%}" for n in shown if weights[n] / total >= 0.05
        )
    )
    combined = np.maximum(combined, 0.0)
    bounds = {level: (combined[1 + 2 * i], combined[2 + 2 * i]) for i, level in enumerate(levels)}
    return SeriesForecast(model, combined[0], bounds)


def seasonal_naive(
    y: np.ndarray, horizon: int, *, season: int = SEASON, levels: tuple[float, ...] = LEVELS
) -> SeriesForecast:
    """The seasonal naive forecast with its textbook intervals (see the module docstring)."""
    y = np.asarray(y, dtype=float)
    if y.size < 2 * season:
        raise ValueError(f"seasonal naive needs two seasons ({2 * season} days), got {y.size}")
    h = np.arange(1, horizon + 1)
    k = (h - 1) // season
    mean = y[y.size - season + (h - 1) % season]
    sigma = np.sqrt(np.mean((y[season:] - y[:-season]) ** 2))
    return _intervals("seasonal naive", mean, sigma * np.sqrt(k + 1), levels)


def daily_demand(sales_daily: pl.DataFrame, *, end: dt.date) -> pl.DataFrame:
    """One row per venue and local day from the venue's first sale to ``end`` (zeros filled):
    ``venue_id``, ``local_date`` and the :data:`MEASURES`, channels summed; days after ``end``
    are ignored."""
    require(sales_daily, ("venue_id", "local_date", *MEASURES), "sales_daily")
    sold = (
        sales_daily.filter(pl.col("local_date") <= end)
        .group_by("venue_id", "local_date")
        .agg(pl.col(m).sum().cast(pl.Float64) for m in MEASURES)
    )
    if sold.is_empty():
        return sold
    spans = sold.group_by("venue_id").agg(pl.col("local_date").min().alias("first"))
    days = spans.select(
        "venue_id", pl.date_ranges("first", pl.lit(end), "1d").alias("local_date")
    ).explode("local_date")
    return (
        days.join(sold, on=["venue_id", "local_date"], how="left")
        .with_columns(pl.col(m).fill_null(0.0) for m in MEASURES)
        .sort("venue_id", "local_date")
    )


def busiest_venue(demand: pl.DataFrame) -> str | None:
    """The venue of a :func:`daily_demand` frame that sold the most tickets (ties by id)."""
    if demand.is_empty():
        return None
    totals = demand.group_by("venue_id").agg(pl.col("tickets_sold").sum())
    return totals.sort(["tickets_sold", "venue_id"], descending=[True, False])["venue_id"][0]


def _one(task: tuple[str, str, np.ndarray, int]) -> tuple[str, str, SeriesForecast]:
    key, measure, y, horizon = task
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return key, measure, forecast_series(y, horizon)


def series_tasks(demand: pl.DataFrame, *extra) -> list[tuple]:
    """``(venue_id, measure, values, *extra)`` for every venue and measure of ``demand``."""
    return [
        (venue, measure, rows[measure].to_numpy(), *extra)
        for (venue,), rows in demand.sort("local_date")
        .partition_by("venue_id", as_dict=True)
        .items()
        for measure in MEASURES
    ]


def parallel_map(fn: Callable, tasks: list, workers: int | None = None) -> list:
    """``[fn(t) for t in tasks]`` over ``workers`` processes (default: every core; 1 runs
    here), in order. The pool is started once per process and kept for the next call (a
    pipeline task forecasts its tenants one after the other)."""
    workers = min(workers or os.cpu_count() or 1, len(tasks))
    if workers <= 1:
        return [fn(t) for t in tasks]
    pool = _pool(workers)
    try:
        return list(pool.map(fn, tasks, chunksize=max(1, len(tasks) // (4 * workers))))
    except BrokenProcessPool:
        _POOLS.pop(workers, None)  # a worker died: the next call starts a new pool
        raise


_POOLS: dict[int, ProcessPoolExecutor] = {}


def _pool(workers: int) -> ProcessPoolExecutor:
    if workers not in _POOLS:
        # spawn, not fork: the parent's polars and BLAS thread pools do not survive a fork
        _POOLS[workers] = ProcessPoolExecutor(
            workers,
            mp_context=get_context("spawn"),
            initializer=exit_with_parent,
            initargs=(os.getpid(),),
        )
    return _POOLS[workers]


def forecast_venues(
    demand: pl.DataFrame, *, horizon: int = 28, workers: int | None = None
) -> pl.DataFrame:
    """Forecast every venue's :data:`MEASURES` ``horizon`` days past its last day, the series
    spread over ``workers`` processes (default: every core; 1 runs in this process). One row
    per venue, measure and day: ``venue_id``, ``measure``, ``date``, ``mean``, ``lower_80``,
    ``upper_80``, ``lower_95``, ``upper_95``, ``model``.

    Memory stays bounded: each worker holds one series at a time and returns only its
    ``horizon`` × 5 numbers."""
    require(demand, ("venue_id", "local_date", *MEASURES), "demand")
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1 day, got {horizon}")
    last = dict(demand.group_by("venue_id").agg(pl.col("local_date").max()).rows())
    return _frame(parallel_map(_one, series_tasks(demand, horizon), workers), last, horizon)


def _frame(results, last: dict, horizon: int) -> pl.DataFrame:
    parts = []
    for venue, measure, f in results:
        start = last[venue] + dt.timedelta(days=1)
        parts.append(
            pl.DataFrame(
                {
                    "venue_id": venue,
                    "measure": measure,
                    "date": pl.date_range(
                        start, start + dt.timedelta(days=horizon - 1), "1d", eager=True
                    ),
                    "mean": f.mean,
                    "lower_80": f.lower_80,
                    "upper_80": f.upper_80,
                    "lower_95": f.lower_95,
                    "upper_95": f.upper_95,
                    "model": f.model,
                }
            )
        )
    if not parts:
        return pl.DataFrame(
            schema={
                "venue_id": pl.String, "measure": pl.String, "date": pl.Date, "mean": pl.Float64,
                "lower_80": pl.Float64, "upper_80": pl.Float64, "lower_95": pl.Float64,
                "upper_95": pl.Float64, "model": pl.String,
            }
        )  # fmt: skip
    return pl.concat(parts).sort("venue_id", "measure", "date")
