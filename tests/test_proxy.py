"""Forwarded headers count only from trusted proxies (TOKENAUTH_TRUSTED_PROXIES)."""
import pytest

from .helpers import bearer, one_database

backend = one_database()  # header trust, not storage


@pytest.fixture
def token(make_user, make_token):
    return make_token(make_user("alice"))


def origin_after_use(client, token, headers, peer):
    from tokenauth.extensions import db
    from tokenauth.models import ApiToken
    token_id = token.token.id
    client.get("/verify", headers={**bearer(token.raw), **headers},
               environ_base={"REMOTE_ADDR": peer})
    db.session.remove()
    return db.session.get(ApiToken, token_id).last_accessed_origin


@pytest.mark.parametrize("peer, headers, expected", [
    ("127.0.0.1", {"X-Real-IP": "203.0.113.5"}, "203.0.113.5"),
    ("127.0.0.1", {"X-Forwarded-For": "203.0.113.5"}, "203.0.113.5"),
    ("127.0.0.1", {"X-Forwarded-For": "6.6.6.6, 203.0.113.5"}, "203.0.113.5"),
    ("127.0.0.1", {"X-Real-IP": "203.0.113.5", "X-Forwarded-For": "6.6.6.6"}, "203.0.113.5"),
    ("127.0.0.1", {"X-Forwarded-For": "not-an-ip"}, "127.0.0.1"),
    ("192.0.2.10", {"X-Real-IP": "203.0.113.5"}, "192.0.2.10"),
    ("192.0.2.10", {"X-Forwarded-For": "203.0.113.5"}, "192.0.2.10"),
])
def test_client_ip(client, token, peer, headers, expected):
    assert origin_after_use(client, token, headers, peer) == expected


def test_trusted_proxies_setting_is_honoured(make_app, token):
    client = make_app(trusted_proxies=("192.0.2.0/24",)).test_client()
    assert origin_after_use(client, token, {"X-Real-IP": "203.0.113.5"}, "192.0.2.10") == "203.0.113.5"
    assert origin_after_use(client, token, {"X-Real-IP": "203.0.113.6"}, "127.0.0.1") == "127.0.0.1"


@pytest.mark.parametrize("forwarded, expected", [
    ("fe80::1%eth0", "fe80::1"),
    ("fe80::abcd:1%" + "z" * 40, "fe80::abcd:1"),  # longer than the column without the zone
    ("::ffff:203.0.113.5", "203.0.113.5"),
    ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
])
def test_client_addresses_are_stored_normalised(client, token, forwarded, expected):
    assert origin_after_use(client, token, {"X-Real-IP": forwarded}, "127.0.0.1") == expected


def test_an_untrusted_peer_with_a_zone_id_is_normalised(client, token):
    assert origin_after_use(client, token, {}, "fe80::7%" + "q" * 40) == "fe80::7"


@pytest.mark.parametrize("prefix", ["//evil.example", "/\\evil.example", "/..", "/a/../b",
                                    "http://evil.example", "/with space", "auth", "/a//b"])
def test_a_prefix_that_is_not_a_plain_path_is_ignored(client, prefix):
    response = client.get("/", headers={"X-Forwarded-Prefix": prefix})
    assert response.status_code == 302
    assert response.location == "/tokens"


def test_a_plain_prefix_is_applied(client):
    response = client.get("/", headers={"X-Forwarded-Prefix": "/tools/auth"})
    assert response.location == "/tools/auth/tokens"


def proxies_trusting_loopback():
    import ipaddress
    from tokenauth.proxy import TrustedProxies
    return TrustedProxies([ipaddress.ip_network("127.0.0.0/8")])


@pytest.mark.parametrize("peer, forwarded, expected", [
    ("127.0.0.1", "203.0.113.5", "203.0.113.5"),
    ("192.0.2.10", "203.0.113.5", "192.0.2.10"),  # untrusted: its header is ignored
    ("127.0.0.1", None, "127.0.0.1"),
    ("::ffff:127.0.0.1", "2001:DB8::1", "2001:db8::1"),
])
def test_the_decided_address_is_the_same_every_time_a_pair_comes_back(peer, forwarded,
                                                                          expected):
    """/verify's client addresses are remembered per (peer, forwarded header) pair: the
    tenth answer must be the first one, for trusted and untrusted peers alike."""
    proxies = proxies_trusting_loopback()
    environ = {"REMOTE_ADDR": peer, **({"HTTP_X_REAL_IP": forwarded} if forwarded else {})}
    assert [proxies.client_address(dict(environ)) for _ in range(10)] == [expected] * 10


def test_a_long_forwarded_list_is_decided_but_never_remembered():
    """A client behind an untrusted peer can send any X-Forwarded-For: long ones must not
    fill the worker's memory, and a trusted one still names its last address."""
    proxies = proxies_trusting_loopback()
    long_list = ", ".join(["198.51.100.7"] * 40) + ", 203.0.113.9"
    assert proxies.client_address({"REMOTE_ADDR": "127.0.0.1",
                                   "HTTP_X_FORWARDED_FOR": long_list}) == "203.0.113.9"
    assert proxies.client_address({"REMOTE_ADDR": "192.0.2.10",
                                   "HTTP_X_FORWARDED_FOR": long_list}) == "192.0.2.10"
    assert proxies._client_of.cache_info().currsize == 0
