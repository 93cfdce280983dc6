"""A local fake of Helius (Solana JSON-RPC + Enhanced API), DexScreener and Pyth Benchmarks for tests.

It speaks the real wire formats over real HTTP on 127.0.0.1, so the clients are tested with their retries,
timeouts and error mapping instead of against mocks of `requests`. Data comes from a `SimulatedMarket` (any
valid address has a history; `history_sizes` gives chosen wallets a long one, `heavy_bots` a huge one served
page by page) plus the recorded Helius fixtures, which are served verbatim for their wallets, plus crafted
histories a test adds with `add_history(wallet, transactions)` (see tests/support/crafted.py).

Routes (any path prefix before them is accepted, as real base URLs may carry one):
- `POST …/v0/transactions?api-key=K`: Helius Enhanced API, `{"transactions": [<= 100 signatures]}`.
- `POST …?api-key=K` (anything else): JSON-RPC 2.0, single or batch, for `getSignaturesForAddress` (a wallet
  or a mint), `getBalance`, `getTokenAccountsByOwner` (jsonParsed; `programId` or `mint` filter),
  `getTokenSupply` (a non-mint answers -32602 "Invalid param: not a Token mint"), `getMultipleAccounts`
  (base64) and Helius DAS `getTokenAccounts` (params by name: `{"mint", "page", "limit"}`).
- `GET …/tokens/v1/solana/{mint,mint,…}`: DexScreener pairs (no key, <= 30 mints): the recorded pairs of
  `dexscreener/*.json` for the mints they list (as base or quote, like the real API), the market's otherwise.
- `GET …/v1/shims/tradingview/history?symbol=Crypto.SOL/USD&resolution=R&from=T0&to=T1`: Pyth Benchmarks'
  SOL/USD candles (no key) in the TradingView UDF shape, from the market's SOL/USD path; a missing or
  non-integer parameter answers 422 like the real (FastAPI) service, another symbol `{"s": "error"}`.

Fault knobs are plain attributes read on every request, so tests change them at runtime: `fault_rate`,
`hang_s`, `force_status`, `dex_force_status` (DexScreener only), `candles_force_status` (Pyth only),
`rpc_error`, `retry_after_s`, `padding_bytes` and `padding_chunked` (oversized answers), and
`fail_next(...)` for an exact sequence. For the candles also: `candles_answer` ("garbage": a 200 whose body
is not JSON; "no_data": always `{"s": "no_data"}`; "error": always `{"s": "error"}`) and `candles_corrupt`
("zero", "nan" (the string "NaN"), "negative") applied to the prices of the bars whose times are in
`candles_corrupt_times` (every bar when None).
"""

from __future__ import annotations

import json
import random
import socketserver
import sys
import threading
import traceback
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from wallets.simulated_market import (
    ANCHOR_SLOT,
    MAX_ACCOUNTS_PER_CALL,
    MAX_DAS_ACCOUNTS_PER_PAGE,
    MAX_DEX_MINTS_PER_CALL,
    MAX_SIGNATURES_PER_CALL,
    MAX_TRANSACTIONS_PER_CALL,
    SPL_TOKEN_PROGRAM,
    TOKEN_2022_PROGRAM,
    SimulatedMarket,
)

__all__ = ["DEFAULT_API_KEY", "FIXTURES_DIR", "SOL_USD_SYMBOL", "FakeUpstream", "FixtureHistories"]

FIXTURES_DIR = Path(__file__).resolve().parents[1] / "data" / "fixtures"
DEFAULT_API_KEY = "fake-helius-key-0123456789"
FAULT_STATUSES = (429, 500)
RETRY_AFTER_STATUSES = (429, 503)
TOKEN_PROGRAMS = (SPL_TOKEN_PROGRAM, TOKEN_2022_PROGRAM)
HELIUS_ROUTES = ("rpc", "transactions")
RPC_API_VERSION = "2.2.16"
SOL_USD_SYMBOL = "Crypto.SOL/USD"
SOL_USD_PATH = "/v1/shims/tradingview/history"
CandlesAnswer = Literal["garbage", "no_data", "error"]
CandlesCorruption = Literal["zero", "nan", "negative"]

