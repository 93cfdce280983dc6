"""`python -m config.worker QUEUE`: pool, concurrency and node name from the queue table and environment."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import Env
from config.worker import worker_argv
from core.queues import SIMILARITY_QUEUE, WALLET_QUEUE


def _option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_each_queue_gets_its_pool_concurrency_and_node_name() -> None:
    wallet = worker_argv(WALLET_QUEUE, Env({}))
    similarity = worker_argv(SIMILARITY_QUEUE, Env({"SIMILARITY_CONCURRENCY": "3"}))

    assert (_option(wallet, "--pool"), _option(wallet, "--concurrency")) == ("threads", "6")
    assert (_option(wallet, "--queues"), _option(wallet, "--hostname")) == (WALLET_QUEUE, "wallet@%h")
    assert (_option(similarity, "--pool"), _option(similarity, "--concurrency")) == ("prefork", "3")


def test_a_second_process_of_a_queue_on_the_same_host_gets_its_own_node_name() -> None:
    argv = worker_argv(WALLET_QUEUE, Env({"WORKER_NAME": "wallet2", "WALLET_CONCURRENCY": "4"}))

    assert (_option(argv, "--hostname"), _option(argv, "--concurrency")) == ("wallet2@%h", "4")


def test_a_bad_concurrency_stops_the_worker_naming_the_variable() -> None:
    with pytest.raises(ImproperlyConfigured, match="WALLET_CONCURRENCY"):
        worker_argv(WALLET_QUEUE, Env({"WALLET_CONCURRENCY": "0"}))
