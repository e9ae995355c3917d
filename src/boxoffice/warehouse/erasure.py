"""Erasure (the right to be forgotten): every row of a customer, in one transaction.

:func:`forget_customers` deletes, for one tenant and a list of customer ids:

- in ``source``: the customers, their orders, the orders' tickets and their campaign touches
  (deleting tickets queues their days, so the next run's sales refresh rebuilds those days
  without them);
- in ``analytics``: every row keyed by their ``customer_key`` (customer days, RFM scores and
  customer values of every run);
- in ``raw``: their behaviour events (by ``customer_key``) and every dead letter whose payload
  holds the id or the key (dead letters may name any tenant, or none);

and records each customer in ``source.erasures`` with only the SHA-256 of the key (no PII), the
rows removed, and the database dumps made before that still hold the customer. Later synthetic
worlds and ingests consult the log and keep the customer out (:func:`erased_keys`).

It runs as the owner: only the owner may delete from ``source``. Aggregates (segments, model
fits, attribution) hold no customer and are recomputed by the next run.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence

import orjson
import sqlalchemy as sa

from boxoffice import privacy
from boxoffice.warehouse import engine

KEYED = ("analytics.customer_days", "analytics.customer_rfm", "analytics.customer_value")


def key_hash(customer_key: str) -> str:
    """What the erasure log keeps of a customer: the SHA-256 of its key, as hex."""
    return hashlib.sha256(customer_key.encode()).hexdigest()


def parse_customers(values: Iterable[str]) -> list[str]:
    """Customer ids as canonical UUID strings, each once; ValueError names a bad one."""
    out: dict[str, None] = {}
    for value in values:
        try:
            out[str(uuid.UUID(value.strip()))] = None
        except ValueError:
            raise ValueError(f"not a customer id (a UUID): {value.strip()!r}") from None
    if not out:
        raise ValueError("no customer id given")
    return list(out)


def known_tenant(tenant: str) -> str:
    """``tenant`` as a canonical UUID string if it exists; ValueError says why not."""
    tenant_id = str(engine.parse_tenant(tenant))
    with engine.connect("owner") as conn:
        known = sa.text("select exists (select from source.tenants where tenant_id = :t)")
        if not conn.execute(known, {"t": tenant_id}).scalar():
            raise ValueError(f"unknown tenant: {tenant_id}")
    return tenant_id


def forget_customers(
    tenant: str,
    customer_ids: Sequence[str],
    *,
    files: Mapping[str, Sequence[str]] | None = None,
    dumps: Sequence[str] = (),
) -> dict[str, dict[str, int]]:
    """Delete ``customer_ids`` of ``tenant`` everywhere in the database, all in one transaction,
    and log each (``files``: the report files scrubbed of it, per customer id; ``dumps``: dumps
    made before now, which still hold it). Forgetting a customer twice deletes nothing the
    second time and keeps the first log row. Returns the rows deleted per customer and table."""
    tenant_id = known_tenant(tenant)
    deleted: dict[str, dict[str, int]] = {}
    with engine.connect("owner", tenant=tenant_id) as conn:
        for customer in customer_ids:
            key = privacy.customer_key(customer)
            params = {"t": tenant_id, "id": customer, "key": key}
            counts = deleted[customer] = {}
            for table, where in _WHERE.items():
                statement = sa.text(f"delete from {table} where {where}")  # noqa: S608
                counts[table] = conn.execute(statement, params).rowcount
            conn.execute(
                sa.text(
                    "insert into source.erasures (tenant_id, key_sha256, erased_at, rows, files,"
                    " dumps_holding) values (cast(:t as uuid), :h, now(), cast(:rows as jsonb),"
                    " cast(:files as jsonb), cast(:dumps as jsonb))"
                    " on conflict (tenant_id, key_sha256) do nothing"
                ),
                {
                    "t": tenant_id,
                    "h": key_hash(key),
                    "rows": orjson.dumps(counts).decode(),
                    "files": orjson.dumps(list((files or {}).get(customer, ()))).decode(),
                    "dumps": orjson.dumps(list(dumps)).decode(),
                },
            )
    return deleted


_ORDERS = "tenant_id = :t and customer_id = cast(:id as uuid)"
_WHERE = {  # children before parents
    "source.tickets": f"tenant_id = :t and order_id in (select order_id from source.orders"  # noqa: S608
    f" where {_ORDERS})",
    "source.orders": _ORDERS,
    "source.campaign_touches": _ORDERS,
    "source.customers": _ORDERS,
    **{table: "tenant_id = :t and customer_key = :key" for table in KEYED},
    "raw.events": "tenant_id = :t and customer_key = :key",
    "raw.dead_letter": "strpos(lower(payload), :id) > 0 or strpos(payload, :key) > 0",
}


def erased_keys(tenant: str, *, role: engine.Role = "pipeline") -> set[str]:
    """The key hashes of ``tenant``'s forgotten customers."""
    with engine.connect(role, tenant=tenant) as conn:
        rows = conn.execute(
            sa.text("select key_sha256 from source.erasures where tenant_id = :t"),
            {"t": str(engine.parse_tenant(tenant))},
        )
        return set(rows.scalars())


def erasure_log(tenant: str) -> list[dict]:
    """``source.erasures`` of ``tenant``, newest first."""
    with engine.connect("pipeline", tenant=tenant) as conn:
        rows = conn.execute(
            sa.text(
                "select key_sha256, erased_at, rows, files, dumps_holding from source.erasures"
                " order by erased_at desc, key_sha256"
            )
        )
        return [dict(r) for r in rows.mappings()]
