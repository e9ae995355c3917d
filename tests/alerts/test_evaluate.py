"""Rules judged on hand-made daily series, and the states they move through, with every
value worked out by hand in the comments."""

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from boxoffice.alerts.evaluate import (
    STATES,
    days_needed,
    judge,
    judge_anomaly,
    step,
    tamed,
    window,
)
from boxoffice.alerts.rules import Rule

D = dt.date(2026, 10, 14)  # a Wednesday


def day(n: int) -> dt.date:
    return D - dt.timedelta(days=n)  # day(0) = Oct 14, day(7) = Oct 7, the same weekday


def daily(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema=["scope_key", "date", "tickets_sold", "refunded_tickets", "net_cents"],
        orient="row",
    )


SERIES = daily(
    [
        ("A", day(0), 4, 4, 100),
        ("A", day(1), 3, 0, 100),
        ("A", day(2), 2, 1, 100),
        ("A", day(3), 6, 0, 100),
        ("A", day(7), 10, 0, 100),
        ("B", day(0), 5, 0, 0),
        ("B", day(1), 5, 0, 0),
        ("B", day(2), 5, 0, 0),
        ("B", day(7), 8, 0, 0),
        ("C", day(30), 9, 9, 0),
    ]
)


def test_a_window_sums_its_days_and_divides_for_a_ratio():
    tickets = window(SERIES, "tickets", D, 3)  # Oct 12..14
    assert tickets.rows() == [("A", 9.0, 9.0), ("B", 15.0, 15.0), ("C", 0.0, 0.0)]
    rate = window(SERIES, "refund_rate", D, 2)  # A: (4 + 0) / (4 + 3); C sold nothing: none
    assert rate.rows() == [("A", pytest.approx(4 / 7), 7.0), ("B", 0.0, 10.0), ("C", None, 0.0)]


def test_a_threshold_is_breached_below_its_bound_and_a_ratio_without_sales_is_not_judged():
    few = Rule("few", "threshold", metric="tickets", window=3, below=10)
    judged = judge(SERIES, few, D)
    assert judged.select("scope_key", "value", "breached").rows() == [
        ("A", 9.0, True),  # 2 + 3 + 4 < 10
        ("B", 15.0, False),
        ("C", 0.0, True),  # a scope that sold nothing is below too
    ]
    assert judged["explanation"][0] == "tickets over 3 day(s): 9.0 tickets"
    refunds = Rule("refunds", "threshold", metric="refund_rate", window=2, above=0.5)
    assert judge(SERIES, refunds, D).select("scope_key", "breached").rows() == [
        ("A", True),  # 4/7 = 0.571 > 0.5
        ("B", False),
        ("C", None),  # no sales in the window: no rate to judge
    ]


def test_a_change_is_against_the_same_weekday_or_the_previous_period():
    weekday = Rule(
        "drop",
        "change",
        metric="tickets",
        against="same_weekday_last_week",
        below=-50,
        min_volume=6,
    )
    judged = judge(SERIES, weekday, D)
    assert judged.select("scope_key", "value", "breached").rows() == [
        ("A", -60.0, True),  # 4 against 10 on Oct 7: 100 · (4 − 10) / 10
        ("B", -37.5, False),  # 5 against 8
        ("C", None, None),  # 0 against 0: no base
    ]
    assert judged["explanation"][0] == (
        "tickets over 1 day(s): 4.0 against 10.0 a week earlier (-60.0 %)"
    )
    # min_volume 9: B's base of 8 tickets is too little to judge
    strict = Rule(
        "drop",
        "change",
        metric="tickets",
        against="same_weekday_last_week",
        below=-50,
        min_volume=9,
    )
    assert judge(SERIES, strict, D)["breached"].to_list() == [True, None, None]
    period = Rule("rise", "change", metric="tickets", window=2, above=10)
    # A: Oct 13–14 = 3 + 4 = 7 against Oct 11–12 = 6 + 2 = 8: −12.5 %; B: 10 against 5: +100 %
    assert judge(SERIES, period, D).select("scope_key", "value", "breached").rows()[:2] == [
        ("A", -12.5, False),
        ("B", 100.0, True),
    ]


def judged_one(breached: bool | None, value: float | None = 1.0) -> pl.DataFrame:
    return pl.DataFrame(
        [("A", value, None, 10.0, breached, "why")],
        schema=["scope_key", "value", "lower", "upper", "breached", "explanation"],
        orient="row",
    )


