"""``/tokens`` (your tokens) and ``/admin/tokens`` (everyone's). The pages only read; the
buttons call the JSON API (``/api/v1``) with the session cookie and the CSRF token."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from .. import rules
from ..extensions import db
from ..models import utcnow
from ..runtime import current_runtime
from ..services import users
from .access import page_login_required
from .presenters import DEFAULT_STATUS, STATUSES, ExpiryChoices, iso_utc
from .responses import page_blueprint

bp = page_blueprint("pages", __name__)


@bp.get("/")
def index():
    return redirect(url_for("pages.tokens"))


@bp.get("/tokens")
@page_login_required
def tokens():
    runtime = current_runtime()
    now = utcnow()
    status = request.args.get("status", DEFAULT_STATUS)
    if status not in (*STATUSES, "all"):
        status = DEFAULT_STATUS
    mine = runtime.tokens().list(g.user)  # a person has few tokens: count them here
    counts = {name: sum(token.status_at(now) == name for token in mine) for name in STATUSES}
    counts["all"] = len(mine)
    shown = mine if status == "all" else [t for t in mine if t.status_at(now) == status]
    active_names = sorted({t.name for t in mine if t.status_at(now) == "active"})
    return render_template("tokens.html", tokens=shown, status_filter=status, counts=counts,
                           statuses=(*STATUSES, "all"), active_names=active_names,
                           expiry=ExpiryChoices.from_settings(runtime.settings, now),
                           now_iso=iso_utc(now))


@bp.get("/admin/tokens")
@page_login_required(admin=True)
def admin_tokens():
    username = request.args.get("user", "").strip()
    status = request.args.get("status", "")
    status = status if status in STATUSES else ""
    if username and not rules.USERNAME.accepts(username):
        # No user has such a name: say so instead of asking the database.
        flash(f"No user can be named like that. {rules.USERNAME.summary}", "error")
        found = []
    else:
        found = current_runtime().tokens().list(status=status, username=username)
    return render_template("admin_tokens.html", tokens=found, user_filter=username,
                           status_filter=status, statuses=STATUSES,
                           usernames=[user.username for user in users.list_users(db.session)])
