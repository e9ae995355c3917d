from tests.ingest.conftest import db  # noqa: F401  (the two-tenant database)
