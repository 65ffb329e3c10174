"""/verify's Basic ``username:password`` (``TOKENAUTH_ALLOW_PASSWORD_AUTH``): the same capped,
throttled sign-in as the web login and the API (``auth.signin``), in an app context of its
own since /verify is answered below Flask."""
from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from ..errors import AuthenticationFailed, DatabaseUnavailable, LockedOut, SignInBusy, VerifyDenied
from ..extensions import db
from .verifier import Identity


class BasicPasswordAuth:
    def __init__(self, app, signin):
        self.app = app
        self.signin = signin  # auth.signin.PasswordSignIn

    def __call__(self, username: str, password: str, client_ip: str | None) -> Identity:
        """The identity whose password this is. Raises VerifyDenied or DatabaseUnavailable."""
        with self.app.app_context():
            try:
                user = self.signin.sign_in(db.session, username, password, client_ip,
                                           via="verify")
                return Identity.of(user.username, user.id, user.source)
            except LockedOut as locked:
                raise VerifyDenied("rate_limited", retry_after=locked.retry_after) from None
            except SignInBusy:  # nothing is locked: no Retry-After
                raise VerifyDenied("rate_limited") from None
            except AuthenticationFailed:  # a disabled user's right password too
                raise VerifyDenied("invalid") from None
            except SQLAlchemyError as error:
                raise DatabaseUnavailable(error.__class__.__name__) from error
            finally:
                db.session.remove()
