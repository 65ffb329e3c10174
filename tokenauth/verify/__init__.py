"""The /verify hot path: where the nginx allow/deny answer is decided.

``endpoint`` answers the request below Flask, ``verifier`` decides, ``store`` and ``cache``
find the token, ``last_access`` records its use.
"""
from __future__ import annotations

from .endpoint import VerifyEndpoint
from .expiry import ExpiryWarning


def init_app(app, runtime) -> None:
    """Answer /verify in front of the app's WSGI stack (call after every other middleware,
    so /verify skips them)."""
    app.wsgi_app = VerifyEndpoint(app.wsgi_app, runtime.verifier, runtime.throttle,
                                  runtime.proxies, runtime.metrics,
                                  runtime.settings.allow_password_auth,
                                  ExpiryWarning(runtime.settings.expiry_warning_days),
                                  flask_app=app)
