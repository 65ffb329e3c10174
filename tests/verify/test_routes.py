"""Route rules: the path normaliser (the security boundary) and segment matching."""
import string
from urllib.parse import quote

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tokenauth.verify.routes import MAX_RULES, RouteRules, normalise_path, rule_problem


@pytest.mark.parametrize("uri, path", [
    ("/api/items", "/api/items"),
    ("/api/items?x=1&y=/../..", "/api/items"),     # the query is not the path
    ("/api/items/", "/api/items/"),
    ("//api///items", "/api/items"),                # repeated / merged
    ("/api/./items", "/api/items"),
    ("/api/x/../items", "/api/items"),
    ("/api/items/.", "/api/items/"),
    ("/api/items/x/..", "/api/items/"),
    ("/api/%69tems", "/api/items"),                 # decoded once
    ("/api/%2e%2E/admin", "/admin"),                # encoded dots are dots
    ("/api/%2e/items", "/api/items"),
    ("/api/caf%C3%A9", "/api/café"),                # UTF-8
    ("/api/caf\xc3\xa9", "/api/café"),              # raw UTF-8 bytes as WSGI passes them
    ("/api/a%20b", "/api/a b"),
    ("/api/a+b", "/api/a+b"),                       # + is not a space in a path
    ("/api/%25", "/api/%"),                         # a lone % after decoding once
    ("/api/%3F", "/api/?"),                         # an encoded ? is part of the path
    ("/" + "a" * 5000, "/" + "a" * 5000),           # overlong segments are just long
    ("/", "/"),
])
def test_paths_normalise_as_nginx_does(uri, path):
    assert normalise_path(uri) == path


@pytest.mark.parametrize("uri", [
    None, "", "api/items", "*", "http://host/api",
    "/api/a%2Fb", "/api/a%2fb",                     # encoded /
    "/api/a%5Cb", "/api\\items", "/api/a%5c..%5cb",  # backslash, raw or encoded
    "/api/%252F", "/api/%252e%252e/x", "/api/%2541",  # double encoding
    "/..", "/api/../..", "/../etc/passwd", "/%2e%2e/x",  # above the root
    "/api/%00", "/api/a%0Ab", "/api/a%7F", "/api/a%C2%85b",  # control characters (C0, DEL, C1)
    "/api/%", "/api/%G1", "/api/%4",                 # not an escape
    "/api/%C0%AF", "/api/%E0%80%AF", "/api/%FF",     # overlong or invalid UTF-8
    "/api/items#frag",
    "/" + "a" * 9000,                               # longer than any request line we accept
    "/api/\u2603",                                  # not a WSGI (latin-1) string
])
def test_paths_that_cannot_be_told_for_certain_are_refused(uri):
    assert normalise_path(uri) is None


@pytest.mark.parametrize("rule", ["GET /", "* /**", "POST /api/items", "GET /api/*/read",
                                  "DELETE /api/**/x", "PATCH /a/b.c/d-e_f~g@h:i"])
def test_valid_rules(rule):
    assert rule_problem(rule) is None


@pytest.mark.parametrize("rule", ["get /api", "GET", "GET api", "GET  /api", "/api",
                                  "GET /api/a*", "GET /api/***", "GET /a b", "GET /a%2F",
                                  "GET /a?b", "GET /a#b", "GET /a\\b", "GET /a\x00",
                                  "G3T /", "GET /" + "a" * 600, 42, None])
def test_invalid_rules(rule):
    assert rule_problem(rule)


def test_more_than_the_maximum_of_rules_is_refused():
    with pytest.raises(ValueError, match="at most"):
        RouteRules([f"GET /r{i}" for i in range(MAX_RULES + 1)])


