"""`analyze_wallets` and `sync_wallets`: bad input exits with a one-line error; `--wait` follows real workers.

The commands run in the test process (call_command) and enqueue to the live stack's Redis, exactly as an
operator's shell next to the workers would.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from jobs import dispatch
from jobs.models import Job
from tests.support.stack import Stack
from wallets.simulated_market import SimulatedMarket

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

_SAMPLE = SimulatedMarket(seed=0).sample_wallets(140)
ANALYZE_WALLETS = _SAMPLE[130:134]
SYNC_WALLETS = _SAMPLE[134:137]
VALID = _SAMPLE[137]


def _run(command: str, *args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize("command", ["analyze_wallets", "sync_wallets"])
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), "no wallet addresses"),
        (("--file", "/nonexistent/wallets.txt"), "cannot read /nonexistent/wallets.txt"),
        ((VALID, "not-base58-0OIl"), "wallets[1]"),
        ((VALID, "3" * 20), "decodes to"),
        ((VALID, "--user", "nobody-by-this-name"), "no user named 'nobody-by-this-name'"),
        ((VALID, "--wait", "--timeout", "0"), "--timeout and --poll must be positive"),
    ],
)
def test_bad_input_is_a_one_line_error_and_submits_nothing(
    command: str, args: tuple[str, ...], expected: str
) -> None:
    with pytest.raises(CommandError) as refused:
        _run(command, *args)
    message = str(refused.value)
    assert expected in message and "\n" not in message, message
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        ("pnl,alpha", "types[1]: 'alpha' is not one of pnl, behavior, similarity"),
        (",", "types needs at least one analysis type"),
        ("similarity", "needs at least 2 distinct address(es), got 1"),
    ],
)
def test_analyze_wallets_refuses_bad_types(types: str, expected: str) -> None:
    with pytest.raises(CommandError) as refused:
        _run("analyze_wallets", VALID, "--types", types)
    assert expected in str(refused.value) and "\n" not in str(refused.value)
    assert not Job.objects.exists()


def test_analyze_wallets_splits_sets_larger_than_the_job_limit(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dispatch, "job_enqueue", lambda job: None)  # no worker here: send nothing
    settings.MAX_WALLETS_PER_JOB = 2
    out, _ = _run("analyze_wallets", *_SAMPLE[:5], "--types", "pnl")
    parents = Job.objects.filter(kind=Job.Kind.BULK_ANALYSIS)
    assert sorted(len(job.params["wallets"]) for job in parents) == [1, 2, 2]
    assert out.count("bulk job ") == 3
    with pytest.raises(CommandError, match="similarity compares one set of at most 2 wallets"):
        _run("analyze_wallets", *_SAMPLE[:5], "--types", "pnl,similarity")


def test_analyze_wallets_waits_with_a_progress_bar_and_prints_a_summary(
    live_stack: Stack, tmp_path: Path
) -> None:
    listing = tmp_path / "wallets.txt"
    first, second, third, fourth = ANALYZE_WALLETS
    listing.write_text(f"# wallets to analyse\n{first}, {second}\n\n{third}  # a comment\n")
    out, err = _run(
        "analyze_wallets",
        fourth,
        first,
        "--file",
        str(listing),
        "--types",
        "pnl,behavior,similarity",
        "--wait",
        "--timeout",
        "180",
        "--poll",
        "0.2",
    )
    parent = Job.objects.get(kind=Job.Kind.BULK_ANALYSIS)
    assert parent.owner.username == "cli" and parent.status == Job.Status.COMPLETED
    assert parent.params["wallets"] == sorted(ANALYZE_WALLETS)
    assert f"bulk job {parent.id}: 4 wallet(s) x pnl,behavior,similarity (queued)" in out
    bars = [line for line in err.splitlines() if line.startswith("[")]
    assert bars and bars[-1].startswith("[" + "#" * 30 + "] 4/4 wallets done, 0 failed"), err
    assert bars[-1].endswith("(9/9 analyses ended)"), err
    table = out.splitlines()[-6:]
    assert table[0].split() == ["type", "completed", "failed", "cancelled", "total"]
    rows = {line.split()[0]: line.split()[1:] for line in table[2:]}
    assert rows == {
        "behavior": ["4", "0", "0", "4"],
        "pnl": ["4", "0", "0", "4"],
        "similarity": ["1", "0", "0", "1"],
        "all": ["9", "0", "0", "9"],
    }

    # Run again: the identical bulk job is answered from the ledger, nothing new is created.
    again, _ = _run("analyze_wallets", *ANALYZE_WALLETS, "--types", "similarity,pnl,behavior")
    assert "(existing job, deduplicated)" in again
    assert Job.objects.filter(kind=Job.Kind.BULK_ANALYSIS).count() == 1


def test_sync_wallets_waits_and_prints_what_each_sync_found(live_stack: Stack) -> None:
    operator = get_user_model().objects.create_user(username="operator")
    out, err = _run("sync_wallets", *SYNC_WALLETS, "--user", operator.username, "--wait", "--poll", "0.2")
    jobs = list(Job.objects.filter(kind=Job.Kind.WALLET_SYNC, owner=operator))
    assert len(jobs) == 3 and {job.status for job in jobs} == {Job.Status.COMPLETED}
    assert err.splitlines()[-1].startswith("[" + "#" * 30 + "] 3/3 wallets done, 0 failed")
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("wallet "))
    rows = {line.split()[0]: line.split() for line in lines[header + 2 :]}
    assert set(rows) == set(SYNC_WALLETS)
    for job in jobs:
        row = rows[job.params["wallet"]]
        assert row[1] == "completed" and row[2] == str((job.result or {})["new_transactions"])
