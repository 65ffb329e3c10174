"""Swagger UI at ``/api/v1/docs``, served by tokenauth itself (no CDN). The assets are
swagger-ui-dist from the npm registry, vendored unchanged in ``swagger_ui/`` (version,
checksums and licence in ``swagger_ui/SOURCE.txt``); ``tokenauth-docs.js`` starts it."""
from __future__ import annotations

from flask import Blueprint, make_response, render_template

bp = Blueprint("api_docs", __name__, static_folder="swagger_ui",
               static_url_path="/api/v1/docs/swagger-ui", template_folder="templates")

# Swagger UI sets style attributes from script, hence 'unsafe-inline' for styles only.
HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; script-src 'self'; "
                                "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                                "connect-src 'self'; font-src 'self' data:; base-uri 'none'; "
                                "form-action 'none'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


@bp.get("/api/v1/docs")
def swagger_ui():
    response = make_response(render_template("api_docs.html"))
    response.headers.update(HEADERS)
    return response
