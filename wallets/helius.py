"""The Helius chain provider (docs/ARCHITECTURE.md §13): Solana JSON-RPC for signatures and balances, the
Helius Enhanced API
for parsed transactions, over `requests` with retries, timeouts and a global rate limit.

Every call goes through `core.http.request_json` (urllib3 `Retry` on 429/5xx honouring `Retry-After`, a
timeout on every call, errors mapped onto UpstreamTransientError / UpstreamFatalError). Every attempt, the
first and each retry, takes a slot of its API's global rate limit (RPC or Enhanced API). The API key travels
as the `api-key` query parameter, as Helius requires, so it is scrubbed from every exception message and from
urllib3's debug log lines, which print request URLs.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from django.conf import settings

from core.http import UpstreamFatalError, UpstreamTransientError, build_session, request_json
from core.ratelimit import rate_limit_acquire

__all__ = [
    "SPL_TOKEN_PROGRAM",
    "TOKEN_2022_PROGRAM",
    "HeliusChainProvider",
    "RateLimiter",
    "no_rate_limit",
    "redact_api_key",
]

SPL_TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
TOKEN_2022_PROGRAM = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
TOKEN_PROGRAMS = (SPL_TOKEN_PROGRAM, TOKEN_2022_PROGRAM)

MAX_SIGNATURES_PER_PAGE = 1000
MAX_TRANSACTIONS_PER_CALL = 100
MAX_DAS_PAGE_LIMIT = 1000
MAX_ACCOUNTS_PER_CALL = 100
RPC_API = "helius-rpc"
ENHANCED_API = "helius-api"

# JSON-RPC error codes (Solana/Helius): -32602 invalid params; -32429 Helius rate limit; -32000..-32099 node
# side conditions (unhealthy node, slot skipped, minimum context slot not reached) that pass with time.
_RPC_INVALID_PARAMS = -32602
_RPC_RATE_LIMITED = -32429
_RPC_INTERNAL_ERROR = -32603
_RPC_SERVER_ERRORS = range(-32099, -32000 + 1)
# "rate" at a word start only: "rate limited", "ratelimit", but not "generate" or "separate".
_RATE_LIMIT_WORDS = re.compile(r"\brate|too many", re.IGNORECASE)
_INVALID_PARAM_WORDS = re.compile(r"invalid param", re.IGNORECASE)

_API_KEY_IN_URL = re.compile(r"(api-key=)[^&\s'\"#)>]*", re.IGNORECASE)
_REDACTED = "[redacted]"

RateLimiter = Callable[[str, str], None]
"""Takes one slot of a rate limit: `(api, limit)`, e.g. `("helius-rpc", "10/second")`; may block."""


def no_rate_limit(api: str, limit: str) -> None:
    """A limiter that never waits: for tests and one-off scripts that talk to a local fake upstream."""


def redact_api_key(text: str, api_key: str = "") -> str:
    """`text` with every `api-key=` query value (and the literal key, if given) replaced by a marker."""
    text = _API_KEY_IN_URL.sub(r"\1" + _REDACTED, text)
    if api_key:
        text = text.replace(api_key, _REDACTED)
    return text


class _RedactApiKeyFilter(logging.Filter):
    """urllib3 logs request URLs at DEBUG (connection pool) and on every retry; they carry our API key."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_api_key(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def _install_log_redaction() -> None:
    for name in ("urllib3.connectionpool", "urllib3.util.retry"):
        logger = logging.getLogger(name)
        if not any(isinstance(existing, _RedactApiKeyFilter) for existing in logger.filters):
            logger.addFilter(_RedactApiKeyFilter())


_install_log_redaction()


