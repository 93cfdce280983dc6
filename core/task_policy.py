"""How a task is bound to its queue's policy: one declaration of its name and queue, and one decorator that
gives it the queue's time limits, acknowledgement rules and retry-by-error-class (docs/ARCHITECTURE.md,
"Tasks and retries").

Errors are sorted by class, once, here:
- `BusyError` (a lock another task holds): retried on a short countdown without spending an attempt;
- `TransientError`, a lost database or Redis connection: retried with the queue's backoff while the queue's
  attempts last;
- anything else, and a transient error with no attempt left, is final: the task's `on_give_up` handler
  decides what that means for its job (fail it, report a wallet as failed, ...), or the error is raised
  (Celery records the failure) when the task has none.
"""

from __future__ import annotations

import functools
import inspect
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.errors import BusyError, TransientError
from core.queues import QUEUES, QueueSpec

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    DatabaseError,
    RedisConnectionError,
    RedisTimeoutError,
)

GiveUp = Callable[[Task, BaseException, Mapping[str, Any]], Any]
"""Called with the task, the final error and the task's keyword arguments; its return value is the task's."""


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """A task's registered name and its queue, declared once: the decorator registers the task under them
    and senders address it through the same object, so neither is ever spelled twice."""

    name: str
    queue: str

    def __post_init__(self) -> None:
        if self.queue not in QUEUES:
            raise ValueError(f"task {self.name}: unknown queue {self.queue!r}")


def queue_task_options(queue: str) -> dict[str, Any]:
    """Celery task options that bind a task to its queue's policy (time limits, late acks, attempts)."""
    spec: QueueSpec = QUEUES[queue]
    return {
        # Read by `config.celery.route_by_queue_policy`: Celery 5.5+ deprecates routing through a `queue`
        # task attribute.
        "policy_queue": queue,
        "soft_time_limit": spec.soft_time_limit_s,
        "time_limit": spec.hard_time_limit_s,
        "max_retries": spec.max_retries,
        "acks_late": True,
        "reject_on_worker_lost": True,
    }


def error_type(exc: BaseException) -> str:
    """The short name a failure is filed under: the error's own `error_type`, else transient or fatal."""
    if isinstance(exc, SoftTimeLimitExceeded):
        return "timeout"
    default = "transient" if isinstance(exc, TRANSIENT_ERRORS) else "fatal"
    return str(getattr(exc, "error_type", default))


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def retry_if_transient(task: Task, exc: Exception) -> None:
    """Raise Celery's Retry when another attempt may help; return when the error is final."""
    if isinstance(exc, BusyError) and task.request.retries < exc.max_waits:
        countdown = exc.wait_s * (1 + random.random() / 2)
        raise task.retry(exc=exc, countdown=countdown, max_retries=exc.max_waits)
    if not isinstance(exc, TRANSIENT_ERRORS) or isinstance(exc, BusyError):
        return
    spec = QUEUES[str(getattr(task, "policy_queue", ""))]
    if task.request.retries >= spec.max_retries:
        return
    countdown = spec.retry_countdown(task.request.retries, jitter_fraction=random.random() * 0.5)
    logger.info("retrying %s in %.1fs after %s", task.name, countdown, describe(exc))
    raise task.retry(exc=exc, countdown=countdown)


def queue_task(
    spec: TaskSpec, *, keep_result: bool = False, on_give_up: GiveUp | None = None
) -> Callable[[Callable[..., Any]], Task]:
    """Register the decorated function as the Celery task `spec.name` on `spec.queue`, under that queue's
    policy, with retries by error class (see the module docstring).

    The function itself takes only its own arguments (no `self`). Its result is stored in the result
    backend only with `keep_result` (chord headers, whose results the chord's body reads); every other
    task's outcome lives in the job ledger.
    """

    def decorate(function: Callable[..., Any]) -> Task:
        @functools.wraps(function)
        def run(task: Task, *args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except Exception as exc:  # sorted by class right here: retried, given up or raised
                retry_if_transient(task, exc)
                if on_give_up is None:
                    raise
                return on_give_up(task, exc, kwargs)

        # Celery checks the arguments of every send against the task's signature: show it the function's own
        # parameters after the bound task, not the wrapper's catch-all.
        own = inspect.signature(function)
        bound = inspect.Parameter("task", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        run.__signature__ = own.replace(parameters=[bound, *own.parameters.values()])  # type: ignore[attr-defined]
        registered: Task = shared_task(
            bind=True, name=spec.name, ignore_result=not keep_result, **queue_task_options(spec.queue)
        )(run)
        return registered

    return decorate
