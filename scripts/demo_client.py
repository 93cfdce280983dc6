"""Submit a similarity analysis over HTTP, print its progress from the WebSocket, then print the result.

python scripts/demo_client.py --api URL --ws URL --token TOKEN [--wallets-file FILE] [--wait-only]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import requests
from websockets.sync.client import connect

SAMPLE_WALLETS = Path(__file__).with_name("sample_wallets.txt")


def wait_until_up(api: str, ws: str, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{api}/health", timeout=2).ok:
                with connect(ws, open_timeout=2):
                    pass
        except Exception as exc:  # noqa: BLE001 - waiting for start-up: any error means "not yet"
            # 403 means daphne is up and refused an anonymous socket, which is all we wait for.
            if "403" in str(exc):
                return
        time.sleep(0.25)
    raise SystemExit(f"error: the stack did not come up within {timeout_s:.0f}s")


def read_wallets(path: Path) -> list[str]:
    lines = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line]


def bar(progress: int, width: int = 30) -> str:
    filled = width * progress // 100
    return "[" + "#" * filled + "." * (width - filled) + f"] {progress:3d}%"


def print_result(result: dict[str, Any], wallets: list[str]) -> None:
    short = {wallet: f"{wallet[:4]}…{wallet[-4:]}" for wallet in wallets}
    print(f"\nSimilarity of {len(result['wallets'])} wallets ({len(result['failed_wallets'])} failed)")
    print("\nTop pairs (combined score):")
    for pair in result["pairs"][:8]:
        shared = ", ".join(token["mint"][:6] for token in pair.get("shared_tokens", [])[:3])
        a, b = short.get(pair["wallet_a"], pair["wallet_a"]), short.get(pair["wallet_b"], pair["wallet_b"])
        print(f"  {a} ~ {b}  {pair['combined']:.3f}   shared: {shared or '-'}")
    print("\nClusters:")
    for cluster in result["clusters"] or []:
        members = ", ".join(short.get(wallet, wallet) for wallet in cluster["wallets"])
        print(f"  #{cluster['id']}: {members}  (mean {cluster['mean_combined']:.3f})")
    if not result["clusters"]:
        print("  none above the threshold")
    print(f"\nMedian similarity: {result['global']['median_similarity']:.3f}")


def print_enrichment(enrichment: dict[str, Any]) -> None:
    print(f"\nEnriched balances (SOL at ${enrichment.get('sol_price_usd') or 0:.2f}):")
    for balance in enrichment.get("balances", []):
        priced = [token for token in balance["tokens"] if token["value_usd"]]
        parts = [f"{balance['sol']:,.3f} SOL"]
        parts += [f"{t['symbol'] or t['mint'][:6]} ${t['value_usd']:,.0f}" for t in priced[:3]]
        if len(priced) > 3:
            parts.append(f"{len(priced) - 3} more priced")
        if unpriced := len(balance["tokens"]) - len(priced):
            parts.append(f"{unpriced} unpriced token(s)")
        wallet = f"{balance['wallet'][:4]}…{balance['wallet'][-4:]}"
        print(f"  {wallet}  ${balance['total_value_usd']:,.2f} = {', '.join(parts)}")


def run(api: str, ws: str, token: str, wallets: list[str]) -> int:
    headers = {"Authorization": f"Token {token}"}
    with connect(ws, additional_headers=headers, open_timeout=10) as socket:
        response = requests.post(
            f"{api}/jobs/similarity/analyze",
            json={"wallets": wallets, "force": True},
            headers=headers,
            timeout=30,
        )
        if response.status_code not in (200, 202):
            print(f"error: submit answered {response.status_code}: {response.text}", file=sys.stderr)
            return 1
        job_id = response.json()["job_id"]
        print(f"Submitted job {job_id} ({len(wallets)} wallets)")
        socket.send(json.dumps({"action": "subscribe", "job_id": job_id}))
        deadline = time.monotonic() + 300
        completed = False
        while time.monotonic() < deadline:
            event = json.loads(socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            kind = event["type"]
            if kind in {"job-snapshot", "job-progress"}:
                detail = event.get("detail") or {}
                extra = f"  {detail.get('done')}/{detail.get('total')}" if "done" in detail else ""
                print(f"  {bar(event['progress'])}  {event['stage']}{extra}")
            elif kind == "job-failed":
                print(f"error: job failed: {event['error']['message']}", file=sys.stderr)
                return 1
            elif kind == "job-completed":
                completed = True
                result = requests.get(f"{api}{event['result_url']}", headers=headers, timeout=30).json()[
                    "result"
                ]
                print_result(result, wallets)
                deadline = min(deadline, time.monotonic() + 30)
            elif kind == "enrichment-completed":
                print_enrichment(event)
                return 0
        if completed:
            print("(enrichment did not arrive within 30 s)")
            return 0
    print("error: the job did not finish within 300 s", file=sys.stderr)
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api", required=True)
    parser.add_argument("--ws", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--wallets-file", type=Path, default=SAMPLE_WALLETS)
    parser.add_argument("--wait-only", action="store_true", help="only wait until the stack answers")
    args = parser.parse_args()
    wait_until_up(args.api, args.ws)
    if args.wait_only:
        return 0
    return run(args.api, args.ws, args.token, read_wallets(args.wallets_file))


if __name__ == "__main__":
    sys.exit(main())
