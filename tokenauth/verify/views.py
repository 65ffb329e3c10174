"""``GET /verify`` (and HEAD): the answer nginx's auth_request acts on."""
from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import SQLAlchemyError

from ..errors import VerifyDenied
from ..runtime import current_runtime
from .credentials import read_credentials

bp = Blueprint("verify", __name__)
CHALLENGES = ('Basic realm="tokenauth"', 'Bearer realm="tokenauth"')


@bp.get("/verify")
def verify():
    runtime, started = current_runtime(), time.perf_counter()
    try:
        credentials = read_credentials(request.headers.get("Authorization"),
                                       runtime.settings.allow_password_auth)
        identity = runtime.verifier().verify(credentials, request.remote_addr)
        response, outcome = identity_response(identity), "ok"
    except VerifyDenied as denial:
        response, outcome = denial_response(denial), denial.reason
    except SQLAlchemyError as exc:  # fail closed: nginx turns this into a 5xx for the client
        current_app.logger.error("verify: database unavailable: %s", exc.__class__.__name__)
        response, outcome = Response(status=503, headers={"X-Auth-Error": "unavailable"}), "unavailable"
    runtime.metrics.verify_answered(outcome, time.perf_counter() - started)
    return response


def identity_response(identity) -> Response:
    return Response(status=200, headers={
        "X-Auth-User": identity.username,
        "X-Auth-User-Id": identity.user_id,
        "X-Auth-Token-Id": identity.token_id,
        "X-Auth-Scopes": " ".join(identity.scopes),
        "X-Auth-Source": identity.source,
    })


def denial_response(denial: VerifyDenied) -> Response:
    response = Response(status=denial.status, headers={"X-Auth-Error": denial.reason})
    if denial.status == 401:
        for challenge in CHALLENGES:
            response.headers.add("WWW-Authenticate", challenge)
    if denial.retry_after is not None:
        response.headers["Retry-After"] = str(denial.retry_after)
    return response
