"""Binding the database: engine options per backend, and migrations."""
from __future__ import annotations

from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event

from .extensions import db, migrate

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def engine_options(url: str) -> dict:
    # hide_parameters: a failing statement's values (hashes, addresses) stay out of logs.
    options = {"pool_pre_ping": True, "hide_parameters": True}
    if url.startswith("postgresql"):
        options["connect_args"] = {"connect_timeout": 5}
        options["pool_timeout"] = 5
    else:
        options["connect_args"] = {"timeout": 10}
    return options


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets gunicorn's workers read while one writes; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def init_app(app) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(url))
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    if url.startswith("sqlite"):
        with app.app_context():
            event.listen(db.engine, "connect", _sqlite_pragmas)


def expected_revisions() -> set:
    """The schema revisions this code expects (the heads of its migrations)."""
    return set(ScriptDirectory(str(MIGRATIONS)).get_heads())


def schema_revisions(connection) -> tuple[set, set]:
    """(the schema revisions the database is at, the ones this code expects); the first is
    empty for a database without tokenauth's tables."""
    return set(MigrationContext.configure(connection).get_current_heads()), expected_revisions()
