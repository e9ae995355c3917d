"""Every validation rule, each naming the field and the rule (no database needed)."""

from __future__ import annotations

import datetime as dt

import pytest

from boxoffice.ingest.validate import Rejection, parse_time, validate
from tests.ingest.conftest import event

NOW = dt.datetime(2026, 10, 20, 12, tzinfo=dt.UTC)


def _without(e: dict, *path: str) -> dict:
    target = e
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return e


def _with(e: dict, path: tuple[str, ...], value) -> dict:
    target = e
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return e


@pytest.mark.parametrize("type_", ["page_view", "search", "event_view", "add_to_cart",
                                   "checkout_started", "purchase", "ticket_scan"])  # fmt: skip
def test_each_type_has_a_valid_example(type_):
    version, occurred = validate(event(type_), now=NOW)
    assert version == "v1"
    assert occurred == dt.datetime(2026, 10, 15, 12, tzinfo=dt.UTC)


INVALID = [
    # (event, field, rule)
    ([1, 2], "(event)", "type"),
    (_without(event(), "id"), "id", "required"),
    (_with(event(), ("id",), ""), "id", "minLength"),
    (_with(event(), ("id",), 42), "id", "type"),
    (_without(event(), "source"), "source", "required"),
    (_with(event(), ("specversion",), "0.3"), "specversion", "const"),
    (_with(event(), ("type",), "page_vue"), "type", "enum"),
    (_without(event(), "tenantid"), "tenantid", "required"),
    (_with(event(), ("tenantid",), "acme"), "tenantid", "format"),
    (_with(event(), ("time",), "2026-10-15 12:00:00"), "time", "format"),  # no T, no offset
    (_with(event(), ("time",), "2026-10-15T12:00:00"), "time", "format"),  # no offset
    (_with(event(), ("time",), "2026-02-30T12:00:00Z"), "time", "format"),  # no such day
    (_with(event(), ("time",), "1729000000"), "time", "format"),
    (_with(event(), ("time",), "2026-10-21T12:00:01Z"), "time", "not-in-future"),
    (_with(event(), ("traceparent",), "00-xyz"), "traceparent", "pattern"),
    (_with(event(), ("schemaversion",), "v9"), "schemaversion", "known-version"),
    (_with(event(), ("schemaversion",), "latest"), "schemaversion", "pattern"),
    (_with(event(), ("extra",), 1), "extra", "unknown-field"),
    (_with(event(), ("data",), "text"), "data", "type"),
    (_without(event("add_to_cart"), "data", "quantity"), "data.quantity", "required"),
    (_with(event("add_to_cart"), ("data", "quantity"), "2"), "data.quantity", "type"),
    (_with(event("add_to_cart"), ("data", "quantity"), 0), "data.quantity", "minimum"),
    (_with(event("purchase"), ("data", "order_id"), "o-1"), "data.order_id", "format"),
    (_with(event(), ("data", "channel"), "fax"), "data.channel", "enum"),
    (_with(event(), ("data", "password"), "hunter2"), "data.password", "unknown-field"),
    (_without(event("ticket_scan"), "data", "gate"), "data.gate", "required"),
]


@pytest.mark.parametrize(("e", "field", "rule"), INVALID, ids=[f"{f}-{r}" for _, f, r in INVALID])
def test_each_rule_rejects_with_the_field_and_the_rule(e, field, rule):
    with pytest.raises(Rejection) as caught:
        validate(e, now=NOW)
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert caught.value.reason.startswith(f"{field}: {rule}: ")


def test_up_to_a_day_ahead_is_accepted():
    assert validate(_with(event(), ("time",), "2026-10-21T12:00:00Z"), now=NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-15T12:00:00Z", dt.datetime(2026, 10, 15, 12, tzinfo=dt.UTC)),
        ("2026-10-15t12:00:00z", dt.datetime(2026, 10, 15, 12, tzinfo=dt.UTC)),
        ("2026-10-15T23:30:00-02:00", dt.datetime(2026, 10, 16, 1, 30, tzinfo=dt.UTC)),
        ("2026-10-15T12:00:00.123456789+00:00", dt.datetime(2026, 10, 15, 12, 0, 0, 123456, dt.UTC)),
        ("2026-10-15T12:00:00.5Z", dt.datetime(2026, 10, 15, 12, 0, 0, 500000, dt.UTC)),
    ],
)  # fmt: skip
def test_rfc3339_times_parse_to_utc(text, expected):
    assert parse_time(text) == expected
