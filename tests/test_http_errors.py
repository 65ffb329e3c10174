"""http_errors: only a database that cannot be reached is 503 "database unavailable"."""
import logging

import pytest
from sqlalchemy import select
from sqlalchemy.exc import (DataError, DBAPIError, DisconnectionError, IntegrityError,
                            InterfaceError, OperationalError, ProgrammingError, StatementError)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from tokenauth.extensions import db
from tokenauth.models import User


class DriverError(Exception):
    """Stands in for a DBAPI exception."""


def wrapped(kind, invalidated=False):
    return kind("SELECT secret FROM users", {"p": "the-secret-value"}, DriverError("boom"),
                connection_invalidated=invalidated)


FAILURES = [
    pytest.param(lambda: wrapped(OperationalError), 503, id="operational"),
    pytest.param(lambda: wrapped(InterfaceError), 503, id="interface"),
    pytest.param(lambda: PoolTimeout("QueuePool limit reached"), 503, id="pool-timeout"),
    pytest.param(lambda: DisconnectionError("gone"), 503, id="disconnection"),
    pytest.param(lambda: wrapped(DBAPIError, invalidated=True), 503, id="invalidated"),
    pytest.param(lambda: wrapped(DataError), 422, id="data"),
    pytest.param(lambda: wrapped(IntegrityError), 409, id="integrity"),
    pytest.param(lambda: wrapped(ProgrammingError), 500, id="programming"),
    pytest.param(lambda: wrapped(DBAPIError), 500, id="other-dbapi"),
    pytest.param(lambda: StatementError("bad bind", "SELECT 1", {}, ValueError("naive")), 500,
                 id="statement"),
]


@pytest.fixture
def raising_app(make_app):
    app = make_app()
    raised = {}

    @app.get("/_raise")
    def raise_it():
        raise raised["error"]()

    def answer(make_error):
        raised["error"] = make_error
        return app.test_client().get("/_raise")
    return answer


@pytest.mark.parametrize("make_error, status", FAILURES)
def test_database_errors_by_kind(raising_app, make_error, status, caplog):
    caplog.set_level(logging.INFO)
    response = raising_app(make_error)
    assert response.status_code == status
    assert response.json["code"] == status and response.json["message"]
    assert b"SELECT" not in response.data and b"the-secret-value" not in response.data
    unavailable = "database unavailable" in caplog.text
    assert unavailable == (status == 503)
    assert response.json["message"].startswith("database unavailable") == (status == 503)
    if status == 500:
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert any(type(make_error()).__name__ in r.getMessage() for r in errors)
    if status == 422:
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_value_postgresql_refuses_is_422_not_an_outage(make_app, backend, caplog):
    """The real thing: PostgreSQL refuses NUL in text (SQLite stores it)."""
    app = make_app()

    @app.get("/_lookup")
    def lookup():
        db.session.scalars(select(User).where(User.username == "a\x00b")).all()
        return {"found": False}

    caplog.set_level(logging.INFO)
    response = app.test_client().get("/_lookup")
    assert response.status_code == {"postgresql": 422, "sqlite": 200}[backend]
    assert "database unavailable" not in caplog.text
