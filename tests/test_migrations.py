"""Migrations build the schema the models describe, on both databases, and go both ways."""
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from tokenauth.extensions import db


def fresh_url(backend, make_postgres_database, tmp_path):
    return make_postgres_database() if backend == "postgresql" else f"sqlite:///{tmp_path}/m.db"


def test_upgrade_matches_the_models_and_downgrade_removes_everything(
        make_app, backend, make_postgres_database, tmp_path):
    app = make_app(database_url=fresh_url(backend, make_postgres_database, tmp_path))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
            assert differences == []
            indexes = {i["name"]: i for i in inspect(connection).get_indexes("api_tokens")}
            assert indexes["ix_api_tokens_token_hash"]["unique"]
        downgrade(revision="base")
        with db.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
