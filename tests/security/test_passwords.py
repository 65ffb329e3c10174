"""Passwords are argon2id hashes through passlib."""
from tokenauth.security import passwords


def test_hash_is_argon2id_and_salted():
    first, second = passwords.hash_password("s3cret-pass"), passwords.hash_password("s3cret-pass")
    assert first.startswith("$argon2id$")
    assert first != second
    assert "s3cret-pass" not in first


def test_verify_accepts_only_the_right_password():
    stored = passwords.hash_password("s3cret-pass")
    assert passwords.verify_password("s3cret-pass", stored)
    assert not passwords.verify_password("s3cret-pasS", stored)
    assert not passwords.verify_password("", stored)


def test_missing_or_garbage_hash_never_verifies():
    assert not passwords.verify_password("anything", None)
    assert not passwords.verify_password("anything", "not-a-hash")


def test_the_shipped_cost_is_libpass_argon2id_default():
    """The suite hashes at the lowest cost (tests/conftest.py); production does not."""
    from tokenauth.security.passwords import argon2id
    assert argon2id().hash("s3cret-pass").startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_a_hash_made_at_another_cost_still_verifies():
    from tokenauth.security.passwords import argon2id
    stored = argon2id(memory_cost=1024, rounds=2, parallelism=1).hash("s3cret-pass")
    assert passwords.verify_password("s3cret-pass", stored)
