"""The API docs page loads Swagger UI from our own static files: no CDN, no floating `@latest` version."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in {"src", "href"} and value]


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else bytes(response.content)


def test_the_docs_page_references_no_external_url_and_its_assets_answer() -> None:
    client = APIClient()
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, re.IGNORECASE), "an external URL"
    parser = _References()
    parser.feed(html)
    scripts = re.findall(r"""["']([^"']+\.js[^"']*)["']""", html)
    assets = {url for url in [*parser.urls, *scripts] if not url.startswith("data:")}
    assert any("swagger-ui-bundle" in url for url in assets), assets
    for url in assets:
        assert url.startswith("/"), f"{url} is not served by us"
        response = client.get(url)
        assert response.status_code == 200, url
        assert _body(response), url
