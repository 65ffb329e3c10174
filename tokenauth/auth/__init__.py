"""Who is calling, shared by the API (``api/``), the pages (``web/``) and ``/verify``.

- ``signin.py``: the one password sign-in (web login, API Basic, /verify with passwords):
  lockouts, the per-worker cap on password checks, failures that all look alike.
- ``sessions.py``: the browser session's life cycle, kept on the server.
- ``external.py``: the external-user header from a trusted proxy.
- ``csrf.py``: the CSRF rule for cookie-carrying API calls.
- ``browser.py``: ``browser_user``, the caller of a page or a cookie-carrying API call.
"""
