"""Just enough of an nginx configuration parser to check our files: directives, their
arguments and blocks; comments dropped, quotes removed."""
from __future__ import annotations

import dataclasses
import re

TOKEN = re.compile(r"""
    \#[^\n]*                    # a comment
  | "((?:[^"\\]|\\.)*)"         # a double-quoted argument
  | '((?:[^'\\]|\\.)*)'         # a single-quoted argument
  | ([{};])                     # punctuation
  | ([^\s{};"'\#][^\s{};]*)     # a bare word (may contain # after its first character)
  | (\s+)
""", re.X)


@dataclasses.dataclass
class Directive:
    name: str
    args: list
    block: list | None = None  # child directives, for block directives

    def find(self, name: str, *args) -> list["Directive"]:
        """Children called ``name`` whose arguments start with ``args``."""
        return [child for child in self.block or ()
                if child.name == name and child.args[:len(args)] == list(args)]

    def one(self, name: str, *args) -> "Directive":
        found = self.find(name, *args)
        assert len(found) == 1, f"expected one {name} {args} in {self.name}, found {len(found)}"
        return found[0]

    def values(self, name: str) -> list[list]:
        return [child.args for child in self.find(name)]

    def headers(self) -> dict:
        """``proxy_set_header`` name -> value (the last wins, as in nginx)."""
        return {args[0].lower(): args[1] for args in self.values("proxy_set_header")}


def tokens(text: str):
    position = 0
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None:
            raise ValueError(f"cannot parse nginx config at {text[position:position + 40]!r}")
        position = match.end()
        double, single, punctuation, word, _space = match.groups()
        if double is not None or single is not None:
            yield ("word", double if double is not None else single)
        elif punctuation:
            yield (punctuation, punctuation)
        elif word:
            yield ("word", word)


def parse(text: str) -> Directive:
    """The whole file as the children of a root directive."""
    stream = list(tokens(text))
    root, index = _parse_block(stream, 0, top=True)
    return Directive("<root>", [], root)


def _parse_block(stream, index, top=False):
    directives = []
    while index < len(stream):
        kind, value = stream[index]
        if kind == "}":
            if top:
                raise ValueError("unbalanced }")
            return directives, index + 1
        words = []
        while stream[index][0] == "word":
            words.append(stream[index][1])
            index += 1
        kind = stream[index][0]
        if kind == ";":
            directives.append(Directive(words[0], words[1:]))
            index += 1
        elif kind == "{":
            block, index = _parse_block(stream, index + 1)
            directives.append(Directive(words[0], words[1:], block))
        else:
            raise ValueError(f"unexpected {kind} after {words}")
    if not top:
        raise ValueError("missing }")
    return directives, index


def shape(directive: Directive) -> list:
    """Nested lists of every directive and argument: two configs with the same shape run
    the same, whatever their comments and spacing."""
    return [[child.name, *child.args, shape(child) if child.block is not None else None]
            for child in directive.block or ()]
