"""The parameters every pipeline notebook receives, parsed and checked in one place."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


class RunParameterError(ValueError):
    """A run parameter is invalid; the message names it and says why."""


@dataclass(frozen=True)
class RunContext:
    as_of: dt.date
    tenants: tuple[str, ...]


def parse_as_of(value: str | dt.date) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise RunParameterError(f"as_of must be a date like 2026-10-31, got {value!r}") from None


def parse_tenants(value: str | None) -> tuple[str, ...]:
    """Comma-separated tenant UUIDs, each once; empty or None means every tenant in the
    warehouse."""
    from boxoffice import warehouse
    from boxoffice.warehouse.engine import parse_tenant

    if not value:
        return tuple(warehouse.list_tenants()["tenant_id"].to_list())
    tenants: list[str] = []
    for piece in value.split(","):
        if not piece.strip():
            raise RunParameterError(f"tenants: empty entry in {value!r}")
        try:
            tenant = str(parse_tenant(piece.strip()))
        except ValueError as exc:
            raise RunParameterError(str(exc)) from None
        if tenant in tenants:
            raise RunParameterError(f"tenant {tenant} is given twice")
        tenants.append(tenant)
    return tuple(tenants)


def parse(*, as_of: str | dt.date, tenants: str | None) -> RunContext:
    return RunContext(as_of=parse_as_of(as_of), tenants=parse_tenants(tenants))
