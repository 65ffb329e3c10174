"""The web page (SPEC 5): login, your tokens, everyone's tokens and the users for admins.

Server-rendered with Jinja; a little plain JavaScript (``static/js``) calls the JSON API for
create, rotate and revoke. Every URL comes from ``url_for``, so a prefix that nginx passes
in ``X-Forwarded-Prefix`` (applied by ProxyFix) is part of every link, form and fetch.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import has_request_context, request
from flask.sessions import SecureCookieSessionInterface

from ..runtime import current_runtime
from . import events_page, pages, presenters, session_views, users_page

BLUEPRINTS = (session_views.bp, pages.bp, users_page.bp, events_page.bp)


class PrefixSessionInterface(SecureCookieSessionInterface):
    """Scopes the session cookie to where tokenauth is mounted (``X-Forwarded-Prefix``), so
    the product behind the same nginx host never receives it."""

    def get_cookie_path(self, app) -> str:
        if app.config["SESSION_COOKIE_PATH"] or not has_request_context():
            return super().get_cookie_path(app)
        return request.script_root + "/"


def init_app(app) -> None:
    app.session_interface = PrefixSessionInterface()
    app.add_template_filter(presenters.iso_utc)
    app.add_template_filter(presenters.utc_text)
    static_version = _static_version(Path(app.static_folder))

    @app.context_processor
    def page_context():
        # Only what the templates use: never the settings object, which holds the secrets.
        return {"static_version": static_version,
                "external_signin": bool(current_runtime().settings.external_user_header)}

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)


def _static_version(folder: Path) -> str:
    """A short hash of the static files, appended to their URLs to bust caches on change."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")) if folder.is_dir() else ():
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]
