"""Every deployed AWS Lambda entry point lives here, and each is thin: parse the event, call one library function,
return. Packaging selects this package by name, so a new handler ships with the functions that need it.

- `handlers.transformer.lambda_handler`: the Amazon Pinpoint recommender transformer (infra/template.yaml).
- `handlers.send_batch.handler`: the `pinrec send --on-aws` Step Functions child (infra/send-statemachine.yaml).
- `handlers.unsubscribe.handler`: the one-click unsubscribe function URL (`pinrec package --function unsubscribe`).
"""
