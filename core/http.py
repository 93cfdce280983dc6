"""HTTP sessions for upstream APIs: urllib3 `Retry` for 429/5xx (honouring Retry-After), a timeout on every
call, and errors mapped onto our transient/fatal classes."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import ConnectionPool
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from core.errors import FatalError, TransientError
from core.metrics import metric_api_label, metric_incr

RETRY_STATUSES = (429, 500, 502, 503, 504)


class CountingRetry(Retry):
    """urllib3's Retry, counting every answer it retries (429s above all) for /metrics."""

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
        metric_incr("upstream_retries_total", status=str(status or "network"))
        if status == 429:
            metric_incr("upstream_rate_limited_total")
        return super().increment(method, url, response, error, _pool, _stacktrace)


class UpstreamTransientError(TransientError):
    """The upstream failed in a way another attempt may fix (timeout, connection, 429, 5xx)."""


class UpstreamFatalError(FatalError):
    """The upstream refused in a way no retry fixes (401/403, malformed request)."""


def build_session(
    *, retries: int = 3, backoff_factor: float = 0.5, max_backoff_s: float = 10.0
) -> requests.Session:
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
    )
    adapter = HTTPAdapter(max_retries=retry, pool_connections=8, pool_maxsize=16)
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = "wallet-analysis/0.1"
    return session


def request_json(
    session: requests.Session, method: str, url: str, *, api: str, timeout_s: float, **kwargs: Any
) -> Any:
    """One upstream call; returns the decoded JSON or raises UpstreamTransientError / UpstreamFatalError."""
    label = metric_api_label(api)
    metric_incr("upstream_calls_total", api=label)
    try:
        response = session.request(method, url, timeout=timeout_s, **kwargs)
    except (requests.Timeout, requests.ConnectionError) as exc:
        metric_incr("upstream_errors_total", api=label, kind="network")
        raise UpstreamTransientError(f"{api}: {type(exc).__name__} after retries") from exc
    except requests.RequestException as exc:
        metric_incr("upstream_errors_total", api=label, kind="network")
        raise UpstreamTransientError(f"{api}: {exc}") from exc
    if response.status_code >= 400:
        metric_incr("upstream_errors_total", api=label, kind=str(response.status_code))
    if response.status_code in (401, 403):
        raise UpstreamFatalError(
            f"{api} refused the credentials (HTTP {response.status_code}): check the API key setting"
        )
    if response.status_code in RETRY_STATUSES:
        raise UpstreamTransientError(f"{api} answered HTTP {response.status_code} after retries")
    if response.status_code >= 400:
        raise UpstreamFatalError(f"{api} answered HTTP {response.status_code}: {response.text[:200]}")
    try:
        return response.json()
    except ValueError as exc:
        raise UpstreamTransientError(f"{api} answered a body that is not JSON") from exc
