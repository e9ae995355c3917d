"""Known anomalies put into a generated tenant, so that the alert rules can be measured on them
(``boxoffice synth --anomalies``; each is recorded in the manifest). Every kind has a fixed
size, written here and nowhere else, so a detector cannot look good by making them huge:

- **outage**: the ``web`` channel sells nothing for one local day (its orders of that day, and
  their tickets, never happened): about 48 % of a day's sales;
- **refund_wave**: for two days in a row, each day's refunds are 3× the tenant's usual daily
  rate (its mean over the 28 days before): whole orders of tickets still held for later events,
  refunded at a random time of the day;
- **spike**: a day's tickets +60 %: orders of that day bought again (same customer, event,
  channel, tickets and price, a minute later, and kept: never refunded), until the day has
  60 % more tickets;
- **scanner_outage**: on an event's day, no ticket of it is scanned at the door.

Days are local days of the tenant's home time zone, all in the last :data:`WINDOW_DAYS` days of
the data, :data:`GAP_DAYS` apart or more (an anomaly's model history holds no other anomaly of
the same tenant within a week); two of each kind per tenant.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from boxoffice.synth import ids

KINDS = ("outage", "refund_wave", "spike", "scanner_outage")
OUTAGE_CHANNEL = "web"
REFUND_WAVE_FACTOR = 3.0
REFUND_WAVE_DAYS = 2
SPIKE = 0.60
PER_KIND = 2
WINDOW_DAYS = 90
GAP_DAYS = 10
USUAL_DAYS = 28


def _midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)


def _on_day(column: str, day: dt.date, zone: ZoneInfo, days: int = 1) -> pl.Expr:
    start = _midnight(day, zone)
    end = _midnight(day + dt.timedelta(days=days), zone)
    return (pl.col(column) >= start) & (pl.col(column) < end)


def inject(
    tables: dict[str, pl.DataFrame], *, end: dt.date, home: str, seed: int
) -> tuple[dict[str, pl.DataFrame], list[dict]]:
    """``tables`` (one tenant's source tables) with :data:`PER_KIND` anomalies of each kind
    whose days end by ``end`` (the last day of data), in ``home``'s local days; returns the new
    tables and the anomalies (kind, first and last day, what changed)."""
    rng = np.random.default_rng([seed, 0xA11])
    zone = ZoneInfo(home)
    # the sales anomalies' days: GAP_DAYS apart, in the window, in a shuffled order of kinds
    kinds = [k for k in KINDS if k != "scanner_outage" for _ in range(PER_KIND)]
    rng.shuffle(kinds)
    slots = WINDOW_DAYS // len(kinds)
    assert slots >= GAP_DAYS, "the window holds every anomaly GAP_DAYS apart"
    first = end - dt.timedelta(days=WINDOW_DAYS - 1)
    done = []
    for i, kind in enumerate(kinds):
        room = slots - GAP_DAYS + 1 - (REFUND_WAVE_DAYS - 1 if kind == "refund_wave" else 0)
        day = first + dt.timedelta(days=i * slots + int(rng.integers(0, max(room, 1))))
        tables, what = _APPLY[kind](tables, day, zone, rng)
        last = day + dt.timedelta(days=REFUND_WAVE_DAYS - 1 if kind == "refund_wave" else 0)
        done.append(
            {"kind": kind, "first_day": day.isoformat(), "last_day": last.isoformat()} | what
        )
    for event_id, day in _scanned_events(tables, first, end, zone, rng):
        tables, what = _scanner_outage(tables, event_id)
        done.append(
            {"kind": "scanner_outage", "first_day": day.isoformat(), "last_day": day.isoformat()}
            | what
        )
    return tables, sorted(done, key=lambda a: (a["first_day"], a["kind"]))


def _outage(tables, day, zone, rng):
    orders = tables["orders"]
    gone = orders.filter((pl.col("channel") == OUTAGE_CHANNEL) & _on_day("created_at", day, zone))
    keep = ~pl.col("order_id").is_in(gone["order_id"].implode())
    tickets = tables["tickets"]
    lost = tickets.filter(~keep).height
    tables = tables | {"orders": orders.filter(keep), "tickets": tickets.filter(keep)}
    return tables, {
        "channel": OUTAGE_CHANNEL,
        "orders_removed": gone.height,
        "tickets_removed": lost,
    }


def _refund_wave(tables, day, zone, rng):
    tickets = tables["tickets"]
    events = tables["events"].select("event_id", "starts_at")
    usual_start = _midnight(day - dt.timedelta(days=USUAL_DAYS), zone)
    usual = (
        tickets.filter(
            (pl.col("refunded_at") >= usual_start) & (pl.col("refunded_at") < _midnight(day, zone))
        ).height
        / USUAL_DAYS
    )
    extra_per_day = round((REFUND_WAVE_FACTOR - 1) * usual)
    refunded = 0
    for d in range(REFUND_WAVE_DAYS):
        today = day + dt.timedelta(days=d)
        start, stop = _midnight(today, zone), _midnight(today + dt.timedelta(days=1), zone)
        held = (
            tickets.filter((pl.col("status") == "sold") & (pl.col("sold_at") < start))
            .join(events, on="event_id")
            .filter(pl.col("starts_at") > stop)
        )
        orders = held.group_by("order_id").len().sort("order_id")
        order = rng.permutation(orders.height)
        sizes = orders["len"].to_numpy()[order]
        take = orders["order_id"].gather(
            order[: int(np.searchsorted(np.cumsum(sizes), extra_per_day)) + 1]
        )
        at = start + dt.timedelta(seconds=float(rng.uniform(0, 86_000)))
        chosen = pl.col("order_id").is_in(take.implode()) & (pl.col("status") == "sold")
        refunded += tickets.filter(chosen).height
        tickets = tickets.with_columns(
            pl.when(chosen).then(pl.lit("refunded")).otherwise(pl.col("status")).alias("status"),
            pl.when(chosen)
            .then(pl.lit(at).cast(tickets.schema["refunded_at"]))
            .otherwise(pl.col("refunded_at"))
            .alias("refunded_at"),
        )
    return tables | {"tickets": tickets}, {
        "usual_refunds_per_day": round(usual, 2),
        "tickets_refunded": refunded,
    }


def _spike(tables, day, zone, rng):
    orders, tickets = tables["orders"], tables["tickets"]
    today = orders.filter(_on_day("created_at", day, zone))
    sold = tickets.filter(pl.col("order_id").is_in(today["order_id"].implode()))
    per_order = sold.group_by("order_id").len()
    order = rng.permutation(per_order.height)
    sizes = per_order["len"].to_numpy()[order]
    target = SPIKE * sold.height
    count = int(np.searchsorted(np.cumsum(sizes), target)) + 1
    again = per_order["order_id"].gather(order[:count])
    copies = orders.filter(pl.col("order_id").is_in(again.implode())).sort("order_id")
    shift = dt.timedelta(minutes=1)
    new_ids = ids.uuid7(rng, (copies["created_at"] + shift).dt.epoch("ms").to_numpy())
    renamed = dict(zip(copies["order_id"], new_ids, strict=True))
    copied_orders = copies.with_columns(
        pl.col("order_id").replace_strict(renamed), pl.col("created_at") + shift
    )
    # bought again and kept: a copy of a ticket refunded later is not refunded (a spike of
    # sales must not bring a wave of refunds after it)
    copied_tickets = sold.filter(pl.col("order_id").is_in(again.implode())).with_columns(
        pl.col("order_id").replace_strict(renamed),
        pl.col("sold_at") + shift,
        pl.when(pl.col("status") == "refunded")
        .then(pl.lit("sold"))
        .otherwise(pl.col("status"))
        .alias("status"),
        pl.lit(None, tickets.schema["refunded_at"]).alias("refunded_at"),
    )
    copied_tickets = copied_tickets.with_columns(
        ticket_id=ids.uuid7(rng, copied_tickets["sold_at"].dt.epoch("ms").to_numpy())
    )
    return tables | {
        "orders": pl.concat([orders, copied_orders]),
        "tickets": pl.concat([tickets, copied_tickets]),
    }, {
        "orders_added": copies.height,
        "tickets_added": copied_tickets.height,
        "day_tickets": sold.height,
    }


def _scanned_events(tables, first, end, zone, rng) -> list[tuple[str, dt.date]]:
    """:data:`PER_KIND` events that start in the window and had at least 50 scans, on
    different days."""
    scans = tables["tickets"].filter(pl.col("status") == "scanned").group_by("event_id").len()
    events = (
        tables["events"]
        .join(scans.filter(pl.col("len") >= 50), on="event_id")
        .with_columns(day=pl.col("starts_at").dt.convert_time_zone(zone.key).dt.date())
        .filter(pl.col("day").is_between(first, end))
        .unique("day", keep="first")
        .sort("event_id")
    )
    picked = rng.choice(events.height, size=min(PER_KIND, events.height), replace=False)
    return [(events["event_id"][int(i)], events["day"][int(i)]) for i in sorted(picked)]


def _scanner_outage(tables, event_id):
    tickets = tables["tickets"]
    mine = (pl.col("event_id") == event_id) & (pl.col("status") == "scanned")
    lost = tickets.filter(mine).height
    tickets = tickets.with_columns(
        pl.when(mine).then(pl.lit("sold")).otherwise(pl.col("status")).alias("status"),
        pl.when(mine).then(None).otherwise(pl.col("scanned_at")).alias("scanned_at"),
    )
    return tables | {"tickets": tickets}, {"event_id": event_id, "scans_lost": lost}


_APPLY = {"outage": _outage, "refund_wave": _refund_wave, "spike": _spike}
