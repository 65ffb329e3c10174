import pytest

from ..helpers import PASSWORD, basic



@pytest.fixture
def as_alice(alice):
    return basic("alice", PASSWORD)


@pytest.fixture
def admin_auth(make_user):
    make_user("root", admin=True)
    return basic("root", PASSWORD)
