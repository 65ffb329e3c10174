"""The benchmark's raw floor (bench/floors.py) answers what tokenauth answers for the
benchmark's token, so the server and nginx handle the same answer in both rows."""
from bench.floors import raw_app

from .helpers import bearer, one_database

backend = one_database()  # the answer's framing, not storage


def test_the_floor_answers_the_headers_tokenauth_answers_for_the_benchmarks_token(
        client, make_user, make_token):
    issued = make_token(make_user("bench"))  # the default expiry, as `tokens create` gives
    tokenauth = client.get("/verify", headers=bearer(issued.raw))
    floor = {}
    body = raw_app({"PATH_INFO": "/verify"},
                   lambda status, headers: floor.update(status=status, headers=headers))
    assert (floor["status"], b"".join(body)) == ("200 OK", tokenauth.data)
    assert [(name, len(value)) for name, value in floor["headers"]] == [
        (name, len(value)) for name, value in tokenauth.headers.items()]
