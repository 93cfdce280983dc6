"""The job-progress WebSocket (SPEC §7): subscribe to your jobs, get a snapshot, then live events."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from core.errors import NotFoundError
from core.metrics import metric_incr
from jobs.events import job_group_name
from jobs.selectors import job_get_for_owner, job_snapshot

MAX_SUBSCRIPTIONS = 200


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

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self._error("invalid_message", "Send a JSON object like {action, job_id}.")
            return
        action, job_id = content.get("action"), str(content.get("job_id") or "")
        if action == "subscribe":
            await self._subscribe(job_id)
        elif action == "unsubscribe":
            self.subscriptions.pop(job_id, None)
            await self.channel_layer.group_discard(job_group_name(job_id), self.channel_name)
            await self.send_json({"type": "unsubscribed", "job_id": job_id})
        else:
            await self._error("invalid_action", "action must be subscribe or unsubscribe.", job_id=job_id)

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
