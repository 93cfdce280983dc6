"""What the job-submitting commands share: reading addresses, one-line errors, waiting with a progress bar."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import CommandError, CommandParser, OutputWrapper
from redis.exceptions import RedisError

from core.errors import ApplicationError
from core.metrics import metric_counters

CLI_USERNAME = "cli"


def add_common_arguments(parser: CommandParser, *, what: str = "wallet addresses") -> None:
    parser.add_argument("addresses", nargs="*", help=f"{what} (base58)")
    parser.add_argument(
        "--file",
        help="a file of addresses: one or more a line, split by spaces or commas; # starts a comment",
    )
    parser.add_argument(
        "--user", default=CLI_USERNAME, help=f"owner of the jobs (default: {CLI_USERNAME}, created on demand)"
    )
    parser.add_argument("--force", action="store_true", help="do the work again even when fresh")
    parser.add_argument(
        "--wait", action="store_true", help="follow the jobs to their end (progress on stderr)"
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds --wait waits (default 900)")
    parser.add_argument("--poll", type=float, default=0.5, help="seconds between ledger reads with --wait")


def read_addresses(
    addresses: Sequence[str], path: str | None, *, what: str = "wallet addresses"
) -> list[str]:
    """Addresses from the arguments, then from the file, in order (duplicates are left to the service)."""
    found = [address for argument in addresses for address in argument.replace(",", " ").split()]
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from exc
        for line in text.splitlines():
            found += line.split("#", 1)[0].replace(",", " ").split()
    if not found:
        raise CommandError(f"no {what}: pass them as arguments or with --file")
    return found


def owner(username: str) -> User:
    """The named user; the default `cli` user is created on first use, any other name must exist."""
    users = get_user_model().objects
    if username == CLI_USERNAME:
        user, _ = users.get_or_create(username=CLI_USERNAME)
        return user
    found = users.filter(username=username).first()
    if found is None:
        raise CommandError(
            f"no user named {username!r} (create it, or leave --user out to use {CLI_USERNAME!r})"
        )
    return found


def one_line_error(exc: ApplicationError) -> CommandError:
    """The service's message and its first named problem, on one line."""
    message = exc.message.rstrip(".")
    if exc.fields:
        field, problems = next(iter(exc.fields.items()))
        detail = f"{field}: {problems[0]}"
        if detail not in message:
            message = f"{message}: {detail}"
        if len(exc.fields) > 1:
            message += f" (and {len(exc.fields) - 1} more)"
    return CommandError(" ".join(message.split()))


def check_wait_arguments(timeout: float, poll: float) -> None:
    if timeout <= 0 or poll <= 0:
        raise CommandError("--timeout and --poll must be positive")


class UpstreamCallRate:
    """Upstream calls per second over the last few seconds, from the counters every process shares
    (`upstream_calls_total` in /metrics, every API and attempt); None until two samples are apart."""

    WINDOW_S = 10.0

    def __init__(self) -> None:
        self.samples: deque[tuple[float, int]] = deque()

    def sample(self) -> float | None:
        try:
            total = sum(value for name, _, value in metric_counters() if name == "upstream_calls_total")
        except RedisError:
            return None
        now = time.monotonic()
        self.samples.append((now, total))
        while len(self.samples) > 2 and now - self.samples[1][0] >= self.WINDOW_S:
            self.samples.popleft()
        (first_at, first), (last_at, last) = self.samples[0], self.samples[-1]
        return (last - first) / (last_at - first_at) if last_at - first_at >= 0.5 else None


class ProgressBar:
    """A one-line bar on stderr: redrawn in place on a terminal; otherwise (logs) one line when the counts
    change, and at most every LOG_EVERY_S for the call rate alone."""

    WIDTH = 30
    LOG_EVERY_S = 10.0

    def __init__(self, stream: OutputWrapper, total: int, label: str) -> None:
        self.stream = stream
        self.total = max(1, total)
        self.label = label
        self.last = ""
        self.last_counts: tuple[int, int, str] | None = None
        self.last_written_at = 0.0
        self.tty = stream.isatty()

    def update(self, done: int, failed: int, *, rate: float | None = None, note: str = "") -> None:
        """`done` of the total `label` (e.g. "wallets done"), `failed` of them; the upstream call rate and
        a note (what else is counted) after them."""
        filled = self.WIDTH * min(done, self.total) // self.total
        line = (
            f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{self.total} {self.label}, {failed} failed"
        )
        if rate is not None:
            line += f", {rate:.1f} upstream calls/s"
        if note:
            line += f" ({note})"
        counts = (done, failed, note)
        now = time.monotonic()
        changed = counts != self.last_counts
        if line == self.last or (
            not self.tty and not changed and now - self.last_written_at < self.LOG_EVERY_S
        ):
            return
        self.last, self.last_counts, self.last_written_at = line, counts, now
        self.stream.write(f"\r{line}\033[K" if self.tty else f"{line}\n", ending="")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.last:
            self.stream.write("\n", ending="")
            self.stream.flush()


def wait_until(
    done: Callable[[], bool], *, timeout_s: float, poll_s: float, on_timeout: Callable[[], str]
) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() >= deadline:
            raise CommandError(on_timeout())
        time.sleep(poll_s)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [
        [str(header) for header in headers],
        *[["" if c is None else str(c) for c in row] for row in rows],
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)