_REQUIRED_TRANSACTION_KEYS = ("signature", "slot", "timestamp", "feePayer", "accountData")


class RpcError(Exception):
    """A JSON-RPC error object to answer (with HTTP 200, like the real node)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    # Bytes of padding streamed inside the body (see FakeUpstream.padding_bytes), and whether to send it
    # with chunked transfer encoding instead of a Content-Length.
    padding: int = 0
    chunked: bool = False

    def _around_padding(self) -> tuple[bytes, bytes]:
        opening, rest = self.body[:1], self.body[1:].lstrip()
        before = opening + (b'"padding": "' if opening == b"{" else b'"')
        return before, b'"' + (b"" if rest[:1] in (b"}", b"]") else b", ") + rest

    @property
    def size(self) -> int:
        if not self.padding:
            return len(self.body)
        before, after = self._around_padding()
        return len(before) + self.padding + len(after)

    def chunks(self, size: int = 64 * 1024) -> Iterator[bytes]:
        """The body, padded: a `"padding"` member first in an object, a string first in an array, so the
        answer means what it meant unpadded (a client that reads it all gets the same data)."""
        if not self.padding:
            yield self.body
            return
        before, after = self._around_padding()
        yield before
        left = self.padding
        while left > 0:
            yield b"a" * min(size, left)
            left -= size
        yield after


def _json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(payload).encode(), headers or {})


# ----------------------------------------------------------------------------------------------- fixtures


class FixtureHistories:
    """Recorded Helius enhanced transactions: looked up by signature, and paged as their wallets' history.

    A file named `wallet_<prefix>_…json` is the history of the account starting with `<prefix>` that every
    one of its transactions touches; any other complete transaction belongs to its fee payer. Trimmed
    fixtures (no slot, fee payer or accountData) are not what Helius would answer, so they are skipped.
    """

    def __init__(self, helius_dir: Path | None) -> None:
        self.transactions: dict[str, dict[str, Any]] = {}
        self.wallets: dict[str, list[dict[str, Any]]] = {}
        if helius_dir is not None:
            for path in sorted(helius_dir.glob("*.json")):
                self._load(path)
        for history in self.wallets.values():
            # Newest first like the RPC; the sort is stable, so same-slot entries keep the recorded order.
            history.sort(key=lambda transaction: -int(transaction["slot"]))

    def _load(self, path: Path) -> None:
        data = json.loads(path.read_text())
        items = data if isinstance(data, list) else [data]
        transactions = [_wire_transaction(item) for item in items if _is_complete(item)]
        if not transactions:
            return
        named_wallet = _named_wallet(path.name, transactions)
        for transaction in transactions:
            self.transactions[transaction["signature"]] = transaction
            owner = named_wallet or transaction["feePayer"]
            self.wallets.setdefault(owner, []).append(transaction)

    def add(self, wallet: str, transactions: list[dict[str, Any]]) -> None:
        """Serve these complete transactions as the wallet's whole history (any order given)."""
        for transaction in transactions:
            self.transactions[transaction["signature"]] = transaction
        self.wallets[wallet] = sorted(transactions, key=lambda transaction: -int(transaction["slot"]))

    def signatures(
        self, address: str, *, before: str | None, until: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """`getSignaturesForAddress` entries; `before`/`until` exclusive, an unknown `before` gives none."""
        history = self.wallets[address]
        positions = {transaction["signature"]: index for index, transaction in enumerate(history)}
        start = 0
        if before is not None:
            if before not in positions:
                return []
            start = positions[before] + 1
        end = positions.get(until, len(history)) if until is not None else len(history)
        return [_signature_entry(transaction) for transaction in history[start:end][:limit]]


def _is_complete(item: Any) -> bool:
    return isinstance(item, dict) and all(key in item for key in _REQUIRED_TRANSACTION_KEYS)


def _wire_transaction(item: dict[str, Any]) -> dict[str, Any]:
    """Drop annotations such as `_provenance` that were added to a fixture after it was recorded."""
    return {key: value for key, value in item.items() if not key.startswith("_")}


def _named_wallet(file_name: str, transactions: list[dict[str, Any]]) -> str | None:
    if not file_name.startswith("wallet_"):
        return None
    prefix = file_name.removeprefix("wallet_").split("_", 1)[0]
    touched = [{entry["account"] for entry in tx["accountData"]} for tx in transactions]
    candidates = {account for account in set.intersection(*touched) if account.startswith(prefix)}
    if len(candidates) != 1:
        raise ValueError(f"{file_name}: cannot tell which account is the wallet ({sorted(candidates)})")
    return candidates.pop()


def _signature_entry(transaction: dict[str, Any]) -> dict[str, Any]:
    return {
        "blockTime": transaction["timestamp"],
        "confirmationStatus": "finalized",
        "err": transaction.get("transactionError"),
        "memo": None,
        "signature": transaction["signature"],
        "slot": transaction["slot"],
    }


# ----------------------------------------------------------------------------------------------- the fake


class FakeUpstream:
    """Fake Helius + DexScreener on 127.0.0.1; use as a context manager, then point clients at `.url`.

    Knobs (attributes, change any time): `fault_rate` (share of requests answered 429 or 500, drawn from a
    RNG seeded with `fault_seed`), `retry_after_s` (`Retry-After` on 429/503), `hang_s` (wait before
    answering), `force_status` (answer every request with it), `rpc_error` (answer every JSON-RPC call with
    this error object), `padding_bytes` (pad every successful answer by that many bytes, streamed; with
    `padding_chunked` without a Content-Length), `api_key` (None accepts any).
    Counters (`reset_counters()` clears them): `requests_by_route` ("rpc", "transactions", "dexscreener",
    "sol_usd", "unknown"), `requests_by_path`, `responses_by_status`, `rpc_calls` ((method, params) of every
    JSON-RPC call served), `transaction_batch_sizes`, `dex_batch_sizes` (mints per DexScreener request, as
    received), `candle_requests` ((resolution, from, to) as received), `max_in_flight`, `padded_bytes_sent`
    (padded bodies written before the client stopped reading) and `padded_streams_open` (padded bodies still
    being written), `internal_errors` (tracebacks of bugs in the fake; a test should expect none).
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        history_sizes: Mapping[str, int] | None = None,
        heavy_bots: Mapping[str, int] | None = None,
        market: SimulatedMarket | None = None,
        api_key: str | None = DEFAULT_API_KEY,
        fixtures_dir: Path | None = FIXTURES_DIR,
        fault_rate: float = 0.0,
        fault_seed: int = 0,
        retry_after_s: int = 0,
        hang_s: float = 0.0,
        force_status: int | None = None,
    ) -> None:
        self.market = market or SimulatedMarket(seed, history_sizes=history_sizes, heavy_bots=heavy_bots)
        self.fixtures = FixtureHistories(fixtures_dir / "helius" if fixtures_dir else None)
        self.dex_fixture_pairs = _dex_fixture_pairs(fixtures_dir / "dexscreener" if fixtures_dir else None)
        self.crafted_wallets: set[str] = set()
        self.api_key = api_key
        self.fault_rate = fault_rate
        self.retry_after_s = retry_after_s
        self.hang_s = hang_s
        self.force_status = force_status
        self.dex_force_status: int | None = None
        self.candles_force_status: int | None = None
        self.candles_answer: CandlesAnswer | None = None
        self.candles_corrupt: CandlesCorruption | None = None
        self.candles_corrupt_times: set[int] | None = None
        self.rpc_error: dict[str, Any] | None = None
        self.padding_bytes = 0
        self.padding_chunked = False
        self._fault_rng = random.Random(fault_seed)
        self._scripted: deque[int] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._in_flight = 0
        self._rpc_methods: dict[str, Callable[[list[Any]], Any]] = {
            "getSignaturesForAddress": self._get_signatures,
            "getBalance": self._get_balance,
            "getTokenAccountsByOwner": self._get_token_accounts,
            "getTokenSupply": self._get_token_supply,
            "getMultipleAccounts": self._get_multiple_accounts,
        }
        self._das_methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getTokenAccounts": self._das_token_accounts,
        }
        self.reset_counters()

    # ------------------------------------------------------------------------------------------ lifecycle

    def start(self) -> FakeUpstream:
        self._stopping.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers parked in `hang_s`
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake upstream is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ------------------------------------------------------------------------------------------ knobs

    def add_history(self, wallet: str, transactions: list[dict[str, Any]]) -> None:
        """Serve a crafted history (Helius enhanced transactions) for `wallet`, with empty balances."""
        with self._lock:
            self.fixtures.add(wallet, transactions)
            self.crafted_wallets.add(wallet)

    def fail_next(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, in order, before any other fault knob applies."""
        with self._lock:
            self._scripted.extend(statuses)

    def reset_counters(self) -> None:
        with self._lock:
            self.requests_by_route: Counter[str] = Counter()
            self.requests_by_path: Counter[str] = Counter()
            self.responses_by_status: Counter[int] = Counter()
            self.rpc_calls: list[tuple[str, list[Any]]] = []
            self.transaction_batch_sizes: list[int] = []
            self.dex_batch_sizes: list[int] = []
            self.candle_requests: list[tuple[str, str, str]] = []
            self.max_in_flight = 0
            self.padded_bytes_sent = 0
            self.padded_streams_open = 0
            self.internal_errors: list[str] = []

    @property
    def total_requests(self) -> int:
        return sum(self.requests_by_route.values())

    # ------------------------------------------------------------------------------------------ dispatch

    def handle(self, method: str, target: str, body: bytes) -> Reply:
        """Answer one HTTP request; called from the server's handler threads."""
        parts = urlsplit(target)
        route = _route(method, parts.path)
        with self._lock:
            self.requests_by_route[route] += 1
            self.requests_by_path[parts.path] += 1
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            reply = self._answer(route, parts.path, parse_qs(parts.query), body)
        except Exception:  # noqa: BLE001 - a bug of the fake is recorded for the test to show, answered 500
            with self._lock:
                self.internal_errors.append(traceback.format_exc())
            reply = _json_reply(500, {"error": "fake upstream bug; see internal_errors"})
        finally:
            with self._lock:
                self._in_flight -= 1
        with self._lock:
            self.responses_by_status[reply.status] += 1
        if reply.status == 200 and self.padding_bytes:
            return Reply(reply.status, reply.body, reply.headers, self.padding_bytes, self.padding_chunked)
        return reply

    def count_padding_sent(self, size: int) -> None:
        with self._lock:
            self.padded_bytes_sent += size

    def padding_stream(self, opened: bool) -> None:
        with self._lock:
            self.padded_streams_open += 1 if opened else -1

    def _answer(self, route: str, path: str, query: dict[str, list[str]], body: bytes) -> Reply:
        if self.hang_s > 0:
            self._stopping.wait(self.hang_s)
        injected = self._injected_status()
        if injected is None and route == "dexscreener":
            injected = self.dex_force_status
        if injected is None and route == "sol_usd":
            injected = self.candles_force_status
        if injected is not None:
            return self._status_reply(injected)
        if route in HELIUS_ROUTES and self.api_key is not None and query.get("api-key") != [self.api_key]:
            return _json_reply(401, {"jsonrpc": "2.0", "error": {"code": 401, "message": "Invalid API key"}})
        if route == "rpc":
            return self._rpc_reply(body)
        if route == "transactions":
            return self._transactions_reply(body)
        if route == "dexscreener":
            return self._dexscreener_reply(path)
        if route == "sol_usd":
            return self._candles_reply(query)
        return _json_reply(404, {"error": "Not Found"})

    def _injected_status(self) -> int | None:
        with self._lock:
            if self.force_status is not None:
                return self.force_status
            if self._scripted:
                return self._scripted.popleft()
            # Drawn under the lock from one seeded RNG, so a run with the same request order is reproducible.
            if self.fault_rate > 0 and self._fault_rng.random() < self.fault_rate:
                return self._fault_rng.choice(FAULT_STATUSES)
        return None

    def _status_reply(self, status: int) -> Reply:
        headers = {"Retry-After": str(self.retry_after_s)} if status in RETRY_AFTER_STATUSES else {}
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        return _json_reply(status, {"error": {"code": status, "message": phrase}}, headers)

    # ------------------------------------------------------------------------------------------ JSON-RPC

    def _rpc_reply(self, body: bytes) -> Reply:
        try:
            request = json.loads(body)
        except ValueError:
            return _json_reply(200, _rpc_failure(None, RpcError(-32700, "Parse error")))
        if isinstance(request, list):
            return _json_reply(200, [self._rpc_call(call) for call in request])
        return _json_reply(200, self._rpc_call(request))

    def _rpc_call(self, call: Any) -> dict[str, Any]:
        if not isinstance(call, dict) or not isinstance(call.get("method"), str):
            return _rpc_failure(None, RpcError(-32600, "Invalid request"))
        call_id = call.get("id")
        method, params = call["method"], call.get("params", [])
        with self._lock:
            self.rpc_calls.append((method, params))
        if self.rpc_error is not None:
            return {"jsonrpc": "2.0", "error": self.rpc_error, "id": call_id}
        handler = self._rpc_methods.get(method)
        das_handler = self._das_methods.get(method)
        try:
            if das_handler is not None:
                if not isinstance(params, dict):
                    raise RpcError(-32602, "Invalid params: expected an object")
                return {"jsonrpc": "2.0", "result": das_handler(params), "id": call_id}
            if handler is None:
                raise RpcError(-32601, "Method not found")
            if not isinstance(params, list) or not params:
                raise RpcError(-32602, "Invalid params: expected an array")
            return {"jsonrpc": "2.0", "result": handler(params), "id": call_id}
        except RpcError as error:
            return _rpc_failure(call_id, error)
        except ValueError as error:
            # The market rejects malformed addresses/signatures; the node calls that an invalid param.
            return _rpc_failure(call_id, RpcError(-32602, f"Invalid param: {error}"))

    def _get_signatures(self, params: list[Any]) -> list[dict[str, Any]]:
        address = _address_param(params)
        options = _options_param(params, 1)
        limit = options.get("limit", MAX_SIGNATURES_PER_CALL)
        if not isinstance(limit, int) or not 1 <= limit <= MAX_SIGNATURES_PER_CALL:
            raise RpcError(-32602, "Invalid limit")
        before, until = options.get("before"), options.get("until")
        if not all(value is None or isinstance(value, str) for value in (before, until)):
            raise RpcError(-32602, "Invalid param: before/until must be signatures")
        if address in self.fixtures.wallets:
            return self.fixtures.signatures(address, before=before, until=until, limit=limit)
        return self.market.get_signatures(address, before=before, until=until, limit=limit)

    def _get_balance(self, params: list[Any]) -> dict[str, Any]:
        address = _address_param(params)
        lamports = 0 if address in self.crafted_wallets else self.market.get_sol_balance(address)
        return {"context": {"apiVersion": RPC_API_VERSION, "slot": ANCHOR_SLOT}, "value": lamports}

    def _get_token_accounts(self, params: list[Any]) -> dict[str, Any]:
        address = _address_param(params)
        selector = _options_param(params, 1)
        if _options_param(params, 2).get("encoding") != "jsonParsed":
            raise RpcError(-32602, "Invalid param: this fake answers encoding jsonParsed only")
        if address in self.crafted_wallets:
            accounts: list[dict[str, Any]] = []
        elif "programId" in selector:
            if selector["programId"] not in TOKEN_PROGRAMS:
                raise RpcError(-32602, "Invalid param: unrecognized Token program id")
            accounts = self.market.get_token_accounts(address, program_id=selector["programId"])
        elif "mint" in selector:
            accounts = [
                account
                for account in self.market.get_token_accounts(address)
                if account["account"]["data"]["parsed"]["info"]["mint"] == selector["mint"]
            ]
        else:
            raise RpcError(-32602, "Invalid param: expected a mint or programId filter")
        return {"context": {"apiVersion": RPC_API_VERSION, "slot": ANCHOR_SLOT}, "value": accounts}

    def _get_token_supply(self, params: list[Any]) -> dict[str, Any]:
        supply = self.market.get_token_supply(_address_param(params))
        return {"context": {"apiVersion": RPC_API_VERSION, "slot": ANCHOR_SLOT}, "value": supply}

    def _get_multiple_accounts(self, params: list[Any]) -> dict[str, Any]:
        addresses = params[0]
        if not isinstance(addresses, list) or not all(isinstance(item, str) for item in addresses):
            raise RpcError(-32602, "Invalid params: expected an array of addresses")
        if len(addresses) > MAX_ACCOUNTS_PER_CALL:
            raise RpcError(-32602, f"Too many inputs provided; max {MAX_ACCOUNTS_PER_CALL}")
        if _options_param(params, 1).get("encoding", "base64") != "base64":
            raise RpcError(-32602, "Invalid param: this fake answers encoding base64 only")
        value = self.market.get_multiple_accounts(addresses)
        return {"context": {"apiVersion": RPC_API_VERSION, "slot": ANCHOR_SLOT}, "value": value}

    def _das_token_accounts(self, params: dict[str, Any]) -> dict[str, Any]:
        mint, page, limit = (
            params.get("mint"),
            params.get("page", 1),
            params.get("limit", MAX_DAS_ACCOUNTS_PER_PAGE),
        )
        if not isinstance(mint, str):
            raise RpcError(-32602, "Invalid params: this fake pages token accounts by mint only")
        if not isinstance(page, int) or not isinstance(limit, int):
            raise RpcError(-32602, "Invalid params: page and limit must be integers")
        return self.market.get_mint_token_accounts(mint, page=page, limit=limit)

    # ------------------------------------------------------------------------------------------ REST routes

    def _transactions_reply(self, body: bytes) -> Reply:
        try:
            signatures = json.loads(body)["transactions"]
        except (ValueError, KeyError, TypeError):
            return _json_reply(400, {"error": 'expected a JSON body {"transactions": [...]}'})
        if not isinstance(signatures, list) or not all(isinstance(item, str) for item in signatures):
            return _json_reply(400, {"error": "transactions must be an array of signatures"})
        with self._lock:
            self.transaction_batch_sizes.append(len(signatures))
        if len(signatures) > MAX_TRANSACTIONS_PER_CALL:
            return _json_reply(400, {"error": f"at most {MAX_TRANSACTIONS_PER_CALL} transactions per call"})
        found: list[dict[str, Any]] = []
        for signature in signatures:
            recorded = self.fixtures.transactions.get(signature)
            found.extend([recorded] if recorded else self.market.get_transactions([signature]))
        return _json_reply(200, found)

    def _dexscreener_reply(self, path: str) -> Reply:
        mints = [mint for mint in unquote(path.split("/tokens/v1/solana/", 1)[1]).split(",") if mint]
        with self._lock:
            self.dex_batch_sizes.append(len(mints))
        if len(mints) > MAX_DEX_MINTS_PER_CALL:
            return _json_reply(400, {"error": f"at most {MAX_DEX_MINTS_PER_CALL} token addresses"})
        recorded = {
            pair["pairAddress"]: pair for mint in mints for pair in self.dex_fixture_pairs.get(mint, [])
        }
        simulated = self.market.get_dex_pairs([mint for mint in mints if mint not in self.dex_fixture_pairs])
        return _json_reply(200, [*recorded.values(), *simulated])

    def _candles_reply(self, query: dict[str, list[str]]) -> Reply:
        params = {name: values[-1] for name, values in query.items() if values}
        with self._lock:
            self.candle_requests.append(
                (params.get("resolution", ""), params.get("from", ""), params.get("to", ""))
            )
        missing = [name for name in ("symbol", "resolution", "from", "to") if name not in params]
        invalid = [name for name in ("from", "to") if name in params and not _is_integer(params[name])]
        if missing or invalid:
            detail = [
                {"loc": ["query", name], "msg": "field required", "type": "missing"} for name in missing
            ]
            detail += [
                {"loc": ["query", name], "msg": "value is not a valid integer", "type": "int_parsing"}
                for name in invalid
            ]
            return _json_reply(422, {"detail": detail})
        if self.candles_answer == "garbage":
            return Reply(200, b"<html><body>upstream hiccup</body></html>")
        if self.candles_answer == "no_data":
            return _json_reply(200, {"s": "no_data"})
        if self.candles_answer == "error":
            return _json_reply(200, {"s": "error", "errmsg": "Internal error"})
        if params["symbol"] != SOL_USD_SYMBOL:
            return _json_reply(200, {"s": "error", "errmsg": f"Symbol {params['symbol']} not found"})
        answer = self.market.sol_usd_candles(int(params["from"]), int(params["to"]), params["resolution"])
        if answer["s"] == "ok" and self.candles_corrupt is not None:
            answer = _corrupted(answer, self.candles_corrupt, self.candles_corrupt_times)
        return _json_reply(200, answer)


def _is_integer(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _corrupted(answer: dict[str, Any], how: CandlesCorruption, times: set[int] | None) -> dict[str, Any]:
    """The candles with the prices of the chosen bars (all when `times` is None) made unusable."""
    result = dict(answer)
    for key in ("o", "h", "l", "c"):
        values: list[Any] = list(answer[key])
        for position, start in enumerate(answer["t"]):
            if times is None or start in times:
                values[position] = {"zero": 0.0, "nan": "NaN", "negative": -abs(values[position])}[how]
        result[key] = values
    return result


def _dex_fixture_pairs(dex_dir: Path | None) -> dict[str, list[dict[str, Any]]]:
    """Recorded DexScreener pairs (bare arrays or `{pairs: [...]}`) by every mint they list, base or quote."""
    by_mint: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(dex_dir.glob("*.json")) if dex_dir is not None else []:
        data = json.loads(path.read_text())
        for pair in (data.get("pairs") or []) if isinstance(data, dict) else data:
            for side in ("baseToken", "quoteToken"):
                by_mint.setdefault(pair[side]["address"], []).append(pair)
    return by_mint


def _route(method: str, path: str) -> str:
    if method == "POST" and path.rstrip("/").endswith("/v0/transactions"):
        return "transactions"
    if method == "POST":
        return "rpc"
    if method == "GET" and "/tokens/v1/solana/" in path:
        return "dexscreener"
    if method == "GET" and path.rstrip("/").endswith(SOL_USD_PATH):
        return "sol_usd"
    return "unknown"


def _rpc_failure(call_id: Any, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "error": {"code": error.code, "message": error.message}, "id": call_id}


def _address_param(params: list[Any]) -> str:
    if not isinstance(params[0], str):
        raise RpcError(-32602, "Invalid param: expected an address string")
    return params[0]


def _options_param(params: list[Any], index: int) -> dict[str, Any]:
    if len(params) <= index:
        return {}
    if not isinstance(params[index], dict):
        raise RpcError(-32602, f"Invalid params: argument {index} must be an object")
    return params[index]


# ---------------------------------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a handler parked in a hang or an idle keep-alive never blocks shutdown
    request_queue_size = 128

    def __init__(self, upstream: FakeUpstream) -> None:
        self.upstream = upstream
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall on a machine without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out has closed its socket before we answered: expected, not worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: thousands of requests per test run stay cheap
    timeout = 30  # drop idle keep-alive connections eventually
    # Headers and body go out in separate writes; with Nagle on, the body waits for the client's delayed
    # ACK (~40 ms per request).
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        upstream = self.server.upstream if isinstance(self.server, _Server) else None
        if upstream is None:
            raise RuntimeError("handler attached to a foreign server")
        reply = upstream.handle(method, self.path, body)
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            if reply.chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(reply.size))
            self.end_headers()
            self._write_body(reply, upstream)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _write_body(self, reply: Reply, upstream: FakeUpstream) -> None:
        if reply.padding:
            upstream.padding_stream(opened=True)
        try:
            for chunk in reply.chunks():
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if reply.chunked else chunk)
                if reply.padding:
                    upstream.count_padding_sent(len(chunk))
            if reply.chunked:
                self.wfile.write(b"0\r\n\r\n")
        finally:
            if reply.padding:
                upstream.padding_stream(opened=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: thousands of requests per run would drown the test output."""
