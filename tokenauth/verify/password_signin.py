"""/verify's Basic ``username:password`` (``TOKENAUTH_ALLOW_PASSWORD_AUTH``): the same
throttled sign-in as the web login and the API, in an app context of its own."""
from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from ..errors import AuthenticationFailed, DatabaseUnavailable, LockedOut, UserDisabled, VerifyDenied
from ..extensions import db
from ..services.users import authenticate_throttled
from .verifier import Identity


class PasswordSignIn:
    def __init__(self, app, limiter):
        self.app = app
        self.limiter = limiter

    def __call__(self, username: str, password: str, client_ip: str | None) -> Identity:
        """The identity whose password this is. Raises VerifyDenied or DatabaseUnavailable."""
        with self.app.app_context():
            try:
                user = authenticate_throttled(db.session, self.limiter, username, password,
                                              client_ip)
                return Identity(user.username, user.id, user.source)
            except LockedOut as locked:
                raise VerifyDenied("rate_limited", retry_after=locked.retry_after) from None
            except UserDisabled:
                raise VerifyDenied("user_disabled") from None
            except AuthenticationFailed:
                raise VerifyDenied("invalid") from None
            except SQLAlchemyError as error:
                raise DatabaseUnavailable(error.__class__.__name__) from error
            finally:
                db.session.remove()
