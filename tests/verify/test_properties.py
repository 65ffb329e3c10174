"""Property tests of /verify's headers (issue 7, "Proof in the suite"), on both databases.

Generated ``Authorization`` values (random bytes and text, base64 of random
``user:secret``, Bearer with random strings, real tokens mutated, other users' valid tokens)
with generated ``X-Forwarded-For``, ``X-Real-IP``, ``X-Original-URI`` and
``X-Original-Method``, sent to the app's WSGI callable in process (the runtime and the
/verify endpoint, no server):

- without valid credentials, never a 2xx (and never a 5xx);
- a valid credential with odd proxy headers is still 200 for its owner, never a 5xx;
- with the database unreachable, only 401 or 503, never a 200, whatever is sent.

Bounded and derandomized: CI sends the same cases every run.
"""
from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder, run_wsgi_app

from tokenauth.extensions import db
from tokenauth.runtime import current_runtime
from tokenauth.security.tokens import generate
from tokenauth.services import users as user_service

from ..helpers import PASSWORD
from ..tcp_proxy import TcpProxy

SETTINGS = settings(max_examples=150, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))
# The failure throttle would turn later random failures into 401 rate_limited; it has its
# own tests (test_throttle.py): here it stays out of the way so every answer is the decision.
NO_THROTTLE = {"verify_max_failures": 10**9, "login_max_failures": 10**9,
               "login_ip_max_failures": 10**9}


# -- strategies -------------------------------------------------------------------------

def _latin1(data: bytes) -> str:
    return data.decode("latin-1")  # what a WSGI server hands over (PEP 3333)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


header_text = st.one_of(st.binary(max_size=300).map(_latin1), st.text(max_size=300))
addresses = st.one_of(st.ip_addresses().map(str),
                      st.ip_addresses(v=6).map(lambda a: f"{a}%{'eth0' * 20}"),
                      st.ip_addresses(v=4).map(lambda a: f"::ffff:{a}"),
                      st.sampled_from(["unknown", "", " ", ",", "_hidden", "999.1.1.1",
                                       "[::1]:80", "1.2.3.4:5", "fe80::1%", "0", "localhost"]))
forwarded_for = st.one_of(header_text, st.lists(addresses, max_size=6).map(", ".join),
                          st.lists(addresses, max_size=3).map(",".join))
original_uri = st.one_of(header_text, st.sampled_from([
    "/", "/api/../../etc/passwd", "/%2e%2e/%2F", "//evil.example/x", "/a\\b", "/%00",
    "/%25%32%65", "/" + "a" * 5000, "/ü/日本", "*", "http://x/y", "/?q=%ff"]))
original_method = st.one_of(header_text, st.sampled_from(
    ["GET", "POST", "DELETE", "get", "", "CONNECT", "GET POST", "G\x00T"]))


def proxy_headers():
    """Optional X-Forwarded-For, X-Real-IP, X-Original-URI, X-Original-Method and the peer
    (trusted loopback, so the headers count, or an outside address, so they must not)."""
    return st.fixed_dictionaries({}, optional={
        "HTTP_X_FORWARDED_FOR": forwarded_for,
        "HTTP_X_REAL_IP": st.one_of(addresses, header_text),
        "HTTP_X_ORIGINAL_URI": original_uri,
        "HTTP_X_ORIGINAL_METHOD": original_method,
    }).flatmap(lambda headers: st.sampled_from(["127.0.0.1", "::1", "203.0.113.9"]).map(
        lambda peer: {**headers, "REMOTE_ADDR": peer}))


def mutated(raw: str):
    """``raw`` with one character replaced, inserted or deleted, or its case swapped."""
    index = st.integers(0, len(raw) - 1)
    char = st.characters(codec="utf-8")
    return st.one_of(
        st.tuples(index, char).map(lambda p: raw[:p[0]] + p[1] + raw[p[0] + 1:]),
        st.tuples(index, char).map(lambda p: raw[:p[0]] + p[1] + raw[p[0]:]),
        index.map(lambda i: raw[:i] + raw[i + 1:]),
        st.just(raw.swapcase()), st.just(raw[:-1]), st.just(raw + raw[-1]))


def invalid_authorization(world):
    """Authorization values that prove nobody: random, framed random, mutated real tokens,
    and real tokens presented under another user's name."""
    secrets = st.one_of(st.text(max_size=80), st.just(generate("tka")),
                        *(mutated(raw) for raw in world["tokens"].values()))
    usernames = st.one_of(st.text(max_size=40), st.sampled_from(["alice", "bob", "root"]))
    basic_pairs = st.tuples(usernames, secrets).map(lambda p: f"{p[0]}:{p[1]}".encode())
    foreign = [f"{other}:{raw}".encode() for owner, raw in world["tokens"].items()
               for other in world["tokens"] if other != owner]
    return st.one_of(
        header_text,
        st.binary(max_size=120).map(lambda b: "Basic " + _b64(b)),
        basic_pairs.map(lambda b: "Basic " + _b64(b)),
        st.sampled_from(foreign).map(lambda b: "Basic " + _b64(b)),
        st.sampled_from(["alice", "bob"]).map(lambda u: "Basic " + _b64(f"{u}:wrong".encode())),
        secrets.map(lambda s: "Bearer " + s),
        st.tuples(st.sampled_from(["Bearer", "bearer", "BEARER", "Basic", "Token", ""]),
                  header_text).map(" ".join),
    ).filter(lambda value: not _is_valid(world, value))


