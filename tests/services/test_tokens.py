"""services/tokens.py: ids, the name rule, and rotation as one conditional change."""
from unittest import mock

import pytest

from tokenauth.errors import Conflict, InvalidInput, NotFound
from tokenauth.extensions import db
from tokenauth.models import ApiToken
from tokenauth.runtime import current_runtime
from tokenauth.services.tokens import TokenService
from sqlalchemy.orm import Session


@pytest.fixture
def service(app):
    return current_runtime().tokens()


@pytest.mark.parametrize("bad", ["", "\x00", "a\x00" * 16, "x" * 33, "A" * 32, "é" * 32, "self"])
def test_get_refuses_malformed_ids_without_asking_the_database(app, bad):
    session = mock.Mock()
    with pytest.raises(NotFound):
        TokenService(session, current_runtime().settings).get(bad)
    assert session.mock_calls == []


@pytest.mark.parametrize("name, problem", [
    ("bell\x07", "control"), ("line\nbreak", "control"), ("\x00", "control"),
    ("\ud800", "surrogate"), ("   ", "blank"), ("", "blank"), ("x" * 101, "100"),
])
def test_names_follow_one_rule_everywhere(service, make_user, name, problem):
    with pytest.raises(InvalidInput) as refused:
        service.create(make_user(), name)
    assert problem in str(refused.value) and refused.value.errors["name"]


def test_names_are_stripped(service, make_user):
    assert service.create(make_user(), "  ci  ").token.name == "ci"


def test_rotating_a_stale_copy_of_a_rotated_token_is_409(app, service, make_user, make_token):
    """Another request loaded the token before this one rotated it: it must not issue a
    second successor from its stale copy."""
    issued = make_token(make_user())
    other_request = Session(db.engine)
    other = TokenService(other_request, current_runtime().settings)
    stale = other.get(issued.token.id)
    assert stale.user is not None  # fully loaded, as a request would have it
    service.rotate(service.get(issued.token.id))
    db.session.commit()
    try:
        with pytest.raises(Conflict, match="revoked"):
            other.rotate(stale)
    finally:
        other_request.rollback()
        other_request.close()
    assert db.session.query(ApiToken).count() == 2


def test_rotate_keeps_the_metadata_and_revokes_once(app, service, make_user, make_token):
    issued = make_token(make_user(), name="ci", scopes=["read"], allowed_origins=["10.0.0.1"],
                        routes=["GET /api/**", "POST /api/jobs/*"])
    successor = service.rotate(service.get(issued.token.id))
    db.session.commit()
    old = service.get(issued.token.id)
    assert old.status == "revoked"
    assert (successor.name, successor.scopes, successor.allowed_origins, successor.routes) == (
        "ci", ["read"], ["10.0.0.1/32"], ["GET /api/**", "POST /api/jobs/*"])
    first_revocation = old.revoked_at
    service.revoke(old)
    db.session.commit()
    assert service.get(issued.token.id).revoked_at == first_revocation


def test_routes_are_stored_as_given_and_a_bad_one_stores_nothing(service, make_user):
    user = make_user()
    issued = service.create(user, "ci", routes=["GET /api/**", "* /api/jobs/*/logs"])
    db.session.commit()
    db.session.expire_all()
    assert service.get(issued.token.id).routes == ["GET /api/**", "* /api/jobs/*/logs"]
    assert service.create(user, "open").token.routes == []
    db.session.commit()
    with pytest.raises(InvalidInput) as refused:
        service.create(user, "bad", routes=["GET /api/**", "GET /api/%2e%2e"])
    assert list(refused.value.errors["routes"]) == [1]  # the second rule, and only it
    db.session.rollback()
    assert [token.name for token in service.list(user)] == ["open", "ci"]
