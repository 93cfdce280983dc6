"""The job-progress WebSocket (README, Using the API): subscribe to your jobs, get a snapshot, then live
events.

Every message a client sends is bounded (WEBSOCKET_MAX_MESSAGE_BYTES; daphne closes the socket past 1 MiB)
and decoded like a REST body (core/json_input.py). Anything wrong with a message is answered with
`{"type": "error", "error": {code, message, fields}}` on a socket that stays open.
"""

from __future__ import annotations

import uuid
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from core.errors import NotFoundError
from core.json_input import JsonInputError, json_loads_bounded
from core.metrics import metric_incr
from jobs.events import job_group_name
from jobs.selectors import job_get_for_owner, job_snapshot

MAX_SUBSCRIPTIONS = 200
ACTIONS = ("subscribe", "unsubscribe")


def canonical_job_id(value: object) -> str | None:
    """The id in the one form events are published under (lower-case, hyphenated), or None when it is no
    UUID. Any spelling a UUID parser takes is accepted: upper case, `{…}`, `urn:uuid:…`, bare hex."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _shown(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


@database_sync_to_async
def _snapshot_for(user: Any, job_id: str) -> dict[str, Any]:
    return job_snapshot(job=job_get_for_owner(job_id=job_id, user=user))


class JobProgressConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            # Closing before accept refuses the handshake (HTTP 403): nothing is served to strangers.
            await self.close()
            return
        # Highest progress sent per job: reports from parallel tasks can cross in flight, and a client
        # must never see progress go down.
        self.subscriptions: dict[str, int] = {}
        await self.accept()
        await sync_to_async(metric_incr)("websocket_connections", 1)

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "subscriptions"):
            await sync_to_async(metric_incr)("websocket_connections", -1)
        for job_id in getattr(self, "subscriptions", {}):
            await self.channel_layer.group_discard(job_group_name(job_id), self.channel_name)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if text_data is None:
            await self._error("invalid_message", "Send JSON in text frames, not binary ones.")
            return
        limit = settings.WEBSOCKET_MAX_MESSAGE_BYTES
        if len(text_data) > limit or len(text_data.encode("utf-8", "surrogatepass")) > limit:
            await self._error("message_too_large", f"A message may be at most {limit} bytes.")
            return
        try:
            content = json_loads_bounded(text_data)
        except JsonInputError as exc:
            await self._error("malformed_json", f"The message is not valid JSON. {exc}")
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self._error("invalid_message", "Send a JSON object like {action, job_id}.")
            return
        action, given = content.get("action"), content.get("job_id")
        if action not in ACTIONS:
            await self._error(
                "invalid_action", "action must be subscribe or unsubscribe.", job_id=_shown(given)
            )
            return
        job_id = canonical_job_id(given)
        if job_id is None:
            # Said like an unknown job: a malformed id is one that exists for nobody.
            await self._error("not_found", f"No job with id {_shown(given)}.", job_id=_shown(given))
        elif action == "subscribe":
            await self._subscribe(job_id)
        else:
            self.subscriptions.pop(job_id, None)
            await self.channel_layer.group_discard(job_group_name(job_id), self.channel_name)
            await self.send_json({"type": "unsubscribed", "job_id": job_id})

    async def _subscribe(self, job_id: str) -> None:
        if len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
            await self._error("too_many_subscriptions", f"At most {MAX_SUBSCRIPTIONS} jobs per connection.")
            return
        try:
            # Validates ownership before joining the group; a stranger's job looks exactly like a missing one.
            await _snapshot_for(self.scope["user"], job_id)
        except NotFoundError as exc:
            await self._error("not_found", exc.message, job_id=job_id)
            return
        # Join first, then read the snapshot: an event between the two is at worst seen twice, never missed.
        await self.channel_layer.group_add(job_group_name(job_id), self.channel_name)
        snapshot = await _snapshot_for(self.scope["user"], job_id)
        self.subscriptions[job_id] = max(self.subscriptions.get(job_id, 0), snapshot["progress"])
        await self.send_json({"type": "job-snapshot", **snapshot})

    async def _error(self, code: str, message: str, **extra: Any) -> None:
        await self.send_json(
            {"type": "error", "error": {"code": code, "message": message, "fields": {}}, **extra}
        )

    async def job_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        job_id = event.get("job_id", "")
        if event.get("type") == "job-progress" and job_id in self.subscriptions:
            if event["progress"] < self.subscriptions[job_id]:
                return
            self.subscriptions[job_id] = event["progress"]
        await self.send_json(event)
