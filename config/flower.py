"""Start Flower behind HTTP basic auth, or refuse to start.

    python -m config.flower --address=127.0.0.1 --port=5555 [more Flower options]

The credentials come from FLOWER_BASIC_AUTH (`user:password[,user:password]`). Flower started with an empty
value lets anyone in, so without valid credentials this exits non-zero with one line instead. They reach
Flower through its own environment variable, never the command line (which every local user can read).
"""

from __future__ import annotations

import os
import sys

FLOWER_AUTH_FORMAT = "user:password[,user:password]"


def parse_basic_auth(raw: str) -> list[str]:
    """The `user:password` entries of FLOWER_BASIC_AUTH, each with a non-empty user and password.

    Raises ValueError naming the faulty entry by position (never echoing a password).
    """
    if not raw.strip():
        raise ValueError(f"it is empty; expected {FLOWER_AUTH_FORMAT}")
    entries = []
    for position, entry in enumerate(raw.split(","), start=1):
        user, separator, password = entry.strip().partition(":")
        if not separator:
            raise ValueError(
                f"entry {position} has no ':' between user and password; expected {FLOWER_AUTH_FORMAT}"
            )
        if not user or user != user.strip():
            raise ValueError(
                f"entry {position} has an empty user or spaces around it; expected {FLOWER_AUTH_FORMAT}"
            )
        if not password:
            raise ValueError(f"entry {position} has an empty password; expected {FLOWER_AUTH_FORMAT}")
        entries.append(f"{user}:{password}")
    return entries


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        credentials = parse_basic_auth(settings.FLOWER_BASIC_AUTH)
    except ImproperlyConfigured as exc:
        raise SystemExit(f"error: {exc}") from None
    except ValueError as exc:
        raise SystemExit(f"error: FLOWER_BASIC_AUTH: {exc}; Flower refuses to start without it") from None
    os.environ["FLOWER_BASIC_AUTH"] = ",".join(credentials)
    argv = [sys.executable, "-m", "celery", "-A", "config", "flower", *sys.argv[1:]]
    os.execv(sys.executable, argv)


if __name__ == "__main__":
    main()
