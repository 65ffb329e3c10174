"""The settings the web page adds or relies on are validated at start-up."""
import pytest

from tokenauth.settings import SettingsError, load_settings


@pytest.mark.parametrize("name, value", [
    ("LOGIN_FAILURE_DELAY", "-1"), ("LOGIN_FAILURE_DELAY", "11"),
    ("LOGIN_MAX_FAILURES", "0"), ("LOGIN_LOCKOUT_SECONDS", "0"),
    ("SESSION_LIFETIME_MINUTES", "0"),
])
def test_bad_values_are_refused_naming_the_variable(tmp_path, name, value):
    with pytest.raises(SettingsError, match=f"TOKENAUTH_{name}"):
        load_settings({"instance_path": str(tmp_path)}, environ={f"TOKENAUTH_{name}": value})


def test_failure_delay_is_read_from_the_environment(tmp_path):
    settings = load_settings({"instance_path": str(tmp_path)},
                             environ={"TOKENAUTH_LOGIN_FAILURE_DELAY": "0.25"})
    assert settings.login_failure_delay == 0.25
