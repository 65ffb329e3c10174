"""The one place where domain and database errors become HTTP answers (SPEC 4 shape)."""
from __future__ import annotations

from http import HTTPStatus

from flask import jsonify
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

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

    @app.errorhandler(DatabaseUnavailable)
    @app.errorhandler(SQLAlchemyError)
    def database_error(error: Exception):
        # Fail closed and say so; the details go to the log, not to the client.
        _rollback()
        app.logger.error("database unavailable: %s", error.__class__.__name__)
        return error_body(503, "database unavailable, try again later")
