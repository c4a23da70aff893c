"""`pinrec send`: run a campaign without Pinpoint — segment, recommendations, the transformer, a composer, delivery.

`settings` is what a send is asked to do and `run` runs it (the one entry point of `pinrec send` and the send
Lambda in `child`); `on_aws` starts and follows a send on Step Functions. The run's parts: `segments` reads
endpoints; `recommendations/` is the family of recommendation sources; `batch` runs the transformer core and the
composer on 50 endpoints; `compose` and `compose_pool` make messages (template or plugin); `outbox` and `dry_run`
stand in for the channel's provider (`campaign_tools.channels`); `ledgers/` is the family of send ledgers that
record each message exactly once; `pacing` paces and backs off; `pipeline` runs the batches; `report` describes
a run and a ledger.
"""
