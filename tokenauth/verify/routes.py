"""Route rules (SPEC 3): where a token may be used, and the path normaliser they rely on.

A rule is ``"<METHOD> <pattern>"``: METHOD in capitals or ``*`` (``GET`` also covers
``HEAD``); the pattern starts with ``/`` and is matched segment by segment, empty segments
ignored, literals case-sensitive, ``*`` exactly one segment, ``**`` zero or more.

:func:`normalise_path` is the security boundary: it must see the same path nginx routes
(``$uri``: the request URI without its query, percent-decoded once, ``//`` merged, ``.``
and ``..`` resolved) and give up -- None, so the token is refused -- on anything where a
product might see a different path: an encoded ``/``, a backslash, a control character,
``..`` above the root, invalid percent-encoding or UTF-8 (overlong forms included), an
escape left after decoding once (double encoding). Pure functions, no Flask.
"""
from __future__ import annotations

import re

MAX_RULES = 32
MAX_RULE_LENGTH = 512
MAX_URI_LENGTH = 8192
METHOD_RE = re.compile(r"\*|[A-Z]{1,20}")
# Pattern segments: printable, no space, and none of what the normaliser refuses or decodes.
SEGMENT_RE = re.compile(r"\*\*?|[^\x00-\x20\x7f-\x9f%?#\\/*]+")
_ESCAPE = re.compile(rb"%([0-9A-Fa-f]{2})")
_STILL_ENCODED = re.compile(r"%[0-9A-Fa-f]{2}")


def normalise_path(uri: str | None) -> str | None:
    """The path nginx routes for ``uri`` (an ``X-Original-URI``), or None when it cannot be
    told with certainty."""
    if not uri or len(uri) > MAX_URI_LENGTH or not uri.startswith("/"):
        return None
    path = uri.split("?", 1)[0]
    if "#" in path or "\\" in path:
        return None
    try:
        raw = path.encode("latin-1")  # WSGI carries the request's bytes as latin-1 text
    except UnicodeEncodeError:
        return None
    if re.search(rb"%2[Ff]|%5[Cc]|%(?![0-9A-Fa-f]{2})", raw):
        return None  # an encoded / or \, or a % that is not an escape
    try:
        decoded = _ESCAPE.sub(lambda m: bytes((int(m.group(1), 16),)), raw).decode("utf-8")
    except UnicodeDecodeError:  # invalid or overlong UTF-8
        return None
    if any(ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F for char in decoded) or "\\" in decoded:
        return None
    if _STILL_ENCODED.search(decoded):
        return None  # double encoding: a product that decodes again would see another path
    segments: list[str] = []
    for segment in decoded.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if not segments:
                return None  # above the root
            segments.pop()
        else:
            segments.append(segment)
    trailing = "/" if decoded.endswith(("/", "/.", "/..")) and segments else ""
    return "/" + "/".join(segments) + trailing


def rule_problem(rule) -> str | None:
    """Why ``rule`` is not a valid route rule, or None when it is."""
    if not isinstance(rule, str) or len(rule) > MAX_RULE_LENGTH:
        return f"must be a string of at most {MAX_RULE_LENGTH} characters"
    method, _, pattern = rule.partition(" ")
    if not METHOD_RE.fullmatch(method):
        return "must start with an HTTP method in capitals (GET, POST, ...) or *"
    if not pattern.startswith("/"):
        return "must be '<METHOD> <pattern>' with a pattern starting with /"
    if not all(SEGMENT_RE.fullmatch(segment) for segment in _segments(pattern)):
        return ("pattern segments are literals (no spaces, %, ?, #, \\ or control "
                "characters), * (one segment) or ** (any number of segments)")
    return None


class RouteRules:
    """A token's rules, compiled; :meth:`allows` decides a request."""

    def __init__(self, rules=()):
        problems = [f"{rule!r}: {rule_problem(rule)}" for rule in rules if rule_problem(rule)]
        if problems:
            raise ValueError("; ".join(problems))
        if len(rules) > MAX_RULES:
            raise ValueError(f"at most {MAX_RULES} route rules")
        self.rules = tuple(rules)
        self._compiled = tuple((method, tuple(_segments(pattern)))
                               for method, _, pattern in (rule.partition(" ") for rule in rules))

    def __bool__(self) -> bool:
        return bool(self._compiled)

    def allows(self, method: str | None, uri: str | None) -> bool:
        """True when the request matches a rule. A missing method or URI, or a path that
        :func:`normalise_path` refuses, matches nothing."""
        if not method:
            return False
        path = normalise_path(uri)
        return path is not None and self.matches(method, path)

    def matches(self, method: str, path: str) -> bool:
        """True when a rule matches ``method`` and the already normalised ``path``."""
        segments = _segments(path)
        return any(_method_matches(rule_method, method) and _match(pattern, segments)
                   for rule_method, pattern in self._compiled)


class _NothingAllowed:
    """What a stored rule list that no longer compiles becomes: fail closed."""

    rules = ()

    def __bool__(self) -> bool:
        return True

    def allows(self, method, uri) -> bool:
        return False


def compile_rules(rules) -> RouteRules | None:
    """``rules`` (as stored) compiled for /verify: None when there are none (the token is
    not restricted); rules that do not compile allow nothing."""
    if not rules:
        return None
    try:
        return RouteRules(tuple(rules))
    except (ValueError, TypeError):
        return _NothingAllowed()


def _segments(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]


def _method_matches(rule_method: str, method: str) -> bool:
    return rule_method in ("*", method) or (rule_method == "GET" and method == "HEAD")


def _match(pattern: tuple, segments: list) -> bool:
    """Segment glob: ``*`` one segment, ``**`` any number. Greedy with one backtrack point,
    so hostile input costs at most len(pattern) x len(segments) steps."""
    p = s = 0
    star_p, star_s = -1, 0
    while s < len(segments):
        if p < len(pattern) and pattern[p] == "**":
            star_p, star_s = p, s
            p += 1
        elif p < len(pattern) and pattern[p] in ("*", segments[s]):
            p += 1
            s += 1
        elif star_p >= 0:
            star_s += 1
            p, s = star_p + 1, star_s
        else:
            return False
    while p < len(pattern) and pattern[p] == "**":
        p += 1
    return p == len(pattern)
