"""The one reader of environment variables.

Every setting the project takes from the environment is read here, typed and validated, so a bad value
stops the process at start-up with a message naming the variable instead of failing later in a task.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def load_dotenv(path: Path, environ: dict[str, str] | None = None) -> None:
    """Fill unset variables from a `.env` file; the real environment always wins."""
    target = os.environ if environ is None else environ
    if not path.is_file():
        return
    for raw_line in path.read_text().splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        target.setdefault(key, value.strip().strip("'\""))


class Env:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def _parse(self, name: str, default: T, parse: Callable[[str], T], expected: str) -> T:
        raw = self._environ.get(name)
        if raw is None or raw == "":
            return default
        try:
            return parse(raw.strip())
        except (TypeError, ValueError) as exc:
            raise ImproperlyConfigured(f"{name}={raw!r} is invalid: expected {expected} ({exc})") from exc

    def get_str(self, name: str, default: str) -> str:
        return self._parse(name, default, str, "a string")

    def get_bool(self, name: str, default: bool) -> bool:
        def parse(raw: str) -> bool:
            lowered = raw.lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise ValueError("not a boolean")

        return self._parse(name, default, parse, "true or false")

    def get_int(
        self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        def parse(raw: str) -> int:
            value = int(raw)
            if minimum is not None and value < minimum:
                raise ValueError(f"must be >= {minimum}")
            if maximum is not None and value > maximum:
                raise ValueError(f"must be <= {maximum}")
            return value

        return self._parse(name, default, parse, "an integer")

    def get_float(
        self, name: str, default: float, *, minimum: float | None = None, maximum: float | None = None
    ) -> float:
        def parse(raw: str) -> float:
            value = float(raw)
            if minimum is not None and value < minimum:
                raise ValueError(f"must be >= {minimum}")
            if maximum is not None and value > maximum:
                raise ValueError(f"must be <= {maximum}")
            return value

        return self._parse(name, default, parse, "a number")

    def get_choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        def parse(raw: str) -> str:
            if raw not in choices:
                raise ValueError(f"one of {', '.join(choices)}")
            return raw

        return self._parse(name, default, parse, f"one of {', '.join(choices)}")

    def get_url(self, name: str, default: str, *, schemes: tuple[str, ...]) -> str:
        def parse(raw: str) -> str:
            parsed = urlparse(raw)
            if parsed.scheme not in schemes:
                raise ValueError(f"scheme must be one of {', '.join(schemes)}")
            if parsed.scheme not in {"sqlite"} and not parsed.netloc:
                raise ValueError("missing host")
            return raw.rstrip("/")

        return self._parse(name, default, parse, f"a {'/'.join(schemes)} URL")

    def get_list(self, name: str, default: list[str]) -> list[str]:
        return self._parse(
            name, default, lambda raw: [p.strip() for p in raw.split(",") if p.strip()], "a list"
        )

    def get_header_name(self, name: str, default: str) -> str:
        """An HTTP header name such as X-Forwarded-Proto; `none` (or empty when the default is) for none."""

        def parse(raw: str) -> str:
            if raw.lower() == "none":
                return ""
            if not re.fullmatch(r"[A-Za-z0-9-]+", raw):
                raise ValueError("letters, digits and hyphens only")
            return raw

        return self._parse(name, default, parse, "an HTTP header name like X-Forwarded-Proto, or none")
