"""Judging rules on metric series, and the states they move through. Pure: DataFrames in,
DataFrames out (the alerts task reads and writes them).

A metric's **daily** frame has one row per ``scope_key`` and local ``date`` with the columns
the metric is summed from (:class:`boxoffice.alerts.metrics.Metric`); a missing day is a day
of zeros. Over a window of ``w`` days ending on ``as_of`` (the days ``as_of − w + 1`` …
``as_of``), the metric's value is Σ numerator / Σ denominator for a ratio (none when
Σ denominator = 0) and Σ numerator otherwise; its **volume**, what ``min_volume`` is compared
with, is Σ denominator for a ratio and the value otherwise.

- ``threshold``: breached when value > ``above`` or value < ``below``; not judged when the
  volume is under ``min_volume``.
- ``change``: the percent change 100 · (value − base) / |base| against the base window — the
  ``w`` days before the window (``previous_period``) or the window 7 days earlier
  (``same_weekday_last_week``) — breached when it is above ``above`` or below ``below``; not
  judged when the base is 0 or its volume is under ``min_volume``.

- ``anomaly``: the value over the window (``w`` days ending on ``as_of``) against its
  forecast by the seasonal model of :func:`boxoffice.forecast.forecast_series` (ETS with a
  weekly season, averaged over its forms by Akaike weight; seasonal naive on a short history),
  fitted on the scope's own series of ``w``-day values over the :data:`ANOMALY_HISTORY` days
  before and forecast ``w`` days ahead, so that no day of the window is in the history; the
  prediction interval at level ``sensitivity`` gives the bounds. Breached when the value is
  above the upper bound (``direction`` ``above`` or ``both``) or below the lower (``below`` or
  ``both``). A count is modelled on its square root (variance-stabilizing for Poisson counts,
  Anscombe 1948, *Biometrika* 35), the bounds squared back; a ratio's series is Σ numerator /
  Σ denominator per window, a window without denominator taking the median of the others.
  With ``robust``, the history's outliers are pulled in before the fit (:func:`tamed`), so that
  an earlier anomaly neither widens the interval nor moves the level. Not judged when the
  usual volume — the mean daily volume of the :data:`USUAL_DAYS` days before — is under
  ``min_volume`` (so that a day that lost all its sales is judged).
- ``freshness`` and the ``dead_letters`` and ``reconciliation`` operational rules: one scope,
  the tenant (:func:`judge_operations`).

Each judged (rule, scope) gets a state (:func:`step`): ``ok``; ``pending`` while the condition
has held for fewer than the rule's ``for`` evaluations in a row; ``firing`` from the ``for``-th;
``resolved`` on the first evaluation without it after firing (then ``ok``). A scope not judged
on a day (no value, too little volume) keeps its state and count. Each change of state is an
event; a date already evaluated changes nothing.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from boxoffice.alerts.metrics import METRICS
from boxoffice.alerts.rules import Rule
from boxoffice.forecast import forecast_series

JUDGED = {
    "scope_key": pl.String,
    "value": pl.Float64,
    "lower": pl.Float64,
    "upper": pl.Float64,
    "breached": pl.Boolean,  # null: not judged
    "explanation": pl.String,
}
STATES = {
    "rule": pl.String,
    "scope_key": pl.String,
    "state": pl.String,
    "since": pl.Date,
    "count": pl.Int64,  # evaluations in a row with the condition
    "evaluated": pl.Date,  # the last date evaluated
    "value": pl.Float64,
    "lower": pl.Float64,
    "upper": pl.Float64,
    "notified_at": pl.Datetime("us", "UTC"),  # the last notification queued for it
    "acknowledged_by": pl.String,  # while firing; a change of state clears it
}
EVENTS = {
    "rule": pl.String,
    "scope_key": pl.String,
    "as_of": pl.Date,
    "from_state": pl.String,
    "to_state": pl.String,
    "value": pl.Float64,
    "lower": pl.Float64,
    "upper": pl.Float64,
    "explanation": pl.String,
}


def window(daily: pl.DataFrame, metric: str, end: dt.date, days: int) -> pl.DataFrame:
    """Per ``scope_key``: the metric's ``value`` and ``volume`` over the ``days`` days ending
    on ``end``; every scope in ``daily`` has a row (zeros where it had no day in the window)."""
    m = METRICS[metric]
    columns = [m.numerator] + ([m.denominator] if m.denominator else [])
    start = end - dt.timedelta(days=days - 1)
    inside = daily.filter(pl.col("date").is_between(start, end))
    sums = (
        daily.select("scope_key")
        .unique()
        .join(
            inside.group_by("scope_key").agg(pl.col(c).sum() for c in columns),
            on="scope_key",
            how="left",
        )
        .with_columns(pl.col(c).fill_null(0).cast(pl.Float64) for c in columns)
    )
    if m.denominator:
        value = pl.when(pl.col(m.denominator) != 0).then(
            pl.col(m.numerator) / pl.col(m.denominator)
        )
        volume = pl.col(m.denominator)
    else:
        value = volume = pl.col(m.numerator)
    return sums.select("scope_key", value.alias("value"), volume.alias("volume")).sort("scope_key")


def judge(daily: pl.DataFrame, rule: Rule, as_of: dt.date) -> pl.DataFrame:
    """Each scope's value on ``as_of``, the bounds it is held to and whether it breaks them
    (:data:`JUDGED`), for a ``threshold``, ``change`` or ``anomaly`` rule."""
    if rule.kind == "anomaly":
        return judge_anomaly(daily, rule, as_of)
    now = window(daily, rule.metric, as_of, rule.window)
    bounds = [
        pl.lit(rule.below, pl.Float64).alias("lower"),
        pl.lit(rule.above, pl.Float64).alias("upper"),
    ]
    days = f"{rule.metric} over {rule.window} day(s)"
    if rule.kind == "threshold":
        unit = METRICS[rule.metric].unit
        what = pl.format(f"{days}: {{}} {unit}", _shown("value"))
        value = pl.when(pl.col("volume") >= rule.min_volume).then(pl.col("value"))
        judged = now.select("scope_key", value, *bounds, what.alias("explanation"))
    elif rule.kind == "change":
        back = rule.window if rule.against == "previous_period" else 7
        base = window(daily, rule.metric, as_of - dt.timedelta(days=back), rule.window)
        both = now.join(base, on="scope_key", suffix="_base")
        judgeable = (pl.col("value_base") != 0) & (pl.col("volume_base") >= rule.min_volume)
        change = 100 * (pl.col("value") - pl.col("value_base")) / pl.col("value_base").abs()
        against = "the previous period" if back == rule.window else "a week earlier"
        what = pl.format(
            f"{days}: {{}} against {{}} {against} ({{}} %)",
            _shown("value"),
            _shown("value_base"),
            change.round(1).cast(pl.String),
        )
        judged = both.select(
            "scope_key",
            pl.when(judgeable).then(change).alias("value"),
            *bounds,
            what.alias("explanation"),
        )
    else:
        raise ValueError(f"rule {rule.name}: {rule.kind} rules are not judged on a metric series")
    breached = pl.when(pl.col("value").is_not_null()).then(
        (pl.col("value") > pl.col("upper")).fill_null(False)
        | (pl.col("value") < pl.col("lower")).fill_null(False)
    )
    return judged.with_columns(breached.alias("breached")).select(list(JUDGED))


ANOMALY_HISTORY = 56  # days an anomaly rule's model is fitted on: eight weekly seasons
USUAL_DAYS = 7  # an anomaly's volume: the mean daily volume of the week before


def judge_anomaly(
    daily: pl.DataFrame, rule: Rule, as_of: dt.date, *, history: int = ANOMALY_HISTORY
) -> pl.DataFrame:
    """Each scope's value on ``as_of`` against its model's prediction interval
    (:data:`JUDGED`), for an ``anomaly`` rule (see the module docstring)."""
    m = METRICS[rule.metric]
    w = rule.window
    start = as_of - dt.timedelta(days=history + 2 * w - 2)
    days = pl.DataFrame({"date": pl.date_range(start, as_of, eager=True)})
    columns = [m.numerator] + ([m.denominator] if m.denominator else [])
    level = 100 * rule.sensitivity
    rows = []
    for (key,), frame in daily.filter(pl.col("date").is_between(start, as_of)).group_by(
        "scope_key"
    ):
        full = days.join(frame.select("date", *columns), on="date", how="left").fill_null(0)
        num = full[m.numerator].cast(pl.Float64).to_numpy()
        den = full[m.denominator].cast(pl.Float64).to_numpy() if m.denominator else None
        # the usual volume: a day that lost its sales (an outage) is judged all the same
        volume = float(np.mean((den if den is not None else num)[-w - USUAL_DAYS : -w]))
        y = _rolling(num, w) if den is None else _ratio(_rolling(num, w), _rolling(den, w))
        value = None if not np.isfinite(y[-1]) else float(y[-1])
        past = y[: y.size - w]  # the windows that end w days before: none overlaps this one
        judged = value is not None and volume >= rule.min_volume and np.isfinite(past).any()
        lower = upper = None
        what = f"{rule.metric} {_span(as_of, w)}: {_number(value)}"
        if judged:
            mean, lo, hi, model = _interval(past, w, level, count=den is None, robust=rule.robust)
            lower = lo if rule.direction in ("both", "below") else None
            upper = hi if rule.direction in ("both", "above") else None
            what += (
                f" against an expected {_number(mean)}"
                f" ({level:g} % interval {_number(lo)} to {_number(hi)}, {model})"
            )
        else:
            what += f" (usual volume {_number(volume)}: not judged)"
        breached = None
        if judged:
            breached = (upper is not None and value > upper) or (
                lower is not None and value < lower
            )
        rows.append((key, value, lower, upper, breached, what))
    return pl.DataFrame(rows, schema=JUDGED, orient="row").sort("scope_key")


def _rolling(values: np.ndarray, w: int) -> np.ndarray:
    """The sums of each ``w`` days in a row (the first ``w − 1`` days start none)."""
    return np.convolve(values, np.ones(w), mode="valid")


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _span(as_of: dt.date, w: int) -> str:
    return f"on {as_of}" if w == 1 else f"over the {w} days to {as_of}"


def _interval(past: np.ndarray, w: int, level: float, *, count: bool, robust: bool):
    """The ``w``-step-ahead forecast of the series ``past`` and its ``level`` % interval. A
    count is modelled on its square root, which makes a Poisson count's variance about
    constant (Anscombe 1948), and the bounds squared back; a ratio's missing days take the
    median of the others; ``robust``: the history :func:`tamed` first."""
    past = np.where(np.isfinite(past), past, np.nanmedian(past))
    past = np.sqrt(past) if count else past
    past = tamed(past) if robust else past
    f = forecast_series(past, w, levels=(level,))
    mean, lo, hi = (float(v[-1]) for v in (f.mean, *f.bounds[level]))
    if count:
        mean, lo, hi = mean**2, lo**2, hi**2
    return mean, lo, hi, f.model


TAMED_AT = 2.5  # robust standard deviations from the weekday's median: an outlier


def tamed(y: np.ndarray, k: float = TAMED_AT, period: int = 7) -> np.ndarray:
    """``y`` with its outliers pulled in before a model is fitted on it, so that an earlier
    anomaly in the history neither widens the interval nor moves the level: each value is held
    within ``k`` robust standard deviations of the median of its phase (the values ``period``
    days apart), the robust standard deviation being 1.4826 × the median absolute deviation
    of the values from their phase medians. A seasonal form of the Hampel identifier (Hampel
    1974, "The influence curve and its role in robust estimation", *JASA* 69; Pearson 2002,
    "Outliers in process modeling and identification", *IEEE Trans. Control Systems
    Technology* 10). Phases are counted back from the last value."""
    phase = (y.size - 1 - np.arange(y.size)) % period
    medians = np.array(
        [np.median(y[phase == p]) if (phase == p).any() else 0 for p in range(period)]
    )
    base = medians[phase]
    spread = 1.4826 * np.median(np.abs(y - base))
    if spread == 0:
        return y
    return np.clip(y, base - k * spread, base + k * spread)


def _number(value: float | None) -> str:
    return "none" if value is None else f"{value:.4g}"


def days_needed(rule: Rule) -> int:
    """The local days up to the evaluated date that judging ``rule`` reads."""
    if rule.kind == "anomaly":
        return ANOMALY_HISTORY + 2 * rule.window - 1
    if rule.kind == "change":
        return rule.window + (rule.window if rule.against == "previous_period" else 7)
    return rule.window


def _shown(column: str) -> pl.Expr:
    return pl.col(column).round(4).cast(pl.String).fill_null("none")


def step(
    states: pl.DataFrame, judged: pl.DataFrame, rule: Rule, as_of: dt.date, *, again: bool = False
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rule's states after its evaluation on ``as_of`` and the events (changes of state)
    it made. ``states`` are the rule's states before (:data:`STATES`; none at first).
    ``again``: judge a date already judged (a rule evaluated per run, not per date)."""
    before = states.filter(pl.col("rule") == rule.name)
    rows, events = [], []
    known = {r["scope_key"]: r for r in before.iter_rows(named=True)}
    for j in judged.iter_rows(named=True):
        if j["breached"] is None and j["scope_key"] not in known:
            continue  # never judged: no state yet
        old = known.pop(j["scope_key"], None) or {
            "rule": rule.name,
            "scope_key": j["scope_key"],
            "state": "ok",
            "since": as_of,
            "count": 0,
            "evaluated": None,
            "value": None,
            "lower": None,
            "upper": None,
            "notified_at": None,
            "acknowledged_by": None,
        }
        if not again and old["evaluated"] is not None and old["evaluated"] >= as_of:
            rows.append(old)  # this date (or a later one) is done: nothing changes
            continue
        new = {**old, "evaluated": as_of}
        if j["breached"] is not None:
            count = old["count"] + 1 if j["breached"] else 0
            if j["breached"]:
                state = "firing" if count >= rule.pending else "pending"
            else:
                state = "resolved" if old["state"] == "firing" else "ok"
            new |= {"count": count, "state": state} | {k: j[k] for k in ("value", "lower", "upper")}
            if state != old["state"]:
                new |= {"since": as_of, "acknowledged_by": None}
                events.append(
                    {
                        "rule": rule.name,
                        "scope_key": j["scope_key"],
                        "as_of": as_of,
                        "from_state": old["state"],
                        "to_state": state,
                        **{k: j[k] for k in ("value", "lower", "upper", "explanation")},
                    }
                )
        rows.append(new)
    rows += known.values()  # scopes without a value today keep theirs
    return (
        pl.DataFrame(rows, schema=STATES, orient="row").sort("scope_key"),
        pl.DataFrame(events, schema=EVENTS, orient="row"),
    )


