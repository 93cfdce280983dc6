"""The job-progress WebSocket with the whole ASGI application (auth middleware, Origin check, consumer) on
the real Redis channel layer, through channels' communicator; events are published the way workers do.

Bad messages get `{"type": "error", "error": {...}}` on a socket that stays open: a message nested 50,000
levels deep (a 1011 close before), one over WEBSOCKET_MAX_MESSAGE_BYTES, a binary frame, an unsubscribe
with a non-UUID, a subscribe with `{uuid}` or `urn:uuid:` forms (1011 and a traceback before). Job ids are
taken in any form a UUID may be written in and answered in the canonical lower-case one, so an upper-case
subscription gets live events too (it got the snapshot only before).

The Origin check of session cookies: tests/django/jobs/test_websocket_origin.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User

from config.asgi import application
from core.queues import Priority
from jobs import services
from jobs.events import job_event_publish
from jobs.models import Job
from tests.support.asgi import close_consumer_connections, token_headers

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/ws/job-progress/"
A = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"
B = "So11111111111111111111111111111111111111112"


@pytest.fixture(autouse=True)
def _close_consumer_connections() -> Iterator[None]:
    yield
    close_consumer_connections()


@pytest.fixture
def owner() -> User:
    return get_user_model().objects.create_user(username="ws-owner", password="pw-for-tests")


@pytest.fixture
def job(owner: User) -> Job:
    return services.job_submit(
        kind=Job.Kind.SIMILARITY,
        owner=owner,
        params={"wallets": [A, B], "options": {}},
        priority=Priority.HIGH,
    ).job


def run_socket(
    headers: list[tuple[bytes, bytes]], talk: Callable[[WebsocketCommunicator], Awaitable[Any]]
) -> Any:
    async def session() -> Any:
        communicator = WebsocketCommunicator(application, PATH, headers=headers)
        connected, _ = await communicator.connect(timeout=10)
        assert connected, "the handshake was refused"
        try:
            return await talk(communicator)
        finally:
            await communicator.disconnect()

    return asyncio.run(session())


async def receive(communicator: WebsocketCommunicator) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await communicator.receive_from(timeout=10))
    return message


async def send_raw(communicator: WebsocketCommunicator, text: str) -> dict[str, Any]:
    await communicator.send_to(text_data=text)
    return await receive(communicator)


async def subscribe(communicator: WebsocketCommunicator, job_id: str) -> dict[str, Any]:
    return await send_raw(communicator, json.dumps({"action": "subscribe", "job_id": job_id}))


def assert_error(message: dict[str, Any], code: str) -> None:
    assert message["type"] == "error", message
    assert message["error"]["code"] == code, message
    assert set(message["error"]) == {"code", "message", "fields"} and message["error"]["message"]


# ------------------------------------------------------------------------------------------------ item 5


def test_bad_messages_get_an_error_and_the_socket_stays_open(owner: User, job: Job, settings: Any) -> None:
    # Room for the 100 KB of brackets, so the decoder (not the size cap) is what refuses them.
    settings.WEBSOCKET_MAX_MESSAGE_BYTES = 200_000

    async def talk(socket: WebsocketCommunicator) -> list[dict[str, Any]]:
        answers = [
            await send_raw(socket, "[" * 50_000 + "]" * 50_000),
            await send_raw(socket, '{"action": "subscribe", "action": "unsubscribe", "job_id": "x"}'),
            await send_raw(socket, json.dumps({"action": "subscribe", "job_id": "x" * 200_000})),
            await send_raw(socket, "not json"),
            await send_raw(socket, '{"action": "subscribe", "job_id": "\\ud800"}'),
            await send_raw(socket, "[1, 2]"),
        ]
        await socket.send_to(bytes_data=b'{"action": "subscribe"}')
        answers.append(await receive(socket))
        answers.append(await subscribe(socket, str(job.id)))  # still open and serving
        return answers

    answers = run_socket(token_headers(owner), talk)
    assert_error(answers[0], "malformed_json")
    assert "deeper than" in answers[0]["error"]["message"]
    assert_error(answers[1], "malformed_json")
    assert_error(answers[2], "message_too_large")
    assert "200000 bytes" in answers[2]["error"]["message"]
    assert_error(answers[3], "malformed_json")
    assert_error(answers[4], "malformed_json")
    assert_error(answers[5], "invalid_message")
    assert_error(answers[6], "invalid_message")
    assert answers[7]["type"] == "job-snapshot" and answers[7]["job_id"] == str(job.id)


# ------------------------------------------------------------------------------------------------ item 11


@pytest.mark.parametrize(
    "written",
    [
        lambda job_id: job_id.upper(),
        lambda job_id: "{" + job_id + "}",
        lambda job_id: "urn:uuid:" + job_id,
        lambda job_id: job_id.replace("-", ""),
    ],
    ids=["upper-case", "braces", "urn", "hex"],
)
def test_any_form_of_the_id_subscribes_to_the_live_events(
    owner: User, job: Job, written: Callable[[str], str]
) -> None:
    canonical = str(job.id)

    async def talk(socket: WebsocketCommunicator) -> list[dict[str, Any]]:
        snapshot = await subscribe(socket, written(canonical))
        # Published by a worker's code path, under the canonical id.
        await asyncio.to_thread(
            job_event_publish, job_id=canonical, event_type="job-progress", progress=40, stage="syncing"
        )
        progress = await receive(socket)
        unsubscribed = await send_raw(
            socket, json.dumps({"action": "unsubscribe", "job_id": written(canonical)})
        )
        await asyncio.to_thread(
            job_event_publish, job_id=canonical, event_type="job-progress", progress=50, stage="syncing"
        )
        assert await socket.receive_nothing(timeout=0.5)
        return [snapshot, progress, unsubscribed]

    snapshot, progress, unsubscribed = run_socket(token_headers(owner), talk)
    assert snapshot["type"] == "job-snapshot" and snapshot["job_id"] == canonical
    assert progress["type"] == "job-progress" and progress["progress"] == 40
    assert unsubscribed == {"type": "unsubscribed", "job_id": canonical}


@pytest.mark.parametrize(
    "job_id",
    ["not-a-uuid", "", "{}", "urn:uuid:", "x" * 200, "job.1 2", 12, None, {"a": 1}, ["x"]],
    ids=["words", "empty", "braces", "urn", "long", "spaces", "number", "null", "object", "list"],
)
@pytest.mark.parametrize("action", ["subscribe", "unsubscribe"])
def test_an_invalid_id_gets_an_error_on_an_open_socket(
    owner: User, job: Job, action: str, job_id: Any
) -> None:
    async def talk(socket: WebsocketCommunicator) -> list[dict[str, Any]]:
        refused = await send_raw(socket, json.dumps({"action": action, "job_id": job_id}))
        return [refused, await subscribe(socket, str(job.id))]

    refused, snapshot = run_socket(token_headers(owner), talk)
    assert_error(refused, "not_found")
    assert snapshot["type"] == "job-snapshot"
