"""The API against its own contract, on the live stack (gunicorn, daphne, workers).

- A schemathesis run over every operation of `GET /api/schema/`, positive and negative data, bounded by
  `max_examples` per operation: no 5xx, and every answer conforms to the schema (status code documented,
  content type, body, headers).
- What only the real servers can show: the WebSocket refusing a handshake without valid credentials, and the
  submission throttle counting across gunicorn's worker processes (Redis, not process memory).
The table of bad HTTP inputs runs in-process: tests/django/jobs/test_api_bad_inputs.py.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import base58
import pytest
import requests
import schemathesis
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from websockets.exceptions import InvalidStatus

from core.throttles import submit_throttle_reset
from tests.integration.conftest import ApiUser, make_api_user
from tests.support.stack import Stack
from tests.support.ws import JobSocket

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
]
# Per operation and generation mode: ~22 operations x 2 modes x 12 requests take ~20 s here. The inputs are
# derandomized (the same every run); raise the number for a deeper search: TEST_FUZZ_MAX_EXAMPLES=200.
MAX_EXAMPLES = int(os.environ.get("TEST_FUZZ_MAX_EXAMPLES", "12"))


def _fuzz_operation(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> None:
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS, timeout=30)

    run()


def test_every_operation_conforms_to_the_schema(live_stack: Stack) -> None:
    """Failures of every operation are gathered, so one run reports them all.

    (schemathesis' own pytest integration reads a private pytest attribute that pytest 9 removed, so the
    operations are driven here with their Hypothesis strategies.)
    """
    loaded = schemathesis.openapi.from_url(f"{live_stack.base_url}/api/schema/?format=json", timeout=30)
    failures: list[str] = []
    operations = 0
    for result in loaded.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        operations += 1
        # A staff user per operation: staff endpoints answer, and each has its own submission budget.
        user = make_api_user("fuzz")
        get_user_model().objects.filter(username=user.username).update(is_staff=True)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz_operation(operation, mode, user.headers)
            except Unsatisfiable:
                continue  # nothing of the operation can be made invalid (no parameters, no body)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # noqa: BLE001 - schemathesis reports failures as exception groups
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert operations >= 20
    assert not failures, "\n\n".join(failures)


def test_websocket_handshake_is_refused_without_valid_credentials(live_stack: Stack) -> None:
    for token in (None, "not-a-token"):
        with pytest.raises(InvalidStatus) as refused:
            JobSocket(live_stack.ws_url, token=token)
        assert refused.value.response.status_code == 403


def test_websocket_refuses_a_strangers_job_but_serves_the_owners(
    live_stack: Stack, api_user: ApiUser
) -> None:
    wallet = base58.b58encode(hashlib.sha256(b"contract-ws").digest()).decode()
    response = requests.post(
        f"{live_stack.base_url}/jobs/wallets/sync",
        json={"wallet": wallet},
        headers=api_user.headers,
        timeout=10,
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    stranger = make_api_user("stranger")
    with JobSocket(live_stack.ws_url, token=stranger.token) as socket:
        refused = socket.subscribe(job_id)
        unknown = socket.subscribe("00000000-0000-0000-0000-000000000000")
    assert refused["type"] == "error" and refused["error"]["code"] == "not_found"
    assert unknown["type"] == "error" and unknown["error"]["code"] == "not_found"
    with JobSocket(live_stack.ws_url, token=api_user.token) as socket:
        snapshot = socket.subscribe(job_id)
    assert snapshot["type"] == "job-snapshot" and snapshot["kind"] == "wallet_sync"


def test_throttle_counts_across_gunicorn_workers(live_stack: Stack, api_user: ApiUser) -> None:
    """The live stack runs the default rate (120/minute): the 121st counted submission is refused."""
    user_id = get_user_model().objects.get(username=api_user.username).pk
    submit_throttle_reset(user_id=user_id)
    with requests.Session() as session:
        session.headers.update(api_user.headers)
        answers = [
            session.post(f"{live_stack.base_url}/jobs/wallets/sync", json={"wallet": "nope"}, timeout=10)
            for _ in range(121)
        ]
    assert [r.status_code for r in answers[:120]] == [400] * 120
    refused = answers[120]
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "throttled"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    submit_throttle_reset(user_id=user_id)
