"""Bodies a JSON parser can choke on get the usual 400 `{error: {code, message, fields}}`, on every endpoint:
nesting 50,000 levels deep (a RecursionError, so a 500, before), a body over the size limit (an HTML page
before), bytes that are not UTF-8, duplicate keys (the last one silently won before), an unpaired surrogate
escape (a 500 when the answer was encoded), and a top-level value that is not an object."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import base58
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.json_input import MAX_JSON_DEPTH

pytestmark = pytest.mark.django_db

A, B = (base58.b58encode(hashlib.sha256(f"bodies-{i}".encode()).digest()).decode() for i in range(2))
SUBMIT_URLS = (
    "/jobs/similarity/analyze",
    "/jobs/wallets/sync",
    "/jobs/analysis/pnl",
    "/jobs/analysis/behavior",
    "/jobs/bulk-analysis",
    "/analyses/similarity",
)


@pytest.fixture
def client() -> APIClient:
    user = get_user_model().objects.create_user(username="bodies")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api


def _post(client: APIClient, url: str, body: bytes | str) -> Any:
    return client.post(url, data=body, content_type="application/json")


def _error(response: Any, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    assert body["error"]["message"]
    return body["error"]


@pytest.mark.parametrize("url", SUBMIT_URLS)
def test_a_body_nested_50000_levels_deep_is_a_400(client: APIClient, url: str) -> None:
    error = _error(_post(client, url, "[" * 50_000 + "]" * 50_000))
    assert error["code"] == "malformed_json"
    assert f"deeper than {MAX_JSON_DEPTH}" in error["message"]


def test_deep_nesting_inside_a_valid_looking_body_is_a_400(client: APIClient) -> None:
    deep = "[" * 5_000 + "]" * 5_000
    error = _error(
        _post(client, "/jobs/similarity/analyze", f'{{"wallets": ["{A}", "{B}"], "options": {deep}}}')
    )
    assert error["code"] == "malformed_json"


def test_nesting_up_to_the_limit_is_parsed(client: APIClient) -> None:
    # The body parses (it is the option that is wrong), so nothing legitimate is near the limit.
    nested = "[" * (MAX_JSON_DEPTH - 2) + "]" * (MAX_JSON_DEPTH - 2)
    error = _error(
        _post(client, "/jobs/similarity/analyze", f'{{"wallets": ["{A}", "{B}"], "options": {nested}}}')
    )
    assert error["code"] == "invalid_input" and "options" in error["fields"], error


def test_brackets_inside_strings_do_not_count_as_nesting(client: APIClient) -> None:
    wallet = "[" * 1_000 + '\\"' + "{" * 1_000
    error = _error(_post(client, "/jobs/wallets/sync", json.dumps({"wallet": wallet})))
    assert error["code"] == "invalid_input" and "wallet" in error["fields"], error


@pytest.mark.parametrize("url", SUBMIT_URLS)
def test_a_28_mb_body_is_a_400_in_the_error_shape(client: APIClient, url: str) -> None:
    body = b'{"wallets": ["' + b"a" * 28_000_000 + b'"]}'
    error = _error(_post(client, url, body))
    assert error["code"] == "body_too_large"
    assert "REQUEST_MAX_BODY_BYTES" in error["message"]


def test_the_body_limit_is_a_setting(client: APIClient, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    assert _error(_post(client, "/jobs/wallets/sync", json.dumps({"wallet": A + " " * 100})))["code"] == (
        "body_too_large"
    )
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    assert _post(client, "/jobs/wallets/sync", json.dumps({"wallet": A + " " * 100})).status_code == 202


@pytest.mark.parametrize(
    "body",
    [
        '{"wallet": "é"}'.encode("latin-1"),
        b'{"wallet": "\xed\xa0\x80"}',  # a UTF-8-encoded surrogate: not UTF-8
        '{"wallet": "x"}'.encode("utf-16"),
    ],
    ids=["latin-1", "encoded-surrogate", "utf-16"],
)
def test_a_body_that_is_not_utf8_is_a_400(client: APIClient, body: bytes) -> None:
    error = _error(_post(client, "/jobs/wallets/sync", body))
    assert error["code"] == "malformed_json" and "UTF-8" in error["message"], error


def test_duplicate_keys_are_a_400_naming_the_key(client: APIClient) -> None:
    error = _error(_post(client, "/jobs/similarity/analyze", f'{{"wallets": [], "wallets": ["{A}", "{B}"]}}'))
    assert error["code"] == "malformed_json" and "'wallets'" in error["message"], error
    nested = f'{{"wallets": ["{A}", "{B}"], "options": {{"top_pairs": 1, "top_pairs": 2}}}}'
    assert _error(_post(client, "/jobs/similarity/analyze", nested))["code"] == "malformed_json"


@pytest.mark.parametrize(
    "body",
    [
        f'{{"wallets": ["{A}", "{B}"], "options": {{"\\ud800": 1}}}}',
        '{"wallet": "\\udc00"}',
        '{"wallet": "\\ud800\\u0041"}',
    ],
    ids=["key", "low-alone", "high-then-not-low"],
)
def test_an_unpaired_surrogate_escape_is_a_400(client: APIClient, body: str) -> None:
    url = "/jobs/similarity/analyze" if "wallets" in body else "/jobs/wallets/sync"
    error = _error(_post(client, url, body))
    assert error["code"] == "malformed_json" and "surrogate" in error["message"], error


def test_a_paired_surrogate_escape_is_fine(client: APIClient) -> None:
    error = _error(_post(client, "/jobs/wallets/sync", '{"wallet": "\\ud83d\\ude00"}'))
    assert error["code"] == "invalid_input" and "wallet" in error["fields"], error


@pytest.mark.parametrize("body", ["[1, 2]", "null", '"text"', "12", "true", ""])
@pytest.mark.parametrize("url", SUBMIT_URLS)
def test_a_body_that_is_not_an_object_is_a_400(client: APIClient, url: str, body: str) -> None:
    error = _error(_post(client, url, body))
    assert error["code"] == "invalid_input", error


@pytest.mark.parametrize("body", ['{"wallets": NaN}', '{"wallets": Infinity}', '{"wallets": -Infinity}'])
def test_non_finite_numbers_are_not_json(client: APIClient, body: str) -> None:
    assert _error(_post(client, "/jobs/similarity/analyze", body))["code"] == "malformed_json"


def test_outside_the_api_a_body_over_the_limit_is_a_json_400_too(settings: Any) -> None:
    settings.DEBUG = False  # with DEBUG on, Django shows its own page
    response = Client(raise_request_exception=False).post(
        "/accounts/login/",
        data=b"username=" + b"a" * 2_000_000,
        content_type="application/x-www-form-urlencoded",
    )
    assert _error(response)["code"] == "body_too_large"
