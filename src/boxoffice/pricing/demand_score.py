"""A 0–100 demand score per upcoming event, from five components each scaled to [0, 1].

For an event with ``capacity`` seats, ``held`` tickets now, ``remaining = capacity − held``,
``days`` to go (≥ 0), a 7-day sales ``velocity`` (tickets per day) and a pickup ``forecast``
of its final tickets (:mod:`boxoffice.forecast.booking_curve`):

=================  =============================================  ========
component          value in [0, 1]                                weight
=================  =============================================  ========
``sell_through``   ``held / capacity``                            0.25
``velocity``       ``min(1, velocity · max(days, 1) / remaining)``  0.20
                   — the share of the remaining seats the recent
                   pace would sell by the event (1 when sold out)
``pace``           ``min(1, forecast / capacity)`` — the final      0.25
                   sell-through the booking curves of past events
                   point to
``scarcity``       ``min(1, max(forecast − held, 0) / remaining)``  0.20
                   — expected further sales over the seats left
                   (1 when sold out)
``urgency``        ``1 − min(days, 90) / 90``                     0.10
=================  =============================================  ========

``score = 100 · Σ weight · component``. Without a forecast (no comparable past event),
``pace`` and ``scarcity`` are null and the score is ``100 · Σ w c / Σ w`` over the three
components present, so it stays on the same scale. The weights are a documented choice (the
seeds' were untested constants), not an estimate: every component is stored beside the score
so a reader sees why a score is high.
"""

from __future__ import annotations

import polars as pl

from boxoffice.frames import require

WEIGHTS = {"sell_through": 0.25, "velocity": 0.20, "pace": 0.25, "scarcity": 0.20, "urgency": 0.10}
HORIZON_DAYS = 90


def demand_scores(events: pl.DataFrame, *, weights: dict[str, float] | None = None) -> pl.DataFrame:
    """``events`` (``event_id``, ``capacity``, ``held``, ``days_to_event``, ``velocity``,
    ``forecast`` — null where there is none) with the five components as ``c_sell_through``,
    ``c_velocity``, ``c_pace``, ``c_scarcity``, ``c_urgency`` and ``demand_score``."""
    weights = weights or WEIGHTS
    if set(weights) != set(WEIGHTS) or any(w < 0 for w in weights.values()):
        raise ValueError(f"weights must give each of {list(WEIGHTS)} a weight ≥ 0, got {weights}")
    if sum(weights.values()) <= 0:
        raise ValueError("weights must not all be zero")
    require(events, ("event_id", "capacity", "held", "days_to_event", "velocity", "forecast"))
    if (events["capacity"] <= 0).any():
        raise ValueError("every event needs a positive capacity")
    remaining = pl.max_horizontal(pl.col("capacity") - pl.col("held"), 0)
    sold_out = remaining <= 0
    days = pl.max_horizontal(pl.col("days_to_event"), 0)
    forecast = pl.col("forecast")
    component = {
        "sell_through": (pl.col("held") / pl.col("capacity")).clip(0, 1),
        "velocity": pl.when(sold_out)
        .then(1.0)
        .otherwise((pl.col("velocity") * pl.max_horizontal(days, 1) / remaining).clip(0, 1)),
        "pace": (forecast / pl.col("capacity")).clip(0, 1),
        "scarcity": pl.when(forecast.is_null())
        .then(None)
        .when(sold_out)
        .then(1.0)
        .otherwise((pl.max_horizontal(forecast - pl.col("held"), 0) / remaining).clip(0, 1)),
        "urgency": 1 - pl.min_horizontal(days, HORIZON_DAYS) / HORIZON_DAYS,
    }
    scored = events.with_columns(
        expr.cast(pl.Float64).alias(f"c_{name}") for name, expr in component.items()
    )
    points = contributions(scored, weights=weights)
    return scored.with_columns(pl.sum_horizontal(points).alias("demand_score"))


def contributions(
    scored: pl.DataFrame, *, weights: dict[str, float] | None = None
) -> list[pl.Series]:
    """What each component adds to the score of each row of ``scored`` (its ``c_*`` columns):
    ``100 × w_i × c_i / Σ_{j present} w_j``, a missing component adding nothing and the
    weights of the present ones rescaled to sum to one. The five add up to ``demand_score``."""
    weights = weights or WEIGHTS
    present = scored.select(
        pl.sum_horizontal(
            pl.col(f"c_{n}").is_not_null().cast(pl.Float64) * w for n, w in weights.items()
        )
    ).to_series()
    return [
        (scored[f"c_{n}"].fill_null(0) * w * 100 / present).alias(n) for n, w in weights.items()
    ]
