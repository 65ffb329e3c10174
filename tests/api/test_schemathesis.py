"""Schemathesis over ``/api/v1/openapi.json`` (issue 7, "Proof in the suite").

Every operation of the document, called with generated input that fits the document and
input that does not, as an administrator, as a plain user (HTTP Basic) and without
credentials, through the WSGI app in process, on both databases. Path ids are sometimes a
real token (or a real user) so the operations do their work, not only 404. No answer may be
a server error or break the document (documented status code, content type, headers and
body schema), and input that breaks the document must be refused.
"""
from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance,
                                               negative_data_rejection,
                                               response_headers_conformance,
                                               response_schema_conformance,
                                               status_code_conformance)

from tokenauth.extensions import db
from tokenauth.runtime import current_runtime
from tokenauth.services import users as user_service

from ..helpers import PASSWORD, basic

# Small enough that the module stays well under a minute on 2 cores (both databases, three
# callers, two modes), large enough to reach every validator; derandomized so every run (and
# CI) sends the same cases.
EXAMPLES = 8
SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))
# Plus: input that breaks the document must be refused (a 4xx), not accepted.
CHECKS = [negative_data_rejection, not_a_server_error, status_code_conformance,
          content_type_conformance, response_headers_conformance, response_schema_conformance]


class OwnContextPerRequest:
    """The app as a WSGI callable with an app context of its own per request, as in
    production (``g`` never shared between requests)."""

    def __init__(self, app: Flask):
        self.app = app

    def __call__(self, environ, start_response):
        with self.app.app_context():
            return list(self.app(environ, start_response))


@pytest.fixture
def world(make_app):
    """An app with an admin and a user, each with two tokens; and their ids."""
    app = make_app()
    with app.app_context():
        admin = user_service.create_user(db.session, "root", PASSWORD, is_admin=True)
        alice = user_service.create_user(db.session, "alice", PASSWORD)
        db.session.commit()
        service = current_runtime().tokens()
        tokens = [service.create(owner, name, None, (), ()).token.id
                  for owner in (admin, alice) for name in ("one", "two")]
        db.session.commit()
        ids = {"admin": admin.id, "alice": alice.id, "tokens": tokens}
        db.session.remove()
    return app, ids


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_as_admin_and_as_user_answers_by_the_document(world, mode):
    app, ids = world
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", OwnContextPerRequest(app))
    # An admin, a plain user, and nobody (the 401 must match the document too).
    callers = (basic("root", PASSWORD), basic("alice", PASSWORD), {})
    real_ids = {"token_id": st.sampled_from(ids["tokens"]),
                # never the test's admin: a generated PATCH could lock it out
                "user_id": st.just(ids["alice"])}
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if mode is GenerationMode.NEGATIVE and not _has_input(operation):
            continue  # nothing to send that breaks the document (GET /me)

        @SETTINGS
        @given(case=operation.as_strategy(mode), real=st.booleans(), data=st.data())
        def conforms(case, real, data):
            parameters = case.path_parameters or {}
            if parameters.get("user_id") == ids["admin"]:
                return
            if real and mode is GenerationMode.POSITIVE:
                for name in parameters:
                    if name in real_ids:
                        parameters[name] = data.draw(real_ids[name])
            for headers in callers:
                case.call_and_validate(headers=headers, checks=CHECKS)

        conforms()
        checked.append(operation.label)
    # No operation was left out (in negative mode: none with input to break), the audit
    # ones included.
    expected = [operation.label for operation in (r.ok() for r in schema.get_all_operations())
                if mode is GenerationMode.POSITIVE or _has_input(operation)]
    assert checked == expected and len(expected) >= 10
    assert {"GET /api/v1/tokens/{token_id}/origins", "GET /api/v1/admin/events"} <= set(checked)


def _has_input(operation) -> bool:
    return bool(len(operation.path_parameters) or len(operation.query) or operation.body)
