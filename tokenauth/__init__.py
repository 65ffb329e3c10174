"""tokenauth: personal API tokens behind nginx ``auth_request``."""
from __future__ import annotations

from flask import Flask

from . import api, database, http_errors, logs, ops, verify, web
from .extensions import csrf
from .proxy import TrustedProxyMiddleware
from .runtime import Runtime
from .settings import Settings, load_settings

__all__ = ["create_app", "__version__"]
__version__ = "0.1.0"


def create_app(config: dict | None = None) -> Flask:
    """Build the app. ``config`` overrides settings by field name (``{"verify_cache_ttl": 0}``),
    on top of the ``TOKENAUTH_*`` environment. Raises SettingsError on a bad setting."""
    settings = load_settings(config)
    app = Flask(__name__, instance_path=settings.instance_path)
    app.config.update(flask_config(settings))

    logs.init_app(app, settings)
    database.init_app(app, settings)
    runtime = app.extensions["tokenauth"] = Runtime.build(app, settings)
    csrf.init_app(app)
    http_errors.init_app(app)
    api.init_app(app)
    for blueprint in (ops.init_app(app, runtime), *api.blueprints()):
        csrf.exempt(blueprint)  # the API checks CSRF itself, for cookie sessions only
    web.init_app(app)  # the pages keep CSRFProtect's check on every unsafe request

    app.wsgi_app = TrustedProxyMiddleware(app.wsgi_app, runtime.proxies,
                                          settings.external_user_header)
    verify.init_app(app, runtime)  # outermost: /verify skips everything above
    return app


def flask_config(settings: Settings) -> dict:
    return {
        "SECRET_KEY": settings.secret_key,
        "TESTING": settings.env == "testing",
        "SQLALCHEMY_DATABASE_URI": settings.database_url,
        "API_TITLE": "tokenauth",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "SESSION_COOKIE_NAME": "tokenauth_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": settings.production,
        "PERMANENT_SESSION_LIFETIME": settings.session_lifetime_minutes * 60,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "JSON_SORT_KEYS": False,
    }
