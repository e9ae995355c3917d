"""Recommendations: by hand on clear cases, never outside floor, cap and step for any input
(property), and no recommendation without confidence."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boxoffice.pricing.recommend import PriceRules, allowed_range, best_price, recommend_prices


def event(**overrides) -> dict:
    row = {
        "event_id": "e", "current_price_cents": 5000, "base_price_cents": 5000,
        "capacity": 200, "held": 100, "forecast": 180.0, "pool_events": 10,
        "elasticity": -1.5, "elasticity_se": 0.1, "elasticity_ci_high": -1.3,
    }  # fmt: skip
    return {**row, **overrides}


def recommend(**overrides) -> dict:
    frame = pl.DataFrame([event(**overrides)], schema_overrides={"forecast": pl.Float64})
    return recommend_prices(frame).row(0, named=True)


def test_elastic_excess_demand_raises_to_the_price_that_clears_the_seats():
    """120 more tickets wanted at 50.00 for 100 seats, ε = −1.5: 100 = 120 (p/50)^−1.5 gives
    p = 50 · 1.2^(1/1.5) = 56.47; on the 0.50 grid R(56.50) = 56.50 · 120 (56.5/50)^−1.5 =
    5,644.3 (99.9 tickets) beats R(56.00) = 5,600 (100 capped)."""
    r = recommend(forecast=220.0)
    assert r["recommended_price_cents"] == 5650
    assert r["expected_tickets_current"] == 100  # capped by the seats left
    assert r["expected_tickets_recommended"] == pytest.approx(120 * (56.5 / 50) ** -1.5)
    assert r["expected_revenue_recommended"] > r["expected_revenue_current"] == 500_000
    assert r["reason"].startswith("raise 50.00 → 56.50")


def test_elastic_slack_demand_lowers_by_at_most_a_step():
    """80 more wanted for 100 seats, ε = −1.5: revenue rises as the price falls until
    80 (p/50)^−1.5 = 100, p = 43.09 — below the 15 % step (42.50 allowed? 50 · 0.85 = 42.50):
    43.00 sells 80 · (43/50)^−1.5 = 100.3 → capped 100, 4,300.00; 43.50: 98.6, 4,289.7."""
    r = recommend(forecast=180.0)
    assert r["recommended_price_cents"] == 4300
    assert r["reason"].startswith("lower 50.00 → 43.00")


def test_inelastic_demand_goes_to_the_highest_allowed_price():
    inelastic = {"elasticity": -0.5, "elasticity_se": 0.1, "elasticity_ci_high": -0.3}
    assert recommend(**inelastic)["recommended_price_cents"] == 5750  # the 15 % step
    # base 34.00: the cap 1.5 × 34.00 = 51.00 comes first
    assert recommend(**inelastic, base_price_cents=3400)["recommended_price_cents"] == 5100


def test_demand_that_just_fills_the_seats_holds_the_price():
    r = recommend(forecast=200.0)  # 100 more wanted for 100 seats at ε = −1.5: optimal now
    assert r["recommended_price_cents"] is None
    assert r["reason"].startswith("hold at 50.00")
    assert r["expected_revenue_recommended"] == r["expected_revenue_current"] == 500_000


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"held": 200}, "sold out"),
        ({"forecast": None}, "no forecast from at least 3"),
        ({"pool_events": 2}, "no forecast from at least 3"),
        ({"elasticity": None, "elasticity_se": None, "elasticity_ci_high": None},
         "elasticity not identified"),
        ({"elasticity_ci_high": 0.1}, "not clearly below zero"),
        ({"elasticity": -0.4, "elasticity_se": 0.3, "elasticity_ci_high": -0.01}, "too uncertain"),
    ],
    ids=["sold-out", "no-forecast", "thin-pool", "unidentified", "ci-crosses-zero", "uncertain"],
)  # fmt: skip
def test_no_recommendation_without_confidence(overrides, why):
    r = recommend(**overrides)
    assert r["recommended_price_cents"] is None
    assert r["reason"].startswith("no recommendation: ") and why in r["reason"]


def test_rules_are_checked():
    with pytest.raises(ValueError, match="floor ≤ cap"):
        PriceRules(floor=1.2, cap=1.1)
    with pytest.raises(ValueError, match="max_step"):
        PriceRules(max_step=0)


@settings(max_examples=400, deadline=None)
@given(
    base=st.integers(100, 100_000),
    position=st.floats(0.0, 1.0),
    outside=st.sampled_from([None, 0.3, 3.0]),
    demand=st.floats(0, 5_000),
    seats=st.floats(1, 5_000),
    elasticity=st.floats(-6, -0.01),
    step=st.floats(0.01, 0.5),
    floor=st.floats(0.3, 1.0),
    width=st.floats(0.0, 2.0),
    round_cents=st.sampled_from([1, 50, 100]),
)
def test_recommendations_never_leave_floor_cap_and_step(
    base, position, outside, demand, seats, elasticity, step, floor, width, round_cents
):
    rules = PriceRules(floor=floor, cap=floor + width, max_step=step, round_cents=round_cents)
    lo_band, hi_band = rules.floor * base, rules.cap * base
    if outside is None:  # a current price inside the band
        current = max(1, round(lo_band + position * (hi_band - lo_band)))
    else:  # far below or above it
        current = max(1, round(base * rules.floor * outside if outside < 1 else hi_band * outside))
    lo, hi = allowed_range(int(current), base, rules)
    price = best_price(int(current), demand, seats, elasticity, lo, hi, rules.round_cents)
    assert current * (1 - step) - 1e-6 <= price <= current * (1 + step) + 1e-6
    if price == current:  # holding is always allowed (e.g. no whole cent fits the rules)
        pass
    elif lo_band <= current <= hi_band:
        assert lo_band - 1e-6 <= price <= hi_band + 1e-6
    elif current > hi_band:
        assert price <= current  # toward the band
    else:
        assert price >= current

    def revenue(p: float) -> float:
        return p * min(demand * (p / current) ** elasticity, seats)

    if lo <= current <= hi:  # never a price worse than the current one by its own model
        assert revenue(price) >= revenue(current) * (1 - 1e-9)
