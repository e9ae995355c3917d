"""Row-level security and roles, as SQL the migrations run.

Policy: a tenant-owned row is visible and writable only when its ``tenant_id`` equals the
session's ``app.tenant_id`` (``docs/architecture.md``). An unset or empty setting matches
nothing (fail closed); a malformed one makes the cast fail, so the query errors instead of
widening access.
RLS is *forced*, so it binds table owners too; only superusers and BYPASSRLS roles escape it,
and the boxoffice roles are neither.
"""

from __future__ import annotations

from collections.abc import Iterable

PIPELINE = "boxoffice_pipeline"
READER = "boxoffice_reader"
CURRENT_TENANT = "nullif(current_setting('app.tenant_id', true), '')::uuid"


def create_roles() -> list[str]:
    """Create (or tighten) the two login roles; roles are cluster-wide, so this is idempotent."""
    return [
        f"""
        do $$ begin
            if not exists (select from pg_roles where rolname = '{role}') then
                create role {role} login;
            end if;
        end $$;
        """
        + f"alter role {role} nosuperuser nobypassrls nocreatedb nocreaterole;"
        for role in (PIPELINE, READER)
    ]


def enable_rls(qualified_table: str) -> list[str]:
    return [
        f"alter table {qualified_table} enable row level security",
        f"alter table {qualified_table} force row level security",
        f"create policy tenant_isolation on {qualified_table} "
        f"using (tenant_id = {CURRENT_TENANT}) with check (tenant_id = {CURRENT_TENANT})",
    ]


def grant_schema(schema: str, *, read: Iterable[str] = (), write: Iterable[str] = ()) -> list[str]:
    """Grant usage on ``schema`` and read/write on its tables, now and for tables created later
    by the same (migrating) role."""
    stmts = []
    for role in {*read, *write}:
        stmts.append(f"grant usage on schema {schema} to {role}")
    for role in read:
        stmts += [
            f"grant select on all tables in schema {schema} to {role}",
            f"alter default privileges in schema {schema} grant select on tables to {role}",
        ]
    for role in write:
        privs = "select, insert, update, delete"
        stmts += [
            f"grant {privs} on all tables in schema {schema} to {role}",
            f"grant usage on all sequences in schema {schema} to {role}",
            f"alter default privileges in schema {schema} grant {privs} on tables to {role}",
            f"alter default privileges in schema {schema} grant usage on sequences to {role}",
        ]
    return stmts


def revoke_schema(schema: str, roles: Iterable[str]) -> list[str]:
    stmts = []
    for role in roles:
        stmts += [
            f"alter default privileges in schema {schema} revoke all on tables from {role}",
            f"alter default privileges in schema {schema} revoke all on sequences from {role}",
        ]
    return stmts
