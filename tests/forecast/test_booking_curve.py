"""Pickup forecasts of final tickets, exact on a hand-built history.

Run date 2026-03-10. Concerts at venue v (capacity 100):

| event | start      | sales (local day: tickets)                         | B(10) | final | pickup |
|-------|------------|----------------------------------------------------|-------|-------|--------|
| P1    | 2026-02-20 | 01-11: 30, 02-15: 50                               | 30    | 80    | +50, ×8/3 |
| P2    | 2026-03-05 | 02-21: 10, 03-02: 35, 03-04: 5 refunded            | 10    | 40    | +30, ×4 |
| U     | 2026-03-20 | 03-01: 10 (10 days to go)                          | 10    |       |        |

Additive: 10 + (50 + 30)/2 = 50. Multiplicative: 10 · (80 + 40)/(30 + 10) = 30. Leave one out:
additive errors |50 − 30| = |30 − 50| = 20; multiplicative P1 30·40/10 = 120 (err 40), P2
10·80/30 = 26.67 (err 13.33), mean 26.67 > 20: additive. Its 80 % interval 10 + the 10 % and
90 % quantiles of {30, 50} (linear: 32, 48) = [42, 58]; 95 %: 10 + {30.5, 49.5}.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from boxoffice.forecast.booking_curve import pickup_forecast

d = dt.date
AS_OF = d(2026, 3, 10)


def events(capacity_u: int = 100, extra: list | None = None) -> pl.DataFrame:
    rows = [
        ("P1", "v", "concert", d(2026, 2, 20), 100),
        ("P2", "v", "concert", d(2026, 3, 5), 100),
        ("U", "v", "concert", d(2026, 3, 20), capacity_u),
        ("S", "v", "sports", d(2026, 3, 25), 500),
        *(extra or []),
    ]
    return pl.DataFrame(
        rows, schema=["event_id", "venue_id", "category", "start_date", "capacity"], orient="row"
    )


SALES = [  # day, event, sold, refunded
    (d(2026, 1, 11), "P1", 30, 0),
    (d(2026, 2, 15), "P1", 50, 0),
    (d(2026, 2, 21), "P2", 10, 0),
    (d(2026, 3, 2), "P2", 35, 0),
    (d(2026, 3, 4), "P2", 0, 5),
    (d(2026, 3, 1), "U", 10, 0),
    (d(2026, 3, 11), "U", 99, 0),  # after the run's date: ignored
]


def sales(extra: list | None = None) -> pl.DataFrame:
    return pl.DataFrame(
        [*SALES, *(extra or [])],
        schema=["local_date", "event_id", "tickets_sold", "refunded_tickets"],
        orient="row",
    )


def row(frame: pl.DataFrame, event: str) -> dict:
    return frame.filter(pl.col("event_id") == event).row(0, named=True)


def test_additive_pickup_by_hand_on_two_past_events():
    u = row(pickup_forecast(sales(), events(), AS_OF, min_events=2), "U")
    assert (u["days_before"], u["held"], u["pool"], u["pool_events"]) == (
        10,
        10,
        "venue+category",
        2,
    )
    assert u["additive"] == pytest.approx(50) and u["multiplicative"] == pytest.approx(30)
    assert u["method"] == "additive" and u["forecast"] == pytest.approx(50)
    assert (u["lower_80"], u["upper_80"]) == pytest.approx((42, 58))
    assert (u["lower_95"], u["upper_95"]) == pytest.approx((40.5, 59.5))


def test_forecast_and_bounds_are_capped_at_capacity():
    u = row(pickup_forecast(sales(), events(capacity_u=45), AS_OF, min_events=2), "U")
    assert u["forecast"] == 45 and u["upper_80"] == 45 and u["upper_95"] == 45
    assert u["lower_80"] == pytest.approx(42)


def test_a_thin_venue_pools_the_category_and_multiplicative_can_win():
    """With min_events = 3, v's two concerts are too few: P3 (venue w, start 03-01, 20 sold
    on 02-09 and 20 on 02-27: B(10) = 20, final 40) joins the pool. Additive 10 + 100/3;
    multiplicative 10 · 160/60 = 26.67. Leave one out: additive errors |50 − 25|, |30 − 35|,
    |20 − 40| → 16.67; multiplicative P1 30·80/30 = 80 (0), P2 10·120/50 = 24 (16),
    P3 20·120/40 = 60 (20) → 12: multiplicative. Ratios {2, 8/3, 4}: 10 % and 90 % quantiles
    2.1333 and 3.7333."""
    u = row(
        pickup_forecast(
            sales([(d(2026, 2, 9), "P3", 20, 0), (d(2026, 2, 27), "P3", 20, 0)]),
            events(extra=[("P3", "w", "concert", d(2026, 3, 1), 100)]),
            AS_OF,
            min_events=3,
        ),
        "U",
    )
    assert (u["pool"], u["pool_events"], u["method"]) == ("category", 3, "multiplicative")
    assert u["additive"] == pytest.approx(10 + 100 / 3)
    assert u["forecast"] == pytest.approx(160 / 6)
    assert (u["lower_80"], u["upper_80"]) == pytest.approx((21 + 1 / 3, 37 + 1 / 3))


def test_ahead_forecasts_the_tickets_held_that_many_days_later():
    """Five days ahead, U (10 days out) is forecast at 5 days out. The pool then: P1 B(10) = 30
    (held 02-10), B(5) = 80 (02-15); P2 B(10) = 10 (02-23), B(5) = 10 (02-28). Additive
    10 + (50 + 0)/2 = 35; multiplicative 10 · 90/40 = 22.5. Leave one out: additive errors
    |50 − 0| = |0 − 50| = 50; multiplicative P1 30·10/10 = 30 (err 50), P2 10·80/30 = 26.67
    (err 16.67), mean 33.33: multiplicative. Ratios {8/3, 1}: 10 % and 90 % quantiles 7/6 and
    2.5, times 10."""
    ahead = pickup_forecast(sales(), events(), AS_OF, min_events=2, ahead=5)
    u = row(ahead, "U")
    assert (u["days_before"], u["held"], u["method"]) == (10, 10, "multiplicative")
    assert u["additive"] == pytest.approx(35) and u["forecast"] == pytest.approx(22.5)
    assert (u["lower_80"], u["upper_80"]) == pytest.approx((70 / 6, 25))
    assert set(ahead["event_id"]) == {"U", "S"}  # starting after 03-15
    late = pickup_forecast(sales(), events(), AS_OF, min_events=2, ahead=10)
    assert set(late["event_id"]) == {"S"}  # U starts on 03-20, the day forecast
    with pytest.raises(ValueError, match="ahead"):
        pickup_forecast(sales(), events(), AS_OF, ahead=0)


def test_no_comparable_past_event_gives_no_forecast():
    s = row(pickup_forecast(sales(), events(), AS_OF, min_events=2), "S")
    assert s["pool"] is None and s["forecast"] is None and s["held"] == 0


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="lacks column"):
        pickup_forecast(sales().drop("refunded_tickets"), events(), AS_OF)
    with pytest.raises(ValueError, match="min_events"):
        pickup_forecast(sales(), events(), AS_OF, min_events=0)
