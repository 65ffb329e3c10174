"""A JSON API body must say it is JSON: anything else is 415, saying so (not a misleading
422 "name: missing")."""
import json

import pytest
from ..helpers import one_database

backend = one_database()  # request framing, not storage

TOKEN = json.dumps({"name": "laptop"})


@pytest.mark.parametrize("content_type, data, shown", [
    ("application/x-www-form-urlencoded", "name=laptop", "application/x-www-form-urlencoded"),
    ("text/plain", TOKEN, "text/plain"),
    (None, TOKEN, "sent without a Content-Type"),
])
def test_a_body_that_is_not_json_is_415(client, as_alice, content_type, data, shown):
    headers = dict(as_alice, **({"Content-Type": content_type} if content_type else {}))
    answer = client.post("/api/v1/tokens", data=data, headers=headers)
    assert answer.status_code == 415
    assert answer.json == {
        "code": 415, "status": "Unsupported Media Type",
        "message": f"Send the request body as JSON with Content-Type: application/json (this "
                   f"one was {shown}).",
    }


def test_a_rename_with_a_form_body_is_415(client, as_alice, alice, make_token):
    token = make_token(alice).token
    answer = client.patch(f"/api/v1/tokens/{token.id}", data="name=x", headers=as_alice,
                          content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 415


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
def test_json_bodies_are_accepted(client, as_alice, content_type):
    answer = client.post("/api/v1/tokens", data=TOKEN, headers=as_alice,
                         content_type=content_type)
    assert answer.status_code == 201


def test_a_call_without_a_body_needs_no_content_type(client, as_alice, alice, make_token):
    token = make_token(alice).token
    assert client.post(f"/api/v1/tokens/{token.id}/rotate", headers=as_alice).status_code == 201
