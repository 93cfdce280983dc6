"""The API's JSON parser: the body through `core.json_input` (depth, duplicate keys, UTF-8, surrogates).

Its size is bounded before it gets here: DRF reads a JSON body through Django's `request.body`, which
refuses one over DATA_UPLOAD_MAX_MEMORY_SIZE (setting REQUEST_MAX_BODY_BYTES) from its Content-Length,
before reading it; `core.api` answers that with the error shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from core.json_input import JsonInputError, json_loads_bounded


class BoundedJSONParser(JSONParser):
    def parse(
        self,
        stream: IO[Any] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        raw = stream.read() if stream is not None else b""
        try:
            return json_loads_bounded(raw)
        except JsonInputError as exc:
            raise ParseError(str(exc)) from None
