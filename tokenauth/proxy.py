"""Trusting ``X-Forwarded-*`` / ``X-Real-IP`` only from ``TOKENAUTH_TRUSTED_PROXIES``.

One rule for the whole service: :class:`TrustedProxies` decides the client address for
/verify (answered below Flask) and, through :class:`TrustedProxyMiddleware`, for the Flask
app. Headers from an untrusted peer are dropped; ``X-Real-IP`` (nginx's ``$remote_addr``,
which a client cannot forge) wins over ``X-Forwarded-For``; every address is normalised, so
``fe80::1%eth0``, ``::ffff:192.0.2.1`` and ``2001:DB8::1`` are stored and matched as
``fe80::1``, ``192.0.2.1`` and ``2001:db8::1``.
"""
from __future__ import annotations

import functools
import ipaddress
import re

from werkzeug.middleware.proxy_fix import ProxyFix

FORWARDED_KEYS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_X_FORWARDED_PROTO",
                  "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PORT", "HTTP_X_FORWARDED_PREFIX")
TRUSTED_ENVIRON_KEY = "tokenauth.trusted_proxy"
# A mount prefix is a plain path: "/auth", "/tools/tokens". Never "//host", "/\\host", "/..".
PREFIX_RE = re.compile(r"(?:/(?!\.{1,2}(?:/|$))[A-Za-z0-9._~-]+)+")
MAX_ADDRESS_LENGTH = 64  # longer than any IPv6 text form with a zone id
MAX_FORWARDED_LENGTH = 256  # longer X-Forwarded-For lists are decided but not cached


@functools.lru_cache(maxsize=4096)
def normalise_address(text: str | None) -> str | None:
    """The canonical text of an IP address, without zone id, IPv4-mapped IPv6 as IPv4; None
    when ``text`` is not an address."""
    if not text or len(text) > MAX_ADDRESS_LENGTH:
        return None
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)


class TrustedProxies:
    """``TOKENAUTH_TRUSTED_PROXIES`` applied to a WSGI environ."""

    def __init__(self, networks):
        self.networks = tuple(networks)
        self._verdicts: dict[str, bool] = {}  # peer address -> trusted; peers are few
        # /verify asks for every request, and the same few (peer, forwarded) pairs come back:
        # one cached call instead of the trust check, the parsing and the normalising.
        self._client_of = functools.lru_cache(maxsize=4096)(self._decide)

    def is_trusted(self, peer: str | None) -> bool:
        verdict = self._verdicts.get(peer)
        if verdict is None:
            address = normalise_address(peer)
            verdict = address is not None and any(
                ipaddress.ip_address(address) in network for network in self.networks)
            if len(self._verdicts) < 1024:
                self._verdicts[peer] = verdict
        return verdict

    def client_address(self, environ) -> str | None:
        """The client's address: what a trusted proxy says it is, else the peer's."""
        peer = environ.get("REMOTE_ADDR")
        forwarded = environ.get("HTTP_X_REAL_IP") or environ.get("HTTP_X_FORWARDED_FOR")
        if forwarded and len(forwarded) > MAX_FORWARDED_LENGTH:  # kept out of the cache
            return self._decide(peer, forwarded)
        return self._client_of(peer, forwarded)

    def _decide(self, peer: str | None, forwarded: str | None) -> str | None:
        if forwarded and self.is_trusted(peer):
            client = normalise_address(forwarded.rsplit(",", 1)[-1].strip())
            if client:
                return client
        return normalise_address(peer)


class TrustedProxyMiddleware:
    """Prepares the environ for werkzeug's ProxyFix: forwarded headers (and the external-user
    header) only from a trusted peer, the client address already decided, a prefix only
    when it is a plain path."""

    def __init__(self, app, proxies: TrustedProxies, external_user_header: str | None = None):
        self.proxies = proxies
        self.strip = FORWARDED_KEYS + ((environ_key(external_user_header),)
                                       if external_user_header else ())
        self.app = ProxyFix(app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)

    def __call__(self, environ, start_response):
        peer = environ.get("REMOTE_ADDR")
        trusted = self.proxies.is_trusted(peer)
        environ[TRUSTED_ENVIRON_KEY] = trusted
        if not trusted:
            for key in self.strip:
                environ.pop(key, None)
            environ["REMOTE_ADDR"] = normalise_address(peer) or peer
        else:
            environ["HTTP_X_FORWARDED_FOR"] = self.proxies.client_address(environ)
            prefix = environ.get("HTTP_X_FORWARDED_PREFIX")
            if prefix is not None and not PREFIX_RE.fullmatch(prefix):
                del environ["HTTP_X_FORWARDED_PREFIX"]  # e.g. //evil.example: never a Location
        return self.app(environ, start_response)


def environ_key(header_name: str) -> str:
    return "HTTP_" + header_name.upper().replace("-", "_")
