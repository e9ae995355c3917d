"""The erasure log: one row per customer forgotten with ``boxoffice forget`` — no PII, only the
SHA-256 of the customer's key — so later loads and ingests can keep the customer out, and the
database dumps made before the erasure (which still hold the customer) are named: every
``boxoffice db dump`` is recorded in ``source.dumps`` (the owner's; no role of the
application reads it). No foreign key to ``source.tenants``: the log outlives a reload of the
tenants (``boxoffice synth``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from boxoffice.warehouse import tenancy

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erasures",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("key_sha256", sa.Text(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows", JSONB(), nullable=False),
        sa.Column("files", JSONB(), nullable=False),
        sa.Column("dumps_holding", JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "key_sha256", name=op.f("pk_erasures")),
        schema="source",
    )
    for statement in tenancy.enable_rls("source.erasures"):
        op.execute(statement)
    op.create_table(
        "dumps",
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("path", "made_at", name=op.f("pk_dumps")),
        schema="source",
    )
    op.execute(f"revoke all on source.dumps from {tenancy.PIPELINE}, {tenancy.READER}")


def downgrade() -> None:
    op.drop_table("dumps", schema="source")
    op.drop_table("erasures", schema="source")
