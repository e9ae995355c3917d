"""The known anomalies ``boxoffice synth --anomalies`` puts in a world: each of its fixed size,
on the day it says, and the world unchanged elsewhere."""

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from boxoffice.synth import WorldSpec, anomalies
from boxoffice.synth.world import REGIONS, generate_tenant

END = dt.date(2026, 10, 31)
HOME = REGIONS[0][0]


@pytest.fixture(scope="module")
def world():
    tables = generate_tenant(WorldSpec("small", 7, END), 0).tables
    injected, done = anomalies.inject(tables, end=END, home=HOME, seed=7)
    return tables, injected, done


def local_day(column: str) -> pl.Expr:
    return pl.col(column).dt.convert_time_zone(HOME).dt.date()


def test_two_of_each_kind_in_the_last_90_days_ten_days_apart(world):
    _, _, done = world
    assert sorted(a["kind"] for a in done) == sorted(list(anomalies.KINDS) * 2)
    first = [dt.date.fromisoformat(a["first_day"]) for a in done if a["kind"] != "scanner_outage"]
    assert min(first) >= END - dt.timedelta(days=89) and max(first) <= END
    assert all(b - a >= dt.timedelta(days=10) for a, b in itertools.pairwise(first))


def orders_on(tables, day: dt.date, web: bool) -> int:
    channel = pl.col("channel") == "web"
    return (
        tables["orders"]
        .filter((channel if web else ~channel) & (local_day("created_at") == day))
        .height
    )


def tickets_where(tables, condition: pl.Expr) -> int:
    return tables["tickets"].filter(condition).height


def test_an_outage_day_sells_nothing_on_the_web_and_the_rest_is_kept(world):
    before, after, done = world
    for a in (a for a in done if a["kind"] == "outage"):
        day = dt.date.fromisoformat(a["first_day"])
        assert orders_on(after, day, web=True) == 0
        assert orders_on(before, day, web=True) == a["orders_removed"] > 0
        assert orders_on(after, day, web=False) == orders_on(before, day, web=False)


def test_a_spike_adds_60_percent_of_the_days_tickets(world):
    before, after, done = world
    for a in (a for a in done if a["kind"] == "spike"):
        that_day = local_day("sold_at") == dt.date.fromisoformat(a["first_day"])
        added = tickets_where(after, that_day) - tickets_where(before, that_day)
        assert added == a["tickets_added"]
        assert (
            0.6 * tickets_where(before, that_day)
            <= added
            <= 0.6 * tickets_where(before, that_day) + 8
        )


def test_a_refund_wave_refunds_three_times_the_usual_rate_for_two_days(world):
    before, after, done = world
    for a in (a for a in done if a["kind"] == "refund_wave"):
        first = dt.date.fromisoformat(a["first_day"])
        two_days = local_day("refunded_at").is_in([first, first + dt.timedelta(days=1)])
        extra = tickets_where(after, two_days) - tickets_where(before, two_days)
        assert extra == a["tickets_refunded"]
        assert extra >= 2 * round(2 * a["usual_refunds_per_day"])  # (3 − 1) × usual, each day


def test_a_scanner_outage_leaves_its_event_unscanned(world):
    before, after, done = world
    for a in (a for a in done if a["kind"] == "scanner_outage"):
        event = a["event_id"]
        scanned = (pl.col("event_id") == event) & pl.col("scanned_at").is_not_null()
        # (the other anomalies, applied first, may have added or removed some of its tickets)
        assert tickets_where(before, scanned) >= 50 and a["scans_lost"] >= 50
        assert tickets_where(after, scanned) == 0
        starts = before["events"].filter(pl.col("event_id") == event)["starts_at"][0]
        assert starts.astimezone(ZoneInfo(HOME)).date().isoformat() == a["first_day"]