def _is_valid(world, value: str) -> bool:
    """True for the rare generated value that is a real credential after all."""
    raws = set(world["tokens"].values())
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() == "bearer":
        return rest.strip() in raws
    if scheme.lower() == "basic":
        try:
            user, _, secret = base64.b64decode(rest.strip(), validate=True).decode().partition(":")
        except ValueError:
            return False
        return world["tokens"].get(user) == secret or secret == PASSWORD
    return False


def valid_authorization(world):
    """alice's token framed every way SPEC 3 accepts."""
    raw = world["tokens"]["alice"]
    return st.sampled_from([f"Bearer {raw}", f"bearer {raw}", f"  Bearer   {raw}  ",
                            "Basic " + _b64(f"alice:{raw}".encode())])


# -- the app, called in process ----------------------------------------------------------

def verify(app, environ_overrides: dict, method: str = "GET") -> tuple[int, dict]:
    environ = EnvironBuilder(path="/verify", method=method).get_environ()
    environ.update(environ_overrides)
    body, status, headers = run_wsgi_app(app.wsgi_app, environ, buffered=True)
    b"".join(body)
    return int(status.split()[0]), dict(headers)


def build_world(app) -> dict:
    with app.app_context():
        service = current_runtime().tokens()
        tokens = {}
        for name in ("alice", "bob"):
            user = user_service.create_user(db.session, name, PASSWORD)
            db.session.commit()
            tokens[name] = service.create(user, "t", None, (), ()).raw
        db.session.commit()
        db.session.remove()
    return {"tokens": tokens}


@pytest.fixture
def live(make_app):
    app = make_app(**NO_THROTTLE)
    return app, build_world(app)


# -- the properties ----------------------------------------------------------------------

def test_without_valid_credentials_never_2xx_nor_5xx(live):
    app, world = live

    @SETTINGS
    @given(authorization=st.one_of(st.none(), invalid_authorization(world)),
           proxy=proxy_headers(), method=st.sampled_from(["GET", "HEAD"]))
    def check(authorization, proxy, method):
        environ = dict(proxy)
        if authorization is not None:
            environ["HTTP_AUTHORIZATION"] = authorization
        status, headers = verify(app, environ, method)
        assert status == 401, (status, headers)
        assert "X-Auth-User" not in headers
        assert headers["X-Auth-Error"] in ("missing", "malformed", "invalid")

    check()


def test_a_valid_credential_with_odd_proxy_headers_is_allowed_never_5xx(live):
    app, world = live
    runtime = app.extensions["tokenauth"]

    @SETTINGS
    @given(authorization=valid_authorization(world), proxy=proxy_headers(),
           method=st.sampled_from(["GET", "HEAD"]))
    def check(authorization, proxy, method):
        status, headers = verify(app, {**proxy, "HTTP_AUTHORIZATION": authorization}, method)
        assert status == 200, (status, headers)
        assert headers["X-Auth-User"] == "alice"
        # the last-access time and origin of these calls reach the database without error
        with app.app_context():
            runtime.flush_last_access()

    check()


@pytest.fixture
def unreachable(backend, make_app, tmp_path):
    """``(app, world)``: real tokens of a live database, and an app whose database (same
    pepper) cannot be reached: a stopped TCP proxy in front of PostgreSQL, or a SQLite file
    in a folder that does not exist."""
    live_app = make_app(**NO_THROTTLE)
    world = build_world(live_app)
    if backend == "sqlite":
        yield make_app(database_url=f"sqlite:///{tmp_path}/no-such-folder/tokenauth.db",
                       verify_cache_ttl=0, **NO_THROTTLE), world
        return
    with TcpProxy() as proxy:
        url = proxy.route(live_app.config["SQLALCHEMY_DATABASE_URI"])
        app = make_app(database_url=url, verify_cache_ttl=0, **NO_THROTTLE)
        proxy.cut()
        yield app, world
        proxy.restore()


def test_database_unreachable_only_401_or_503_never_200(unreachable):
    app, world = unreachable
    alice = {"HTTP_AUTHORIZATION": "Bearer " + world["tokens"]["alice"]}
    assert verify(app, alice)[0] == 503  # the database really is out of reach
    anything = st.one_of(st.none(), invalid_authorization(world), valid_authorization(world),
                         st.sampled_from(["Basic " + _b64(f"alice:{PASSWORD}".encode())]))

    @SETTINGS
    @given(authorization=anything, proxy=proxy_headers(), method=st.sampled_from(["GET", "HEAD"]))
    def check(authorization, proxy, method):
        environ = dict(proxy)
        if authorization is not None:
            environ["HTTP_AUTHORIZATION"] = authorization
        status, headers = verify(app, environ, method)
        assert status in (401, 503), (status, headers)
        assert "X-Auth-User" not in headers

    check()
