"""HTTP sessions for upstream APIs: urllib3 `Retry` for 429/5xx (honouring Retry-After), a timeout on every
call, and errors mapped onto our transient/fatal classes.

Every attempt counts against the upstream's global rate limit: the caller takes a slot before the first
attempt and `build_session(before_retry=…)` takes one before each retry (after its backoff or Retry-After
wait), so a flaky upstream never makes us exceed the limit it set (docs/ARCHITECTURE.md, "Upstream calls").

What an upstream can make us spend is bounded too: a body over UPSTREAM_MAX_RESPONSE_BYTES is refused from
its Content-Length or while it streams in, and a Retry-After over UPSTREAM_MAX_RETRY_AFTER_S is not waited
for (the wait would hold a worker thread, where Celery's time limits do not reach). Both fail the call as a
transient error, so the task's own retry, with its queue's backoff, takes over.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import InvalidHeader, MaxRetryError, ResponseError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from core.errors import FatalError, TransientError
from core.metrics import metric_api_label, metric_incr

RETRY_STATUSES = (429, 500, 502, 503, 504)
_READ_CHUNK_BYTES = 64 * 1024


class CountingRetry(Retry):
    """urllib3's Retry, counting every answer it retries (429s above all) for /metrics, giving up at once on
    a Retry-After longer than `max_retry_after_s` (urllib3 then hands back that answer, 429 or 503, as it
    is, which `request_json` reports as transient), and calling `before_retry` once its wait is over, just
    before the retry is sent: the hook takes the retry's own slot of the upstream's global rate limit."""

    def __init__(
        self,
        *args: Any,
        max_retry_after_s: float = math.inf,
        before_retry: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.max_retry_after_s = max_retry_after_s
        self.before_retry = before_retry

    def new(self, **kwargs: Any) -> Self:
        # urllib3 makes a new Retry for every attempt from its own parameters only.
        renewed = super().new(**kwargs)
        renewed.max_retry_after_s = self.max_retry_after_s
        renewed.before_retry = self.before_retry
        return renewed

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        super().sleep(response)
        if self.before_retry is not None:
            self.before_retry()

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        status = response.status if response is not None else None
        if status == 429:
            metric_incr("upstream_rate_limited_total")
        if response is not None and _retry_after_s(self, response) > self.max_retry_after_s:
            raise MaxRetryError(_pool, url or "", ResponseError("Retry-After is longer than allowed"))  # type: ignore[arg-type]
        metric_incr("upstream_retries_total", status=str(status or "network"))
        return super().increment(method, url, response, error, _pool, _stacktrace)


def _retry_after_s(retry: Retry, response: BaseHTTPResponse) -> float:
    try:
        return retry.get_retry_after(response) or 0.0
    except InvalidHeader:
        return 0.0


class UpstreamTransientError(TransientError):
    """The upstream failed in a way another attempt may fix (timeout, connection, 429, 5xx).

    `status` is the HTTP status it answered (None: no answer), `retry_after_s` the wait it asked for."""

    def __init__(self, message: str, *, status: str | None = None, retry_after_s: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


class UpstreamFatalError(FatalError):
    """The upstream refused in a way no retry fixes (401/403, malformed request)."""


def build_session(
    *,
    retries: int = 3,
    backoff_factor: float = 0.5,
    max_backoff_s: float = 10.0,
    max_retry_after_s: float | None = None,
    before_retry: Callable[[], None] | None = None,
) -> requests.Session:
    """A session with retries; `max_retry_after_s` defaults to the UPSTREAM_MAX_RETRY_AFTER_S setting.

    `before_retry` runs before every retry the session makes (after its wait): pass the function that takes
    a slot of the upstream's global rate limit, so that retries stay inside it. One session per limit."""
    retry = CountingRetry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=backoff_factor,
        backoff_max=max_backoff_s,
        backoff_jitter=0.25,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=None,  # POST too: every upstream call we make is a read
        respect_retry_after_header=True,
        raise_on_status=False,
        max_retry_after_s=settings.UPSTREAM_MAX_RETRY_AFTER_S
        if max_retry_after_s is None
        else max_retry_after_s,
        before_retry=before_retry,
    )
    adapter = HTTPAdapter(max_retries=retry, pool_connections=8, pool_maxsize=16)
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = "wallet-analysis/0.1"
    return session


