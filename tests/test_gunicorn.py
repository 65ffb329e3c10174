"""The real server: gunicorn from gunicorn.conf.py with 2 workers, over real HTTP."""
import re
import signal
import time
import urllib.error
import urllib.request

import pytest

from tokenauth.extensions import db
from tokenauth.models import ApiToken

from .helpers import PASSWORD, basic, bearer, corrupt, eventually
from .servers import gunicorn, stop, tokenauth_env

pytestmark = pytest.mark.e2e


def get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture
def server_env(database_url, tmp_path):
    return tokenauth_env(database_url, tmp_path / "instance", last_access_resolution=3600)


def test_gunicorn_verifies_a_token_over_http(server_env, make_user, make_token, tmp_path):
    issued = make_token(make_user("alice"))
    with gunicorn(server_env, tmp_path / "logs", workers=2) as (url, _):
        status, headers, body = get(url + "/verify", bearer(issued.raw))
        assert (status, body) == (200, b"")
        assert headers["X-Auth-User"] == "alice"
        assert headers["X-Auth-Token-Id"] == issued.token.id
        status, headers, _ = get(url + "/verify", bearer(corrupt(issued.raw)))
        assert (status, headers["X-Auth-Error"]) == (401, "malformed")
        # Metrics add up every worker's answers: enough requests reach both workers. Each
        # worker publishes its counts within a second.
        for _ in range(20):
            get(url + "/verify", bearer(issued.raw))
        assert eventually(lambda: ok_count(url) == 21.0)
    log = "".join(path.read_text() for path in (tmp_path / "logs").glob("*.log"))
    assert issued.raw not in log
    assert "Booting worker" in log


def test_graceful_shutdown_flushes_coalesced_last_access(server_env, make_user, make_token,
                                                          app, tmp_path):
    issued = make_token(make_user("bob"))
    with gunicorn(server_env, tmp_path / "logs", workers=1) as (url, process):
        get(url + "/verify", bearer(issued.raw))   # first use: written at once
        first = stored_last_access(issued.token.id)
        assert first is not None
        for _ in range(3):
            get(url + "/verify", bearer(issued.raw))   # within the resolution: coalesced
        assert stop(process, signal.SIGTERM) == 0
    assert stored_last_access(issued.token.id) > first


def ok_count(url) -> float:
    _, _, metrics = get(url + "/metrics")
    ok = re.search(rb'^tokenauth_verify_total\{outcome="ok"\} (\S+)$', metrics, re.M)
    return float(ok.group(1)) if ok else 0.0



def stored_last_access(token_id):
    db.session.remove()
    return db.session.get(ApiToken, token_id).last_accessed_at


def test_revocation_reaches_every_worker_within_a_second(database_url, make_user, make_token,
                                                         tmp_path):
    """Both workers cache the token for minutes; revoking it through one of them is refused
    by all of them a second later."""
    env = tokenauth_env(database_url, tmp_path / "instance", verify_cache_ttl=300)
    issued = make_token(make_user("alice"))
    with gunicorn(env, tmp_path / "logs", workers=2) as (url, _):
        warm_until = time.monotonic() + 1.5  # both workers listen and cache it meanwhile
        while time.monotonic() < warm_until:
            assert get(url + "/verify", bearer(issued.raw))[0] == 200
        request = urllib.request.Request(f"{url}/api/v1/tokens/{issued.token.id}",
                                         method="DELETE", headers=basic("alice", PASSWORD))
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 204
        time.sleep(1.0)
        answers = {get(url + "/verify", bearer(issued.raw))[1]["X-Auth-Error"]
                   for _ in range(40)}
        assert answers == {"revoked"}


@pytest.mark.parametrize("log_allows", [False, True])
def test_the_access_log_leaves_out_allowed_verifies_unless_asked(database_url, make_user,
                                                                make_token, tmp_path, log_allows):
    """nginx logs every API request; tokenauth's own line per allowed /verify repeats it
    (and cost a third of the throughput), so only refusals, errors and other requests are
    written, unless TOKENAUTH_ACCESS_LOG_VERIFY=true."""
    issued = make_token(make_user("alice"))
    env = tokenauth_env(database_url, tmp_path / "instance")
    env["TOKENAUTH_ACCESS_LOG_VERIFY"] = str(log_allows).lower()
    with gunicorn(env, tmp_path / "logs", workers=1) as (url, process):
        assert get(url + "/verify", bearer(issued.raw))[0] == 200
        assert get(url + "/verify", bearer(corrupt(issued.raw)))[0] == 401
        assert get(url + "/healthz")[0] == 200
        stop(process)  # the access log is complete once the worker is gone
    lines = (tmp_path / "logs" / "tokenauth.access.log").read_text().splitlines()
    verifies = [line for line in lines if "/verify" in line]
    assert [line.split('" ')[1].split()[0] for line in verifies] == (
        ["200", "401"] if log_allows else ["401"])
    assert any("/healthz" in line for line in lines)
