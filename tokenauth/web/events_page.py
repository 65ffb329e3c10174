"""``/admin/events``: the audit trail for administrators, filtered by user, token and type
(``services.events.list_events``; the newest first, at most LIMIT)."""
from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select

from .. import rules
from ..extensions import db
from ..models import ApiToken
from ..services import events, users
from .access import page_login_required
from .responses import page_blueprint

bp = page_blueprint("admin_events", __name__)
LIMIT = 200


@bp.get("/admin/events")
@page_login_required(admin=True)
def index():
    username = request.args.get("user", "").strip()
    token_id = request.args.get("token", "").strip()
    type_ = request.args.get("type", "").strip()
    problems = []
    user = users.find_user(db.session, username) if username else None
    if username and user is None:
        problems.append(f"There is no user {username[:60]!r}.")
    if token_id and not rules.is_id(token_id):
        problems.append("A token is named by its id (32 letters and digits); open a token "
                        "and follow its events link.")
    if type_ and type_ not in events.TYPES:
        problems.append(f"There is no event type {type_[:60]!r}.")
    found = [] if problems else events.list_events(
        db.session, user_id=user.id if user else None, token_id=token_id or None,
        type_=type_ or None, limit=LIMIT)
    all_users = users.list_users(db.session)
    token_ids = {event.token_id for event in found if event.token_id}
    if token_id and rules.is_id(token_id):
        token_ids.add(token_id)
    tokens = {token.id: token for token in db.session.scalars(
        select(ApiToken).where(ApiToken.id.in_(token_ids)))} if token_ids else {}
    return render_template(
        "admin_events.html", events=found, problems=problems, limit=LIMIT,
        user_filter=username, token_filter=token_id, type_filter=type_, types=events.TYPES,
        tokens=tokens, usernames={u.id: u.username for u in all_users},
        known_users=[u.username for u in all_users]), 422 if problems else 200
