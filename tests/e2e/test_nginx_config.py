"""The shipped nginx files: the template the tests run is the production file, and the
production file does what SPEC 3 and the deployment guide promise."""
from __future__ import annotations

import pytest

from ..servers import ROOT
from .nginx_conf import parse, shape
from .stack import demo

PRODUCTION = ROOT / "deploy" / "nginx" / "tokenauth.conf"
# The docker-compose addresses that the production file names.
PRODUCTION_VALUES = {"LISTEN": "80", "PRODUCT_SERVER": "echo:8000",
                     "TOKENAUTH_SERVERS": demo.upstream_servers(["tokenauth:8000",
                                                                 "tokenauth2:8000"])}
IDENTITY = ("user", "user_id", "token_id", "scopes", "source")


def rendered_template() -> str:
    return demo.NginxTemplate(demo.TEMPLATE.read_text()).substitute(
        PREFIX="/run/tokenauth-nginx", NGINX_USER="nginx", **PRODUCTION_VALUES)


@pytest.fixture(scope="module")
def server():
    return parse(PRODUCTION.read_text()).one("server")


def location(server, *args):
    return server.one("location", *args)


def test_the_template_is_the_production_file_with_placeholders():
    text = rendered_template()
    begin, end = text.index("# BEGIN tokenauth.conf"), text.index("# END tokenauth.conf")
    assert (_log_paths_unnamed(shape(parse(text[begin:end])))
            == _log_paths_unnamed(shape(parse(PRODUCTION.read_text()))))
    # Around it, only what running nginx from a folder needs.
    http = parse(text).one("http")
    wrapper = {child.name for child in http.block} - {"upstream", "map", "log_format", "server"}
    assert wrapper == {"default_type", "access_log", "client_body_temp_path", "proxy_temp_path",
                       "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path"}


def _log_paths_unnamed(shape: list) -> list:
    """``shape`` with the access log's file left out: the template's is in its folder."""
    return [[item[0], "<file>", *item[2:]] if item[0] == "access_log" and len(item) > 3
            else [*item[:-1], _log_paths_unnamed(item[-1])] if isinstance(item[-1], list)
            else item for item in shape]


def test_the_template_leaves_nginx_variables_alone():
    text = rendered_template()
    assert "$remote_addr" in text and "$tokenauth_error" in text and "${" not in text


def test_upstreams_keep_connections_alive():
    root = parse(PRODUCTION.read_text())
    for name in ("tokenauth", "product"):
        assert root.one("upstream", name).values("keepalive") == [["16"]]


def test_every_proxied_location_keeps_alive_and_overwrites_the_client_address(server):
    proxied = [child for child in server.find("location") if child.find("proxy_pass")]
    assert len(proxied) == 3
    for block in proxied:
        headers = block.headers()
        assert block.values("proxy_http_version") == [["1.1"]], block.args
        assert headers["connection"] == "", block.args
        assert headers["x-real-ip"] == "$remote_addr", block.args
        assert headers["x-forwarded-for"] == "$remote_addr", block.args  # never appended


def test_the_product_location_asks_tokenauth_and_passes_only_the_identity(server):
    api = location(server, "/api/")
    assert api.values("auth_request") == [["/_tokenauth_verify"]]
    captured = {args[0]: args[1] for args in api.values("auth_request_set")}
    headers = api.headers()
    for name in IDENTITY:
        variable = f"$tokenauth_{name}"
        assert captured[variable] == f"$upstream_http_x_auth_{name}"
        assert headers[f"x-auth-{name.replace('_', '-')}"] == variable
    assert captured["$tokenauth_error"] == "$upstream_http_x_auth_error"
    assert headers["authorization"] == ""
    assert headers["x-auth-error"] == ""
    assert api.values("error_page") == [["401", "=", "@tokenauth_unauthorized"],
                                        ["403", "=", "@tokenauth_forbidden"]]


def test_denials_carry_both_challenges_and_the_reason(server):
    unauthorized = location(server, "@tokenauth_unauthorized")
    added = unauthorized.values("add_header")
    assert ["WWW-Authenticate", "$tokenauth_basic_challenge", "always"] in added
    assert ["WWW-Authenticate", "$tokenauth_bearer_challenge", "always"] in added
    assert ["X-Auth-Error", "$tokenauth_error", "always"] in added
    assert unauthorized.one("return").args[0] == "401"
    forbidden = location(server, "@tokenauth_forbidden")
    assert ["X-Auth-Error", "$tokenauth_error", "always"] in forbidden.values("add_header")
    assert forbidden.one("return").args[0] == "403"


def test_the_verify_location_is_internal_and_sends_no_body(server):
    verify = location(server, "=", "/_tokenauth_verify")
    assert verify.find("internal")
    assert verify.values("proxy_pass") == [["http://tokenauth/verify"]]
    assert verify.values("proxy_pass_request_body") == [["off"]]
    headers = verify.headers()
    assert headers["content-length"] == ""
    assert headers["x-original-uri"] == "$request_uri"
    assert headers["x-original-method"] == "$request_method"


def test_tokenauth_pages_are_under_the_prefix_without_auth_request(server):
    pages = location(server, "/auth/")
    assert not pages.find("auth_request")
    assert pages.values("proxy_pass") == [["http://tokenauth/"]]
    headers = pages.headers()
    assert headers["x-forwarded-prefix"] == "/auth"
    assert headers["x-forwarded-proto"] == "$scheme"
    internal = location(server, "~", "^/auth/(healthz|readyz|metrics|verify)(/|$)")
    assert internal.values("return") == [["404"]]


def test_the_micro_cache_variant_is_the_production_file_plus_its_cache():
    """tokenauth-microcache.conf is used instead of tokenauth.conf: everything the production
    file does (both replicas, the expiry warning, the log format) must be in it too."""
    from bench.nginx import render_microcache

    rendered = render_microcache("127.0.0.1:1", "127.0.0.1:2", 3)  # raises when drifted
    assert "server 127.0.0.1:2;" in rendered and "tokenauth2" not in rendered
