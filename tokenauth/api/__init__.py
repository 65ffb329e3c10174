"""The management JSON API under ``/api/v1`` (flask-smorest), and its Swagger UI."""
from flask import request
from flask_smorest import abort

from ..extensions import api
from . import admin, docs, me, tokens
from .openapi import ErrorResponses

BODY_METHODS = ("POST", "PUT", "PATCH")


def init_app(app) -> None:
    api.init_app(app, spec_kwargs={"extra_plugins": [ErrorResponses()], "info": {"description": (
        "Manage personal API tokens. Authenticate with the web session (cookie + CSRF), "
        "HTTP Basic username:password (internal users), or the external-user header set "
        "by the trusted proxy.")}})
    api.spec.components.security_scheme("basicAuth", {"type": "http", "scheme": "basic"})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for blueprint in blueprints():
        api.register_blueprint(blueprint, url_prefix="/api/v1")
    app.register_blueprint(docs.bp)
    names = {blueprint.name for blueprint in blueprints()}

    @app.before_request
    def json_bodies_only():
        # Without this, a form-encoded body reads as an empty JSON one: "name: missing".
        if (request.blueprint in names and request.method in BODY_METHODS
                and _has_body() and not request.is_json):
            abort(415, message=("Send the request body as JSON with Content-Type: "
                                f"application/json (this one was "
                                f"{request.mimetype or 'sent without a Content-Type'})."))

    @app.after_request
    def no_store(response):
        # Create and rotate answers carry a raw token: no cache may keep any API answer.
        if request.blueprint in names:
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get(
        "Transfer-Encoding", "").lower()


def blueprints():
    return (me.blp, tokens.blp, admin.blp)
