"""Project a daily series (revenue, tickets) with weekly seasonality and trend, and the total
over the next days, with 80 % and 95 % prediction intervals.

Model: exponential smoothing in state-space form (Hyndman, Koehler, Ord & Snyder 2008,
*Forecasting with Exponential Smoothing*; statsmodels ``ETSModel``), additive errors and an
additive weekly season, with no trend — ETS(A,N,A) —, an additive trend — ETS(A,A,A) — or an
additive damped trend — ETS(A,Ad,A) —, whichever has the smallest AICc (the corrected Akaike
criterion; the automatic selection of Hyndman, Koehler, Snyder & Grose 2002). Additive
components, because a day's net revenue can be zero or negative (refunds). Initial states by
the heuristic decomposition over every full week (:func:`initial_states`), smoothing
parameters by maximum likelihood (:func:`fit_forms`).

* Daily point forecast: the model's conditional mean ``ŷ_{T+h}``.
* Intervals: quantiles of ``paths`` sample paths simulated from the fitted model from the end
  of the history (Gaussian errors with the estimated variance). The total over the next
  ``H`` days is ``Σ_{h≤H} ŷ_{T+h}``, and its interval comes from the sums of the same paths —
  not from summing daily bounds, which would be far too wide.

Missing days in the history are days without sales and count as zero. This replaces the
seeds' "average × days", which had neither seasonality, trend nor uncertainty.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass

import numpy as np
import polars as pl

MIN_DAYS = 28  # four weeks: enough to estimate a weekly season and a trend
LEVELS = (0.80, 0.95)
MODELS = {
    "ETS(A,N,A)": {},
    "ETS(A,A,A)": {"trend": "add"},
    "ETS(A,Ad,A)": {"trend": "add", "damped_trend": True},
}
# multiplicative error and season, for series that are positive every day (counts whose
# spread grows with their level): candidates beside the additive forms
POSITIVE_MODELS = {
    "ETS(M,N,M)": {"error": "mul", "seasonal": "mul"},
    "ETS(M,Ad,M)": {"error": "mul", "seasonal": "mul", "trend": "add", "damped_trend": True},
}


@dataclass(frozen=True)
class Projection:
    """``daily``: ``date``, ``mean``, ``lower_80``, ``upper_80``, ``lower_95``, ``upper_95``;
    ``totals``: one row per horizon (``days``) with the same columns for the total; ``model``
    the form chosen and its ``aicc``; ``history`` the series it was fitted on (zeros filled)."""

    daily: pl.DataFrame
    totals: pl.DataFrame
    model: str
    aicc: float
    history: pl.DataFrame


def _bounds(paths: np.ndarray) -> dict[str, np.ndarray]:
    out = {}
    for level in LEVELS:
        tail = (1 - level) / 2 * 100
        pct = round(level * 100)
        out[f"lower_{pct}"] = np.percentile(paths, tail, axis=0)
        out[f"upper_{pct}"] = np.percentile(paths, 100 - tail, axis=0)
    return out


def project(
    series: pl.DataFrame,
    *,
    date_col: str = "local_date",
    value_col: str = "net_cents",
    horizons: tuple[int, ...] = (30, 90),
    end: dt.date | None = None,
    paths: int = 2000,
    seed: int = 0,
) -> Projection:
    """Fit both forms on the daily ``value_col`` of ``series`` (one row per ``date_col``; days
    missing between the first and ``end`` — by default the last day of the series — count as
    zero, days after ``end`` are ignored), keep the one with the smaller AICc, and project the
    ``max(horizons)`` days after ``end``."""
    if missing := [c for c in (date_col, value_col) if c not in series.columns]:
        raise ValueError(f"series lacks column(s) {missing}; has {series.columns}")
    if series.schema[date_col] != pl.Date:
        raise ValueError(f"{date_col} must be a date column, got {series.schema[date_col]}")
    if not horizons or min(horizons) < 1:
        raise ValueError(f"horizons must be positive numbers of days, got {horizons}")
    if series[date_col].is_duplicated().any():
        raise ValueError(f"series has more than one row for a day of {date_col}")
    observed = series.select(date_col, value_col).drop_nulls()
    if end is not None:
        observed = observed.filter(pl.col(date_col) <= end)
    history = _complete(observed, date_col, value_col, end)
    if history.height < MIN_DAYS:
        raise ValueError(
            f"a projection needs at least {MIN_DAYS} days of history, got {history.height}"
        )
    y = history["value"].cast(pl.Float64).to_numpy()
    name, fit = fit_ets(y)
    horizon = max(horizons)
    mean = np.asarray(fit.forecast(horizon))
    simulated = np.asarray(
        fit.simulate(horizon, anchor="end", repetitions=paths, rng=np.random.default_rng(seed))
    ).T  # paths × days
    last = history["date"][-1]
    daily = pl.DataFrame(
        {
            "date": [last + dt.timedelta(days=h) for h in range(1, horizon + 1)],
            "mean": mean,
            **_bounds(simulated),
        }
    )
    totals = pl.DataFrame(
        [
            {
                "days": h,
                "mean": float(mean[:h].sum()),
                **{k: float(v) for k, v in _bounds(simulated[:, :h].sum(axis=1)).items()},
            }
            for h in sorted(horizons)
        ]
    )
    return Projection(daily, totals, name, float(fit.aicc), history)


def initial_states(y: np.ndarray, *, trend: bool, seasonal: str, season: int = 7):
    """Initial level, trend (``None`` without one) and season for an ETS fit: the heuristic
    decomposition of Hyndman et al. (2008, §2.6.1) over every full season of ``y``, not only
    the first few. A centred moving average of one season estimates the trend-cycle; the
    season is the per-position mean of ``y`` minus it (``seasonal="add"``, normalized to sum
    to zero) or divided by it (``"mul"``, normalized to average one); level and trend are the
    intercept and slope of a line through the first ten moving averages.

    statsmodels' own heuristic averages the first five seasons only: for daily data with a
    weekly season that is five noisy weeks, and the smoothing then spends its seasonal
    parameter repairing the start (bench/forecast.py: the average over all weeks forecasts
    better)."""
    if season % 2 == 0:
        raise ValueError(f"initial states need an odd season (a centred average), got {season}")
    y = np.asarray(y, dtype=float)
    cycles = y.size // season
    if cycles < 2 or y.size < 10 + 2 * (season // 2):
        raise ValueError(f"initial states need two seasons and 10 averages, got {y.size} days")
    kept = y[: cycles * season]
    ma = np.convolve(kept, np.ones(season) / season, mode="valid")  # centred (odd season)
    half = season // 2
    centre = kept[half : half + ma.size]
    detrended = np.full(cycles * season, np.nan)
    detrended[half : half + ma.size] = centre - ma if seasonal == "add" else centre / ma
    states = np.nanmean(detrended.reshape(cycles, season), axis=0)
    states = states - states.mean() if seasonal == "add" else states / states.mean()
    line = np.linalg.lstsq(np.c_[np.ones(10), np.arange(1, 11)], ma[:10], rcond=None)[0]
    return line[0], (line[1] if trend else None), states


def fit_forms(y, *, season: int = 7) -> dict:
    """Fit every form of :data:`MODELS` — and of :data:`POSITIVE_MODELS` when every value of
    ``y`` is positive — by maximum likelihood; return ``{name: statsmodels results}`` of the
    forms that could be fitted with a finite AICc (the likelihoods of additive and
    multiplicative errors are of the same data, so comparable; Hyndman et al. 2008, §7.1).

    The initial level, trend and season come from :func:`initial_states` and only the
    smoothing (and damping) parameters are estimated: a tenth of the time of estimating the
    initial states too (bench/forecast.py). The damped form nests the undamped one, so a
    damped fit with a lower likelihood is a poor optimum: it is refitted from the undamped
    estimates (damping 0.98)."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    forms = dict(MODELS)
    if (np.asarray(y, dtype=float) > 0).all():
        forms |= POSITIVE_MODELS
    fits = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; the AICc decides
        for name, form in forms.items():
            form = {"error": "add", "seasonal": "add", **form}
            try:
                level, slope, start = initial_states(
                    y, trend="trend" in form, seasonal=form["seasonal"], season=season
                )
                model = ETSModel(
                    y,
                    **form,
                    seasonal_periods=season,
                    initialization_method="known",
                    initial_level=level,
                    initial_trend=slope,
                    initial_seasonal=start,
                )
                fit = model.fit(disp=False, maxiter=500)
            except (ValueError, np.linalg.LinAlgError):
                continue  # a form the series cannot support (e.g. a season from zeros)
            undamped = fits.get("ETS(A,A,A)")
            if name == "ETS(A,Ad,A)" and undamped is not None and fit.llf < undamped.llf:
                p = np.asarray(undamped.params)
                again = model.fit(
                    disp=False, maxiter=500, start_params=np.concatenate([p[:3], [0.98], p[3:]])
                )
                fit = again if again.llf > fit.llf else fit
            if np.isfinite(fit.aicc):
                fits[name] = fit
    if not fits:
        raise ValueError("no exponential smoothing form could be fitted")
    return fits


