"""Every call SQLAlchemy makes on a PostgreSQL connection is bounded: a frozen server turns
each of them into an error within the bound, and the engine recovers by itself."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from tokenauth.database import call_deadline, engine_options
from tokenauth.database.guard import guard_engine
from tokenauth.settings import Settings

from .conftest import BOUND, TIMEOUT, answered_within


@pytest.fixture
def engine(postgres_proxy, postgres_server_url):
    url = postgres_proxy.route(postgres_server_url)
    engine = create_engine(url, **engine_options(url, TIMEOUT, Settings.database_pool_size))
    guard_engine(engine, call_deadline(TIMEOUT))
    yield engine
    postgres_proxy.thaw()
    engine.dispose()


def assert_recovers(engine, proxy) -> None:
    proxy.thaw()
    with engine.connect() as connection:
        assert answered_within(BOUND, connection.scalar, text("SELECT 42")) == 42


CALLS_IN_A_TRANSACTION = {
    "a statement": lambda connection: connection.execute(text("SELECT 2")),
    "a commit": lambda connection: connection.commit(),
    "a rollback": lambda connection: connection.rollback(),
}


@pytest.mark.parametrize("call", sorted(CALLS_IN_A_TRANSACTION))
def test_a_call_on_a_frozen_connection_fails_within_the_bound(engine, postgres_proxy, call):
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))  # a transaction is open
        postgres_proxy.freeze()
        with pytest.raises(SQLAlchemyError):
            answered_within(BOUND, CALLS_IN_A_TRANSACTION[call], connection)
        assert connection.invalidated  # the broken connection is not reused
    assert_recovers(engine, postgres_proxy)


def test_checking_out_a_pooled_connection_of_a_frozen_server_fails_within_the_bound(
        engine, postgres_proxy):
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))  # now pooled
    postgres_proxy.freeze()
    with pytest.raises(SQLAlchemyError):
        answered_within(BOUND, engine.connect)  # its liveness check, then a new connection
    assert_recovers(engine, postgres_proxy)


def test_returning_a_connection_to_the_pool_of_a_frozen_server_is_bounded(engine, postgres_proxy):
    connection = engine.raw_connection()  # DBAPI use: the pool rolls back on return
    connection.cursor().execute("SELECT 1")
    postgres_proxy.freeze()
    answered_within(BOUND, connection.close)  # the pool discards it instead of hanging
    assert_recovers(engine, postgres_proxy)


def test_a_slow_statement_is_cancelled_by_the_server_and_the_connection_kept(engine):
    with engine.connect() as connection:
        with pytest.raises(SQLAlchemyError, match="statement timeout"):
            answered_within(BOUND, connection.execute, text("SELECT pg_sleep(30)"))
        assert not connection.invalidated
        connection.rollback()
        assert connection.scalar(text("SELECT 1")) == 1
