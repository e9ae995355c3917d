"""Final tickets of upcoming events by the pickup method of revenue management.

An event's **booking curve** ``B_e(d)`` is the tickets it held (sold − refunded) at the end of
the local day ``d`` days before its start day; its **final** ``F_e = B_e(0)``. For an upcoming
event ``d`` days out holding ``B`` tickets, past events of the same pool (the same venue and
category; the same category at any venue when the venue has fewer than ``min_events``) give:

* **additive pickup** ``P⁺(d) = mean_e (F_e − B_e(d))``, forecast ``B + P⁺(d)``;
* **multiplicative pickup** ``P×(d) = Σ_e F_e / Σ_e B_e(d)`` (the aggregate pickup ratio,
  robust to small ``B_e``), forecast ``B · P×(d)`` — only where ``Σ B_e(d) > 0``.

Weatherford & Kimes (2003, "A comparison of forecasting methods for hotel revenue
management", *International Journal of Forecasting* 19) found pickup methods among the most
accurate for this problem. Per pool and ``d`` the method with the smaller leave-one-out mean
absolute error over the pool's events is used (additive when the pool has one event). Its
interval comes from the spread of the pool's historical pickups: the empirical 10–90 % (80 %)
and 2.5–97.5 % (95 %) quantiles of ``F_e − B_e(d)`` (additive) or of ``F_e / B_e(d)``
(multiplicative), applied to ``B``. Forecasts and bounds are capped at the capacity and never
below zero. The point is a mean and the bounds are quantiles: where a few past events lost
tickets late (refunds), the mean pickup can be negative while its 10 % quantile is zero, so
the point can fall below both the tickets held and the 80 % interval.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from boxoffice.frames import require

SALES_COLUMNS = ("local_date", "event_id", "tickets_sold", "refunded_tickets")
EVENT_COLUMNS = ("event_id", "venue_id", "category", "start_date", "capacity")
QUANTILES = {"lower_80": 0.10, "upper_80": 0.90, "lower_95": 0.025, "upper_95": 0.975}


def booking_curves(sales: pl.DataFrame) -> pl.DataFrame:
    """Every event's booking curve: ``event_id``, ``date`` and ``held`` (tickets sold −
    refunded up to the end of local day ``date``), one row per day with a sale or refund,
    sorted by ``date``."""
    return (
        sales.group_by("event_id", "local_date")
        .agg((pl.col("tickets_sold").sum() - pl.col("refunded_tickets").sum()).alias("net"))
        .sort("event_id", "local_date")
        .with_columns(pl.col("net").cum_sum().over("event_id").alias("held"))
        .select("event_id", pl.col("local_date").alias("date"), "held")
        .sort("date")
    )


def held_at(curves: pl.DataFrame, targets: pl.DataFrame) -> pl.DataFrame:
    """``targets`` (``event_id``, ``date``) with ``held``: the event's tickets held at the end of
    local day ``date`` on its curve (:func:`booking_curves`; 0 before its first sale)."""
    return (
        targets.sort("date")  # both sorted by date overall, so within every event too
        .join_asof(curves, on="date", by="event_id", strategy="backward", check_sortedness=False)
        .with_columns(pl.col("held").fill_null(0).cast(pl.Float64))
    )


def event_curve(sales: pl.DataFrame, event_id: str) -> pl.DataFrame:
    """One event's booking curve to date: ``local_date`` and ``held`` (tickets sold −
    refunded, cumulative), one row per day with a sale or refund."""
    require(sales, SALES_COLUMNS, "sales")
    return (
        sales.filter(pl.col("event_id") == event_id)
        .group_by("local_date")
        .agg((pl.col("tickets_sold").sum() - pl.col("refunded_tickets").sum()).alias("net"))
        .sort("local_date")
        .select("local_date", pl.col("net").cum_sum().alias("held"))
    )


def pickup_forecast(
    sales: pl.DataFrame,
    events: pl.DataFrame,
    as_of: dt.date,
    *,
    min_events: int = 3,
    ahead: int | None = None,
) -> pl.DataFrame:
    """One row per event starting after ``as_of``: ``event_id``, ``days_before``, ``held``,
    ``capacity``, ``pool`` (``"venue+category"``, ``"category"`` or null when no past event
    is comparable), ``pool_events``, ``additive``, ``multiplicative``, ``method``,
    ``forecast`` and its ``lower_80 … upper_95`` (see the module docstring).

    ``sales``: daily sales per event (``local_date``, ``event_id``, ``tickets_sold``,
    ``refunded_tickets``); ``events``: ``event_id``, ``venue_id``, ``category``,
    ``start_date``, ``capacity``. Past events are those that started on or before ``as_of``.

    With ``ahead`` (days), what is forecast is not the final but the tickets held at the end of
    the day ``ahead`` days after ``as_of``, for the events starting after that day: the same
    method with ``F_e`` replaced by ``B_e(d − ahead)``, the pool's events' tickets held as many
    days before their start."""
    require(sales, SALES_COLUMNS, "sales")
    require(events, EVENT_COLUMNS, "events")
    if min_events < 1:
        raise ValueError(f"min_events must be at least 1, got {min_events}")
    if ahead is not None and ahead < 1:
        raise ValueError(f"ahead must be at least 1 day, got {ahead}")
    sales = sales.filter(pl.col("local_date") <= as_of)
    events = events.select(EVENT_COLUMNS)
    past = events.filter(pl.col("start_date") <= as_of)
    upcoming = events.filter(pl.col("start_date") > as_of + dt.timedelta(days=ahead or 0))
    upcoming = upcoming.with_columns(
        (pl.col("start_date") - pl.lit(as_of)).dt.total_days().alias("days_before")
    )
    curves = booking_curves(sales)
    upcoming = held_at(curves, upcoming.with_columns(pl.lit(as_of).alias("date"))).drop("date")
    finals = held_at(curves, past.with_columns(pl.col("start_date").alias("date"))).rename(
        {"held": "final"}
    )
    rows = [
        _forecast_one(row, finals, curves, min_events, ahead or 0)
        for row in upcoming.iter_rows(named=True)
    ]
    schema = {
        "event_id": pl.String, "days_before": pl.Int64, "held": pl.Float64,
        "capacity": pl.Int64, "pool": pl.String, "pool_events": pl.Int64,
        "additive": pl.Float64, "multiplicative": pl.Float64, "method": pl.String,
        "forecast": pl.Float64, **dict.fromkeys(QUANTILES, pl.Float64),
    }  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row").sort("days_before", "event_id")


def _pool(row: dict, finals: pl.DataFrame, min_events: int) -> tuple[str | None, pl.DataFrame]:
    same_category = finals.filter(pl.col("category") == row["category"])
    at_venue = same_category.filter(pl.col("venue_id") == row["venue_id"])
    if at_venue.height >= min_events:
        return "venue+category", at_venue
    if same_category.height >= min_events:
        return "category", same_category
    return None, finals.clear()


def _forecast_one(
    row: dict, finals: pl.DataFrame, curves: pl.DataFrame, min_events: int, ahead: int
):
    pool, members = _pool(row, finals, min_events)
    held, capacity, d = row["held"], row["capacity"], row["days_before"]
    empty = dict.fromkeys(("additive", "multiplicative", "method", "forecast", *QUANTILES))
    out = {k: row[k] for k in ("event_id", "days_before", "held", "capacity")}
    if pool is None:
        return {**out, "pool": None, "pool_events": 0, **empty}
    curve = held_at(
        curves,
        members.select(
            "event_id",
            "final",
            (pl.col("start_date") - pl.duration(days=d - ahead)).alias("target"),
            (pl.col("start_date") - pl.duration(days=d)).alias("date"),
        ),
    )
    if ahead:  # the target: what the pool's events held d − ahead days before their start
        at = curve.select("event_id", "held", pl.col("target").alias("date"))
        curve = held_at(curves, at.drop("held")).join(
            at.select("event_id", pl.col("held").alias("before")), on="event_id"
        )
        curve = curve.select(pl.col("held").alias("final"), pl.col("before").alias("held"))
    final, before = curve["final"].to_numpy(), curve["held"].to_numpy()
    gains = final - before
    additive = held + gains.mean()
    ratio_ok = before.sum() > 0
    multiplicative = held * final.sum() / before.sum() if ratio_ok else None
    method = "additive"
    if ratio_ok and len(final) >= 2 and _loo_mae_ratio(final, before) < _loo_mae_gain(gains):
        method = "multiplicative"
    if method == "additive":
        point, spread = additive, {k: held + np.quantile(gains, q) for k, q in QUANTILES.items()}
    else:
        ratios = final[before > 0] / before[before > 0]
        point, spread = (
            multiplicative,
            {k: held * np.quantile(ratios, q) for k, q in QUANTILES.items()},
        )

    def cap(x: float) -> float:
        return float(min(max(x, 0.0), capacity))

    return {
        **out,
        "pool": pool,
        "pool_events": len(final),
        "additive": cap(additive),
        "multiplicative": None if multiplicative is None else cap(multiplicative),
        "method": method,
        "forecast": cap(point),
        **{k: cap(v) for k, v in spread.items()},
    }


def _loo_mae_gain(gains: np.ndarray) -> float:
    """Mean absolute error of predicting each event's pickup by the mean of the others'."""
    if len(gains) < 2:
        return float("inf")
    others = (gains.sum() - gains) / (len(gains) - 1)
    return float(np.abs(gains - others).mean())


def _loo_mae_ratio(final: np.ndarray, before: np.ndarray) -> float:
    """The same for the multiplicative pickup: ``B_i · Σ_{j≠i} F_j / Σ_{j≠i} B_j``."""
    rest = before.sum() - before
    with np.errstate(divide="ignore", invalid="ignore"):
        predicted = np.where(rest > 0, before * (final.sum() - final) / rest, np.nan)
    if np.isnan(predicted).any():
        return float("inf")
    return float(np.abs(final - predicted).mean())
