"""``/api/v1/admin``: users and every user's tokens, for administrators."""
from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from .. import rules
from ..extensions import db
from ..runtime import current_runtime
from ..services import users
from .auth import login_required
from ..services import events
from .schemas import (AdminEventQueryArgsSchema, AdminTokenQueryArgsSchema, AdminTokenSchema,
                      EventSchema, UserCreateSchema, UserSchema, UserUpdateSchema)

blp = Blueprint("admin", __name__, description="Administration")
admin_required = login_required(admin=True)


@blp.route("/admin/users")
class AdminUsers(MethodView):
    decorators = [admin_required]

    @blp.response(200, UserSchema(many=True))
    def get(self):
        """List users"""
        return users.list_users(db.session)

    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    def post(self, data):
        """Create an internal user"""
        user = users.create_user(db.session, data["username"], data["password"],
                                 is_admin=data["is_admin"], actor=g.user.username)
        current_runtime().commit()
        return user


@blp.route("/admin/users/<user_id>", methods=["PATCH"],
           parameters=[rules.id_parameter("user_id")])
@blp.arguments(UserUpdateSchema)
@blp.response(200, UserSchema)
@admin_required
def update_user(data, user_id):
    """Change a user's active flag, admin flag or password

    The last active administrator can be neither disabled nor demoted (409).
    """
    user = users.update_user(db.session, users.get_user(db.session, user_id), **data,
                             actor=g.user.username)
    current_runtime().commit()
    return user


@blp.route("/admin/tokens", methods=["GET"])
@blp.arguments(AdminTokenQueryArgsSchema, location="query")
@blp.response(200, AdminTokenSchema(many=True))
@admin_required
def list_tokens(args):
    """Every user's tokens, newest first; filter by user and status"""
    return current_runtime().tokens().list(status=args.get("status"), username=args.get("user"))


@blp.route("/admin/tokens/<token_id>", methods=["DELETE"],
           parameters=[rules.id_parameter("token_id")])
@blp.response(204)
@admin_required
def revoke_token(token_id):
    """Revoke anyone's token"""
    service = current_runtime().tokens()
    service.revoke(service.get(token_id), actor=g.user.username)
    current_runtime().commit()


@blp.route("/admin/events", methods=["GET"])
@blp.arguments(AdminEventQueryArgsSchema, location="query")
@blp.response(200, EventSchema(many=True))
@admin_required
def list_events(args):
    """Every event, newest first (at most ``limit``, default 100); filter by user, token, type

    An unknown type is 422; a user that does not exist matches nothing.
    """
    user_id = None
    if args.get("user"):
        user = users.find_user(db.session, args["user"])
        if user is None:
            return []
        user_id = user.id
    return events.list_events(db.session, user_id=user_id, token_id=args.get("token"),
                              type_=args.get("type"), limit=args["limit"])
