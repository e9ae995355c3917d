"""Fixtures for ingestion: a migrated database with two tenants, and an event builder."""

from __future__ import annotations

import io
import json
import uuid

import pytest
import sqlalchemy as sa

from boxoffice import ingest
from boxoffice.warehouse import engine

TENANT_A = "0194f1d2-0000-7000-8000-00000000000a"
TENANT_B = "0194f1d2-0000-7000-8000-00000000000b"
EVENT = "4b0e8a9e-5d7b-4c55-9a43-7e0c1f2d3a4b"
ORDER = "9f1c2b3a-1111-4222-8333-444455556666"


@pytest.fixture
def db(migrated_db) -> str:
    with engine.connect("owner") as conn:
        for tenant, name in ((TENANT_A, "Alpha"), (TENANT_B, "Beta")):
            conn.execute(
                sa.text("insert into source.tenants values (:t, :n, now())"),
                {"t": tenant, "n": name},
            )
    return migrated_db


DATA = {
    "page_view": {"url": "https://tickets.example/"},
    "search": {"query": "jazz"},
    "event_view": {"event_id": EVENT},
    "add_to_cart": {"event_id": EVENT, "quantity": 2, "price_cents": 4500},
    "checkout_started": {"event_id": EVENT, "quantity": 2, "value_cents": 9000},
    "purchase": {"order_id": ORDER, "event_id": EVENT, "tickets": 2, "value_cents": 9000},
}


def event(
    type_: str = "page_view",
    *,
    id: str | None = None,
    time: str = "2026-10-15T12:00:00Z",
    tenant: str = TENANT_A,
    source: str = "/web",
    **data,
) -> dict:
    """A valid CloudEvent of ``type_``; keyword arguments override or extend its data."""
    body = {"session_id": "s-1", "channel": "web", **DATA.get(type_, {}), **data}
    if type_ == "ticket_scan":
        body = {"ticket_id": ORDER, "event_id": EVENT, "gate": "A", **data}
    return {
        "specversion": "1.0",
        "id": id or str(uuid.uuid4()),
        "source": source,
        "type": type_,
        "time": time,
        "tenantid": tenant,
        "data": body,
    }


def ndjson(*events) -> bytes:
    return b"".join((e if isinstance(e, bytes) else json.dumps(e).encode()) + b"\n" for e in events)


def run(*events, **kwargs) -> ingest.BatchResult:
    return ingest.ingest_stream(io.BytesIO(ndjson(*events)), name="test", **kwargs)


def rows(query: str, **params) -> list[tuple]:
    with engine.connect("owner") as conn:
        return [tuple(r) for r in conn.execute(sa.text(query), params)]
