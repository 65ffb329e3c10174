"""Swagger UI renders in Chromium without errors and loads nothing from elsewhere, also
under a prefix, where "Try it out" calls the API under that prefix too."""
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("backend", ["sqlite"])  # no storage involved
def test_swagger_ui_renders_offline_under_a_prefix(page, prefix_server):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(prefix_server + "/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("tokenauth")

    page.locator(".opblock-summary-path", has_text="/api/v1/me").first.click()
    page.get_by_role("button", name="Try it out").click()
    with page.expect_request(prefix_server + "/api/v1/me"):  # under the prefix too
        page.get_by_role("button", name="Execute").click()

    outside = [url for url in requests if not url.startswith(prefix_server + "/")]
    assert not outside, outside
