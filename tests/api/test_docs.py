"""Swagger UI at /api/v1/docs, served by tokenauth itself: the page and every file it
references come from tokenauth, also when mounted under a prefix."""
import re

import pytest

from tokenauth.api import docs

SWAGGER_UI_VERSION = "5.35.0"  # tokenauth/api/swagger_ui/SOURCE.txt


def references(html: str) -> list[str]:
    return re.findall(r'(?:src|href|data-spec-url)="([^"]*)"', html)


@pytest.mark.parametrize("backend", ["sqlite"])  # no storage involved
@pytest.mark.parametrize("prefix", ["", "/auth"])
def test_the_page_and_everything_it_references_come_from_tokenauth(client, prefix):
    headers = {"X-Forwarded-Prefix": prefix} if prefix else {}
    page = client.get("/api/v1/docs", headers=headers)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Content-Security-Policy"] == docs.HEADERS["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    assert f'data-prefix="{prefix}"' in html
    urls = references(html)
    assert len(urls) == 5  # icon, stylesheet, the document, two scripts
    expected_types = {".svg": "image/svg+xml", ".css": "text/css", ".json": "application/json",
                      ".js": "text/javascript"}
    for url in urls:
        assert url.startswith(prefix + "/"), url  # no other host, no CDN
        answer = client.get(url.removeprefix(prefix), headers=headers)
        assert answer.status_code == 200, url
        assert answer.mimetype == expected_types[url[url.rindex("."):]], url


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_vendored_swagger_ui_is_the_noted_version(client):
    bundle = client.get("/api/v1/docs/swagger-ui/swagger-ui-bundle.js").get_data(as_text=True)
    assert f'"{SWAGGER_UI_VERSION}"' in bundle
    source = client.get("/api/v1/docs/swagger-ui/SOURCE.txt").get_data(as_text=True)
    assert f"swagger-ui-dist {SWAGGER_UI_VERSION}" in source and "Apache-2.0" in source
