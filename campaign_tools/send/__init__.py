"""`pinrec send`: run a campaign without Pinpoint — segment, recommendations, the transformer, a composer, delivery.

One module per job: `segments` reads endpoints, `recommendations` fills RecommendationItems, `batch` runs the
transformer core and the composer, `delivery_*` deliver (outbox, SES, SMS, push), `ledger*` records each message
exactly once, `pacing` paces and backs off, `pipeline` ties them together, `compose` builds messages from templates.
"""
