"""route rules, canary tokens, origin history, the audit trail and the alert outbox

Revision ID: 0005_routes_audit_alerts
Revises: 0004_token_changes
Create Date: 2026-11-28 18:35:00

Existing tokens get no route rules (unrestricted, as before) and are no canaries.
"""
from alembic import op
import sqlalchemy as sa


revision = "0005_routes_audit_alerts"
down_revision = "0004_token_changes"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade():
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("routes", sa.JSON(), nullable=False,
                                      server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column("canary", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column("expiry_warned_at", TIME, nullable=True))
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        # The defaults only filled existing rows; new ones get theirs from the model.
        batch_op.alter_column("routes", server_default=None)
        batch_op.alter_column("canary", server_default=None)

    op.create_table(
        "token_origins",
        sa.Column("token_id", sa.String(length=32), nullable=False),
        sa.Column("origin", sa.String(length=45), nullable=False),
        sa.Column("first_seen_at", TIME, nullable=False),
        sa.Column("last_seen_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(["token_id"], ["api_tokens.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_id", "origin"),
    )
    op.create_index("ix_token_origins_token_last_seen", "token_origins",
                    ["token_id", "last_seen_at"], unique=False)

    op.create_table(
        "events",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("token_id", sa.String(length=32), nullable=True),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("actor", sa.String(length=150), nullable=True),
        sa.Column("origin", sa.String(length=45), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["token_id"], ["api_tokens.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("at", "type", "token_id", "user_id"):
        op.create_index(f"ix_events_{column}", "events", [column], unique=False)

    op.create_table(
        "alert_outbox",
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIME, nullable=False),
        sa.Column("claimed_until", TIME, nullable=True),
        sa.Column("delivered_at", TIME, nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index("ix_alert_outbox_next_attempt_at", "alert_outbox", ["next_attempt_at"],
                    unique=False)


def downgrade():
    op.drop_index("ix_alert_outbox_next_attempt_at", table_name="alert_outbox")
    op.drop_table("alert_outbox")
    for column in ("user_id", "token_id", "type", "at"):
        op.drop_index(f"ix_events_{column}", table_name="events")
    op.drop_table("events")
    op.drop_index("ix_token_origins_token_last_seen", table_name="token_origins")
    op.drop_table("token_origins")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expiry_warned_at")
        batch_op.drop_column("canary")
        batch_op.drop_column("routes")
