"""Customer keys compare bytewise (collation "C").

A customer key is a hex HMAC: every locale orders it the same, but a libc locale such as
C.UTF-8 compares through ``strcoll``, which made sorting and grouping half a million keys take
twice as long as ``memcmp`` (the customer summary, primary-key builds).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = ("customer_days", "customer_rfm", "customer_value")


def upgrade() -> None:
    for table in TABLES:
        op.execute(f'alter table analytics.{table} alter column customer_key type text collate "C"')


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"alter table analytics.{table} alter column customer_key type text")
