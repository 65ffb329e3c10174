"""The one place where domain and database errors become HTTP answers (SPEC 4 shape)."""
from __future__ import annotations

from http import HTTPStatus

from flask import jsonify
from sqlalchemy.exc import (DataError, DBAPIError, DisconnectionError, IntegrityError,
                            InterfaceError, OperationalError, SQLAlchemyError)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from .errors import DatabaseUnavailable, TokenAuthError
from .extensions import db


def _rollback() -> None:
    try:
        db.session.rollback()
    except SQLAlchemyError:  # the connection is gone; the pool discards it
        pass


def error_body(status: int, message: str, errors: dict | None = None):
    body = {"code": status, "status": HTTPStatus(status).phrase, "message": message}
    if errors:
        body["errors"] = errors
    return jsonify(body), status


def init_app(app) -> None:
    @app.errorhandler(TokenAuthError)
    def domain_error(error: TokenAuthError):
        _rollback()
        errors = {"json": error.errors} if error.errors else None
        body, status = error_body(error.status, str(error), errors)
        if getattr(error, "retry_after", None):
            body.headers["Retry-After"] = str(error.retry_after)
        return body, status

    @app.errorhandler(IntegrityError)
    def integrity_error(error: IntegrityError):
        _rollback()
        return error_body(409, "conflicts with existing data")

    @app.errorhandler(DataError)
    def refused_value(error: DataError):
        # A value the database cannot hold (PostgreSQL refuses NUL in text): the input's
        # fault, not an outage. Input rules should have caught it first.
        _rollback()
        app.logger.info("database refused a value: %s", error.__class__.__name__)
        return error_body(422, "a value in the request cannot be stored")

    @app.errorhandler(DatabaseUnavailable)
    def unavailable(error: Exception):
        # Fail closed and say so; the details go to the log, not to the client.
        _rollback()
        app.logger.error("database unavailable: %s", error.__class__.__name__)
        return error_body(503, "database unavailable, try again later")

    @app.errorhandler(SQLAlchemyError)
    def database_error(error: SQLAlchemyError):
        if is_connection_failure(error):
            return unavailable(error)
        _rollback()
        app.logger.error("database error: %s", error.__class__.__name__)
        return error_body(500, "internal error")


def is_connection_failure(error: SQLAlchemyError) -> bool:
    """True when the database could not be reached or the connection broke (503), not
    when a statement failed on a working connection (a bug or bad data)."""
    if isinstance(error, (OperationalError, InterfaceError, PoolTimeout, DisconnectionError)):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated
