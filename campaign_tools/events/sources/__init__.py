"""The shapes delivery events arrive in: one module per service that publishes them (see base.py), one registry that
unwraps a record from its transport (EventBridge, SNS, SQS) and hands it to the member that reads it."""
