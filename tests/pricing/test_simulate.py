"""Season replays with a known demand: the policy gains where its elasticity is right, loses
where it is wrong, never leaves the rules, and is the static policy without an estimate."""

from __future__ import annotations

import polars as pl
import pytest

from boxoffice.pricing.recommend import PriceRules
from boxoffice.pricing.simulate import replay_season

DAYS = 56


def world(daily_at_base: float, capacity: int = 1000, events: int = 20):
    """``events`` concerts on sale ``DAYS`` days, each expecting ``daily_at_base`` tickets a
    day at its base price of 50.00 (rising toward the event)."""
    demand = pl.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(events) for _ in range(DAYS)],
            "days_to_event": [d for _ in range(events) for d in range(DAYS, 0, -1)],
            "expected_at_base": [daily_at_base * (0.5 + (DAYS - d) / DAYS)
                                 for _ in range(events) for d in range(DAYS, 0, -1)],
        }
    )  # fmt: skip
    events_frame = pl.DataFrame(
        {"event_id": [f"e{i}" for i in range(events)], "category": "concert",
         "capacity": capacity, "base_price_cents": 5000}
    )  # fmt: skip
    return demand, events_frame


def summary(true: float, estimated: tuple[float, float] | None, **kw) -> dict:
    demand, events = world(**kw)
    replay = replay_season(
        demand,
        events,
        true_elasticity={"concert": true},
        estimated={"concert": estimated} if estimated else {},
        seed=4,
    )
    return replay.summary.row(0, named=True)


def test_elastic_demand_with_seats_to_spare_gains_by_lowering_prices():
    s = summary(-2.0, (-2.0, 0.1), daily_at_base=5.0)
    assert s["revenue_uplift"] > 0.05
    assert s["sell_through_policy"] > s["sell_through_static"]
    assert s["share_at_step"] > 0  # the 15 % step binds on the way down


def test_inelastic_demand_gains_by_raising_prices_up_to_the_cap():
    s = summary(-0.5, (-0.5, 0.05), daily_at_base=5.0)
    assert s["revenue_uplift"] > 0.1
    assert s["sell_through_policy"] < s["sell_through_static"]
    assert s["share_at_cap"] > 0  # the cap (1.5 × base) is reached


def test_a_wrong_elasticity_costs_revenue():
    """The truth is elastic (−2) but the estimate says −0.5: the policy raises prices."""
    assert summary(-2.0, (-0.5, 0.05), daily_at_base=5.0)["revenue_uplift"] < 0


def test_without_an_estimate_the_policy_is_the_static_price():
    s = summary(-1.5, None, daily_at_base=5.0)
    assert s["revenue_uplift"] == 0 and s["price_changes"] == 0
    assert s["revenue_policy"] == s["revenue_static"]


def test_unknown_truth_and_bad_review_interval_are_refused():
    demand, events = world(5.0)
    with pytest.raises(ValueError, match="no true elasticity"):
        replay_season(demand, events, true_elasticity={}, estimated={})
    with pytest.raises(ValueError, match="review_days"):
        replay_season(demand, events, true_elasticity={"concert": -1.0}, estimated={},
                      review_days=0)  # fmt: skip


def test_rules_bound_every_price():
    demand, events = world(5.0)
    rules = PriceRules(floor=0.9, cap=1.1, max_step=0.05)
    s = replay_season(
        demand, events, true_elasticity={"concert": -0.5}, estimated={"concert": (-0.5, 0.05)},
        rules=rules,
    ).summary.row(0, named=True)  # fmt: skip
    assert s["share_at_cap"] > 0
    # with a cap of 1.1 × base the revenue gain is at most 10 % on the tickets sold
    assert s["revenue_policy"] <= 1.1 * 5000 * s["sell_through_policy"] * 20 * 1000 + 1e-6
