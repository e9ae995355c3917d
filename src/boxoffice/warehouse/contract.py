"""The source contract: the tables a ticketing platform gives boxoffice, their columns, types,
keys, nullability and allowed values (``docs/source-contract.md`` says what each means and what
each change does to the analytics).

One definition: the ``source`` tables of :mod:`boxoffice.warehouse.schema` (which the
migrations match) and the allowed values named there. The synthetic world draws its values
from :data:`ALLOWED`, and a test holds the document to :func:`describe`.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from boxoffice.warehouse import schema

# the tables a platform provides, parents first (a row's references load before it)
TABLES: tuple[sa.Table, ...] = (
    schema.tenants,
    schema.venues,
    schema.events,
    schema.customers,
    schema.orders,
    schema.tickets,
    schema.campaign_touches,
)

BY_NAME: dict[str, sa.Table] = {t.name: t for t in TABLES}

# (table, column) → the values a row may hold there (a check constraint enforces each)
ALLOWED: dict[tuple[str, str], tuple[str, ...]] = {
    ("events", "category"): schema.CATEGORIES,
    ("orders", "channel"): schema.CHANNELS,
    ("tickets", "ticket_type"): schema.TICKET_TYPES,
    ("tickets", "status"): schema.TICKET_STATUSES,
}


@dataclass(frozen=True)
class Column:
    """One column of the contract as the document shows it: ``key`` is ``PK`` for a primary-key
    column and ``→ table`` for a reference (both when it is both). Every reference is within
    the tenant (``(tenant_id, x_id)``), so ``tenant_id`` itself shows none."""

    table: str
    name: str
    type: str
    nullable: bool
    key: str


def type_name(column: sa.Column) -> str:
    """The PostgreSQL type of ``column`` as the contract names it."""
    kind = column.type
    if isinstance(kind, UUID):
        return "uuid"
    if isinstance(kind, sa.DateTime):
        return "timestamptz" if kind.timezone else "timestamp"
    if isinstance(kind, sa.BigInteger):
        return "bigint"
    if isinstance(kind, sa.Integer):
        return "integer"
    if isinstance(kind, sa.Date):
        return "date"
    if isinstance(kind, sa.Text):
        return "text"
    raise TypeError(f"{column.table.name}.{column.name}: no contract name for {kind!r}")


def describe(table: sa.Table) -> list[Column]:
    """Every column of ``table``, in order."""
    referenced = {
        column.name: fk.referred_table.name
        for fk in table.foreign_key_constraints
        for column in fk.columns
        if column.name != "tenant_id"
    }
    return [
        Column(
            table.name,
            column.name,
            type_name(column),
            column.nullable,
            ", ".join(
                (["PK"] if column.primary_key else [])
                + ([f"→ {referenced[column.name]}"] if column.name in referenced else [])
            ),
        )
        for column in table.columns
    ]
