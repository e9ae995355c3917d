"""A pricing pass by hand: current prices, the elasticity each event uses, and the assembled
row per upcoming event."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from boxoffice.pricing.plan import current_prices, event_elasticities, price_events

d = dt.date
UTC = dt.UTC


def test_current_price_is_the_newest_approved_then_the_last_sale_then_the_base():
    events = pl.DataFrame({"event_id": ["a", "b", "c", "d"], "base_price_cents": [4000] * 4})
    obs = pl.DataFrame(
        {
            "event_id": ["a", "a", "b", "c"],
            "local_date": [d(2026, 3, 1), d(2026, 3, 5), d(2026, 3, 5), d(2026, 3, 5)],
            "price": [4500.0, 4700.0, 3900.0, 4100.0],
        }
    )
    approved = pl.DataFrame(
        {
            "event_id": ["a", "b"],
            "price_cents": [5000, 3500],
            # a: approved after its last sale (not yet sold at it); b: sold since (at 39.00)
            "approved_at": [dt.datetime(2026, 3, 6, 9, tzinfo=UTC),
                            dt.datetime(2026, 3, 4, 9, tzinfo=UTC)],
        }
    )  # fmt: skip
    got = current_prices(obs, events, approved).sort("event_id")
    assert got.select("event_id", "current_price_cents", "price_source").rows() == [
        ("a", 5000, "approved"),
        ("b", 3900, "sales"),
        ("c", 4100, "sales"),
        ("d", 4000, "base"),
    ]


def test_events_use_their_venues_estimate_else_their_categorys():
    events = pl.DataFrame(
        {"event_id": ["a", "b", "c"], "venue_id": ["v", "w", "v"],
         "category": ["concert", "concert", "family"]}
    )  # fmt: skip
    estimates = pl.DataFrame(
        {
            "scope": ["category", "venue", "venue", "category"],
            "category": ["concert", "concert", "concert", "family"],
            "venue_id": [None, "v", "w", None],
            "elasticity": [-1.2, -1.5, None, None],
            "std_error": [0.1, 0.2, None, None],
            "ci_high": [-1.0, -1.1, None, None],
            "identified": [True, True, False, False],
        }
    )
    got = event_elasticities(events, estimates).sort("event_id")
    assert got.select("event_id", "elasticity", "elasticity_scope").rows() == [
        ("a", -1.5, "venue"),
        ("b", -1.2, "category"),
        ("c", None, None),
    ]


def test_price_events_assembles_score_and_recommendation_for_upcoming_events_only():
    performance = pl.DataFrame(
        {"event_id": ["up", "past"], "capacity": [200, 100], "sold": [100, 90],
         "days_to_event": [30, -3], "velocity": [2.0, 0.0]}
    )  # fmt: skip
    pickups = pl.DataFrame({"event_id": ["up"], "forecast": [220.0], "pool_events": [10]})
    elasticities = pl.DataFrame(
        {"event_id": ["up", "past"], "elasticity": [-1.5, -1.5], "elasticity_se": [0.1, 0.1],
         "elasticity_ci_high": [-1.3, -1.3], "elasticity_scope": ["venue", "venue"]}
    )  # fmt: skip
    prices = pl.DataFrame(
        {"event_id": ["up", "past"], "base_price_cents": [5000, 5000],
         "current_price_cents": [5000, 5000]}
    )  # fmt: skip
    row = price_events(performance, pickups, elasticities, prices).row(0, named=True)
    assert row["event_id"] == "up" and row["recommended_price_cents"] == 5650  # see recommend
    assert row["c_pace"] == 1.0 and row["c_sell_through"] == 0.5
    assert row["elasticity_scope"] == "venue" and row["reason"].startswith("raise")
    assert 0 <= row["demand_score"] <= 100
    assert price_events(performance, pickups, elasticities, prices).height == 1
    with pytest.raises(ValueError, match="prices lack"):
        price_events(performance, pickups, elasticities, prices.drop("base_price_cents"))
