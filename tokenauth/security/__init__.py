"""Secrets: the API token format and keyed hashing, and password hashing."""
