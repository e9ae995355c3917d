"""Notifications, silences and acknowledgements (RLS forced).

- ``analytics.notifications`` is the queue and the log of every message an alert sends: one row
  per channel and recipient, ``queued`` until delivered (``sent``), with its attempts, the last
  error and when it is next tried. ``key`` (rule, date evaluated, event) makes a message once:
  a date evaluated again queues nothing new. A webhook's recipient is its channel's name, never
  its URL (which may hold a secret).
- ``analytics.notification_attempts``: every delivery attempt, its time, how long it took and
  its error (none: delivered).
- ``analytics.alert_silences``: a rule, or one scope of it, notifies nobody until a time.
- ``analytics.alert_states`` gains ``notified_at`` (when its last notification was queued: the
  re-notify interval counts from it) and who acknowledged it while firing, which only
  ``analytics.acknowledge_alert(rule, scope, by)`` writes (SECURITY DEFINER, executable by the
  reader role, which may not write the table itself).
- ``analytics.alert_events`` is keyed by an identity: a rule evaluated more than once on a date
  (a failed run and its retry, an intraday rule) records each change.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from boxoffice.warehouse import tenancy
from boxoffice.warehouse.tenancy import CURRENT_TENANT, READER

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

REFUSED = "BX001"  # the SQLSTATE of a refusal (as analytics.decide's)
DEFINER = "language plpgsql security definer set search_path = pg_catalog, pg_temp"

ACKNOWLEDGE = f"""
create function analytics.acknowledge_alert(
    rule text, scope_key text, acknowledged_by text
) returns analytics.alert_states
{DEFINER} as $$
declare
    tenant uuid := {CURRENT_TENANT};
    acknowledged analytics.alert_states;
begin
    if acknowledged_by is null or btrim(acknowledged_by) = '' then
        raise exception using errcode = '{REFUSED}', message = 'say who acknowledges (--by NAME)';
    end if;
    update analytics.alert_states s
       set acknowledged_by = btrim(acknowledge_alert.acknowledged_by), acknowledged_at = now()
     where s.tenant_id = tenant and s.rule = acknowledge_alert.rule
       and s.scope_key = acknowledge_alert.scope_key and s.state = 'firing'
       and s.acknowledged_by is null
    returning s.* into acknowledged;
    if not found then
        select s.* into acknowledged from analytics.alert_states s
         where s.tenant_id = tenant and s.rule = acknowledge_alert.rule
           and s.scope_key = acknowledge_alert.scope_key;
        if not found then
            raise exception using errcode = '{REFUSED}',
                message = format('no alert %s for %s in this tenant', rule, scope_key);
        elsif acknowledged.state <> 'firing' then
            raise exception using errcode = '{REFUSED}',
                message = format('alert %s for %s is %s, not firing', rule, scope_key,
                                 acknowledged.state);
        else
            raise exception using errcode = '{REFUSED}',
                message = format('alert %s for %s is already acknowledged by %s', rule,
                                 scope_key, acknowledged.acknowledged_by);
        end if;
    end if;
    return acknowledged;
end
$$;
revoke all on function analytics.acknowledge_alert(text, text, text) from public;
grant execute on function analytics.acknowledge_alert(text, text, text) to {READER};
"""


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.add_column("alert_states", _ts("notified_at", True), schema="analytics")
    op.add_column("alert_states", sa.Column("acknowledged_by", sa.Text()), schema="analytics")
    op.add_column("alert_states", _ts("acknowledged_at", True), schema="analytics")
    op.drop_constraint("pk_alert_events", "alert_events", schema="analytics")
    op.add_column(
        "alert_events",
        sa.Column("event_id", sa.BigInteger(), sa.Identity(), nullable=False),
        schema="analytics",
    )
    op.create_primary_key(
        "pk_alert_events", "alert_events", ["tenant_id", "event_id"], schema="analytics"
    )
    op.create_index(
        op.f("ix_alert_events_tenant_id_as_of"),
        "alert_events",
        ["tenant_id", "as_of"],
        schema="analytics",
    )
    op.create_table(
        "notifications",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("notification_id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("evaluated", sa.Date()),
        sa.Column("scope_keys", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("payload", JSONB(), nullable=False),
        sa.Column("status", sa.Text(), server_default="queued", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text()),
        _ts("created_at"),
        _ts("next_attempt_at"),
        _ts("sent_at", True),
        sa.CheckConstraint(
            "event in ('firing', 'resolved', 'renotify', 'test')",
            name=op.f("ck_notifications_event_known"),
        ),
        sa.CheckConstraint(
            "status in ('queued', 'sent')", name=op.f("ck_notifications_status_known")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "notification_id", name=op.f("pk_notifications")),
        sa.UniqueConstraint(
            "tenant_id",
            "key",
            "channel",
            "recipient",
            name=op.f("uq_notifications_tenant_id_key_channel_recipient"),
        ),
        schema="analytics",
    )
    op.create_index(
        op.f("ix_notifications_tenant_id_status_next_attempt_at"),
        "notifications",
        ["tenant_id", "status", "next_attempt_at"],
        schema="analytics",
    )
    op.create_table(
        "notification_attempts",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("notification_id", sa.BigInteger(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        _ts("attempted_at"),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.ForeignKeyConstraint(
            ["tenant_id", "notification_id"],
            ["analytics.notifications.tenant_id", "analytics.notifications.notification_id"],
            name=op.f("fk_notification_attempts_tenant_id_notifications"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "notification_id", "attempt", name=op.f("pk_notification_attempts")
        ),
        schema="analytics",
    )
    op.create_table(
        "alert_silences",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("silence_id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("scope_key", sa.Text()),
        _ts("until"),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("tenant_id", "silence_id", name=op.f("pk_alert_silences")),
        schema="analytics",
    )
    for table in ("notifications", "notification_attempts", "alert_silences"):
        for statement in tenancy.enable_rls(f"analytics.{table}"):
            op.execute(statement)
    op.execute(ACKNOWLEDGE)


def downgrade() -> None:
    op.execute("drop function analytics.acknowledge_alert(text, text, text)")
    op.drop_table("alert_silences", schema="analytics")
    op.drop_table("notification_attempts", schema="analytics")
    op.drop_table("notifications", schema="analytics")
    op.drop_index(
        op.f("ix_alert_events_tenant_id_as_of"), table_name="alert_events", schema="analytics"
    )
    op.drop_constraint("pk_alert_events", "alert_events", schema="analytics")
    op.drop_column("alert_events", "event_id", schema="analytics")
    op.create_primary_key(
        "pk_alert_events",
        "alert_events",
        ["tenant_id", "rule", "scope_key", "as_of"],
        schema="analytics",
    )
    for column in ("acknowledged_at", "acknowledged_by", "notified_at"):
        op.drop_column("alert_states", column, schema="analytics")
