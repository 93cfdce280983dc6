"""The one exception handler: every API error leaves as `{error: {code, message, fields}}`, bounded."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.errors import ApplicationError

ViewFunction = Callable[..., HttpResponse]

# The error shape for the OpenAPI schema. `fields` would shadow Serializer.fields in a class body, so it is
# declared inline.
ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorBody",
            fields={
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
            },
        )
    },
)

_CODES: dict[type[exceptions.APIException], tuple[str, str]] = {
    exceptions.ParseError: ("malformed_json", "The request body is not valid JSON."),
    exceptions.NotAuthenticated: ("not_authenticated", "Authentication credentials were not provided."),
    exceptions.AuthenticationFailed: ("authentication_failed", "Invalid authentication credentials."),
    exceptions.PermissionDenied: ("permission_denied", "You do not have permission to do this."),
    exceptions.NotFound: ("not_found", "Not found."),
    exceptions.MethodNotAllowed: ("method_not_allowed", "Method not allowed."),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", "Send the body as application/json."),
    exceptions.NotAcceptable: ("not_acceptable", "Cannot produce the requested content type."),
    exceptions.Throttled: ("throttled", "Too many requests."),
}


# An error answer stays small whatever the input: a body with 50,000 bad keys must not get a 50,000-entry
# answer (it was 15.9 MB for a 639 KB body). The first fields are listed, the rest counted in the message.
MAX_ERROR_FIELDS = 20
MAX_MESSAGES_PER_FIELD = 5
MAX_FIELD_NAME_CHARS = 120
MAX_FIELD_MESSAGE_CHARS = 300
MAX_MESSAGE_CHARS = 1_000


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _bounded_fields(fields: dict[str, list[str]]) -> dict[str, list[str]]:
    return {
        _clip(name, MAX_FIELD_NAME_CHARS): [
            _clip(message, MAX_FIELD_MESSAGE_CHARS) for message in messages[:MAX_MESSAGES_PER_FIELD]
        ]
        for name, messages in itertools.islice(fields.items(), MAX_ERROR_FIELDS)
    }


def _bounded_message(message: str, field_count: int) -> str:
    if len(message) > MAX_MESSAGE_CHARS:
        # At the last whole clause ("field: problem; field: problem") that fits, when there is one.
        cut = message.rfind("; ", 0, MAX_MESSAGE_CHARS)
        message = f"{message[:cut]}; …" if cut > 0 else _clip(message, MAX_MESSAGE_CHARS)
    if field_count > MAX_ERROR_FIELDS:
        message += f" ({field_count} fields have errors; the first {MAX_ERROR_FIELDS} are listed.)"
    return message


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """`{error: {code, message, fields}}`, bounded: at most MAX_ERROR_FIELDS fields, clipped texts, and the
    message says how many fields had errors when some are left out."""
    fields = fields or {}
    return {
        "error": {
            "code": code,
            "message": _bounded_message(message, len(fields)),
            "fields": _bounded_fields(fields),
        }
    }


_READ_METHODS = ("GET", "HEAD")


def read_only_view(view: ViewFunction) -> ViewFunction:
    """A plain Django view that answers GET and HEAD; any other method gets 405 with `Allow` and the error
    shape. (A function view otherwise answers every method like GET, TRACE included; and the CSRF middleware
    would answer a method it does not know, such as QUERY, with its HTML 403 page.)"""

    @csrf_exempt  # it only ever reads: nothing for a forged request to change
    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in _READ_METHODS:
            response = JsonResponse(
                error_body("method_not_allowed", f"Method {request.method} not allowed."), status=405
            )
            response["Allow"] = ", ".join(_READ_METHODS)
            return response
        return view(request, *args, **kwargs)

    return guarded


def query_values(request: Request) -> dict[str, str]:
    """The query string as a plain dict (the last value of a repeated name), for a filter serializer.

    Given the QueryDict itself, DRF reads it like HTML form input and takes an empty value (`?status=`) for
    an absent one, so `status=` would list every job although the schema says it is not a status.
    """
    return request.query_params.dict()


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested validation detail into `{"wallets[2]": ["..."], "options.window": [...]}`."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = str(key) if key != "non_field_errors" else "non_field_errors"
            flat.update(_flatten(value, f"{prefix}.{name}" if prefix else name))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            if item:
                flat.update(_flatten(item, f"{prefix}[{index}]"))
        return flat
    return {prefix or "non_field_errors": [str(detail)]}


def _too_large_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return f"The request body is larger than {limit} bytes (REQUEST_MAX_BODY_BYTES)."


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    headers: dict[str, str] = {}
    if isinstance(exc, ApplicationError):
        set_rollback()
        if exc.retry_after_s is not None:
            headers["Retry-After"] = str(exc.retry_after_s)
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status, headers=headers)
    if isinstance(exc, RequestDataTooBig):
        set_rollback()
        return Response(
            error_body("body_too_large", _too_large_message()), status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        listed = _bounded_fields(fields)
        message = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in listed.items()) or "Invalid input."
        body = error_body("invalid_input", message, fields)
    else:
        code, default_message = _CODES.get(type(exc), (str(exc.default_code), str(exc.default_detail)))
        message = str(exc.detail) if isinstance(exc.detail, str) else default_message
        if isinstance(exc, exceptions.ParseError):
            message = f"{default_message} {exc.detail}"
        body = error_body(code, message)

    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    wait = getattr(exc, "wait", None)
    if wait is not None:
        headers["Retry-After"] = str(int(wait))
    set_rollback()
    return Response(body, status=getattr(exc, "status_code", status.HTTP_400_BAD_REQUEST), headers=headers)
