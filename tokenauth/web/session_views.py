"""``/login`` and ``/logout``: the web session of internal users."""
from __future__ import annotations

import time

from flask import current_app, flash, redirect, render_template, request, url_for
from sqlalchemy.exc import SQLAlchemyError

from ..api.auth import browser_user, end_session, start_session
from ..errors import AuthenticationFailed
from ..extensions import db
from ..runtime import current_runtime
from ..services import users
from .access import safe_next
from .responses import page_blueprint

bp = page_blueprint("session", __name__)
LIMITER_KEY = "tokenauth.login_limiter"


def limiter():
    return current_app.extensions[LIMITER_KEY]


def _signed_in_user():
    try:
        return browser_user()
    except AuthenticationFailed:
        return None


def _after_login(target: str | None):
    return redirect(request.script_root + target if target else url_for("pages.tokens"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        if _signed_in_user() is not None:
            return _after_login(target)
        return render_template("login.html", next=target, username="")
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    if not username or not password:
        return _refuse(username, target, "Enter your username and password.", 400)
    key = limiter().key(username, request.remote_addr)
    retry_after = limiter().begin(key)
    if retry_after is not None:
        current_app.logger.warning("login refused while locked out: username=%r client=%s",
                                   username, request.remote_addr)
        return _locked_out(username, target, retry_after)
    try:
        user = users.authenticate_password(db.session, username, password)
    except AuthenticationFailed:
        return _failed(key, username, target)
    except SQLAlchemyError:
        limiter().abandoned(key)
        raise
    limiter().succeeded(key)
    start_session(user)
    current_app.logger.info("login: username=%r client=%s", user.username, request.remote_addr)
    return _after_login(target)


def _failed(key, username: str, target: str | None):
    # Wrong password, unknown or disabled user, or an external user (no password here) all
    # look the same from outside; the log says which attempt number this was.
    lockout = limiter().failed(key)
    settings = current_runtime().settings
    count = settings.login_max_failures if lockout else limiter().failures(key)
    current_app.logger.warning(
        "login failed: username=%r client=%s failure %d of %d%s", username, request.remote_addr,
        count, settings.login_max_failures, f", locked out for {lockout} s" if lockout else "")
    time.sleep(settings.login_failure_delay)  # slows guessing down; the lockout stops it
    if lockout:
        return _locked_out(username, target, lockout)
    return _refuse(username, target, "Invalid username or password.", 401)


def _locked_out(username: str, target: str | None, retry_after: int):
    response = _refuse(username, target, (
        "Too many failed sign-ins for this account from your address. "
        f"Try again in {retry_after} seconds."), 429)
    response.headers["Retry-After"] = str(retry_after)
    return response


def _refuse(username: str, target: str | None, message: str, status: int):
    return current_app.make_response(
        (render_template("login.html", next=target, username=username, error=message), status))


@bp.route("/logout", methods=["POST"])
def logout():
    end_session()
    flash("You have been signed out.", "info")
    return redirect(url_for("session.login"))
