"""services/users.py: usernames unique regardless of case, lookups, ids, the last admin."""
from unittest import mock

import pytest

from tokenauth.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from tokenauth.extensions import db
from tokenauth.services import users

from ..helpers import PASSWORD, basic


@pytest.mark.parametrize("variant", ["Eve", "EVE", "eVe"])
def test_usernames_differing_only_in_case_are_409(app, make_user, variant):
    make_user("eve")
    with pytest.raises(Conflict, match="regardless of case"):
        users.create_user(db.session, variant, PASSWORD)


def test_an_external_name_cannot_sit_beside_an_internal_one_in_another_case(app, make_user):
    make_user("stadmin", admin=True)
    with pytest.raises(AuthenticationFailed, match="internal user"):
        users.external_user(db.session, "STADMIN")
    assert [u.username for u in users.list_users(db.session)] == ["stadmin"]


def test_the_external_header_finds_its_user_in_any_case(app, make_user):
    bob = make_user("Bob", source="external")
    assert users.external_user(db.session, "bob").id == bob.id


def test_sign_in_ignores_case_and_keeps_the_stored_spelling(app, make_user):
    make_user("Alice")
    signin = app.extensions["tokenauth"].signin
    user = signin.sign_in(db.session, "aLICE", PASSWORD, "127.0.0.1", via="test")
    assert user.username == "Alice"


def test_find_user_ignores_case(app, make_user):
    alice = make_user("alice")
    assert users.find_user(db.session, "ALICE").id == alice.id
    assert users.find_user(db.session, "bob") is None


@pytest.mark.parametrize("bad", ["", "a\x00b", "x" * 33, "X" * 32, "é" * 32, "../etc/passwd"])
def test_get_user_refuses_malformed_ids_without_asking_the_database(bad):
    session = mock.Mock()
    with pytest.raises(NotFound):
        users.get_user(session, bad)
    assert session.mock_calls == []


@pytest.mark.parametrize("username", ["bad name", "tab\tname", "-dash", "é", "x" * 151, ""])
def test_create_user_refuses_bad_usernames_with_the_rule(app, username):
    with pytest.raises(InvalidInput) as refused:
        users.create_user(db.session, username, PASSWORD)
    assert "letters, digits" in refused.value.errors["username"][0]


@pytest.mark.parametrize("change", [{"is_admin": False}, {"active": False}])
def test_the_last_active_admin_cannot_be_demoted_or_disabled(app, make_user, change):
    root = make_user("root", admin=True)
    make_user("off", admin=True, active=False)  # a disabled admin does not count
    with pytest.raises(Conflict, match="last active administrator"):
        users.update_user(db.session, root, **change)
    db.session.rollback()
    assert root.is_admin and root.active


@pytest.mark.parametrize("change", [{"is_admin": False}, {"active": False}])
def test_an_admin_can_be_removed_while_another_remains(app, make_user, change):
    root, other = make_user("root", admin=True), make_user("other", admin=True)
    users.update_user(db.session, other, **change)
    db.session.commit()
    with pytest.raises(Conflict):
        users.update_user(db.session, root, **change)


def test_changes_that_keep_admins_are_fine(app, make_user):
    root, alice = make_user("root", admin=True), make_user("alice")
    users.update_user(db.session, root, is_admin=True, active=True, password="another-password")
    users.update_user(db.session, alice, active=False)
    db.session.commit()
    assert root.is_admin and not alice.active


def test_basic_user_token_on_verify_still_needs_the_exact_username(client, make_user,
                                                                    make_token):
    """Case-insensitive sign-in does not loosen SPEC 3: Basic user:token names the owner
    exactly."""
    issued = make_token(make_user("Alice"))
    assert client.get("/verify", headers=basic("Alice", issued.raw)).status_code == 200
    refused = client.get("/verify", headers=basic("alice", issued.raw))
    assert refused.status_code == 401 and refused.headers["X-Auth-Error"] == "invalid"