def test_a_rule_is_pending_for_its_period_then_fires_resolves_and_settles():
    rule = Rule("r", "threshold", metric="tickets", above=10, pending=2)
    states = pl.DataFrame(schema=STATES)
    seen = []
    for n, breached in [(1, True), (2, True), (2, True), (3, None), (4, False), (5, False)]:
        states, events = step(states, judged_one(breached), rule, day(-n))
        (state,) = states.rows(named=True)
        seen.append((n, state["state"], state["count"], state["since"], events.height))
        for e in events.iter_rows(named=True):
            seen.append((e["from_state"], e["to_state"]))
    assert seen == [
        (1, "pending", 1, day(-1), 1),
        ("ok", "pending"),
        (2, "firing", 2, day(-2), 1),
        ("pending", "firing"),
        (2, "firing", 2, day(-2), 0),  # the same date again: nothing changes
        (3, "firing", 2, day(-2), 0),  # not judged (no value): the state and count stay
        (4, "resolved", 0, day(-4), 1),
        ("firing", "resolved"),
        (5, "ok", 0, day(-5), 1),
        ("resolved", "ok"),
    ]


def test_a_breach_that_ends_before_its_period_never_fires_and_other_scopes_keep_theirs():
    rule = Rule("r", "threshold", metric="tickets", above=10, pending=3)
    states, _ = step(pl.DataFrame(schema=STATES), judged_one(True), rule, day(-1))
    other = pl.DataFrame(
        [("r", "Z", "firing", day(9), 5, day(9), 20.0, None, 10.0, None, None)],
        schema=STATES,
        orient="row",
    )
    states, events = step(pl.concat([states, other]), judged_one(False), rule, day(-2))
    assert states.select("scope_key", "state", "count").rows() == [
        ("A", "ok", 0),
        ("Z", "firing", 5),
    ]
    assert events.select("from_state", "to_state").rows() == [("pending", "ok")]


def two_weeks_then(today: int, refunds: int = 0) -> pl.DataFrame:
    """Days day(14) … day(1): 10, 20, …, 70, then 12, 18, 32, 38, 52, 58, 72 tickets (a
    weekly pattern, off by ±2 in the second week); ``today`` tickets on day(0)."""
    first = [10, 20, 30, 40, 50, 60, 70]
    second = [12, 18, 32, 38, 52, 58, 72]
    rows = [("A", day(14 - i), n, 0, 0) for i, n in enumerate(first + second)]
    return daily([*rows, ("A", day(0), today, refunds, 0)])


@pytest.mark.parametrize(
    ("today", "direction", "breached"),
    [(20, "both", True), (15, "both", False), (6, "both", True), (20, "below", False)],
)
def test_an_anomaly_is_outside_the_seasonal_models_interval(today, direction, breached):
    # 14 days of history: the seasonal naive model, fitted on the square roots of the counts.
    # Its forecast for day(0), a week after day(7), is √12 = 3.4641; σ = the root mean square
    # of the week-on-week differences of the roots, √10 − √12, √20 − √18, … √70 − √72:
    # √(0.25232 / 7) = 0.18986; the 99 % interval 3.4641 ± 2.5758 · 0.18986 = [2.9751, 3.9532],
    # squared back: [8.851, 15.627] around an expected 12
    rule = Rule("a", "anomaly", metric="tickets", sensitivity=0.99, direction=direction)
    judged = judge_anomaly(two_weeks_then(today), rule, D, history=14)
    first = [10, 20, 30, 40, 50, 60, 70]
    second = [12, 18, 32, 38, 52, 58, 72]
    sigma = math.sqrt(
        sum((math.sqrt(a) - math.sqrt(b)) ** 2 for a, b in zip(first, second, strict=True)) / 7
    )
    assert sigma == pytest.approx(0.18986, abs=1e-5)
    lower = (math.sqrt(12) - 2.5758293 * sigma) ** 2
    upper = (math.sqrt(12) + 2.5758293 * sigma) ** 2
    assert (lower, upper) == pytest.approx((8.851, 15.627), abs=1e-3)
    row = judged.row(0, named=True)
    assert row["value"] == today and row["breached"] is breached
    assert row["upper"] == pytest.approx(upper if direction == "both" else None)
    assert row["lower"] == pytest.approx(lower)
    assert row["explanation"] == (
        f"tickets on {D}: {today} against an expected 12 (99 % interval 8.851 to 15.63,"
        " seasonal naive)"
    )


