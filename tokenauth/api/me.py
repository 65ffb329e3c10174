"""``GET /api/v1/me``."""
from flask import g
from flask_smorest import Blueprint

from .auth import login_required
from .schemas import MeSchema

blp = Blueprint("me", __name__, description="The caller")


@blp.route("/me", methods=["GET"])
@blp.response(200, MeSchema)
@login_required
def me():
    """The authenticated caller"""
    return g.user