def akaike_weights(fits: dict) -> dict[str, float]:
    """``w_i = exp(−Δ_i / 2) / Σ_j exp(−Δ_j / 2)``, ``Δ_i`` = AICc_i − min AICc: each form's
    weight of evidence (Burnham & Anderson 2002, §2.9; for combining exponential smoothing
    forecasts, Kolassa 2011, *Int. J. Forecasting* 27(2))."""
    aicc = np.array([f.aicc for f in fits.values()])
    w = np.exp(-(aicc - aicc.min()) / 2)
    return dict(zip(fits, w / w.sum(), strict=True))


def fit_ets(y, *, season: int = 7):
    """The name and statsmodels results of the form of :func:`fit_forms` with the smallest
    AICc (the automatic selection of Hyndman, Koehler, Snyder & Grose 2002)."""
    fits = fit_forms(y, season=season)
    name = min(fits, key=lambda n: fits[n].aicc)
    return name, fits[name]


STORED_COLUMNS = ("date", "mean", "lower_80", "upper_80", "lower_95", "upper_95")


def to_rows(projected: Projection) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A projection as a run stores it: its daily rows with the model and its AICc
    (``analytics.revenue_projections``), and its totals."""
    daily = projected.daily.select(STORED_COLUMNS).with_columns(
        pl.lit(projected.model).alias("model"), pl.lit(projected.aicc).alias("aicc")
    )
    return daily, projected.totals


def from_rows(
    daily: pl.DataFrame,
    totals: pl.DataFrame,
    series: pl.DataFrame,
    *,
    date_col: str = "local_date",
    value_col: str = "net_cents",
) -> Projection | None:
    """The :class:`Projection` a run stored (:func:`to_rows`), its history the daily
    ``value_col`` of ``series`` up to the day before the first projected one (zeros filled);
    None when the run stored none (too little history)."""
    if daily.is_empty():
        return None
    end = daily["date"].min() - dt.timedelta(days=1)
    observed = series.select(date_col, value_col).drop_nulls().filter(pl.col(date_col) <= end)
    history = _complete(observed, date_col, value_col, end)
    model, aicc = daily["model"][0], float(daily["aicc"][0])
    return Projection(
        daily.select(STORED_COLUMNS).sort("date"), totals.sort("days"), model, aicc, history
    )


def _complete(series: pl.DataFrame, date_col: str, value_col: str, end) -> pl.DataFrame:
    """Every day from the first of ``series`` to ``end`` (or its last), zero where it has no
    row."""
    if series.is_empty():
        return pl.DataFrame(schema={"date": pl.Date, "value": pl.Float64})
    last = end or series[date_col].max()
    days = pl.date_range(series[date_col].min(), last, "1d", eager=True)
    return (
        pl.DataFrame({"date": days})
        .join(series.rename({date_col: "date", value_col: "value"}), on="date", how="left")
        .with_columns(pl.col("value").fill_null(0).cast(pl.Float64))
    )
