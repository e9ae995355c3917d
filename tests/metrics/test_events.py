"""Event performance, rankings and category mix on hand-made frames, expected values by hand."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from boxoffice.metrics import events as ev

d = dt.date
AS_OF = d(2026, 3, 10)

EVENTS = pl.DataFrame(
    {
        "event_id": ["e1", "e2", "e3"],
        "name": ["Opera", "Derby", "Quiz"],
        "category": ["theatre", "sports", "comedy"],
        "venue_id": ["v1", "v1", "v2"],
        "start_date": [d(2026, 3, 8), d(2026, 3, 20), d(2026, 4, 1)],  # past, coming, no sales
        "capacity": [100, 200, 50],
        "scanned": [70, 0, 0],
    }
)
SALES = pl.DataFrame(
    {
        "local_date": [
            d(2026, 3, 1),
            d(2026, 3, 5),
            d(2026, 3, 2),
            d(2026, 3, 9),
            d(2026, 3, 10),
            d(2026, 3, 11),
        ],
        "event_id": ["e1", "e1", "e2", "e2", "e2", "e2"],
        "tickets_sold": [60, 20, 50, 30, 10, 99],  # the last row is after as_of
        "refunded_tickets": [0, 5, 0, 2, 0, 0],
        "net_cents": [300_000, 85_000, 100_000, 52_000, 20_000, 198_000],
    }
)


def test_event_performance_by_hand():
    perf = ev.event_performance(SALES, EVENTS, AS_OF)
    rows = {r["event_id"]: r for r in perf.iter_rows(named=True)}
    opera, derby, quiz = rows["e1"], rows["e2"], rows["e3"]
    # Opera: 60 + 20 − 5 = 75 held of 100; it took place on 8 March, 70 came
    assert opera["sold"] == 75 and opera["sell_through"] == 0.75
    assert opera["utilization"] == 0.70 and opera["days_to_event"] == -2
    assert opera["net_cents"] == 385_000 and opera["revpas"] == 3_850.0
    assert opera["velocity"] == pytest.approx(15 / 7)  # 4–10 March: 20 sold, 5 refunded
    # Derby: 50 + 30 − 2 + 10 = 88 of 200 (the sale of 11 March is after as_of)
    assert derby["sold"] == 88 and derby["sell_through"] == 0.44
    assert derby["utilization"] is None and derby["days_to_event"] == 10
    assert derby["velocity"] == pytest.approx((30 - 2 + 10) / 7)
    assert derby["net_cents"] == 172_000 and derby["revpas"] == 860.0
    # Quiz: nothing sold yet — zeros, not nulls
    assert (quiz["sold"], quiz["net_cents"], quiz["velocity"], quiz["sell_through"]) == (
        0, 0, 0.0, 0.0,
    )  # fmt: skip
    assert perf["event_id"].to_list() == ["e1", "e2", "e3"]  # by start date


def test_a_velocity_window_of_one_day():
    perf = ev.event_performance(SALES, EVENTS, AS_OF, velocity_days=1)
    assert perf.filter(pl.col("event_id") == "e2")["velocity"][0] == 10.0


def test_period_performance_and_rankings():
    march_1_to_9 = ev.period_performance(SALES, EVENTS, d(2026, 3, 1), d(2026, 3, 9))
    rows = {
        r["event_id"]: (r["tickets"], r["net_cents"]) for r in march_1_to_9.iter_rows(named=True)
    }
    assert rows == {"e1": (75, 385_000), "e2": (78, 152_000)}  # Quiz sold nothing: absent
    top = ev.rank_events(march_1_to_9, by="net_cents", n=1)
    assert top["name"].to_list() == ["Opera"]
    bottom = ev.rank_events(march_1_to_9, by="tickets", n=1, bottom=True)
    assert bottom["name"].to_list() == ["Opera"]
    perf = ev.event_performance(SALES, EVENTS, AS_OF)
    assert ev.rank_events(perf, by="sell_through", n=3)["name"].to_list() == [
        "Opera", "Derby", "Quiz",
    ]  # fmt: skip


def test_ties_rank_by_name():
    tied = ev.period_performance(
        SALES.with_columns(pl.lit(1_000).alias("net_cents")), EVENTS, d(2026, 3, 1), d(2026, 3, 2)
    )
    assert ev.rank_events(tied, by="net_cents")["name"].to_list() == ["Derby", "Opera"]


def test_category_mix_shares_by_hand():
    mix = ev.category_mix(SALES, EVENTS, d(2026, 3, 1), d(2026, 3, 10))
    assert mix.rows() == [
        ("theatre", 385_000, 75, 385_000 / 557_000),
        ("sports", 172_000, 88, 172_000 / 557_000),
    ]
    assert mix["share"].sum() == pytest.approx(1.0)


def test_empty_periods_give_empty_frames_not_errors():
    assert ev.period_performance(SALES, EVENTS, d(2025, 1, 1), d(2025, 1, 31)).is_empty()
    assert ev.category_mix(SALES, EVENTS, d(2025, 1, 1), d(2025, 1, 31)).is_empty()
    perf = ev.event_performance(SALES.clear(), EVENTS, AS_OF)
    assert perf["sold"].to_list() == [0, 0, 0]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ev.period_performance(SALES, EVENTS, d(2026, 3, 9), d(2026, 3, 1)), "inverted"),
        (lambda: ev.event_performance(SALES, EVENTS, AS_OF, velocity_days=0), "velocity_days"),
        (lambda: ev.event_performance(SALES.drop("net_cents"), EVENTS, AS_OF), "net_cents"),
        (lambda: ev.event_performance(SALES, EVENTS.drop("capacity"), AS_OF), "capacity"),
        (lambda: ev.rank_events(ev.event_performance(SALES, EVENTS, AS_OF), by="name"), "rank"),
        (lambda: ev.rank_events(ev.event_performance(SALES, EVENTS, AS_OF), n=0), "at least 1"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_one_venue_only():
    mix = ev.category_mix(SALES, EVENTS, d(2026, 3, 1), d(2026, 3, 10), venue_id="v2")
    assert mix.is_empty()  # the Quiz (v2) sold nothing
    both = ev.period_performance(SALES, EVENTS, d(2026, 3, 1), d(2026, 3, 10), venue_id="v1")
    assert sorted(both["name"]) == ["Derby", "Opera"]


def _names(frame: pl.DataFrame) -> list[str]:
    return frame["name"].to_list()


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, ["Derby", "Quiz"]),  # upcoming by days to event: 10, 22
        ({"when": "past"}, ["Opera"]),
        ({"when": "all", "sort_by": "sell_through", "descending": True}, ["Opera", "Derby", "Quiz"]),
        # utilization is null before an event: nulls last, then by start date
        ({"when": "all", "sort_by": "utilization", "descending": True}, ["Opera", "Derby", "Quiz"]),
        ({"when": "all", "sort_by": "utilization"}, ["Opera", "Derby", "Quiz"]),
        ({"when": "all", "venue_id": "v1"}, ["Opera", "Derby"]),
        ({"when": "all", "category": "comedy"}, ["Quiz"]),
        ({"when": "all", "search": " dER "}, ["Derby"]),
        ({"when": "all", "search": "."}, []),  # literally, not a pattern
        ({"when": "all", "sort_by": "name", "descending": True}, ["Quiz", "Opera", "Derby"]),
    ],
    ids=["upcoming", "past", "sell-through", "utilization-desc", "utilization-asc", "venue",
         "category", "search", "search-literal", "name-desc"],
)  # fmt: skip
def test_select_events_filters_and_sorts(options, expected):
    perf = ev.event_performance(SALES, EVENTS, AS_OF)
    assert _names(ev.select_events(perf, **options)) == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [({"when": "soon"}, "when must be one of"), ({"sort_by": "price"}, "cannot sort by 'price'")],
)
def test_select_events_refuses_unknown_options(options, message):
    perf = ev.event_performance(SALES, EVENTS, AS_OF)
    with pytest.raises(ValueError, match=message):
        ev.select_events(perf, **options)