def request_json(
    session: requests.Session,
    method: str,
    url: str,
    *,
    api: str,
    timeout_s: float,
    max_bytes: int | None = None,
    **kwargs: Any,
) -> Any:
    """One upstream call; returns the decoded JSON or raises UpstreamTransientError / UpstreamFatalError.

    `max_bytes` (default: the UPSTREAM_MAX_RESPONSE_BYTES setting) bounds the body read.
    """
    label = metric_api_label(api)
    limit = settings.UPSTREAM_MAX_RESPONSE_BYTES if max_bytes is None else max_bytes
    metric_incr("upstream_calls_total", api=label)
    try:
        response = session.request(method, url, timeout=timeout_s, stream=True, **kwargs)
    except (requests.Timeout, requests.ConnectionError) as exc:
        metric_incr("upstream_errors_total", api=label, kind="network")
        raise UpstreamTransientError(f"{api}: {type(exc).__name__} after retries") from exc
    except requests.RequestException as exc:
        metric_incr("upstream_errors_total", api=label, kind="network")
        raise UpstreamTransientError(f"{api}: {exc}") from exc
    with response:
        _raise_for_status(response, api=api, label=label, session=session)
        body = _read_body(response, api=api, label=label, limit=limit)
    try:
        return json.loads(body)
    except ValueError as exc:
        raise UpstreamTransientError(f"{api} answered a body that is not JSON") from exc


def _raise_for_status(
    response: requests.Response, *, api: str, label: str, session: requests.Session
) -> None:
    status = response.status_code
    if status < 400:
        return
    metric_incr("upstream_errors_total", api=label, kind=str(status))
    if status in (401, 403):
        raise UpstreamFatalError(f"{api} refused the credentials (HTTP {status}): check the API key setting")
    if status in RETRY_STATUSES:
        adapter = session.get_adapter(response.url)
        retry = adapter.max_retries if isinstance(adapter, HTTPAdapter) else None
        wait_s = _retry_after_s(retry, response.raw) if isinstance(retry, CountingRetry) else 0.0
        if isinstance(retry, CountingRetry) and wait_s > retry.max_retry_after_s:
            raise UpstreamTransientError(
                f"{api} answered HTTP {status} asking to wait {wait_s:.0f} s (Retry-After), longer than "
                f"UPSTREAM_MAX_RETRY_AFTER_S ({retry.max_retry_after_s:g} s)"
            )
        raise UpstreamTransientError(f"{api} answered HTTP {status} after retries")
    excerpt = next(response.iter_content(chunk_size=200), b"")[:200].decode("utf-8", "replace")
    raise UpstreamFatalError(f"{api} answered HTTP {status}: {excerpt}")


def _read_body(response: requests.Response, *, api: str, label: str, limit: int) -> bytes:
    declared = response.headers.get("Content-Length", "")
    too_large = declared.isdigit() and int(declared) > limit
    chunks: list[bytes] = []
    size = 0
    try:
        # Counted as decoded (after any gzip), chunk by chunk: a chunked answer has no length to check first.
        for chunk in [] if too_large else response.iter_content(chunk_size=_READ_CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                too_large = True
                break
            chunks.append(chunk)
    except requests.RequestException as exc:
        metric_incr("upstream_errors_total", api=label, kind="network")
        raise UpstreamTransientError(f"{api}: {type(exc).__name__} while reading the answer") from exc
    if too_large:
        metric_incr("upstream_errors_total", api=label, kind="too_large")
        raise UpstreamTransientError(
            f"{api} answered more than {limit} bytes (UPSTREAM_MAX_RESPONSE_BYTES); the rest was not read"
        )
    return b"".join(chunks)
