"""TOKENAUTH_DATABASE_TIMEOUT: validated at start-up, and what it sets on each backend."""
from __future__ import annotations

import pytest
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