@pytest.mark.parametrize("rules, method, uri, allowed", [
    (["GET /api/items"], "GET", "/api/items", True),
    (["GET /api/items"], "HEAD", "/api/items", True),   # GET covers HEAD
    (["HEAD /api/items"], "GET", "/api/items", False),
    (["GET /api/items"], "POST", "/api/items", False),
    (["GET /api/items"], "get", "/api/items", False),   # methods are case-sensitive
    (["* /api/items"], "DELETE", "/api/items", True),
    (["GET /api/items"], "GET", "/api/Items", False),   # literals are case-sensitive
    (["GET /api/items"], "GET", "/api/items/", True),   # empty segments ignored
    (["GET /api/*"], "GET", "/api/items", True),
    (["GET /api/*"], "GET", "/api", False),             # * is exactly one segment
    (["GET /api/*"], "GET", "/api/a/b", False),
    (["GET /api/**"], "GET", "/api", True),             # ** is zero or more
    (["GET /api/**"], "GET", "/api/a/b/c", True),
    (["GET /api/**/x"], "GET", "/api/x", True),
    (["GET /api/**/x"], "GET", "/api/a/b/x", True),
    (["GET /api/**/x"], "GET", "/api/a/b/y", False),
    (["GET /api/*/x/**"], "GET", "/api/1/x", True),
    (["GET /**"], "GET", "/anything/at/all", True),
    (["GET /**"], "POST", "/anything", False),
    (["GET /api/items"], "GET", "/api/other/../items", True),
    (["GET /api/items"], "GET", "/api/items/../../admin", False),
    (["GET /admin"], "GET", "/api/%2e%2e/admin", True),  # where nginx would route it
    (["GET /api/**"], "GET", "/api/a%2Fb", False),      # fail closed
    (["GET /api/**"], None, "/api/a", False),           # missing method
    (["GET /api/**"], "GET", None, False),              # missing URI
    (["GET /a", "POST /b"], "POST", "/b", True),
])
def test_matching(rules, method, uri, allowed):
    assert RouteRules(rules).allows(method, uri) is allowed


def test_no_rules_is_falsy():
    assert not RouteRules([])
    assert RouteRules(["GET /"])


SEGMENT = st.text(alphabet=string.ascii_letters + string.digits + "-._~é€", min_size=1,
                  max_size=12).filter(lambda s: s not in (".", ".."))


@given(segments=st.lists(SEGMENT, max_size=8), data=st.data())
@settings(max_examples=300, deadline=None)  # no timing: the machine is shared
def test_any_encoding_of_a_clean_path_normalises_to_it(segments, data):
    """Percent-encode any characters, add empty and dot segments: the same path."""
    path = "/" + "/".join(segments)
    parts = []
    for segment in segments:
        encoded = "".join(quote(char, safe="") if data.draw(st.booleans()) else
                          quote(char, safe=string.ascii_letters + string.digits + "-._~")
                          for char in segment)
        parts.append(encoded + data.draw(st.sampled_from(["", "/", "/.", "//"])))
    uri = "/" + "/".join(parts) + data.draw(st.sampled_from(["", "?a=1", "?/../.."]))
    uri = uri.encode("utf-8").decode("latin-1")  # what WSGI hands over
    assert normalise_path(uri).rstrip("/") == path.rstrip("/")


@given(uri=st.text(max_size=200).map(lambda t: "/" + t))
@example(uri="/%2e%2e")
@settings(max_examples=500, deadline=None)  # no timing: the machine is shared
def test_a_normalised_path_is_plain(uri):
    path = normalise_path(uri)
    if path is None:
        return
    assert path.startswith("/")
    assert "//" not in path and "\\" not in path
    assert all(segment not in (".", "..") for segment in path.split("/"))
    assert not any(ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F for char in path)


@given(uri=st.text(alphabet="/.%2fFeE5cC0aA" + "ab", max_size=40).map(lambda t: "/" + t))
@settings(max_examples=500, deadline=None)  # no timing: the machine is shared
def test_matching_never_allows_what_the_normaliser_refuses(uri):
    assert RouteRules(["* /**"]).allows("GET", uri) is (normalise_path(uri) is not None)