def test_an_anomaly_over_a_window_judges_its_total_against_the_totals_before():
    # window 2: the two-day totals; the one of day(1) + day(0) against the forecast, two days
    # ahead, of the totals up to the one ending on day(2)
    rule = Rule("a", "anomaly", metric="tickets", window=2, sensitivity=0.99)
    rows = [("A", day(30 - i), 10 + (i % 7), 0, 0) for i in range(30)]
    judged = judge_anomaly(daily([*rows, ("A", day(0), 40, 0, 0)]), rule, D, history=14)
    row = judged.row(0, named=True)
    assert row["value"] == 40 + 10 + (29 % 7)  # day(1) sold 10 + 29 % 7 = 11
    assert row["explanation"].startswith(f"tickets over the 2 days to {D}: 51 against")
    assert row["breached"] is True


def test_an_anomaly_below_its_minimum_volume_is_not_judged():
    rule = Rule("a", "anomaly", metric="refund_rate", min_volume=41)
    # refund rate of day(0): 3 / 20 = 0.15; the usual volume, tickets sold in the week
    # before: (12 + 18 + 32 + 38 + 52 + 58 + 72) / 7 = 282 / 7 = 40.29 < 41
    judged = judge_anomaly(two_weeks_then(20, refunds=3), rule, D, history=14)
    assert judged.select("value", "breached").rows() == [(0.15, None)]
    assert judged["explanation"][0] == f"refund_rate on {D}: 0.15 (usual volume 40.29: not judged)"
    rule = Rule("a", "anomaly", metric="refund_rate", min_volume=40)
    assert (
        judge_anomaly(two_weeks_then(20, refunds=3), rule, D, history=14)["breached"][0] is not None
    )


def test_the_days_a_rule_reads():
    assert days_needed(Rule("a", "anomaly", metric="tickets", window=2)) == 56 + 3
    assert days_needed(Rule("c", "change", metric="tickets", window=3)) == 6
    weekly = Rule("c", "change", metric="tickets", window=3, against="same_weekday_last_week")
    assert days_needed(weekly) == 3 + 7


def test_an_outlier_in_the_history_is_pulled_in_to_its_weekdays_band():
    # three weeks; phases counted back from the last day. Weekday medians 10, 10, 10, 10, 10,
    # 20 and (19, 21, 90 →) 21. Absolute deviations: twelve 1s, one 2, 69, and seven 0s: their
    # median (the 11th of 21) is 1, so the band is ±2.5 · 1.4826 = ±3.7065 around each median
    # and only the 90 moves, to 21 + 3.7065
    y = np.array(
        [11, 9, 11, 9, 11, 21, 19, 9, 11, 9, 11, 9, 19, 21, 10, 10, 10, 10, 10, 20, 90], float
    )
    assert tamed(y, k=2.5).tolist() == pytest.approx([*y[:-1], 21 + 2.5 * 1.4826])
    assert tamed(np.full(14, 5.0)).tolist() == [5.0] * 14  # no spread: nothing to judge by


def test_a_robust_rule_is_not_blinded_by_an_earlier_wave_in_its_history():
    # 56 days of 16 to 24 refunds a day (20 + (7919 k mod 9) − 4), one earlier wave of 120
    # and 110 three weeks ago, then 52 today. Fitted on that history the interval is wide
    # enough to hold 52; with the wave pulled in to its weekdays' band it is not.
    counts = [20 + (7919 * k) % 9 - 4 for k in range(56)]
    counts[35:37] = [120, 110]
    rows = [("T", day(56 - k), 0, n, 0) for k, n in enumerate(counts)]
    frame = daily([*rows, ("T", day(0), 0, 52, 0)])
    plain = Rule("w", "anomaly", metric="refunds", sensitivity=0.999, direction="above")
    robust = Rule("w", "anomaly", metric="refunds", sensitivity=0.999, direction="above",
                  robust=True)  # fmt: skip
    loose, tight = (judge_anomaly(frame, r, D).row(0, named=True) for r in (plain, robust))
    assert loose["value"] == tight["value"] == 52
    assert loose["upper"] > 52 and loose["breached"] is False
    assert tight["upper"] < 52 and tight["breached"] is True
