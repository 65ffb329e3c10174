"""The error answers of every operation, written into the OpenAPI document.

Without this the document has one ``default`` error response per operation, so any status
"conforms". Here each operation lists the errors it really gives, from what the code does
to every request (the views add their own with ``blp.alt_response``):

- every operation needs a caller: 401 (with the Basic challenge), 429 (password sign-ins
  locked out, with ``Retry-After``; or too many being checked at once, without), and 503
  when the database is out of reach;
- the ``/admin`` operations are for administrators: 403;
- an id in the path that names nothing of the caller's: 404;
- a body that is not sent as JSON: 415; one that does not parse: 400.
"""
from __future__ import annotations

from apispec import BasePlugin
from flask_smorest.error_handler import ErrorSchema

ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
ADMIN_PREFIX = "/api/v1/admin/"  # the admin blueprint: every view is admin_required


def _answer(description: str, headers: dict | None = None) -> dict:
    answer = {"description": description, "content": ERROR}
    if headers:
        answer["headers"] = headers
    return answer


UNAUTHORIZED = _answer(
    "No caller, or the credentials were refused.",
    {"WWW-Authenticate": {"required": True, "schema": {"type": "string"},
                          "description": 'Basic realm="tokenauth"'}})
TOO_MANY = _answer(
    "Password sign-ins refused for now: too many failures of this username or from this "
    "address (with Retry-After), or too many being checked at once (without: nothing is "
    "locked, try again in a moment).",
    {"Retry-After": {"required": False, "schema": {"type": "integer", "minimum": 1},
                     "description": "Seconds until sign-ins are checked again."}})


def conflict(blp, description: str):
    """Decorator: the view answers 409 when ``description`` happens."""
    return blp.alt_response(409, schema=ErrorSchema, description=description)


class ErrorResponses(BasePlugin):
    """apispec plugin: adds the error answers above to each operation as it is registered."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            found = {"401": UNAUTHORIZED, "429": TOO_MANY,
                     "503": _answer("The database cannot be reached; try again later.")}
            if path.startswith(ADMIN_PREFIX):
                found["403"] = _answer("Administrators only.")
            if "{" in path:
                found["404"] = _answer("No such id (or not one of yours).")
            if "requestBody" in operation:
                found["400"] = _answer("The body is not valid JSON.")
            if method in ("post", "put", "patch"):
                found["415"] = _answer("The body is not sent as application/json.")
            for status, answer in found.items():
                responses.setdefault(status, answer)
