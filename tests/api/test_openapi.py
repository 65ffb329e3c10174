"""The OpenAPI document states the rules the code enforces (tokenauth.rules), no less."""
import pytest

from tokenauth import create_app, rules


@pytest.fixture(scope="module")
def document(tmp_path_factory):
    folder = tmp_path_factory.mktemp("openapi")
    app = create_app({"env": "testing", "instance_path": str(folder),
                      "database_url": f"sqlite:///{folder}/unused.db"})
    return app.test_client().get("/api/v1/openapi.json").json


def schema(document, name):
    return document["components"]["schemas"][name]["properties"]


def stated(rule):
    """The keywords and description the document must show for ``rule``."""
    return {**rule.openapi, "description": rule.summary}


@pytest.mark.parametrize("component, field, rule", [
    ("TokenCreate", "name", rules.TOKEN_NAME),
    ("TokenUpdate", "name", rules.TOKEN_NAME),
    ("UserCreate", "username", rules.USERNAME),
    ("UserCreate", "password", rules.PASSWORD),
    ("UserUpdate", "password", rules.PASSWORD),
])
def test_string_fields_state_their_rule(document, component, field, rule):
    shown = schema(document, component)[field]
    assert shown["type"] == "string"
    assert {key: shown.get(key) for key in stated(rule)} == stated(rule)


def test_expires_at_states_its_formats(document):
    shown = schema(document, "TokenCreate")["expires_at"]
    assert shown["pattern"] == rules.EXPIRES_AT_PATTERN and shown["nullable"] is True
    assert rules.EXPIRES_AT.summary in shown["description"]
    assert "null" in shown["description"] and "Omitted" in shown["description"]


@pytest.mark.parametrize("field, rule, list_rule", [
    ("scopes", rules.SCOPE, rules.SCOPES),
    ("allowed_origins", rules.ORIGIN, rules.ALLOWED_ORIGINS),
    ("routes", rules.ROUTE, rules.ROUTES),
])
def test_list_fields_state_their_item_rule_and_size(document, field, rule, list_rule):
    shown = schema(document, "TokenCreate")[field]
    assert shown["maxItems"] == list_rule.max_items
    assert {key: shown["items"].get(key) for key in stated(rule)} == stated(rule)


def test_the_user_filter_states_the_username_rule(document):
    parameters = document["paths"]["/api/v1/admin/tokens"]["get"]["parameters"]
    user = next(p for p in parameters if p["name"] == "user")
    assert user["schema"]["pattern"] == rules.USERNAME_PATTERN


@pytest.mark.parametrize("path, name", [
    ("/api/v1/tokens/{token_id}", "token_id"),
    ("/api/v1/tokens/{token_id}/rotate", "token_id"),
    ("/api/v1/admin/tokens/{token_id}", "token_id"),
    ("/api/v1/admin/users/{user_id}", "user_id"),
])
def test_path_ids_state_their_format(document, path, name):
    parameters = document["paths"][path]["parameters"]
    shown = next(p for p in parameters if p["name"] == name and p["in"] == "path")
    assert shown["schema"]["pattern"] == rules.ID_PATTERN and shown["required"] is True


def test_output_times_are_date_times(document):
    shown = schema(document, "Token")
    assert all(shown[field]["format"] == "date-time"
               for field in ("created_at", "expires_at", "last_accessed_at", "revoked_at"))
