"""Report packs in the notification log: ``analytics.notifications`` also holds the messages
of report subscriptions (``reports.yaml``), whose event is ``pack`` (the pack of a period) or
``delayed`` (the notice sent instead while the period's run has not completed).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

NAME = "ck_notifications_event_known"


def _events(*events: str) -> None:
    op.drop_constraint(op.f(NAME), "notifications", schema="analytics")
    known = ", ".join(f"'{e}'" for e in events)
    op.create_check_constraint(
        op.f(NAME), "notifications", f"event in ({known})", schema="analytics"
    )


def upgrade() -> None:
    _events("firing", "resolved", "renotify", "test", "pack", "delayed")


def downgrade() -> None:
    op.execute("delete from analytics.notifications where event in ('pack', 'delayed')")
    _events("firing", "resolved", "renotify", "test")
