"""`pinrec send`: run a campaign without Pinpoint — segment, recommendations, the transformer, a composer, delivery.

One module per job: `sources` opens local, S3 and gzip files; `segments` reads endpoints; `recommendations` fills
RecommendationItems; `batch` runs the transformer core and the composer on 50 endpoints; `messages` defines what a
composer returns; `compose` builds messages from templates (or a plugin); `delivery_outbox`, `delivery_ses`,
`delivery_sms` and `delivery_push` deliver; `ledger`, `ledger_sqlite` and `ledger_dynamodb` record each message
exactly once; `pacing` paces and backs off; `pipeline` runs a campaign; `assemble` builds its parts from options;
`dry_run` stands in for delivery and ledger in a dry run; `compose_pool` renders in worker processes;
`aws_batch` is what the Step Functions child Lambda (`handlers.send_batch`) runs and `on_aws` starts and follows it
(`infra/send-statemachine.yaml`).
"""
