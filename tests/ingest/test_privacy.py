"""No raw PII survives ingestion: not in raw events, not in dead letters, not in analytics."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from boxoffice import privacy
from boxoffice.ingest.pseudonymize import mask_text, mask_value, truncate_ip
from boxoffice.monitoring.reconciliation import reconciliation_query
from boxoffice.warehouse import engine, replace_partitions
from tests.ingest.conftest import TENANT_A, event, rows, run

EMAIL = "ada.lovelace@example.org"
NAME = "Ada Lovelace"
PHONE = "+44 20 7946 0958"
IPV4 = "203.0.113.77"
IPV6 = "2001:db8:85a3:1234:5678:8a2e:370:7334"
AGENT = "Mozilla/5.0 (X11; Linux x86_64) AdaBrowser/9.1"
CUSTOMER = "7d3e2f10-9a4b-4c5d-8e6f-0123456789ab"
SECRETS = [EMAIL, NAME, PHONE, IPV4, IPV6, AGENT, CUSTOMER, "7946", "lovelace"]


def test_ip_truncation():
    assert truncate_ip("203.0.113.77") == "203.0.113.0"
    assert truncate_ip("2001:db8:85a3:1234::1") == "2001:db8:85a3::"
    assert truncate_ip("::ffff:203.0.113.77") == "::"  # /48 of a mapped address keeps nothing


def test_mask_text_masks_values_and_pii_members():
    text = f'{{"email": "{EMAIL}", "note": "call {PHONE} from {IPV4}", "ua": "{AGENT}"'
    masked = mask_text(text)
    for secret in (EMAIL, PHONE, IPV4):
        assert secret not in masked
    assert '"email": "[masked]"' in masked


def _pii_events() -> list:
    full = {
        "customer_id": CUSTOMER,
        "email": EMAIL,
        "name": NAME,
        "phone": PHONE,
        "ip": IPV4,
        "user_agent": AGENT,
    }
    return [
        event("checkout_started", **full),
        event("page_view", **{**full, "ip": IPV6}, url=f"https://t.example/?email={EMAIL}"),
        # free text: addresses and numbers are recognised and masked (names cannot be)
        event("search", query=f"tickets for {EMAIL} or {PHONE}", user_agent=AGENT),
        # invalid events full of PII: dead letters must be masked too
        event("purchase", **full, tickets="two"),
        {**event("page_view", **full), "time": "yesterday"},
        event("page_view", ip=f"{IPV4}/33"),  # not an address: rejected, value masked
        f'{{"id": "x", "data": {{"email": "{EMAIL}", "name": "{NAME}", "ip": "{IPV4}",'.encode(),
        f'{{"user_agent": "{AGENT}", "phone": "{PHONE}", "customer_id": "{CUSTOMER}"'.encode(),
    ]


def _text_columns() -> list[tuple[str, str]]:
    return rows(
        "select table_schema || '.' || table_name, column_name from information_schema.columns"
        " where table_schema in ('raw', 'analytics')"
        " and data_type in ('text', 'jsonb', 'character varying')"
        " and table_name not like 'events\\_%'"
    )


def test_a_scan_of_raw_and_analytics_finds_no_pii(db):
    result = run(*_pii_events())
    assert (result.stored, result.rejected) == (3, 5)
    replace_partitions([reconciliation_query()], as_of=dt.date(2026, 10, 31), tenants=[TENANT_A])
    columns = _text_columns()
    assert ("raw.events", "payload") in columns and ("raw.dead_letter", "payload") in columns
    found = []
    with engine.connect("owner") as conn:
        for table, column in columns:
            for secret in SECRETS:
                hit = conn.execute(
                    sa.text(
                        f'select count(*) from {table} where strpos(lower("{column}"::text),'
                        " lower(:s)) > 0"
                    ),
                    {"s": secret},
                ).scalar()
                if hit:
                    found.append((table, column, secret))
    assert found == []


def test_what_is_kept_instead(db):
    run(*_pii_events()[:2])
    kept = rows(
        "select customer_key, payload from raw.events order by type",
    )
    key = privacy.customer_key(CUSTOMER)
    assert [k for k, _ in kept] == [key, key]
    checkout, page = (p for _, p in kept)
    assert checkout["ip_network"] == "203.0.113.0"
    assert page["ip_network"] == "2001:db8:85a3::"
    assert checkout["user_agent_hash"] == page["user_agent_hash"]
    assert len(checkout["user_agent_hash"]) == 16
    assert page["url"] == "https://t.example/?email=[masked]"
    assert not {"email", "name", "phone", "ip", "user_agent", "customer_id"} & set(checkout)


ENCODED = [
    # (free text as sent, as stored)
    ("https://t.example/?email=ada%40example.org&x=1", "https://t.example/?email=[masked]&x=1"),
    ("https://t.example/?to=ADA%2Elovelace%40EXAMPLE%2eorg", "https://t.example/?to=[masked]"),
    (
        "https://t.example/?next=%2Fu%2Fada%2540example.org",
        "https://t.example/?next=%2Fu%2F[masked]",
    ),
    ("https://t.example/fans/ada%40example.org/tickets", "https://t.example/fans/[masked]/tickets"),
    ("https://t.example/fans/ada@example.org/tickets", "https://t.example/fans/[masked]/tickets"),
    ("https://t.example/e/7#contact=ada%40example.org", "https://t.example/e/7#contact=[masked]"),
    ("https://t.example/?q=caf%C3%A9%40example.org", "https://t.example/?q=[masked]"),
    ("https://t.example/?q=ada%252540example.org", "https://t.example/?q=[masked]"),  # thrice
    ("call+020+7946+0958+today", "call+[masked]+today"),  # "+": a space in a form
    ("tel%3A%2B44%2020%207946%200958", "tel%3A[masked]"),
    ("ada+tickets@example.org", "[masked]"),  # "+": itself in an address
    ("100% jazz, 50%off", "100% jazz, 50%off"),  # not escapes: left alone
    ("x%C3%28y", "x%C3%28y"),  # not UTF-8: left as it is
]


@pytest.mark.parametrize(("sent", "stored"), ENCODED)
def test_masking_decodes_as_a_browser_and_masks_the_stored_form(sent, stored):
    assert mask_value(sent) == stored


def test_encoded_addresses_are_masked_in_events_and_dead_letters(db):
    url, stored = ENCODED[0]
    referrer, referrer_stored = ENCODED[2]
    result = run(
        event("page_view", url=url, referrer=referrer),
        event("search", query="call+020+7946+0958+today"),
        event("page_view", url=url, password="x"),  # rejected: masked the same way
        f'{{"broken": "{url}'.encode(),
    )
    assert (result.stored, result.rejected) == (2, 2)
    assert rows(
        "select payload->>'url', payload->>'referrer' from raw.events where type = 'page_view'"
    ) == [(stored, referrer_stored)]
    assert rows("select payload->>'query' from raw.events where type = 'search'") == [
        ("call+[masked]+today",)
    ]
    dead = [p for (p,) in rows("select payload from raw.dead_letter order by line_number")]
    assert json.loads(dead[0])["data"]["url"] == stored
    assert dead[1] == f'{{"broken": "{stored}'
