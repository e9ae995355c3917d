"""The notification queue's two doors: :func:`deliver` sends what is due (an evaluation's, a
test's, or what earlier evaluations could not deliver), :func:`send_sample` puts a test message
of a rule in it and delivers it at once (``boxoffice alerts test RULE``)."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import polars as pl

from boxoffice.alerts import notify, send
from boxoffice.alerts.rules import Channel, Delivery, Rule
from boxoffice.alerts.subscriptions import ADDRESSES
from boxoffice.warehouse import alerts as stored


def deliver(
    tenant: str,
    channels: dict[str, Channel],
    delivery: Delivery,
    *,
    now: dt.datetime,
    deadline: float,
) -> dict[str, int]:
    """Deliver ``tenant``'s due notifications until ``deadline`` (``time.monotonic()``), each
    attempt within ``delivery.timeout_seconds``; what fails stays queued, with backoff. A
    subscription's own addresses (:data:`~boxoffice.alerts.subscriptions.ADDRESSES`) are
    mailed like an e-mail channel's."""
    addresses = {ADDRESSES: Channel(ADDRESSES, "email")}

    def one(row: dict) -> None:
        channel = channels.get(row["channel"]) or addresses.get(row["channel"])
        if channel is None:
            raise send.DeliveryError(f"channel {row['channel']} is no longer in the rules file")
        send.deliver(channel, row, timeout=delivery.timeout_seconds)

    return stored.deliver_due(
        one, tenant=tenant, now=now, deadline=deadline, backoff=notify.backoff
    )


def send_sample(
    tenant: tuple[str, str],
    rule: Rule,
    channels: dict[str, Channel],
    delivery: Delivery,
    *,
    as_of: dt.date,
) -> pl.DataFrame:
    """Queue a test message of ``rule`` to each of its recipients and deliver it now; returns
    the test's notifications with their status (a failure stays queued and is retried like any
    other, so it is not lost either)."""
    if not rule.notify:
        raise ValueError(f"rule {rule.name} notifies no channel: nothing to test")
    now = dt.datetime.now(dt.UTC)
    sample = {
        "scope_key": tenant[0],
        "value": None,
        "lower": rule.below,
        "upper": rule.above,
        "explanation": "a test of this rule's channels (boxoffice alerts test): nothing fired",
    }
    message = notify.compose(tenant, rule, "test", [sample], as_of, {})
    key = f"test|{uuid.uuid4()}"
    queued = notify.addressed(message, key, rule.notify, channels)
    empty = pl.DataFrame()
    stored.save_alerts(empty, empty, tenant=tenant[0], queued=queued, now=now)
    deliver(
        tenant[0], channels, delivery, now=now, deadline=time.monotonic() + delivery.max_seconds
    )
    mine = stored.read_notifications(tenant=tenant[0]).filter(pl.col("key") == key)
    return mine.select("channel", "recipient", "status", "attempts", "last_error")
