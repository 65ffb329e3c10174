"""End-to-end tests: real nginx, tokenauth's server (gunicorn, or granian with
TOKENAUTH_TEST_SERVER=granian) and the echo upstream over real HTTP."""
