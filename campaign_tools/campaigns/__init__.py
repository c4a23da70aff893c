"""Campaigns as Pinpoint ran them: a `campaign.toml` definition, its schedule in each recipient's local time, quiet
time, holdout and treatments, event filters, and the dry-run plan. Pure: nothing here calls AWS or sends."""