def _with_api_key(url: str, api_key: str) -> str:
    """Add `api-key` to a URL's query, keeping its path prefix and any query it already has."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("api-key", api_key)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(query), parts.fragment))


def _join_path(base_url: str, path: str) -> str:
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + path, parts.query, ""))


def _rpc_error(method: str, error: Any) -> UpstreamTransientError | UpstreamFatalError:
    """Map a JSON-RPC `error` object (answered with HTTP 200) onto our transient/fatal classes."""
    code = error.get("code") if isinstance(error, dict) else None
    message = str(error.get("message", "")) if isinstance(error, dict) else str(error)
    text = f"Solana RPC {method} answered error {code}: {message[:200]}"
    if code == _RPC_RATE_LIMITED or _RATE_LIMIT_WORDS.search(message):
        return UpstreamTransientError(text)
    if code == _RPC_INVALID_PARAMS:
        return UpstreamFatalError(text)
    if isinstance(code, int) and (code in _RPC_SERVER_ERRORS or code == _RPC_INTERNAL_ERROR):
        if _INVALID_PARAM_WORDS.search(message):
            return UpstreamFatalError(text)
        return UpstreamTransientError(text)
    # Parse errors, unknown methods, malformed requests: the request itself is wrong, retrying cannot help.
    return UpstreamFatalError(text)


def _chunks(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


class HeliusChainProvider:
    """ChainProvider over Helius: RPC at `rpc_url`, Enhanced API at `api_url`, both keyed by `api_key`."""

    name = "helius"

    def __init__(
        self,
        *,
        api_key: str,
        api_url: str,
        rpc_url: str,
        rpc_rate_limit: str = "10/second",
        api_rate_limit: str = "2/second",
        timeout_s: float = 20.0,
        retries: int = 3,
        backoff_factor: float = 0.5,
        max_backoff_s: float = 10.0,
        max_parallel_batches: int = 3,
        commitment: str = "confirmed",
        rate_limiter: RateLimiter = rate_limit_acquire,
        session: requests.Session | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("a Helius API key is required (HELIUS_API_KEY)")
        if max_parallel_batches < 1:
            raise ValueError("max_parallel_batches must be at least 1")
        self._api_key = api_key
        self._rpc_endpoint = _with_api_key(rpc_url, api_key)
        self._transactions_endpoint = _with_api_key(_join_path(api_url, "/v0/transactions"), api_key)
        self.rpc_rate_limit = rpc_rate_limit
        self.api_rate_limit = api_rate_limit
        self.timeout_s = timeout_s
        self.max_parallel_batches = max_parallel_batches
        self.commitment = commitment
        self.rate_limiter = rate_limiter

        def session_for(api: str, limit: str) -> requests.Session:
            # One session per limit: each retry its urllib3 Retry makes takes a slot of that limit.
            return session or build_session(
                retries=retries,
                backoff_factor=backoff_factor,
                max_backoff_s=max_backoff_s,
                before_retry=lambda: self.rate_limiter(api, limit),
            )

        self.rpc_session = session_for(RPC_API, rpc_rate_limit)
        self.api_session = session_for(ENHANCED_API, api_rate_limit)
        self._request_ids = itertools.count(1)

    @classmethod
    def from_settings(cls) -> HeliusChainProvider:
        return cls(
            api_key=settings.HELIUS_API_KEY,
            api_url=settings.HELIUS_API_URL,
            rpc_url=settings.SOLANA_RPC_URL,
            rpc_rate_limit=settings.HELIUS_RPC_RATE_LIMIT,
            api_rate_limit=settings.HELIUS_API_RATE_LIMIT,
            timeout_s=settings.UPSTREAM_TIMEOUT_S,
            retries=settings.UPSTREAM_RETRIES,
            backoff_factor=settings.UPSTREAM_RETRY_BACKOFF_S,
        )

    def __repr__(self) -> str:
        return f"<HeliusChainProvider rpc={redact_api_key(self._rpc_endpoint)}>"

    # ------------------------------------------------------------------------------------------ ChainProvider

    def get_signatures(
        self,
        address: str,
        *,
        before: str | None = None,
        until: str | None = None,
        limit: int = MAX_SIGNATURES_PER_PAGE,
    ) -> list[dict[str, Any]]:
        """One page of `getSignaturesForAddress`, newest first; `before`/`until` are exclusive."""
        if not 1 <= limit <= MAX_SIGNATURES_PER_PAGE:
            raise ValueError(f"limit must be between 1 and {MAX_SIGNATURES_PER_PAGE}")
        options: dict[str, Any] = {"limit": limit, "commitment": self.commitment}
        if before is not None:
            options["before"] = before
        if until is not None:
            options["until"] = until
        result = self._rpc("getSignaturesForAddress", [address, options])
        return self._expect_list("getSignaturesForAddress", result)

    def get_transactions(self, signatures: Sequence[str]) -> list[dict[str, Any]]:
        """Enhanced transactions in the order of `signatures`; unknown signatures are omitted."""
        unique = list(dict.fromkeys(signatures))
        if not unique:
            return []
        batches = _chunks(unique, MAX_TRANSACTIONS_PER_CALL)
        by_signature: dict[str, dict[str, Any]] = {}
        for transactions in self._fetch_batches(batches):
            for transaction in transactions:
                by_signature[transaction["signature"]] = transaction
        return [by_signature[signature] for signature in unique if signature in by_signature]

    def get_sol_balance(self, address: str) -> int:
        result = self._rpc("getBalance", [address, {"commitment": self.commitment}])
        value = result.get("value") if isinstance(result, dict) else None
        if not isinstance(value, int):
            raise UpstreamTransientError("Solana RPC getBalance answered without an integer `value`")
        return value

    def get_token_accounts(self, address: str) -> list[dict[str, Any]]:
        """Token accounts of both token programs, SPL Token first, then Token-2022; both asked at once."""
        options = {"encoding": "jsonParsed", "commitment": self.commitment}

        def accounts_of(program: str) -> list[dict[str, Any]]:
            result = self._rpc("getTokenAccountsByOwner", [address, {"programId": program}, options])
            value = result.get("value") if isinstance(result, dict) else None
            return self._expect_list("getTokenAccountsByOwner", value)

        with ThreadPoolExecutor(max_workers=len(TOKEN_PROGRAMS), thread_name_prefix="token-accounts") as pool:
            return list(itertools.chain.from_iterable(pool.map(accounts_of, TOKEN_PROGRAMS)))

    def get_token_supply(self, mint: str) -> dict[str, Any]:
        """RPC `getTokenSupply` `value`; a non-mint answers -32602 "not a Token mint": UpstreamFatalError."""
        result = self._rpc("getTokenSupply", [mint, {"commitment": self.commitment}])
        value = result.get("value") if isinstance(result, dict) else None
        if not isinstance(value, dict) or not isinstance(value.get("amount"), str):
            raise UpstreamTransientError("Solana RPC getTokenSupply answered without a `value` amount")
        return value

    def get_mint_token_accounts(
        self, mint: str, *, page: int, limit: int = MAX_DAS_PAGE_LIMIT
    ) -> dict[str, Any]:
        """One page of Helius DAS `getTokenAccounts` by mint (JSON-RPC on the RPC URL, params by name)."""
        if page < 1 or not 1 <= limit <= MAX_DAS_PAGE_LIMIT:
            raise ValueError(f"page must be >= 1 and limit between 1 and {MAX_DAS_PAGE_LIMIT}")
        result = self._rpc("getTokenAccounts", {"mint": mint, "page": page, "limit": limit})
        if not isinstance(result, dict):
            raise UpstreamTransientError("Helius DAS getTokenAccounts answered no result object")
        self._expect_list("getTokenAccounts", result.get("token_accounts"))
        return result

    def get_multiple_accounts(self, addresses: Sequence[str]) -> list[dict[str, Any] | None]:
        """RPC `getMultipleAccounts` (base64) in batches of 100; entries in request order, None for none."""
        options = {"encoding": "base64", "commitment": self.commitment}
        entries: list[dict[str, Any] | None] = []
        for batch in _chunks(addresses, MAX_ACCOUNTS_PER_CALL):
            result = self._rpc("getMultipleAccounts", [batch, options])
            value = result.get("value") if isinstance(result, dict) else None
            answered = self._expect_list("getMultipleAccounts", value)
            if len(answered) != len(batch):
                raise UpstreamTransientError(
                    "Solana RPC getMultipleAccounts answered another number of accounts"
                )
            entries += answered
        return entries

    # ------------------------------------------------------------------------------------------ transport

    def _fetch_batches(self, batches: list[list[str]]) -> list[list[dict[str, Any]]]:
        if len(batches) == 1:
            return [self._post_transactions(batches[0])]
        executor = ThreadPoolExecutor(
            max_workers=min(self.max_parallel_batches, len(batches)), thread_name_prefix="helius-batch"
        )
        try:
            return list(executor.map(self._post_transactions, batches))
        finally:
            # On a failed batch, do not start the ones still queued: the whole call fails anyway.
            executor.shutdown(wait=True, cancel_futures=True)

    def _post_transactions(self, signatures: list[str]) -> list[dict[str, Any]]:
        self.rate_limiter(ENHANCED_API, self.api_rate_limit)
        body = self._request(
            "Helius POST /v0/transactions",
            self._transactions_endpoint,
            {"transactions": signatures},
            session=self.api_session,
        )
        transactions = self._expect_list("POST /v0/transactions", body)
        if not all(isinstance(item, dict) and "signature" in item for item in transactions):
            raise UpstreamTransientError("Helius POST /v0/transactions answered items without a signature")
        return transactions

    def _rpc(self, method: str, params: list[Any] | dict[str, Any]) -> Any:
        """One JSON-RPC call; params by position (Solana RPC) or by name (Helius DAS)."""
        self.rate_limiter(RPC_API, self.rpc_rate_limit)
        payload = {"jsonrpc": "2.0", "id": next(self._request_ids), "method": method, "params": params}
        body = self._request(f"Solana RPC {method}", self._rpc_endpoint, payload, session=self.rpc_session)
        if not isinstance(body, dict):
            raise UpstreamTransientError(f"Solana RPC {method} answered a body that is not a JSON-RPC object")
        if body.get("error") is not None:
            raise self._scrubbed(_rpc_error(method, body["error"]))
        if "result" not in body:
            raise UpstreamTransientError(f"Solana RPC {method} answered neither `result` nor `error`")
        return body["result"]

    def _request(self, label: str, url: str, payload: dict[str, Any], *, session: requests.Session) -> Any:
        try:
            return request_json(session, "POST", url, api=label, timeout_s=self.timeout_s, json=payload)
        except (UpstreamTransientError, UpstreamFatalError) as exc:
            raise self._scrubbed(exc) from None

    def _scrubbed(
        self, exc: UpstreamTransientError | UpstreamFatalError
    ) -> UpstreamTransientError | UpstreamFatalError:
        """The same error class with the key removed; the cause is summarised in the message, not chained,
        because requests/urllib3 exceptions carry the full URL (and so the key) in their own messages."""
        message = redact_api_key(str(exc), self._api_key)
        if exc.__cause__ is not None:
            message += f" ({redact_api_key(str(exc.__cause__), self._api_key)[:300]})"
        return type(exc)(message)

    @staticmethod
    def _expect_list(what: str, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise UpstreamTransientError(f"{what} answered {type(value).__name__} where a list was expected")
        return value
