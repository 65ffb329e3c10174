"""``/admin/users``: administrators list, create, disable/enable, promote/demote users and
reset passwords. Plain HTML forms (CSRFProtect checks each); every change goes through
``services.users``, which keeps the rules: unique usernames in any case, never without an
active administrator, and a reset password or a disabled user ends that user's sessions."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from ..errors import TokenAuthError
from ..extensions import db
from ..runtime import current_runtime
from ..services import users
from .access import page_login_required
from .responses import page_blueprint

bp = page_blueprint("admin_users", __name__)

# action -> (update_user keyword arguments, what the flash message says happened)
ACTIONS = {
    "disable": ({"active": False}, "{name} was disabled; their sessions have ended."),
    "enable": ({"active": True}, "{name} was enabled."),
    "promote": ({"is_admin": True}, "{name} is now an administrator."),
    "demote": ({"is_admin": False}, "{name} is no longer an administrator."),
}


@bp.get("/admin/users")
@page_login_required(admin=True)
def index():
    return _page()


@bp.post("/admin/users")
@page_login_required(admin=True)
def create():
    username = request.form.get("username", "").strip()
    is_admin = request.form.get("is_admin") == "on"
    try:
        user = users.create_user(db.session, username, request.form.get("password", ""),
                                 is_admin=is_admin, actor=g.user.username)
        current_runtime().commit()
    except TokenAuthError as refused:
        db.session.rollback()
        return _page(refused, form={"username": username, "is_admin": is_admin})
    flash(f"User {user.username} was created"
          f"{' as an administrator' if user.is_admin else ''}.", "info")
    return redirect(url_for("admin_users.index"), 303)


@bp.post("/admin/users/<user_id>")
@page_login_required(admin=True)
def change(user_id):
    action = request.form.get("action", "")
    if action not in ACTIONS:
        return _page(_unknown_action(action))
    values, done = ACTIONS[action]
    return _update(user_id, values, done)


@bp.post("/admin/users/<user_id>/password")
@page_login_required(admin=True)
def reset_password(user_id):
    return _update(user_id, {"password": request.form.get("password", "")},
                   "The password of {name} was reset; their sessions have ended.")


def _update(user_id: str, values: dict, done: str):
    try:
        user = users.get_user(db.session, user_id)
        name = user.username
        users.update_user(db.session, user, **values, actor=g.user.username)
        current_runtime().commit()
    except TokenAuthError as refused:
        db.session.rollback()
        return _page(refused, failed_user=user_id)
    flash(done.format(name=name), "info")
    if user_id == g.user.id and values.get("active") is False:
        return redirect(url_for("session.login"), 303)  # they disabled themselves
    return redirect(url_for("admin_users.index"), 303)


def _unknown_action(action: str) -> TokenAuthError:
    error = TokenAuthError(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")
    error.status = 400
    return error


def _page(error: TokenAuthError | None = None, form: dict | None = None,
          failed_user: str | None = None):
    """The page, with ``error`` (status and message) shown above the form that caused it."""
    body = render_template("admin_users.html", users=users.list_users(db.session),
                           error=_message(error) if error else None, failed_user=failed_user,
                           form=form or {"username": "", "is_admin": False})
    return body, error.status if error else 200


def _message(error: TokenAuthError) -> str:
    """The per-field messages (they state the rule), else the error's own sentence."""
    details = [message for messages in (error.errors or {}).values() for message in messages]
    text = " ".join(details) if details else str(error)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
