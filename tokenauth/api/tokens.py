"""``/api/v1/tokens``: the caller's own tokens."""
from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from .. import rules
from ..runtime import current_runtime
from ..services.tokens import DEFAULT
from .auth import login_required
from ..extensions import db
from ..services import events, origins
from .schemas import (EventQueryArgsSchema, EventSchema, OriginSchema, TokenCreatedSchema,
                      TokenCreateSchema, TokenQueryArgsSchema, TokenSchema, TokenUpdateSchema)

blp = Blueprint("tokens", __name__, description="Your personal API tokens")


def created(issued):
    """Commit; the answer (TokenCreatedSchema) is the only one that ever carries the raw token."""
    current_runtime().commit()
    return issued


@blp.route("/tokens")
class Tokens(MethodView):
    decorators = [login_required]

    @blp.arguments(TokenQueryArgsSchema, location="query")
    @blp.response(200, TokenSchema(many=True))
    def get(self, args):
        """List your tokens, newest first"""
        return current_runtime().tokens().list(g.user, args.get("status"))

    @blp.arguments(TokenCreateSchema)
    @blp.response(201, TokenCreatedSchema)
    def post(self, data):
        """Create a token; the raw value is in this response only"""
        issued = current_runtime().tokens().create(
            g.user, data["name"], data.get("expires_at", DEFAULT),
            data.get("scopes", ()), data.get("allowed_origins", ()),
            data.get("routes", ()), canary=data.get("canary", False), actor=g.user.username)
        return created(issued)


TOKEN_ID = [rules.id_parameter("token_id")]


@blp.route("/tokens/<token_id>", parameters=TOKEN_ID)
class TokenById(MethodView):
    decorators = [login_required]

    @blp.response(200, TokenSchema)
    def get(self, token_id):
        """One of your tokens"""
        return current_runtime().tokens().get(token_id, owner=g.user)

    @blp.arguments(TokenUpdateSchema)
    @blp.response(200, TokenSchema)
    def patch(self, data, token_id):
        """Rename a token"""
        service = current_runtime().tokens()
        token = service.rename(service.get(token_id, owner=g.user), data["name"],
                               actor=g.user.username)
        current_runtime().commit()
        return token

    @blp.response(204)
    def delete(self, token_id):
        """Revoke a token (kept for audit; revoking again is fine)"""
        service = current_runtime().tokens()
        service.revoke(service.get(token_id, owner=g.user), actor=g.user.username)
        current_runtime().commit()


@blp.route("/tokens/<token_id>/rotate", methods=["POST"], parameters=TOKEN_ID)
@blp.response(201, TokenCreatedSchema)
@login_required
def rotate(token_id):
    """Replace a token's secret, keeping its metadata; the old secret is revoked

    Atomic: of concurrent rotations of one token, one gets the new secret and the others
    409, as does rotating a revoked or expired token.
    """
    service = current_runtime().tokens()
    return created(service.rotate(service.get(token_id, owner=g.user), actor=g.user.username))


@blp.route("/tokens/<token_id>/origins", methods=["GET"], parameters=TOKEN_ID)
@blp.response(200, OriginSchema(many=True))
@login_required
def token_origins(token_id):
    """The client IPs that used one of your tokens, most recently seen first

    The 20 most recently seen are kept.
    """
    token = current_runtime().tokens().get(token_id, owner=g.user)
    return origins.for_token(db.session, token.id)


@blp.route("/tokens/<token_id>/events", methods=["GET"], parameters=TOKEN_ID)
@blp.arguments(EventQueryArgsSchema, location="query")
@blp.response(200, EventSchema(many=True))
@login_required
def token_events(args, token_id):
    """The audit trail of one of your tokens, newest first (at most ``limit``, default 100)"""
    token = current_runtime().tokens().get(token_id, owner=g.user)
    return events.list_events(db.session, token_id=token.id, limit=args["limit"])


@blp.route("/tokens/self/rotate", methods=["POST"])
@blp.response(201, TokenCreatedSchema)
@login_required(allow_token=True)
def rotate_self():
    """Rotate the API token presented in the Authorization header

    Atomic like rotation by id: of concurrent rotations, one succeeds and the others get 409.
    """
    if not g.token_id:
        abort(400, message="present the token to rotate in the Authorization header")
    service = current_runtime().tokens()
    return created(service.rotate(service.get(g.token_id, owner=g.user),
                                  actor=g.user.username))
