"""TOKENAUTH_DATABASE_TIMEOUT: validated at start-up, and what it sets on each backend."""
from __future__ import annotations

import pytest
import sqlalchemy.exc
from sqlalchemy import text

from tokenauth.database import connect_args
from tokenauth.extensions import db
from tokenauth.settings import SettingsError, load_settings

from .conftest import TIMEOUT


def test_the_timeout_defaults_to_3_seconds(tmp_path):
    assert load_settings({"instance_path": str(tmp_path)}, environ={}).database_timeout == 3


@pytest.mark.parametrize("value", ["0", "-1", "3601", "soon"])
def test_a_bad_timeout_stops_the_start_naming_the_variable(tmp_path, value):
    environ = {"TOKENAUTH_INSTANCE_PATH": str(tmp_path), "TOKENAUTH_DATABASE_TIMEOUT": value}
    with pytest.raises(SettingsError, match="TOKENAUTH_DATABASE_TIMEOUT"):
        load_settings(environ=environ)


@pytest.fixture
def config_overrides():
    return {"database_timeout": TIMEOUT}


@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgres_connections_carry_the_bounds(app):
    assert db.session.execute(text("SHOW statement_timeout")).scalar() == "1s"
    parameters = db.session.connection().connection.dbapi_connection.info.get_parameters()
    assert parameters["connect_timeout"] == "2"
    assert (parameters["keepalives"], parameters["keepalives_idle"]) == ("1", "1")
    assert parameters["tcp_user_timeout"] == "1000"


def test_parameters_given_in_the_url_are_kept():
    args = connect_args("postgresql+psycopg://u@db/tokenauth?connect_timeout=10"
                        "&options=-c%20search_path%3Dauth", 3)
    assert "connect_timeout" not in args
    assert args["options"] == "-c statement_timeout=3000 -c search_path=auth"


def test_sqlite_waits_for_a_lock_at_most_the_timeout():
    assert connect_args("sqlite:////tmp/tokenauth.db", 2.5) == {"timeout": 2.5}


def test_the_pool_keeps_5_connections_a_worker_by_default(tmp_path):
    assert load_settings({"instance_path": str(tmp_path)}, environ={}).database_pool_size == 5


@pytest.mark.parametrize("value", ["0", "101", "many"])
def test_a_bad_pool_size_stops_the_start_naming_the_variable(tmp_path, value):
    environ = {"TOKENAUTH_INSTANCE_PATH": str(tmp_path), "TOKENAUTH_DATABASE_POOL_SIZE": value}
    with pytest.raises(SettingsError, match="TOKENAUTH_DATABASE_POOL_SIZE"):
        load_settings(environ=environ)


@pytest.mark.parametrize("backend", ["postgresql"])
@pytest.mark.parametrize("config_overrides", [{"database_timeout": TIMEOUT,
                                               "database_pool_size": 2}])
def test_a_worker_holds_at_most_twice_the_pool_size_on_postgres(app):
    """2 kept + 2 for a burst: the fifth checkout waits for the timeout and fails, so an
    operator can count a worker's connections against PostgreSQL's max_connections."""
    held = [db.engine.connect() for _ in range(4)]
    try:
        with pytest.raises(sqlalchemy.exc.TimeoutError):
            db.engine.connect()
    finally:
        for connection in held:
            connection.close()
    assert db.engine.pool.checkedin() == 2  # the burst's two were closed, not kept
