"""What every page answer carries: HTML errors (the API keeps its JSON ones) and headers
that keep the page out of frames and caches."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..errors import TokenAuthError

# No inline script or style anywhere, so the policy can forbid both.
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                                "form-action 'self'; frame-ancestors 'none'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # Flask-WTF checks the Referer on HTTPS
    "Cache-Control": "no-store",
}


def page_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint whose errors are HTML pages and whose answers carry SECURITY_HEADERS."""
    blueprint = Blueprint(name, import_name)
    blueprint.register_error_handler(HTTPException, error_page)
    blueprint.register_error_handler(TokenAuthError, error_page)
    blueprint.after_request(security_headers)
    return blueprint


def error_page(error):
    if isinstance(error, HTTPException):
        status, title, message = error.code, error.name, error.description
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    else:  # a domain error
        status, title, message, headers = error.status, "Error", str(error), []
    if isinstance(error, CSRFError):
        message += " The form could not be verified; reload the page and try again."
    body = render_template("error.html", status=status, title=title, message=message)
    return security_headers(current_app.make_response((body, status, headers)))


def security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
