"""``/tokens`` (your tokens), ``/tokens/<id>`` (one token in detail) and ``/admin/tokens``
(everyone's). The pages only read; the buttons call the JSON API (``/api/v1``) with the
session cookie and the CSRF token."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from .. import rules
from ..extensions import db
from ..models import utcnow
from ..runtime import current_runtime
from ..services import events, origins, users
from .access import page_login_required
from .presenters import DEFAULT_STATUS, STATUSES, ExpiryChoices, expiring_before, iso_utc
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
                           now_iso=iso_utc(now), soon=expiring_before(runtime.settings, now))


@bp.get("/tokens/<token_id>")
@page_login_required
def token_detail(token_id):
    """One token: its rules, scopes, allowed origins, origin history and events. Your own
    tokens; administrators see anyone's (others get 404, as in the API)."""
    runtime = current_runtime()
    token = runtime.tokens().get(token_id, owner=None if g.user.is_admin else g.user)
    now = utcnow()
    return render_template("token_detail.html", token=token, status=token.status_at(now),
                           origins=origins.for_token(db.session, token.id, limit=origins.KEEP),
                           keep=origins.KEEP,
                           events=events.list_events(db.session, token_id=token.id, limit=50),
                           soon=expiring_before(runtime.settings, now),
                           mine=token.user_id == g.user.id)


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
                           soon=expiring_before(current_runtime().settings, utcnow()),
                           usernames=[user.username for user in users.list_users(db.session)])
