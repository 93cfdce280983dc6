"""Bad input across the whole job API, as one table: each case with its documented status and error shape.

Covers every submit endpoint (similarity, wallet sync, PnL, behaviour, bulk), the job endpoints and the list.
Cases already proven elsewhere for one endpoint (tests/django/jobs/test_submit_errors.py for similarity,
tests/django/analysis/test_submit_api.py for PnL/behaviour fields) are here for the endpoints they miss.
The WebSocket's refusals are proven against daphne in tests/integration/test_api_contract.py.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import base58
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.queues import Priority
from core.throttles import submit_throttle_reset
from jobs import services
from jobs.models import Job

pytestmark = pytest.mark.django_db


def address(seed: int) -> str:
    return base58.b58encode(hashlib.sha256(f"wallet-{seed}".encode()).digest()).decode()


KEY_31_BYTES = base58.b58encode(hashlib.sha256(b"short").digest()[:31]).decode()
NOT_BASE58 = "0OIl" + address(1)[4:]
A, B, C = address(1), address(2), address(3)

SIMILARITY = "/jobs/similarity/analyze"
SYNC = "/jobs/wallets/sync"
PNL = "/jobs/analysis/pnl"
BEHAVIOR = "/jobs/analysis/behavior"
BULK = "/jobs/bulk-analysis"
SUBMIT_URLS = (SIMILARITY, SYNC, PNL, BEHAVIOR, BULK)
VALID_BODY: dict[str, dict[str, Any]] = {
    SIMILARITY: {"wallets": [A, B]},
    SYNC: {"wallet": A},
    PNL: {"wallet": A},
    BEHAVIOR: {"wallet": A},
    BULK: {"wallets": [A, B], "types": ["pnl"]},
}


def _many(count: int) -> list[str]:
    return [address(100 + i) for i in range(count)]


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    status: int
    code: str | None = None
    field: str | None = None  # a field the error must name
    body: Any = None
    raw: str | None = None  # sent as is, with Content-Type: application/json
    auth: str = "owner"  # owner, stranger (another user), none, bad_token
    setup: Callable[[APIClient], None] | None = None
    check: Callable[[dict[str, Any]], None] | None = None


def _wallet_count(expected: int) -> Callable[[dict[str, Any]], None]:
    def check(body: dict[str, Any]) -> None:
        assert body["wallet_count"] == expected, body

    return check


def _no_results(body: dict[str, Any]) -> None:
    assert body["count"] == 0 and body["results"] == [], body


def _exhaust_throttle(client: APIClient) -> None:
    for index in range(2):
        response = client.post(PNL, {"wallet": address(500 + index)}, format="json")
        assert response.status_code == 202, response.content


CASES = [
    # Malformed JSON and wrong types, on every submit endpoint.
    *(
        Case(f"malformed-json{url}", "post", url, 400, "malformed_json", raw='{"wallets": [')
        for url in SUBMIT_URLS
    ),
    *(Case(f"body-not-object{url}", "post", url, 400, "invalid_input", raw="[1, 2]") for url in SUBMIT_URLS),
    Case("similarity-wallets-string", "post", SIMILARITY, 400, "invalid_input", "wallets", {"wallets": A}),
    Case(
        "similarity-option-bad-value",
        "post",
        SIMILARITY,
        400,
        "invalid_input",
        "options.cluster_threshold",
        {"wallets": [A, B], "options": {"cluster_threshold": "high"}},
    ),
    Case(
        "similarity-option-unknown",
        "post",
        SIMILARITY,
        400,
        "invalid_input",
        "options.colour",
        {"wallets": [A, B], "options": {"colour": "blue"}},
    ),
    Case(
        "similarity-wallet-number",
        "post",
        SIMILARITY,
        400,
        "invalid_input",
        "wallets[1]",
        {"wallets": [A, 7]},
    ),
    Case(
        "similarity-force-not-bool",
        "post",
        SIMILARITY,
        400,
        "invalid_input",
        "force",
        {"wallets": [A, B], "force": "maybe"},
    ),
    # Booleans are JSON booleans, as the schema says: not 0, 1 or "true".
    *(
        Case(
            f"force-{value!r}{url}",
            "post",
            url,
            400,
            "invalid_input",
            "force",
            {**VALID_BODY[url], "force": value},
        )
        for url in SUBMIT_URLS
        for value in (0, 1, "true")
    ),
    # Unknown fields are refused (the schema says additionalProperties: false): a misspelt flag must not pass.
    *(
        Case(
            f"unknown-field{url}",
            "post",
            url,
            400,
            "invalid_input",
            "forse",
            {**VALID_BODY[url], "forse": True},
        )
        for url in SUBMIT_URLS
    ),
    Case("sync-wallet-list", "post", SYNC, 400, "invalid_input", "wallet", {"wallet": [A]}),
    Case("sync-wallet-missing", "post", SYNC, 400, "invalid_input", "wallet", {}),
    Case("sync-force-not-bool", "post", SYNC, 400, "invalid_input", "force", {"wallet": A, "force": [1]}),
    Case("pnl-wallet-null", "post", PNL, 400, "invalid_input", "wallet", {"wallet": None}),
    Case(
        "bulk-wallets-object",
        "post",
        BULK,
        400,
        "invalid_input",
        "wallets",
        {"wallets": {"a": A}, "types": ["pnl"]},
    ),
    Case("bulk-types-missing", "post", BULK, 400, "invalid_input", "types", {"wallets": [A, B]}),
    Case(
        "bulk-types-string", "post", BULK, 400, "invalid_input", "types", {"wallets": [A, B], "types": "pnl"}
    ),
    Case("bulk-types-empty", "post", BULK, 400, "invalid_input", "types", {"wallets": [A, B], "types": []}),
    Case(
        "bulk-types-unknown",
        "post",
        BULK,
        400,
        "invalid_input",
        "types[1]",
        {"wallets": [A, B], "types": ["pnl", "alpha"]},
    ),
    Case(
        "bulk-types-number", "post", BULK, 400, "invalid_input", "types[0]", {"wallets": [A, B], "types": [3]}
    ),
    # Wallet counts: 0, 1 and MAX_WALLETS_PER_JOB + 1.
    Case("similarity-0-wallets", "post", SIMILARITY, 400, "invalid_input", "wallets", {"wallets": []}),
    Case("similarity-1-wallet", "post", SIMILARITY, 400, "invalid_input", "wallets", {"wallets": [A]}),
    Case(
        "similarity-max+1",
        "post",
        SIMILARITY,
        400,
        "invalid_input",
        "wallets",
        {"wallets": _many(settings.MAX_WALLETS_PER_JOB + 1)},
    ),
    # maxItems counts entries, duplicates included: the documented bound is the enforced one.
    Case(
        "similarity-max+1-entries-with-duplicates",
        "post",
        SIMILARITY,
        400,
        "invalid_input",
        "wallets",
        {"wallets": [A, B] * (settings.MAX_WALLETS_PER_JOB // 2 + 1)},
    ),
    Case(
        "similarity-max-is-fine",
        "post",
        SIMILARITY,
        202,
        body={"wallets": _many(settings.MAX_WALLETS_PER_JOB)},
        check=_wallet_count(settings.MAX_WALLETS_PER_JOB),
    ),
    Case("bulk-0-wallets", "post", BULK, 400, "invalid_input", "wallets", {"wallets": [], "types": ["pnl"]}),
    Case(
        "bulk-1-wallet-similarity",
        "post",
        BULK,
        400,
        "invalid_input",
        "wallets",
        {"wallets": [A], "types": ["similarity"]},
    ),
    Case(
        "bulk-1-wallet-pnl-is-fine",
        "post",
        BULK,
        202,
        body={"wallets": [A], "types": ["pnl", "behavior"]},
        check=_wallet_count(1),
    ),
    Case(
        "bulk-max+1",
        "post",
        BULK,
        400,
        "invalid_input",
        "wallets",
        {"wallets": _many(settings.MAX_WALLETS_PER_JOB + 1), "types": ["pnl"]},
    ),
    # Addresses: not base58, a 31-byte key.
    Case(
        "similarity-not-base58",
        "post",
        SIMILARITY,
        400,
        "invalid_input",
        "wallets[1]",
        {"wallets": [A, NOT_BASE58]},
    ),
    Case(
        "similarity-31-byte-key",
        "post",
        SIMILARITY,
        400,
        "invalid_input",
        "wallets[0]",
        {"wallets": [KEY_31_BYTES, A]},
    ),
    Case("sync-not-base58", "post", SYNC, 400, "invalid_input", "wallet", {"wallet": NOT_BASE58}),
    Case("sync-31-byte-key", "post", SYNC, 400, "invalid_input", "wallet", {"wallet": KEY_31_BYTES}),
    Case("behavior-31-byte-key", "post", BEHAVIOR, 400, "invalid_input", "wallet", {"wallet": KEY_31_BYTES}),
    Case(
        "bulk-not-base58",
        "post",
        BULK,
        400,
        "invalid_input",
        "wallets[2]",
        {"wallets": [A, B, NOT_BASE58], "types": ["pnl"]},
    ),
    Case(
        "bulk-31-byte-key",
        "post",
        BULK,
        400,
        "invalid_input",
        "wallets[0]",
        {"wallets": [KEY_31_BYTES], "types": ["pnl"]},
    ),
    # Duplicates collapse: not an error, and the collapsed set may then be too small.
    Case(
        "similarity-duplicates-collapse",
        "post",
        SIMILARITY,
        202,
        body={"wallets": [A, B, A, f" {B} "]},
        check=_wallet_count(2),
    ),
    Case(
        "similarity-duplicates-of-one",
        "post",
        SIMILARITY,
        400,
        "invalid_input",
        "wallets",
        {"wallets": [A, A]},
    ),
    Case(
        "bulk-duplicates-collapse",
        "post",
        BULK,
        202,
        body={"wallets": [A, B, C, A], "types": ["pnl", "pnl", "similarity"]},
        check=_wallet_count(3),
    ),
    Case("sync-accepted", "post", SYNC, 202, body={"wallet": f" {A} "}, check=_wallet_count(1)),
    # Unknown job ids and another user's job: the same 404 everywhere.
    *(
        Case(f"unknown-job{suffix or '-detail'}", method, f"/jobs/{{missing}}{suffix}", 404, "not_found")
        for method, suffix in [
            ("get", ""),
            ("get", "/status"),
            ("get", "/progress"),
            ("get", "/result"),
            ("post", "/cancel"),
            ("delete", ""),
        ]
    ),
    Case("malformed-job-id", "get", "/jobs/not-a-uuid/status", 404, "not_found"),
    Case("newline-in-path", "post", "/jobs/failed/a%0Ab/retry", 404, "not_found"),
    *(
        Case(
            f"strangers-job{suffix or '-detail'}-{method}",
            method,
            f"/jobs/{{job}}{suffix}",
            404,
            "not_found",
            auth="stranger",
        )
        for method, suffix in [
            ("get", ""),
            ("get", "/status"),
            ("get", "/progress"),
            ("get", "/result"),
            ("post", "/cancel"),
            ("delete", ""),
        ]
    ),
    # The job list's filters.
    Case("list-bad-status", "get", "/jobs?status=done", 400, "invalid_input", "status"),
    Case("list-bad-kind", "get", "/jobs?kind=everything", 400, "invalid_input", "kind"),
    Case(
        "list-bad-created-after",
        "get",
        "/jobs?created_after=yesterday",
        400,
        "invalid_input",
        "created_after",
    ),
    Case(
        "list-bad-created-before",
        "get",
        "/jobs?created_before=2026-13-40",
        400,
        "invalid_input",
        "created_before",
    ),
    # An empty or inverted range is not malformed (the schema cannot say "later than"): it matches nothing.
    Case(
        "list-inverted-range-is-empty",
        "get",
        "/jobs?created_after=2026-01-02T00:00:00Z&created_before=2026-01-01T00:00:00Z",
        200,
        check=_no_results,
    ),
    # An empty value is a value: `status=` is no status (DRF would read it as an absent filter).
    Case("list-empty-status", "get", "/jobs?status=", 400, "invalid_input", "status"),
    Case("list-empty-limit", "get", "/jobs?limit=", 400, "invalid_input", "limit"),
    Case("list-empty-created-after", "get", "/jobs?created_after=", 400, "invalid_input", "created_after"),
    Case("list-bad-limit", "get", "/jobs?limit=0", 400, "invalid_input", "limit"),
    Case("list-limit-too-big", "get", "/jobs?limit=201", 400, "invalid_input", "limit"),
    Case("list-bad-offset", "get", "/jobs?offset=-1", 400, "invalid_input", "offset"),
    Case("list-bad-parent", "get", "/jobs?parent_id=12", 400, "invalid_input", "parent_id"),
    # Authentication and staff-only endpoints.
    *(
        Case(
            f"unauthenticated{url}", "post", url, 401, "not_authenticated", body=VALID_BODY[url], auth="none"
        )
        for url in SUBMIT_URLS
    ),
    Case("unauthenticated-list", "get", "/jobs", 401, "not_authenticated", auth="none"),
    Case("unauthenticated-job", "get", "/jobs/{job}", 401, "not_authenticated", auth="none"),
    Case("bad-token", "post", SYNC, 401, "authentication_failed", body={"wallet": A}, auth="bad_token"),
    Case("dead-letters-not-staff", "get", "/jobs/failed/recent", 403, "permission_denied"),
    Case("queue-jobs-not-staff", "get", "/jobs/queue/wallet-operations/jobs", 403, "permission_denied"),
    # Throttling: the third counted submission within the window is refused.
    Case("throttled", "post", SYNC, 429, "throttled", body={"wallet": A}, setup=_exhaust_throttle),
]


@pytest.fixture
def owner() -> User:
    return get_user_model().objects.create_user(username="owner")


def _client(user: User | None, token: str | None = None) -> APIClient:
    api = APIClient()
    if user is not None:
        api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    elif token:
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_table(case: Case, owner: User, settings: Any) -> None:
    settings.SUBMIT_THROTTLE_RATE = "2/minute"
    clients = {
        "owner": lambda: _client(owner),
        "stranger": lambda: _client(get_user_model().objects.create_user(username="stranger")),
        "none": lambda: _client(None),
        "bad_token": lambda: _client(None, token="not-a-token"),
    }
    client = clients[case.auth]()
    submit_throttle_reset(user_id=owner.pk)
    owned = services.job_submit(
        kind=Job.Kind.SIMILARITY,
        owner=owner,
        params={"wallets": [A, B], "options": {"owned": True}},
        priority=Priority.HIGH,
    ).job
    if case.setup is not None:
        case.setup(client)
    path = case.path.format(job=owned.id, missing=uuid.uuid4())
    if case.raw is not None:
        response = getattr(client, case.method)(path, data=case.raw, content_type="application/json")
    elif case.method == "get":
        response = client.get(path)
    else:
        response = getattr(client, case.method)(path, case.body, format="json")

    assert response.status_code == case.status, response.content
    body = response.json()
    if case.code is None:
        assert "error" not in body
    else:
        assert set(body) == {"error"}, body
        assert set(body["error"]) == {"code", "message", "fields"}, body
        assert body["error"]["code"] == case.code, body
        assert body["error"]["message"], body
        if case.field is not None:
            assert case.field in body["error"]["fields"], body
    if case.status == 429:
        assert int(response["Retry-After"]) >= 1
    if case.check is not None:
        case.check(body)
    # Nobody's job moved: a refused request changes nothing.
    owned.refresh_from_db()
    assert owned.status == Job.Status.QUEUED
