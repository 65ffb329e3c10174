"""The token format of SPEC 2: shape, entropy, check digits, keyed hash."""
import hashlib
import hmac
import re
import zlib

import pytest
from hypothesis import given, settings, strategies as st

from tokenauth.security import tokens

SPEC_RE = re.compile(r"^[a-z0-9]+_[0-9A-Za-z]{46,}$")


def test_generated_token_matches_the_spec_shape():
    token = tokens.generate("tka")
    assert SPEC_RE.match(token)
    assert token.startswith("tka_")
    assert len(token) == len("tka_") + tokens.BODY_LENGTH + tokens.CHECK_LENGTH


def test_check_is_crc32_in_six_base62_digits():
    token = tokens.generate("tka")
    prefixed, check = token[:-6], token[-6:]
    value = 0
    for char in check:
        value = value * 62 + tokens.ALPHABET.index(char)
    assert value == zlib.crc32(prefixed.encode())


@pytest.mark.parametrize("number, expected", [
    (0, "000000"), (61, "00000z"), (62, "000010"), (2**32 - 1, "4gfFC3"),
])
def test_base62_is_most_significant_first_and_zero_padded(number, expected):
    assert tokens.base62(number, 6) == expected


@given(number=st.integers(min_value=0, max_value=2**80), width=st.integers(0, 16))
def test_base62_is_the_number_in_base62_padded_to_width(number, width):
    encoded = tokens.base62(number, width)
    value = 0
    for char in encoded:
        value = value * 62 + tokens.ALPHABET.index(char)
    assert value == number
    assert len(encoded) == max(width, len(encoded.lstrip("0")))  # no padding beyond width


def test_tokens_are_unique_and_use_the_whole_alphabet():
    bodies = [tokens.generate("tka")[4:-6] for _ in range(500)]
    assert len(set(bodies)) == 500
    assert set("".join(bodies)) == set(tokens.ALPHABET)


@pytest.mark.parametrize("prefix", ["tka", "acme", "x9"])
def test_prefix_is_configurable_and_parses(prefix):
    token = tokens.generate(prefix)
    assert token.startswith(prefix + "_")
    assert tokens.parse(token) == token


def test_every_single_changed_character_is_rejected():
    token = tokens.generate("tka")
    for position in range(len(token)):
        for replacement in ("0", "a", "Z"):
            if token[position] == replacement or token[position] == "_":
                continue
            changed = token[:position] + replacement + token[position + 1:]
            with pytest.raises(tokens.MalformedToken):
                tokens.parse(changed)


@given(st.text(max_size=300))
@settings(max_examples=300)
def test_arbitrary_text_is_never_accepted(text):
    with pytest.raises(tokens.MalformedToken):
        tokens.parse(text)


@pytest.mark.parametrize("value", [
    "", "tka_", "TKA_" + "a" * 46, "tka-" + "a" * 46, "tka_" + "a" * 45,
    "tka_" + "a" * 300, "tka_" + "é" * 46, " tka_" + "a" * 46,
])
def test_malformed_shapes(value):
    assert not tokens.looks_like_token(value)
    with pytest.raises(tokens.MalformedToken):
        tokens.parse(value)


def test_hash_is_keyed_hmac_sha256():
    token = tokens.generate("tka")
    digest = tokens.token_hash("pepper-one", token)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == tokens.token_hash("pepper-one", token)
    assert digest != tokens.token_hash("pepper-two", token)


def test_the_hash_of_a_known_token_never_changes():
    """Stored hashes must keep matching across releases: RFC 2104 HMAC-SHA256, hex."""
    token = "tka_" + "A" * 40 + tokens.checksum("tka_" + "A" * 40)
    assert tokens.token_hash("pepper", token) == hmac.new(
        b"pepper", token.encode(), hashlib.sha256).hexdigest()
    assert tokens.token_hash("pepper", "tka_x") == (
        "5dcbba986b73f9ebe66e8dd1e8e6d0d34fa4bedbeab9cab02932f43a0300f611")  # openssl dgst -hmac


def test_a_bound_hasher_hashes_each_token_on_its_own():
    """/verify's hasher keys once and hashes on copies: no token may leave a trace in the
    next one's hash."""
    hash_token = tokens.token_hasher("pepper")
    first, second = tokens.generate("tka"), tokens.generate("tka")
    for token in (first, second, first):
        assert hash_token(token) == hmac.new(b"pepper", token.encode(), hashlib.sha256).hexdigest()


@settings(max_examples=300, deadline=None)
@given(pepper=st.text(max_size=200), token=st.text(max_size=300))
def test_the_bound_hasher_is_rfc_2104_hmac_for_every_pepper_and_token(pepper, token):
    """The hasher builds HMAC from two prepared SHA-256 states: it must equal ``hmac.new``
    for peppers shorter than, exactly and longer than SHA-256's 64-byte block (hashed
    first), in any script, or stored hashes would stop matching."""
    expected = hmac.new(pepper.encode(), token.encode(), hashlib.sha256).hexdigest()
    assert tokens.token_hasher(pepper)(token) == expected


@pytest.mark.parametrize("length", [0, 1, 63, 64, 65, 128, 1000])
def test_the_bound_hasher_matches_hmac_at_the_block_boundaries(length):
    pepper = "p" * length
    token = tokens.generate("tka")
    assert tokens.token_hasher(pepper)(token) == hmac.new(
        pepper.encode(), token.encode(), hashlib.sha256).hexdigest()


def test_hint_shows_prefix_and_last_four_only():
    token = tokens.generate("tka")
    assert tokens.hint(token) == f"tka_...{token[-4:]}"


TOKENISH = st.builds(lambda prefix, body, tail: f"{prefix}_{body}{tail}",
                     st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True),
                     st.from_regex(r"[0-9A-Za-z]{40,260}", fullmatch=True),
                     st.sampled_from(["", " ", "\n", "_", "é", "\x00"]))


@settings(max_examples=400, deadline=None)
@given(value=st.one_of(st.text(max_size=300), TOKENISH))
def test_the_shape_check_is_the_spec_pattern_and_the_length_bound(value):
    """One compiled pattern does both checks (the length in a lookahead): it must say
    exactly what the SPEC's pattern and the length bound say together, newlines included."""
    expected = len(value) <= tokens.MAX_TOKEN_LENGTH and SPEC_RE.fullmatch(value) is not None
    assert bool(tokens.looks_like_token(value)) is expected
