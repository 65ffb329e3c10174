"""``/login`` and ``/logout``: the web session of internal users."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, url_for

from ..auth import sessions
from ..auth.browser import browser_user
from ..errors import AuthenticationFailed, LockedOut, SignInBusy
from ..extensions import db
from ..runtime import current_runtime
from .access import safe_next
from .responses import page_blueprint

bp = page_blueprint("session", __name__)
BUSY = "Too many sign-ins are being checked right now. Please try again in a moment."


def _signed_in_user():
    try:
        return browser_user(db.session, current_runtime().settings)
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
    runtime = current_runtime()
    try:
        user = runtime.signin.sign_in(db.session, username, password, request.remote_addr,
                                      via="web")
    except LockedOut as locked:
        return _locked_out(username, target, locked.retry_after)
    except SignInBusy:  # nothing is locked: no Retry-After
        return _refuse(username, target, BUSY, 429)
    except AuthenticationFailed:
        # Wrong password, unknown or disabled user, external user: all look the same.
        return _refuse(username, target, "Invalid username or password.", 401)
    sessions.start(db.session, user, timedelta(minutes=runtime.settings.session_lifetime_minutes))
    db.session.commit()
    current_app.logger.info("login: username=%r client=%s", user.username, request.remote_addr)
    return _after_login(target)


def _locked_out(username: str, target: str | None, retry_after: int):
    response = _refuse(username, target, (
        "Too many failed sign-ins from your address. "
        f"Try again in {retry_after} seconds."), 429)
    response.headers["Retry-After"] = str(retry_after)
    return response


def _refuse(username: str, target: str | None, message: str, status: int):
    return current_app.make_response(
        (render_template("login.html", next=target, username=username, error=message), status))


@bp.route("/logout", methods=["POST"])
def logout():
    sessions.end(db.session)
    db.session.commit()
    flash("You have been signed out.", "info")
    return redirect(url_for("session.login"))