def replay(daily: pl.DataFrame, rule: Rule, start: dt.date, end: dt.date) -> pl.DataFrame:
    """The changes of state ``rule`` would have made had it been evaluated on every day from
    ``start`` to ``end``, every scope starting ``ok`` (:data:`EVENTS`): how a threshold
    would have behaved, before it pages anyone."""
    states = pl.DataFrame(schema=STATES)
    changes = []
    day = start
    while day <= end:
        states, happened = step(states, judge(daily, rule, day), rule, day)
        changes.append(happened)
        day += dt.timedelta(days=1)
    return pl.concat([pl.DataFrame(schema=EVENTS), *changes])


def judge_operations(rule: Rule, seen: dict, tenant: str, before: dt.datetime) -> pl.DataFrame:
    """The tenant's one scope judged by a ``freshness`` rule — breached when the newest sale,
    behaviour event or completed run (``of``) is more than ``older_than_hours`` before
    ``before``, or there is none — or an ``operational`` one: ``dead_letters`` above
    ``above`` on the day, or a ``reconciliation`` flag on it (:data:`JUDGED`). ``seen`` is
    :func:`boxoffice.warehouse.alerts.read_operations`'s answer."""
    if rule.kind == "freshness":
        newest = seen[{"sales": "sales", "events": "events", "run": "run"}[rule.of]]
        what = {"sales": "sale", "events": "behaviour event", "run": "completed run"}[rule.of]
        if newest is None:
            value, explanation = None, f"no {what} at all before {before:%Y-%m-%d %H:%M} UTC"
            breached = True
        else:
            value = (before - newest).total_seconds() / 3600
            breached = value > rule.older_than_hours
            explanation = (
                f"the newest {what} ({newest:%Y-%m-%d %H:%M} UTC) is {value:.1f} h old"
                f" at {before:%Y-%m-%d %H:%M} UTC"
            )
        row = (tenant, value, None, rule.older_than_hours, breached, explanation)
    elif rule.condition == "dead_letters":
        count = seen["dead_letters"]
        explanation = (
            f"{count} behaviour event(s) rejected on the day (more than {rule.above:g} fires)"
        )
        row = (tenant, float(count), None, rule.above, count > rule.above, explanation)
    elif rule.condition == "reconciliation":
        flagged = seen["flagged"]
        explanation = (
            f"the ingest reconciliation flagged {flagged}" if flagged else "no reconciliation flag"
        )
        row = (tenant, float(bool(flagged)), None, 0.0, bool(flagged), explanation)
    else:
        raise ValueError(f"rule {rule.name}: not a freshness or operational rule on data")
    return pl.DataFrame([row], schema=JUDGED, orient="row")
