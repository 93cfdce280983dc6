"""`analyze_holders`: bad input exits with one line and submits nothing; `--wait` follows real workers with a
progress bar, prints a row per mint, and exits non-zero when a mint's job failed.

The command runs in the test process (call_command) and enqueues to the live stack's Redis, whose workers
read the simulated market, launches included."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from jobs.models import Job
from tests.support.stack import Stack
from wallets.simulated_market import SimulatedMarket

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

MARKET = SimulatedMarket(seed=0)
ORGANIC = next(item for item in MARKET.launches() if item.kind == "organic")
NOT_A_MINT = MARKET.sample_wallets(141)[140]


def _run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("analyze_holders", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), "no token mint addresses"),
        (("--file", "/nonexistent/mints.txt"), "cannot read /nonexistent/mints.txt"),
        ((ORGANIC.mint, "not-base58-0OIl"), "mints[1]"),
        ((ORGANIC.mint, "--top", "0"), "top must be an integer from 1 to 200, got 0"),
        ((ORGANIC.mint, "--early", "201"), "early must be an integer from 1 to 200, got 201"),
        ((ORGANIC.mint, "--wait", "--poll", "0"), "--timeout and --poll must be positive"),
    ],
)
def test_bad_input_is_a_one_line_error_and_submits_nothing(args: tuple[str, ...], expected: str) -> None:
    with pytest.raises(CommandError) as refused:
        _run(*args)
    message = str(refused.value)
    assert expected in message and "\n" not in message, message
    assert not Job.objects.exists()


def test_waits_with_a_progress_bar_prints_each_mint_and_fails_for_a_mint_that_is_none(
    live_stack: Stack, tmp_path: Path
) -> None:
    listing = tmp_path / "mints.txt"
    listing.write_text(f"# launches to look at\n{ORGANIC.mint}  # organic\n")
    with pytest.raises(CommandError) as failed:
        _run(NOT_A_MINT, "--file", str(listing), "--top", "40", "--wait", "--timeout", "240", "--poll", "0.2")
    message = str(failed.value)
    assert message.startswith("1 of 2 holders analyses did not complete") and "\n" not in message
    assert f"{NOT_A_MINT} failed: NotATokenMintError: {NOT_A_MINT} is not a token mint" in message
    jobs = {job.params["mint"]: job for job in Job.objects.filter(kind=Job.Kind.TOKEN_HOLDERS)}
    assert jobs[ORGANIC.mint].status == Job.Status.COMPLETED and jobs[ORGANIC.mint].owner.username == "cli"
    assert jobs[ORGANIC.mint].params == {"mint": ORGANIC.mint, "top": 40, "early": 50}
    assert jobs[NOT_A_MINT].status == Job.Status.FAILED


def test_prints_the_summary_table(live_stack: Stack) -> None:
    out, err = _run(ORGANIC.mint, "--wait", "--timeout", "240", "--poll", "0.2")
    bars = [line for line in err.splitlines() if line.startswith("[")]
    assert bars and bars[-1].startswith("[" + "#" * 30 + "] 1/1 holders analyses ended, 0 failed"), err
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("mint "))
    assert lines[header].split()[:3] == ["mint", "status", "risk"]
    row = lines[header + 2].split()
    job = Job.objects.get(kind=Job.Kind.TOKEN_HOLDERS)
    result = job.result or {}
    assert row[:6] == [
        ORGANIC.mint,
        "completed",
        "low",
        str(len(result["holders"])),
        str(len(result["early_buyers"])),
        "0",
    ]
