"""Migrations up and down on an empty database; the migrated schema matches the models."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from boxoffice.warehouse import engine, migrate, schema, tenancy


def _schemas(conn) -> set[str]:
    rows = conn.execute(
        sa.text("select nspname from pg_namespace where nspname = any(:s)"),
        {"s": list(schema.SCHEMAS)},
    )
    return {r[0] for r in rows}


def test_upgrade_then_downgrade_then_upgrade_on_an_empty_database(empty_db):
    with engine.connect() as conn:
        assert migrate.current(conn) is None
        assert _schemas(conn) == set()
        migrate.upgrade(conn)
        assert migrate.current(conn) == migrate.head()
        assert _schemas(conn) == {"source", "raw", "analytics"}
    with engine.connect() as conn:
        migrate.downgrade(conn, "base")
        assert migrate.current(conn) is None
        assert _schemas(conn) == set()
    with engine.connect() as conn:
        migrate.upgrade(conn)
        assert migrate.current(conn) == migrate.head()


def test_migrated_schema_matches_the_models(migrated_db):
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_schemas": True,
                "include_name": lambda name, type_, _: type_ != "schema" or name in schema.SCHEMAS,
            },
        )
        assert compare_metadata(context, schema.metadata) == []


def test_every_tenant_table_has_forced_row_level_security_and_a_policy(migrated_db):
    tenant_tables = {f"{t.schema}.{t.name}" for t in schema.tenant_tables()}
    assert "source.tickets" in tenant_tables and "raw.events" in tenant_tables
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select n.nspname || '.' || c.relname, c.relrowsecurity, c.relforcerowsecurity,"
                " (select count(*) from pg_policy p where p.polrelid = c.oid)"
                " from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                " where c.relkind in ('r', 'p') and n.nspname = any(:s)"
            ),
            {"s": list(schema.SCHEMAS)},
        ).all()
    flags = {name: (enabled, forced, policies) for name, enabled, forced, policies in rows}
    for name in tenant_tables:
        assert flags[name] == (True, True, 1), name


def test_boxoffice_roles_can_neither_bypass_rls_nor_escalate(migrated_db):
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolcanlogin"
                " from pg_roles where rolname = any(:r) order by rolname"
            ),
            {"r": [tenancy.PIPELINE, tenancy.READER]},
        ).all()
    assert [tuple(r) for r in rows] == [
        ("boxoffice_pipeline", False, False, False, False, True),
        ("boxoffice_reader", False, False, False, False, True),
    ]
