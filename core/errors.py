"""Error classes shared by every app.

`ApplicationError` carries what the API answers (code, message, fields, HTTP status); the exception handler
in `core.api` is the one place that turns it into a response. `TransientError` and `FatalError` tell tasks
whether another attempt can help (docs/ARCHITECTURE.md §4).
"""

from __future__ import annotations

import math


class ApplicationError(Exception):
    code = "error"
    status = 400
    # Seconds after which the same request may succeed: sent as `Retry-After` (429, 503).
    retry_after_s: int | None = None

    def __init__(self, message: str, *, code: str | None = None, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.fields = fields or {}


class InvalidInputError(ApplicationError):
    code = "invalid_input"
    status = 400


class NotFoundError(ApplicationError):
    code = "not_found"
    status = 404


class ConflictError(ApplicationError):
    code = "conflict"
    status = 409


class TooManyRequestsError(ApplicationError):
    """A bound on what one user (or everyone) may have in flight: nothing was done; retry later."""

    code = "too_many_requests"
    status = 429

    def __init__(self, message: str, *, code: str | None = None, retry_after_s: float = 1.0) -> None:
        super().__init__(message, code=code)
        self.retry_after_s = max(1, math.ceil(retry_after_s))


class ServiceUnavailableError(ApplicationError):
    """A store the request needs does not answer: nothing was done; retry later."""

    code = "service_unavailable"
    status = 503

    def __init__(self, message: str, *, retry_after_s: float = 5.0) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, math.ceil(retry_after_s))


class TransientError(Exception):
    """Another attempt may succeed: network errors, timeouts, HTTP 429/5xx, a busy lock."""

    error_type = "transient"


class FatalError(Exception):
    """Another attempt cannot succeed: invalid address, upstream auth failure, insufficient data."""

    error_type = "fatal"


class BusyError(TransientError):
    """Another task holds what this one needs (a wallet's sync lock): wait briefly and try again, without
    spending one of the queue's attempts; `wait_s` apart, at most `max_waits` times."""

    error_type = "busy"
    wait_s = 1.5
    # Together longer than the wallet queue's hard limit: the holder either finishes or its lock expires.
    max_waits = 300
