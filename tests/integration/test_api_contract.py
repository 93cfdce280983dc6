"""The API against its own contract, on the live stack (gunicorn, daphne, workers): what only the real
servers can show, the WebSocket refusing a handshake without valid credentials, and the submission throttle
counting across gunicorn's worker processes (Redis, not process memory).

The schema itself is checked by fuzzing the served API: tests/integration/test_api_fuzz.py. The table of bad
HTTP inputs runs in-process: tests/django/jobs/test_api_bad_inputs.py.
"""

from __future__ import annotations

import hashlib

import base58
import pytest
import requests
from django.contrib.auth import get_user_model
from websockets.exceptions import InvalidStatus

from core.throttles import submit_throttle_reset
from tests.integration.conftest import ApiUser, make_api_user
from tests.support.stack import Stack
from tests.support.ws import JobSocket

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


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


def test_websocket_answers_bad_messages_with_errors_and_stays_open(
    live_stack: Stack, api_user: ApiUser
) -> None:
    """On daphne: these closed the socket with 1011 before (a RecursionError, an invalid group name)."""
    wallet = base58.b58encode(hashlib.sha256(b"contract-ws-bad").digest()).decode()
    response = requests.post(
        f"{live_stack.base_url}/jobs/wallets/sync",
        json={"wallet": wallet},
        headers=api_user.headers,
        timeout=10,
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    with JobSocket(live_stack.ws_url, token=api_user.token) as socket:
        socket.connection.send("[" * 50_000 + "]" * 50_000)
        too_large = socket.next_event(10)
        socket.connection.send("[" * 1_000 + "]" * 1_000)
        too_deep = socket.next_event(10)
        socket.send({"action": "unsubscribe", "job_id": "not a uuid"})
        bad_id = socket.next_event(10)
        snapshot = socket.subscribe("{" + job_id.upper() + "}")
    assert too_large["error"]["code"] == "message_too_large", too_large
    assert too_deep["error"]["code"] == "malformed_json", too_deep
    assert bad_id["error"]["code"] == "not_found", bad_id
    assert snapshot["type"] == "job-snapshot" and snapshot["job_id"] == job_id, snapshot
