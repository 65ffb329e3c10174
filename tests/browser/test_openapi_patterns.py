"""The OpenAPI document's patterns mean in JavaScript what the rules enforce in Python.

Clients, and generators such as schemathesis, read each ``pattern`` as an ECMA-262 regular
expression; Chromium's JavaScript engine checks them here, with the document's length
keywords, against the samples the rules are tested with (tests/rule_samples.py).
"""
import pytest

from tokenauth import create_app, rules

from ..rule_samples import SAMPLES

pytestmark = pytest.mark.browser

# A JSON Schema string check: lengths in code points, the pattern searched, not anchored.
SCHEMA_ACCEPTS = """([keywords, values]) => values.map(value => {
    const length = [...value].length;
    return (keywords.minLength === undefined || length >= keywords.minLength)
        && (keywords.maxLength === undefined || length <= keywords.maxLength)
        && new RegExp(keywords.pattern).test(value);
})"""


@pytest.fixture(scope="module")
def js(chromium):
    page = chromium.new_page()
    yield page
    page.close()


@pytest.fixture(scope="module")
def document(tmp_path_factory):
    folder = tmp_path_factory.mktemp("openapi")
    app = create_app({"env": "testing", "instance_path": str(folder),
                      "database_url": f"sqlite:///{folder}/unused.db"})
    return app.test_client().get("/api/v1/openapi.json").json


def patterns_in(node, found=None) -> set:
    found = set() if found is None else found
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            found.add(node["pattern"])
        for value in node.values():
            patterns_in(value, found)
    elif isinstance(node, list):
        for value in node:
            patterns_in(value, found)
    return found


def test_the_document_shows_every_rule(document):
    expected = {rule.openapi["pattern"] for rule, _ in SAMPLES.values()} | {rules.ID_PATTERN}
    assert expected <= patterns_in(document)


def test_every_pattern_is_a_javascript_regex(js, document):
    problems = js.evaluate("""patterns => patterns.flatMap(pattern => {
        try { new RegExp(pattern); new RegExp(pattern, "u"); return []; }
        catch (error) { return [pattern + ": " + error]; }
    })""", sorted(patterns_in(document)))
    assert problems == []


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_javascript_decides_like_the_rule(js, name):
    rule, samples = SAMPLES[name]
    keywords = {key: rule.openapi[key] for key in ("pattern", "minLength", "maxLength")
                if key in rule.openapi}
    values = samples["accepted"] + samples["refused"]
    by_javascript = js.evaluate(SCHEMA_ACCEPTS, [keywords, values])
    by_rule = [rule.accepts(value) for value in values]
    assert dict(zip(values, by_javascript)) == dict(zip(values, by_rule))
    assert by_rule == [True] * len(samples["accepted"]) + [False] * len(samples["refused"])


def test_ids_in_javascript(js):
    from tokenauth.models import new_id
    values = [new_id(), "A" * 32, "0" * 33, "self", ""]
    accepted = js.evaluate(SCHEMA_ACCEPTS, [{"pattern": rules.ID_PATTERN}, values])
    assert accepted == [rules.is_id(value) for value in values] == [True] + [False] * 4
