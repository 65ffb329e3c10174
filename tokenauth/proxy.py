"""Trusting ``X-Forwarded-*`` / ``X-Real-IP`` only from ``TOKENAUTH_TRUSTED_PROXIES``.

Werkzeug's ProxyFix applies the forwarded headers; this middleware in front of it strips
them (and the external-user header) unless the direct peer is a trusted proxy, and lets
``X-Real-IP`` (nginx's ``$remote_addr``, which a client cannot forge) win over
``X-Forwarded-For``.
"""
from __future__ import annotations

import ipaddress

from werkzeug.middleware.proxy_fix import ProxyFix

FORWARDED_KEYS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_X_FORWARDED_PROTO",
                  "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PORT", "HTTP_X_FORWARDED_PREFIX")
TRUSTED_ENVIRON_KEY = "tokenauth.trusted_proxy"


def environ_key(header_name: str) -> str:
    return "HTTP_" + header_name.upper().replace("-", "_")


class TrustedProxyMiddleware:
    def __init__(self, app, networks, external_user_header: str | None = None):
        self.networks = tuple(networks)
        self.strip = FORWARDED_KEYS + ((environ_key(external_user_header),)
                                       if external_user_header else ())
        self.app = ProxyFix(app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)

    def is_trusted(self, address: str | None) -> bool:
        try:
            peer = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        return any(peer in network for network in self.networks)

    def __call__(self, environ, start_response):
        trusted = self.is_trusted(environ.get("REMOTE_ADDR"))
        environ[TRUSTED_ENVIRON_KEY] = trusted
        if not trusted:
            for key in self.strip:
                environ.pop(key, None)
        else:
            forwarded = environ.get("HTTP_X_REAL_IP") or environ.get("HTTP_X_FORWARDED_FOR", "")
            client = forwarded.split(",")[-1].strip()
            if _is_ip(client):
                environ["HTTP_X_FORWARDED_FOR"] = client
            else:  # garbage is not an address: keep the peer's
                environ.pop("HTTP_X_FORWARDED_FOR", None)
        return self.app(environ, start_response)


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
