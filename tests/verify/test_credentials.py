"""Reading the Authorization header (SPEC 3), and keeping the secret out of every text form
of what was read: Credentials is a tuple, so each way a tuple turns into text is tried."""
import base64

import pytest

from tokenauth.errors import VerifyDenied
from tokenauth.security.tokens import checksum
from tokenauth.verify.credentials import read_credentials

# A fixed token: parameters must be the same in every pytest-xdist process.
TOKEN = "tka_" + "Ab1" * 13 + "x" + checksum("tka_" + "Ab1" * 13 + "x")


def basic_header(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


@pytest.mark.parametrize("header, expected", [
    (f"Bearer {TOKEN}", (TOKEN, None, True)),
    (f"  bearer   {TOKEN}  ", (TOKEN, None, True)),
    (f"Bearer  {TOKEN}", (TOKEN, None, True)),  # the quick path's shape, one space too many
    (f"Bearer {TOKEN} ", (TOKEN, None, True)),
    (f"BEARER {TOKEN}", (TOKEN, None, True)),
    (basic_header("alice", TOKEN), (TOKEN, "alice", True)),
    (basic_header("alice", "a password"), ("a password", "alice", False)),
])
def test_what_is_read(header, expected):
    credentials = read_credentials(header, allow_password=True)
    assert (credentials.secret, credentials.username, credentials.is_token) == expected


@pytest.mark.parametrize("header, reason", [
    (None, "missing"), ("   ", "missing"), ("Bearer", "malformed"), ("Bearer x", "malformed"),
    ("Bearer ", "malformed"), (f"Bearer {TOKEN} x", "malformed"), (f"Bearer {TOKEN}\x00", "malformed"),
    (f"Bearer {TOKEN}" + "A" * 300, "malformed"),  # longer than any token
    ("Token " + TOKEN, "malformed"), ("Basic %%%", "malformed"),
    (basic_header("alice", "a password"), "invalid"),  # passwords are off
])
def test_what_is_refused(header, reason):
    with pytest.raises(VerifyDenied) as refused:
        read_credentials(header, allow_password=False)
    assert refused.value.reason == reason


@pytest.mark.parametrize("header", [f"Bearer {TOKEN}", basic_header("alice", "a password")])
def test_no_text_form_shows_the_secret(header):
    credentials = read_credentials(header, allow_password=True)
    forms = [repr(credentials), str(credentials), f"{credentials}", "%s" % (credentials,),
             "{}".format(credentials), repr([credentials]), str({"c": credentials})]
    for text in forms:
        assert credentials.secret not in text
        assert "Credentials(" in text
