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


class LockedOut(TokenAuthError):
    """Too many failed sign-ins of this username, or of any username, from this address:
    no password is checked for ``retry_after`` seconds."""

    status = 429

    def __init__(self, retry_after: int):
        super().__init__(f"too many failed sign-ins; try again in {retry_after} seconds")
        self.retry_after = retry_after


class SignInBusy(TokenAuthError):
    """This worker is already checking as many passwords as it may at once: refused without
    a check. Nothing is locked, so the answer carries no Retry-After."""

    status = 429

    def __init__(self):
        super().__init__("too many sign-ins are being checked; try again in a moment")


class Forbidden(TokenAuthError):
    status = 403


class DatabaseUnavailable(Exception):
    """The database cannot be reached (or answered with an error) on the /verify path."""


class VerifyDenied(Exception):
    """/verify refuses: ``reason`` is the ``X-Auth-Error`` value, ``status`` 401 or 403."""

    def __init__(self, reason: str, status: int = 401, retry_after: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
