"""The settings the web page adds or relies on are validated at start-up."""
import pytest

from tokenauth.settings import SettingsError, load_settings


@pytest.mark.parametrize("name, value", [
    ("LOGIN_MAX_FAILURES", "0"), ("LOGIN_IP_MAX_FAILURES", "0"), ("LOGIN_LOCKOUT_SECONDS", "0"),
    ("PASSWORD_CHECK_CONCURRENCY", "0"), ("PASSWORD_CHECK_CONCURRENCY", "-1"),
    ("SESSION_LIFETIME_MINUTES", "0"),
])
def test_bad_values_are_refused_naming_the_variable(tmp_path, name, value):
    with pytest.raises(SettingsError, match=f"TOKENAUTH_{name}"):
        load_settings({"instance_path": str(tmp_path)}, environ={f"TOKENAUTH_{name}": value})


def test_sign_in_limits_are_read_from_the_environment(tmp_path):
    settings = load_settings({"instance_path": str(tmp_path)}, environ={
        "TOKENAUTH_LOGIN_IP_MAX_FAILURES": "50", "TOKENAUTH_PASSWORD_CHECK_CONCURRENCY": "3"})
    assert settings.login_ip_max_failures == 50 and settings.password_check_concurrency == 3


def test_sign_in_limits_default_to_twenty_per_address_and_one_check_per_worker(tmp_path):
    settings = load_settings({"instance_path": str(tmp_path)}, environ={})
    assert settings.login_max_failures == 5 and settings.login_ip_max_failures == 20
    assert settings.login_lockout_seconds == 60 and settings.password_check_concurrency == 1

