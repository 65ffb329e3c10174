"""tokenauth.rules: each input rule, its messages, and its OpenAPI keywords."""
import re
from datetime import datetime, timezone

import pytest
from marshmallow import Schema, ValidationError

from tokenauth import rules
from tokenauth.errors import InvalidInput
from tokenauth.models import new_id

from .rule_samples import SAMPLES


def cases(kind):
    return [pytest.param(rule, value, id=f"{name}-{value[:20]!r}")
            for name, (rule, samples) in SAMPLES.items() for value in samples[kind]]


@pytest.mark.parametrize("rule, value", cases("accepted"))
def test_accepted(rule, value):
    assert rule.accepts(value)


@pytest.mark.parametrize("rule, value", cases("refused") + cases("server"))
def test_refused_with_the_rule_in_the_message(rule, value):
    with pytest.raises(InvalidInput) as refused:
        rule.check(value)
    assert refused.value.errors[rule.field_name][0].endswith(rule.summary)
    assert str(refused.value).startswith(f"invalid {rule.field_name}: ")


@pytest.mark.parametrize("rule, value", cases("accepted") + cases("refused"))
def test_the_openapi_keywords_decide_like_the_rule_in_python(rule, value):
    """The schema side of the same samples, with Python's regex engine (the JavaScript one
    is checked in tests/browser/test_openapi_patterns.py)."""
    keywords = rule.openapi
    pattern = keywords["pattern"].replace("$", r"\Z")  # ECMA-262 $: the very end only
    by_schema = (keywords.get("minLength", 0) <= len(value) <= keywords.get("maxLength", 10**9)
                 and re.search(pattern, value) is not None)
    assert by_schema == rule.accepts(value)


@pytest.mark.parametrize("given, stored", [
    ("  ci  ", "ci"), ("\u3000名前\u00a0", "名前"), ("a  b", "a  b"),
])
def test_names_are_stripped_of_surrounding_spaces(given, stored):
    assert rules.TOKEN_NAME.check(given) == stored


@pytest.mark.parametrize("given, stored", [
    ("10.0.0.1", "10.0.0.1/32"), ("10.1.2.3/8", "10.0.0.0/8"), ("2001:DB8::1", "2001:db8::1/128"),
])
def test_origins_are_normalised(given, stored):
    assert rules.ORIGIN.check(given) == stored


@pytest.mark.parametrize("given, expected", [
    ("2099-01-31", datetime(2099, 1, 31, tzinfo=timezone.utc)),
    ("2099-01-01T00:00:00+02:00", datetime(2098, 12, 31, 22, tzinfo=timezone.utc)),
    ("2099-01-31T12:00:00", datetime(2099, 1, 31, 12, tzinfo=timezone.utc)),
])
def test_expiry_times_become_aware_utc(given, expected):
    parsed = rules.EXPIRES_AT.check(given)
    assert parsed == expected and parsed.tzinfo == timezone.utc


def test_scope_lists_are_sorted_without_duplicates_and_at_most_32():
    assert rules.SCOPES.check(["b", "a", "b"]) == ["a", "b"]
    assert rules.SCOPES.check(None) == []
    with pytest.raises(InvalidInput) as too_many:
        rules.SCOPES.check([f"s{i}" for i in range(33)])
    assert too_many.value.errors == {"scopes": ["At most 32 items."]}


def test_list_errors_name_the_item_like_marshmallow():
    with pytest.raises(InvalidInput) as refused:
        rules.ALLOWED_ORIGINS.check(["10.0.0.1", "nope", "::1"])
    assert list(refused.value.errors["allowed_origins"]) == [1]


def test_origin_lists_keep_order_without_duplicates():
    assert rules.ALLOWED_ORIGINS.check(["10.0.0.1", "::1", "10.0.0.1/32"]) == [
        "10.0.0.1/32", "::1/128"]


def test_fields_load_the_clean_value_and_refuse_with_the_same_message():
    class Form(Schema):
        name = rules.TOKEN_NAME.field(required=True)
        scopes = rules.SCOPES.field()

    assert Form().load({"name": "  ci ", "scopes": ["read"]}) == {"name": "ci",
                                                                   "scopes": ["read"]}
    with pytest.raises(ValidationError) as refused:
        Form().load({"name": "a\tb", "scopes": ["ok", "not ok"]})
    messages = refused.value.messages
    assert messages["name"][0].endswith(rules.TOKEN_NAME.summary)
    assert list(messages["scopes"]) == [1]
    with pytest.raises(ValidationError):
        Form().load({"name": 42})


def test_ids_are_what_new_id_makes():
    assert all(rules.is_id(new_id()) for _ in range(100))
    assert re.fullmatch(rules.ID_PATTERN[1:-1], new_id())
    for bad in ("", "self", "A" * 32, "0" * 31, "0" * 33, "0" * 32 + "\n", None, 42):
        assert not rules.is_id(bad)


def test_usernames_compare_regardless_of_case():
    assert rules.username_key("Alice") == rules.username_key("aLICE") == "alice"
