"""Job events over the channel layer (SPEC §7). Workers publish from their own processes through Redis.

Publishing is best effort: the ledger is the source of truth, and a subscriber's `job-snapshot` repairs
anything a lost event would have told it.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def job_group_name(job_id: str) -> str:
    return f"job.{job_id}"


def result_url(job_id: str) -> str:
    return f"/jobs/{job_id}/result"


def job_event_publish(*, job_id: str, event_type: str, **payload: Any) -> None:
    event = {"type": event_type, "job_id": str(job_id), **payload}
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(job_group_name(str(job_id)), {"type": "job.event", "event": event})
    except Exception:
        logger.warning("could not publish %s for job %s", event_type, job_id, exc_info=True)
