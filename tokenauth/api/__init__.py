"""The management JSON API under ``/api/v1`` (flask-smorest)."""
from flask import request

from ..extensions import api
from . import admin, me, tokens


def init_app(app) -> None:
    api.init_app(app, spec_kwargs={"info": {"description": (
        "Manage personal API tokens. Authenticate with the web session (cookie + CSRF), "
        "HTTP Basic username:password (internal users), or the external-user header set "
        "by the trusted proxy.")}})
    api.spec.components.security_scheme("basicAuth", {"type": "http", "scheme": "basic"})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for blueprint in blueprints():
        api.register_blueprint(blueprint, url_prefix="/api/v1")
    names = {blueprint.name for blueprint in blueprints()}

    @app.after_request
    def no_store(response):
        # Create and rotate answers carry a raw token: no cache may keep any API answer.
        if request.blueprint in names:
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def blueprints():
    return (me.blp, tokens.blp, admin.blp)
