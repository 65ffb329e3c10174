"""token changes: revocations every worker and replica learns of within a second (SPEC 3)

Revision ID: 0004_token_changes
Revises: 0003_web_sessions
Create Date: 2026-11-28 18:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0004_token_changes"
down_revision = "0003_web_sessions"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "token_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("token_id", sa.String(length=32), nullable=True),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("token_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_token_changes_at"), ["at"], unique=False)


def downgrade():
    with op.batch_alter_table("token_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_token_changes_at"))
    op.drop_table("token_changes")
