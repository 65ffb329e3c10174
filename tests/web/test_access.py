"""safe_next: where a login may send the browser afterwards."""
import pytest

from tokenauth.web.access import safe_next


@pytest.mark.parametrize("target", [
    "/tokens", "/admin/tokens?user=alice&status=revoked", "/", "/tokens#top",
])
def test_local_paths_are_kept(target):
    assert safe_next(target) == target


@pytest.mark.parametrize("target", [
    None, "", "tokens", "https://evil.example/", "http:/evil.example", "//evil.example",
    "///evil.example", "/\\evil.example", "\\\\evil.example", "/tokens\\..", "javascript:alert(1)",
    "/tokens\r\nSet-Cookie: x=1", "/tokens\x00", "/" + "a" * 2001,
])
def test_anything_else_is_dropped(target):
    assert safe_next(target) is None
