"""Attribution: each model's split of hand-made orders computed by hand; revenue conserved to
the cent for every model on random orders (property)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boxoffice.metrics.attribution import MODELS, attribute, by_campaign


def at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=dt.UTC)


ORDERS = pl.DataFrame(
    {
        "order_id": ["o1", "o2", "o3"],
        "customer_key": ["a", "b", "a"],
        "ordered_at": [at(10), at(10), at(12, 0)],
        "revenue_cents": [10_000, 5_000, 999],
    }
)
TOUCHES = pl.DataFrame(
    {
        "customer_key": ["a", "a", "a", "a", "a"],
        "campaign": ["spring", "promo", "brand", "retarget", "winter"],
        "channel": ["email", "social", "search", "display", "email"],
        "touched_at": [
            at(1),  # 9 days before o1
            at(8),  # 2 days before o1
            at(10, 11),  # 1 hour before o1
            at(11),  # after o1, half a day before o3
            dt.datetime(2026, 1, 1, tzinfo=dt.UTC),  # outside the 30-day window
        ],
    }
)


def split(model: str, order: str, **kwargs) -> dict[str, int]:
    parts = attribute(ORDERS, TOUCHES, model=model, **kwargs).filter(pl.col("order_id") == order)
    return dict(zip(parts["campaign"], parts["revenue_cents"], strict=True))


def test_first_and_last_touch():
    assert split("first_touch", "o1") == {"spring": 10_000}
    assert split("last_touch", "o1") == {"brand": 10_000}
    assert split("last_touch", "o3") == {"retarget": 999}


def test_linear_gives_the_odd_cent_to_the_earliest_touch():
    assert split("linear", "o1") == {"spring": 3_334, "promo": 3_333, "brand": 3_333}


def test_position_based_40_20_40():
    assert split("position_based", "o1") == {"spring": 4_000, "promo": 2_000, "brand": 4_000}
    # four touches: 0.4 / 0.1 / 0.1 / 0.4 of 999 = 399.6, 99.9, 99.9, 399.6 → the three
    # missing cents go to the largest remainders (.9, .9, then the earlier .6)
    assert split("position_based", "o3") == {
        "spring": 400, "promo": 100, "brand": 100, "retarget": 399,
    }  # fmt: skip


def test_time_decay_halves_per_half_life():
    # ages 9, 2 and 1/24 days, half-life 7: weights ∝ 2^(−9/7), 2^(−2/7), 2^(−1/168)
    raw = [2 ** (-9 / 7), 2 ** (-2 / 7), 2 ** (-1 / 168)]
    exact = [10_000 * r / sum(raw) for r in raw]  # 1842.30, 3684.61, 4473.09
    assert [round(x, 2) for x in exact] == [1842.30, 3684.61, 4473.09]  # 9,999 when floored
    assert split("time_decay", "o1") == {"spring": 1_842, "promo": 3_685, "brand": 4_473}
    # a half-life of 2 days: the touch 2 days old counts half of one just made
    two = attribute(ORDERS, TOUCHES, model="time_decay", half_life_days=2.0)
    o1 = two.filter(pl.col("order_id") == "o1")
    weights = dict(zip(o1["campaign"], o1["weight"], strict=True))
    assert weights["promo"] / weights["brand"] == pytest.approx(2 ** (-2 / 2) / 2 ** (-1 / 48))


def test_orders_without_touches_keep_their_revenue():
    assert split("linear", "o2") == {"(none)": 5_000}
    assert split("linear", "o1", lookback_days=0) == {"(none)": 10_000}  # no touch at the instant


def test_by_campaign_adds_up():
    summary = by_campaign(attribute(ORDERS, TOUCHES, model="position_based"))
    assert summary["revenue_cents"].sum() == 15_999
    assert summary["orders"].sum() == pytest.approx(3.0)
    assert summary.row(0, named=True)["campaign"] == "(none)"  # 5,000 cents, the largest
    assert summary["share"].sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "shapley"}, "unknown attribution model"),
        ({"model": "linear", "lookback_days": -1}, "lookback_days"),
        ({"model": "time_decay", "half_life_days": 0}, "half_life_days"),
    ],
)
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        attribute(ORDERS, TOUCHES, **kwargs)


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="touched_at"):
        attribute(ORDERS, TOUCHES.drop("touched_at"), model="linear")


order = st.tuples(st.integers(0, 3), st.integers(0, 60 * 24), st.integers(0, 1_000_000))
touch = st.tuples(st.integers(0, 3), st.integers(0, 60 * 24), st.sampled_from("abcde"))


@settings(max_examples=60, deadline=None)
@given(st.lists(order, min_size=1, max_size=12), st.lists(touch, max_size=25))
def test_revenue_is_conserved_to_the_cent(orders, touches):
    start = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    orders_frame = pl.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(orders))],
            "customer_key": [f"c{c}" for c, _, _ in orders],
            "ordered_at": [start + dt.timedelta(minutes=m) for _, m, _ in orders],
            "revenue_cents": [r for *_, r in orders],
        },
        schema_overrides={"ordered_at": pl.Datetime("us", "UTC")},
    )
    touches_frame = pl.DataFrame(
        {
            "customer_key": [f"c{c}" for c, _, _ in touches],
            "campaign": [k for *_, k in touches],
            "channel": ["email"] * len(touches),
            "touched_at": [start + dt.timedelta(minutes=m) for _, m, _ in touches],
        },
        schema_overrides={"touched_at": pl.Datetime("us", "UTC"), "customer_key": pl.String,
                          "campaign": pl.String, "channel": pl.String},
    )  # fmt: skip
    for model in MODELS:
        parts = attribute(orders_frame, touches_frame, model=model, lookback_days=1)
        per_order = parts.group_by("order_id").agg(
            pl.col("revenue_cents").sum(), pl.col("weight").sum()
        )
        expected = orders_frame.select("order_id", "revenue_cents").sort("order_id")
        assert per_order.sort("order_id").select("order_id", "revenue_cents").equals(expected)
        assert per_order["weight"].to_list() == pytest.approx([1.0] * len(orders))
        assert (parts["revenue_cents"] >= 0).all()
