"""Job flows: one module per kind of job, each holding its steps (what its tasks run) and the one place where
its chains and chords are built (docs/ARCHITECTURE.md, "Jobs and their flows").

Every flow starts the same way: the job's start task (`jobs.dispatch.START_TASKS`) claims the queued job in
the ledger (`services.job_start`, a conditional UPDATE, so a duplicate start message is a no-op) and sends the
job's tasks. Every task of a run carries the run's `attempt` number and checks the ledger at its start and at
its checkpoints (`services.job_checkpoint`), so a cancelled job, or a run the stalled sweep replaced, stops
there.

- `similarity`: chord(sync each wallet needing it + fetch each wallet's balances) -> similarity on the synced
  wallets; the last balances task starts `enrichment`, which the job does not wait for.
- `analysis`: PnL or behaviour of one wallet: [prepare (sync, balances) ->] compute.
- `wallet_sync`: sync one wallet and fetch its balances.
- `bulk`: a parent job whose children are ordinary jobs of the kinds above; the children's ends settle it.
- `token_holders`: read a mint, then sync its holders and first buyers in a window of chord batches, profile
  each batch, and compare and classify them all.
- `enrichment`: prices and metadata for a job's balances, merged into its result when ready.
"""
