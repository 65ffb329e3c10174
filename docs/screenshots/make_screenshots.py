"""Regenerate the README screenshots: ``.venv/bin/python docs/screenshots/make_screenshots.py``.

Builds a throw-away SQLite database with a few tokens (active, used, expired, revoked),
serves tokenauth from a thread and photographs it with Playwright driving Debian's
Chromium (``/usr/bin/chromium``; Playwright never downloads a browser of its own).
"""
from __future__ import annotations

import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from flask_migrate import upgrade
from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM as CHROMIUM_PATH, LAUNCH_ARGS  # noqa: E402
from tests.browser.live_server import live_server  # noqa: E402
from tests.helpers import PASSWORD  # noqa: E402
from tokenauth import create_app  # noqa: E402
from tokenauth.extensions import db  # noqa: E402
from tokenauth.services import users  # noqa: E402
from tokenauth.services.tokens import TokenService  # noqa: E402

CHROMIUM = dict(executable_path=CHROMIUM_PATH, headless=True, args=LAUNCH_ARGS)


def seed(app) -> None:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    settings = app.extensions["tokenauth"].settings
    with app.app_context():
        upgrade()
        alice = users.create_user(db.session, "alice", PASSWORD)

        def token(name, created_days_ago, lifetime_days, scopes=(), used=None, revoke=False):
            created = now - timedelta(days=created_days_ago, hours=3)
            service = TokenService(db.session, settings, clock=lambda: created)
            expires = created + timedelta(days=lifetime_days) if lifetime_days else None
            issued = service.create(alice, name, expires, scopes)
            if revoke:
                service.revoke(issued.token)
            db.session.commit()
            if used:
                ago, origin = used
                issued.token.last_accessed_at = now - ago
                issued.token.last_accessed_origin = origin
                db.session.commit()

        token("Laptop scripts", 95, 90, used=(timedelta(days=7, hours=5), "198.51.100.7"))
        token("Old Jenkins", 60, 90, ("deploy",), used=(timedelta(days=20), "10.20.0.14"),
              revoke=True)
        token("Grafana dashboard", 40, None, ("metrics:read",),
              used=(timedelta(minutes=12), "10.20.3.41"))
        token("Backup job", 3, 30)
        token("CI deploy (GitHub Actions)", 1, 60, ("deploy", "read"),
              used=(timedelta(hours=2, minutes=14), "203.0.113.24"))
        db.session.remove()


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="tokenauth-shots-"))
    app = create_app({"env": "testing", "instance_path": str(folder / "instance"),
                      "database_url": f"sqlite:///{folder / 'shots.db'}",
                      "secret_key": "s" * 40, "token_pepper": "p" * 40})
    seed(app)
    with live_server(app) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(**CHROMIUM)
        context = browser.new_context(viewport={"width": 1200, "height": 640}, locale="en-US",
                                      timezone_id="Europe/Berlin", color_scheme="light")
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
        page = context.new_page()
        page.goto(url + "/login")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(url + "/tokens")
        page.goto(url + "/tokens?status=all")  # the default view shows active tokens only
        page.screenshot(path=HERE / "tokens.png", full_page=True)

        page.get_by_role("button", name="Add Token").click()
        page.get_by_label("Name").fill("Release pipeline")
        page.get_by_label("Expiration", exact=True).select_option("30")
        page.get_by_role("textbox", name="Scopes").fill("deploy, read")
        page.get_by_role("button", name="Save").click()
        page.get_by_role("button", name="Copy").click()
        page.get_by_text("Copied to the clipboard.").wait_for()
        page.screenshot(path=HERE / "new-token-dialog.png")

        page.get_by_role("button", name="Done").click()
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        page.screenshot(path=HERE / "tokens-phone.png", full_page=True)
        browser.close()
    print("wrote", *sorted(p.name for p in HERE.glob("*.png")))


if __name__ == "__main__":
    main()
