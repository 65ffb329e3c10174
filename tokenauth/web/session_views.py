"""``/login`` and ``/logout``: the web session of internal users."""
from __future__ import annotations

import time

from flask import current_app, flash, redirect, render_template, request, url_for

from ..api.auth import browser_user, end_session, start_session
from ..errors import AuthenticationFailed, LockedOut
from ..extensions import db
from ..runtime import current_runtime
from ..services import users
from .access import safe_next
from .responses import page_blueprint

bp = page_blueprint("session", __name__)


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
    try:
        user = users.authenticate_throttled(db.session, current_runtime().login_limiter,
                                            username, password, request.remote_addr)
    except LockedOut as locked:
        current_app.logger.warning("login refused while locked out: username=%r client=%s",
                                   username, request.remote_addr)
        return _locked_out(username, target, locked.retry_after)
    except AuthenticationFailed as failure:
        return _failed(failure, username, target)
    start_session(user)
    current_app.logger.info("login: username=%r client=%s", user.username, request.remote_addr)
    return _after_login(target)


def _failed(failure: AuthenticationFailed, username: str, target: str | None):
    # Wrong password, unknown or disabled user, or an external user (no password here) all
    # look the same from outside; the log says which attempt number this was.
    lockout, count = failure.lockout, failure.failures
    settings = current_runtime().settings
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
