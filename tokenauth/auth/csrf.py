"""The CSRF rule for API calls that a browser's cookie authenticates.

A cross-site form carries the victim's cookies but not the page's CSRF token, so an unsafe
method authenticated by a cookie must carry the token. Calls with HTTP Basic or no cookie
at all need none. (The pages' own forms are checked by Flask-WTF's CSRFProtect.)
"""
from __future__ import annotations

from flask import request
from flask_smorest import abort
from flask_wtf.csrf import CSRFError

from ..extensions import csrf

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def require_csrf() -> None:
    """For unsafe methods, abort 400 unless the request carries the session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    try:
        csrf.protect()
    except CSRFError as refused:  # flask-smorest's JSON error would drop the reason
        abort(400, message=f"{refused.description} Cookie-authenticated requests must "
                           "send the page's CSRF token in the X-CSRFToken header.")
