"""The demand score and its components, computed by hand."""

from __future__ import annotations

import polars as pl
import pytest

from boxoffice.pricing.demand_score import contributions, demand_scores


def frame(**columns) -> pl.DataFrame:
    base = {"event_id": ["e"], "capacity": [200], "held": [50], "days_to_event": [30],
            "velocity": [2.0], "forecast": [170.0]}  # fmt: skip
    return pl.DataFrame({**base, **columns}, schema_overrides={"forecast": pl.Float64})


def test_components_and_score_by_hand():
    """held 50 of 200: sell-through 0.25; 2 a day for 30 days = 60 of the 150 left: 0.4;
    forecast 170: pace 0.85, scarcity (170 − 50)/150 = 0.8; 30 days: urgency 1 − 30/90.
    score = 100·(0.25·0.25 + 0.2·0.4 + 0.25·0.85 + 0.2·0.8 + 0.1·(2/3)) = 58.167"""
    row = demand_scores(frame()).row(0, named=True)
    assert (row["c_sell_through"], row["c_velocity"], row["c_pace"]) == pytest.approx(
        (0.25, 0.4, 0.85)
    )
    assert (row["c_scarcity"], row["c_urgency"]) == pytest.approx((0.8, 2 / 3))
    expected = 100 * (0.25 * 0.25 + 0.2 * 0.4 + 0.25 * 0.85 + 0.2 * 0.8 + 0.1 * 2 / 3)
    assert row["demand_score"] == pytest.approx(expected)


def test_without_a_forecast_the_present_components_are_reweighted():
    """Only sell-through 0.25, velocity 0.4 and urgency 2/3 (weights 0.25, 0.2, 0.1)."""
    row = demand_scores(frame(forecast=[None])).row(0, named=True)
    assert row["c_pace"] is None and row["c_scarcity"] is None
    expected = 100 * (0.25 * 0.25 + 0.2 * 0.4 + 0.1 * 2 / 3) / 0.55
    assert row["demand_score"] == pytest.approx(expected)


def test_contributions_are_the_weighted_components_and_add_up_to_the_score():
    """Without a forecast: sell-through adds 100·0.25·0.25/0.55 = 11.364, velocity
    100·0.2·0.4/0.55 = 14.545, urgency 100·0.1·(2/3)/0.55 = 12.121, pace and scarcity 0."""
    scored = demand_scores(frame(forecast=[None]))
    parts = {s.name: s[0] for s in contributions(scored)}
    assert parts == pytest.approx(
        {"sell_through": 6.25 / 0.55, "velocity": 8 / 0.55, "pace": 0.0, "scarcity": 0.0,
         "urgency": 20 / 3 / 0.55}
    )  # fmt: skip
    assert sum(parts.values()) == pytest.approx(scored["demand_score"][0])


def test_a_sold_out_event_tomorrow_scores_near_the_top_and_values_stay_in_range():
    row = demand_scores(frame(held=[200], days_to_event=[0], velocity=[0.0], forecast=[200.0])).row(
        0, named=True
    )
    assert row["demand_score"] == pytest.approx(100.0)
    quiet = demand_scores(frame(held=[0], days_to_event=[200], velocity=[0.0], forecast=[0.0]))
    assert quiet["demand_score"][0] == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weights": {"sell_through": 1.0}}, "weights must give each"),
        ({"weights": dict.fromkeys(["sell_through", "velocity", "pace", "scarcity", "urgency"], 0.0)},
         "must not all be zero"),
    ],
    ids=["missing", "zero"],
)  # fmt: skip
def test_bad_weights_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        demand_scores(frame(), **kwargs)


def test_a_zero_capacity_is_refused():
    with pytest.raises(ValueError, match="positive capacity"):
        demand_scores(frame(capacity=[0]))
