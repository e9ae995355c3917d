"""Rolling-origin evaluation of the daily forecasts: how far off, and how honest the intervals.

For origins ``T − h − (k − 1)·step, …, T − h`` (``k`` origins, the last one leaving exactly ``h``
days to check), the model is fitted on the history up to the origin and forecasts the next
``h`` days, which are then compared with what happened (Tashman 2000, "Out-of-sample tests of
forecasting accuracy"):

* **MASE** (Hyndman & Koehler 2006): ``mean|y − ŷ| / mean|y_t − y_{t−7}|``, the denominator
  the in-sample mean absolute error of the seasonal naive forecast on the training history.
  Below 1 the forecast beats the seasonal naive one on that scale; averaged over origins.
* **WAPE**: ``Σ|y − ŷ| / Σ|y|`` over every origin's days (null when nothing sold).
* **Coverage**: the share of actual days inside the 80 % and 95 % intervals; honest intervals
  cover near 0.80 and 0.95.
* ``naive_mase``: the seasonal naive forecast's own MASE on the same days, the benchmark.
"""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl

from boxoffice.forecast.venue_demand import (
    MEASURES,
    SEASON,
    forecast_series,
    parallel_map,
    seasonal_naive,
    series_tasks,
)
from boxoffice.frames import require


def backtest_series(
    y: np.ndarray, *, horizon: int = 28, origins: int = 4, step: int = 7
) -> dict[str, float | int | str | None]:
    """Evaluate :func:`~boxoffice.forecast.venue_demand.forecast_series` on ``y`` (daily,
    oldest first); a dict of ``origins`` (how many could be evaluated), ``mase``,
    ``naive_mase``, ``wape``, ``coverage_80``, ``coverage_95`` and the last origin's
    ``model``. Origins whose training history is shorter than two weeks are skipped."""
    y = np.asarray(y, dtype=float)
    if horizon < 1 or origins < 1 or step < 1:
        raise ValueError(f"horizon, origins and step must be ≥ 1, got {horizon, origins, step}")
    cuts = [y.size - horizon - i * step for i in range(origins)][::-1]
    cuts = [c for c in cuts if c >= 2 * SEASON]
    mases, naive_mases, errors, actual, inside_80, inside_95 = [], [], 0.0, 0.0, [], []
    model = None
    for cut in cuts:
        train, test = y[:cut], y[cut : cut + horizon]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = forecast_series(train, horizon)
        naive = seasonal_naive(train, horizon).mean
        scale = np.mean(np.abs(train[SEASON:] - train[:-SEASON]))
        err = np.abs(test - f.mean)
        if scale > 0:
            mases.append(err.mean() / scale)
            naive_mases.append(np.abs(test - naive).mean() / scale)
        errors += err.sum()
        actual += np.abs(test).sum()
        inside_80.append((test >= f.lower_80) & (test <= f.upper_80))
        inside_95.append((test >= f.lower_95) & (test <= f.upper_95))
        model = f.model
    if not cuts:
        return {"origins": 0, "mase": None, "naive_mase": None, "wape": None,
                "coverage_80": None, "coverage_95": None, "model": None}  # fmt: skip
    return {
        "origins": len(cuts),
        "mase": float(np.mean(mases)) if mases else None,
        "naive_mase": float(np.mean(naive_mases)) if naive_mases else None,
        "wape": float(errors / actual) if actual > 0 else None,
        "coverage_80": float(np.concatenate(inside_80).mean()),
        "coverage_95": float(np.concatenate(inside_95).mean()),
        "model": model,
    }


def _one(task: tuple) -> dict:
    venue, measure, y, horizon, origins, step = task
    return {
        "venue_id": venue,
        "measure": measure,
        "horizon": horizon,
        **backtest_series(y, horizon=horizon, origins=origins, step=step),
    }


def backtest_venues(
    demand: pl.DataFrame,
    *,
    horizon: int = 28,
    origins: int = 4,
    step: int = 7,
    workers: int | None = None,
) -> pl.DataFrame:
    """:func:`backtest_series` for every venue and measure of a
    :func:`~boxoffice.forecast.venue_demand.daily_demand` frame, over ``workers`` processes:
    one row per venue and measure, with ``horizon``."""
    require(demand, ("venue_id", "local_date", *MEASURES), "demand")
    tasks = series_tasks(demand, horizon, origins, step)
    return pl.DataFrame(
        parallel_map(_one, tasks, workers),
        schema={
            "venue_id": pl.String, "measure": pl.String, "horizon": pl.Int32,
            "origins": pl.Int32, "mase": pl.Float64, "naive_mase": pl.Float64,
            "wape": pl.Float64, "coverage_80": pl.Float64, "coverage_95": pl.Float64,
            "model": pl.String,
        },
    ).sort("venue_id", "measure")  # fmt: skip
