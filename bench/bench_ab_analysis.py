"""PnL, behaviour and extraction of this checkout against another one, in one process, interleaved.

    git archive <commit> | tar -x -C /tmp/baseline
    .venv/bin/python -m bench.bench_ab_analysis --baseline /tmp/baseline [--repeat 15]

The baseline's `analysis/pnl.py`, `analysis/behavior.py` (and `analysis/ordering.py` when it has one) and
`wallets/extraction.py` are loaded beside this checkout's under other module names; the workloads are
those of bench_analysis (a 50,000-swap wallet) and bench_extraction (12 simulated histories and the
recorded fixtures x100). Runs alternate baseline / this checkout, so both see the same neighbours on a
shared machine; the figures are process CPU time, min and median, and the ratio this ÷ baseline.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

import analysis.behavior as new_behavior
import analysis.pnl as new_pnl
import wallets.extraction as new_extraction
from bench.bench_analysis import SOL_PRICE_USD, synthetic_wallet
from bench.bench_extraction import fixture_corpus, simulated_corpus


def _load(name: str, path: Path, replacements: dict[str, str]) -> types.ModuleType:
    source = path.read_text()
    for old, new in replacements.items():
        source = source.replace(old, new)
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module


def _baseline(root: Path) -> tuple[types.ModuleType, types.ModuleType, types.ModuleType]:
    renames = {"from analysis.pnl import": "from baseline_pnl import"}
    if (root / "analysis" / "ordering.py").exists():
        _load("baseline_ordering", root / "analysis" / "ordering.py", {})
        renames["from analysis.ordering import"] = "from baseline_ordering import"
    pnl = _load("baseline_pnl", root / "analysis" / "pnl.py", renames)
    behavior = _load("baseline_behavior", root / "analysis" / "behavior.py", renames)
    extraction = _load("baseline_extraction", root / "wallets" / "extraction.py", {})
    return pnl, behavior, extraction


def _cpu_ms(run: Callable[[], object]) -> float:
    started = time.process_time()
    run()
    return (time.process_time() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--baseline", type=Path, required=True, help="a checkout of the commit to compare with"
    )
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    old_pnl, old_behavior, old_extraction = _baseline(args.baseline)
    legs, prices = synthetic_wallet(50_000, 2_000)
    corpus = simulated_corpus(12) + fixture_corpus(100)

    def extract(module: types.ModuleType) -> Callable[[], object]:
        return lambda: sum(len(module.extract_wallet_swaps(txs, wallet).legs) for wallet, txs in corpus)

    workloads: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "compute_pnl": (
            lambda: old_pnl.compute_pnl(legs, prices_sol=prices, sol_price_usd=SOL_PRICE_USD),
            lambda: new_pnl.compute_pnl(legs, prices_sol=prices, sol_price_usd=SOL_PRICE_USD),
        ),
        "compute_behavior": (
            lambda: old_behavior.compute_behavior(legs),
            lambda: new_behavior.compute_behavior(legs),
        ),
        "extract_wallet_swaps": (extract(old_extraction), extract(new_extraction)),
    }
    print(f"CPU ms, {args.repeat} interleaved runs each\n")
    print("| step | baseline min | baseline median | this min | this median | ratio (median) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (baseline, current) in workloads.items():
        baseline(), current()  # warm caches and imports
        old_ms: list[float] = []
        new_ms: list[float] = []
        for _ in range(args.repeat):
            old_ms.append(_cpu_ms(baseline))
            new_ms.append(_cpu_ms(current))
        old_median, new_median = statistics.median(old_ms), statistics.median(new_ms)
        print(
            f"| {name} | {min(old_ms):.1f} | {old_median:.1f} | {min(new_ms):.1f} | {new_median:.1f} "
            f"| {new_median / old_median:.2f}x |"
        )


if __name__ == "__main__":
    main()
