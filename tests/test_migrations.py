"""Migrations build the schema the models describe, on both databases, and go both ways."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from tokenauth.database import MIGRATIONS
from tokenauth.extensions import db
from tokenauth.models import new_id


def fresh_url(backend, make_postgres_database, tmp_path):
    return make_postgres_database() if backend == "postgresql" else f"sqlite:///{tmp_path}/m.db"


@pytest.fixture
def fresh_app(make_app, backend, make_postgres_database, tmp_path):
    """An app on an empty database of ``backend``, its context pushed."""
    app = make_app(database_url=fresh_url(backend, make_postgres_database, tmp_path))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def insert_user(connection, username):
    connection.execute(text(
        "INSERT INTO users (id, username, source, is_admin, active, created_at) "
        "VALUES (:id, :username, 'internal', false, true, CURRENT_TIMESTAMP)"),
        {"id": new_id(), "username": username})


def current_revision():
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


# Alembic and SQLite cannot reflect expression indexes, and say so; the next test checks
# the case-insensitive index by what it does instead.
@pytest.mark.filterwarnings("ignore:.*expression-based index ux_users_username_lower")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_upgrade_matches_the_models_and_downgrade_removes_everything(fresh_app):
    upgrade()
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert differences == []
        indexes = {i["name"]: i for i in inspect(connection).get_indexes("api_tokens")}
        assert indexes["ix_api_tokens_token_hash"]["unique"]
    downgrade(revision="base")
    with db.engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) <= {"alembic_version"}


def test_the_upgraded_schema_refuses_usernames_differing_only_in_case(fresh_app):
    """Autogenerate does not compare expression indexes, so the case-insensitive unique
    index is checked by what it does."""
    upgrade()
    with db.engine.begin() as connection:
        insert_user(connection, "eve")
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        insert_user(connection, "EVE")
    model_indexes = {index.name for index in db.metadata.tables["users"].indexes}
    assert "ux_users_username_lower" in model_indexes


def test_upgrade_refuses_clashing_usernames_and_names_them(fresh_app, capfd):
    upgrade(revision="0001")
    with db.engine.begin() as connection:
        for name in ("eve", "Eve", "EVE", "stadmin", "STADMIN", "alice"):
            insert_user(connection, name)
    with pytest.raises(SystemExit):  # what `tokenauth db upgrade` does: one line, exit 1
        upgrade()
    message = capfd.readouterr().err
    assert message.count("Error: ") == 1 and "Traceback" not in message
    assert "differ only in case" in message
    assert all(f"'{name}'" in message for name in ("eve", "Eve", "EVE", "stadmin", "STADMIN"))
    assert "'alice'" not in message
    assert "rename" in message.lower()
    assert current_revision() == "0001"

    with db.engine.begin() as connection:  # the operator renames, then upgrades again
        connection.execute(text("UPDATE users SET username = 'eve2' WHERE username = 'Eve'"))
        connection.execute(text("UPDATE users SET username = 'eve3' WHERE username = 'EVE'"))
        connection.execute(text("UPDATE users SET username = 'st2' WHERE username = 'STADMIN'"))
    upgrade()
    assert current_revision() == ScriptDirectory(str(MIGRATIONS)).get_current_head()
