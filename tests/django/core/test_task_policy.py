"""`core.task_policy.queue_task`: one declaration of a task's name and queue, its queue's policy, retries by
error class, and `on_give_up` for final failures. Tasks run in-process with `apply()` here; the flows prove
the same decorator through real workers in tests/integration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from celery import Task

from config.celery import app as celery_app
from config.settings import CELERY_BEAT_SCHEDULE
from core.errors import BusyError, FatalError, TransientError
from core.queues import QUEUES, SIMILARITY_QUEUE, WALLET_QUEUE
from core.task_policy import TaskSpec, queue_task
from enrichment.tasks import REFRESH_TOKEN_METADATA
from jobs import dispatch

calls: list[str] = []
given_up: list[tuple[str, dict[str, Any]]] = []


def _remember(task: Task, exc: BaseException, kwargs: Mapping[str, Any]) -> str:
    given_up.append((type(exc).__name__, dict(kwargs)))
    return "given up"


class _Busy(BusyError):
    wait_s = 0.0
    max_waits = 5


def _raise_first(errors: list[BaseException]) -> str:
    calls.append("run")
    if errors:
        raise errors.pop(0)
    return "done"


_pending: list[BaseException] = []


@queue_task(TaskSpec("tests.policy_flaky", WALLET_QUEUE), on_give_up=_remember)
def flaky_task(*, job_id: str) -> str:
    return _raise_first(_pending)


@queue_task(TaskSpec("tests.policy_plain", SIMILARITY_QUEUE))
def plain_task(*, job_id: str) -> str:
    return _raise_first(_pending)


@pytest.fixture(scope="module", autouse=True)
def _workers_task_modules() -> None:
    """What a worker imports at start (Celery's autodiscovery of each app's `tasks` module)."""
    celery_app.loader.import_default_modules()


@pytest.fixture(autouse=True)
def _reset() -> None:
    calls.clear()
    given_up.clear()
    _pending.clear()


def test_a_task_is_registered_under_its_spec_with_its_queues_policy() -> None:
    task = celery_app.tasks["tests.policy_flaky"]
    spec = QUEUES[WALLET_QUEUE]
    assert getattr(task, "policy_queue", None) == WALLET_QUEUE
    assert (task.soft_time_limit, task.time_limit) == (spec.soft_time_limit_s, spec.hard_time_limit_s)
    assert task.acks_late and task.reject_on_worker_lost and task.ignore_result
    assert task.max_retries == spec.max_attempts - 1


def test_celery_still_checks_the_arguments_of_a_send() -> None:
    with pytest.raises(TypeError):
        flaky_task.apply_async(kwargs={"job_id": "j", "unexpected": 1}, queue=WALLET_QUEUE)
    with pytest.raises(TypeError):
        flaky_task.apply_async(kwargs={}, queue=WALLET_QUEUE)


def test_transient_errors_are_retried_within_the_queues_attempts_then_given_up() -> None:
    _pending.extend([TransientError("first"), TransientError("second")])
    assert flaky_task.apply(kwargs={"job_id": "j"}).get() == "done"
    assert calls == ["run", "run", "run"]  # the wallet queue allows 3 attempts

    calls.clear()
    _pending.extend([TransientError(str(n)) for n in range(3)])
    assert flaky_task.apply(kwargs={"job_id": "j"}).get() == "given up"
    assert calls == ["run"] * 3 and given_up == [("TransientError", {"job_id": "j"})]


def test_a_busy_resource_is_waited_for_without_spending_attempts() -> None:
    _pending.extend([_Busy("locked")] * 4)
    assert flaky_task.apply(kwargs={"job_id": "j"}).get() == "done"
    assert calls == ["run"] * 5 and not given_up


def test_a_fatal_error_is_given_up_at_once() -> None:
    _pending.append(FatalError("bad address"))
    assert flaky_task.apply(kwargs={"job_id": "j"}).get() == "given up"
    assert calls == ["run"] and given_up == [("FatalError", {"job_id": "j"})]


def test_without_a_give_up_handler_the_error_is_raised() -> None:
    _pending.append(FatalError("no handler"))
    result = plain_task.apply(kwargs={"job_id": "j"})
    assert result.failed() and isinstance(result.result, FatalError)


def test_every_periodic_task_names_a_registered_task_on_its_own_queue() -> None:
    specs = {
        dispatch.SWEEP_STALLED.name: dispatch.SWEEP_STALLED,
        REFRESH_TOKEN_METADATA.name: REFRESH_TOKEN_METADATA,
    }
    specs[dispatch.CLEANUP.name] = dispatch.CLEANUP
    entries: list[dict[str, Any]] = list(CELERY_BEAT_SCHEDULE.values())
    for entry in entries:
        name: str = entry["task"]
        assert name in celery_app.tasks
        assert (
            entry["options"]["queue"]
            == specs[name].queue
            == getattr(celery_app.tasks[name], "policy_queue", None)
        )


def test_every_job_task_is_registered_under_its_spec() -> None:
    specs = [value for value in vars(dispatch).values() if isinstance(value, TaskSpec)]
    assert len(specs) >= 12
    for spec in specs:
        assert getattr(celery_app.tasks[spec.name], "policy_queue", None) == spec.queue
    assert set(dispatch.START_TASKS.values()) <= set(specs)


def test_a_spec_must_name_a_known_queue() -> None:
    with pytest.raises(ValueError, match="unknown queue"):
        TaskSpec("tests.nowhere", "no-such-queue")
