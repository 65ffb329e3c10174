"""usernames unique regardless of case

Refuses, naming them, when existing accounts differ only in case (``eve``, ``Eve``): which
one is the real ``eve`` is the operator's call, not the migration's.

Revision ID: 0002_usernames_unique_ci
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002_usernames_unique_ci"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEX = "ux_users_username_lower"


def upgrade():
    refuse_if_usernames_clash(op.get_bind())
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(INDEX, [sa.text("lower(username)")], unique=True)


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(INDEX)


def refuse_if_usernames_clash(connection) -> None:
    """Raise RuntimeError (which ``tokenauth db upgrade`` prints as one error line) naming
    every group of accounts whose usernames differ only in case."""
    rows = connection.execute(sa.text(
        "SELECT lower(username) AS folded, username, id, source FROM users "
        "WHERE lower(username) IN (SELECT lower(username) FROM users "
        "GROUP BY lower(username) HAVING count(*) > 1) "
        "ORDER BY folded, username")).all()
    if not rows:
        return
    groups = {}
    for folded, username, user_id, source in rows:
        groups.setdefault(folded, []).append(f"{username!r} ({source}, id {user_id})")
    clashes = "; ".join(" = ".join(accounts) for accounts in groups.values())
    raise RuntimeError(
        "cannot make usernames unique regardless of case: these accounts differ only in "
        f"case: {clashes}. Decide which account keeps each name, then rename the others "
        "(e.g. UPDATE users SET username = 'eve-old' WHERE id = '<id>';) or merge them "
        "(move their tokens with UPDATE api_tokens SET user_id = '<kept id>' WHERE user_id "
        "= '<id>'; then delete or rename the account), and run `tokenauth db upgrade` again.")
