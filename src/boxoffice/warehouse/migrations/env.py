"""Alembic environment: runs on the connection that :mod:`boxoffice.warehouse.migrate` hands in."""

from alembic import context

from boxoffice.warehouse.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    include_schemas=True,
    include_name=lambda name, type_, parent: type_ != "schema" or name in metadata_schemas(),
    transaction_per_migration=False,
)


def metadata_schemas() -> set[str]:
    return {t.schema for t in metadata.tables.values()}


with context.begin_transaction():
    context.run_migrations()
