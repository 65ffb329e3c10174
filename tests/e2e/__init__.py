"""End-to-end tests: real nginx, gunicorn and the echo upstream over real HTTP."""
