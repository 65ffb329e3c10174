"""indexes for the background work: due alerts, tokens still to be warned of their expiry

Revision ID: 0006_housekeeping_indexes
Revises: 0005_routes_audit_alerts
Create Date: 2026-11-28 19:30:00

Each worker looks for due alerts every second, and delivered rows are kept for the record:
an index over every row's next_attempt_at would grow with the history. These partial
indexes hold only the rows still to be worked on.
"""
from alembic import op
import sqlalchemy as sa


revision = "0006_housekeeping_indexes"
down_revision = "0005_routes_audit_alerts"
branch_labels = None
depends_on = None

UNDELIVERED = sa.text("delivered_at IS NULL")
UNWARNED = sa.text("expiry_warned_at IS NULL AND revoked_at IS NULL AND expires_at IS NOT NULL")


def upgrade():
    op.drop_index("ix_alert_outbox_next_attempt_at", table_name="alert_outbox")
    op.create_index("ix_alert_outbox_due", "alert_outbox", ["next_attempt_at"],
                    postgresql_where=UNDELIVERED, sqlite_where=UNDELIVERED)
    op.create_index("ix_api_tokens_unwarned_expiry", "api_tokens", ["expires_at"],
                    postgresql_where=UNWARNED, sqlite_where=UNWARNED)


def downgrade():
    op.drop_index("ix_api_tokens_unwarned_expiry", table_name="api_tokens")
    op.drop_index("ix_alert_outbox_due", table_name="alert_outbox")
    op.create_index("ix_alert_outbox_next_attempt_at", "alert_outbox", ["next_attempt_at"],
                    unique=False)
