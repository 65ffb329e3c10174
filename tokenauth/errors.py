"""Domain errors. Services raise these; ``http_errors`` turns them into HTTP answers."""


class TokenAuthError(Exception):
    """Base class; ``status`` is the HTTP status it maps to, the message is the detail."""

    status = 400

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.errors = errors


class NotFound(TokenAuthError):
    status = 404


class Conflict(TokenAuthError):
    status = 409


class InvalidInput(TokenAuthError):
    """Input that passed the schema but breaks a rule (e.g. a lifetime over the maximum)."""

    status = 422


class AuthenticationFailed(TokenAuthError):
    status = 401


class Forbidden(TokenAuthError):
    status = 403


class VerifyDenied(Exception):
    """/verify refuses: ``reason`` is the ``X-Auth-Error`` value, ``status`` 401 or 403."""

    def __init__(self, reason: str, status: int = 401, retry_after: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
