"""AWS Lambda entry point that Amazon Pinpoint invokes as the recommender transformer
(`handlers.transformer.lambda_handler`).

The configuration is read and the catalog opened at cold start, so an invalid configuration fails the
function's initialisation with a message naming the key and the rule.

Metrics: each batch prints one EMF document (`transformer.observability.record_batch`), and the first invocation
of a container also prints `ColdStart`, as Powertools' `log_metrics(capture_cold_start_metric=True)` did.
"""

from __future__ import annotations

from typing import Any

from transformer.observability import logger, record_cold_start
from transformer.service import Transformer

transformer = Transformer.from_config_file()


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    record_cold_start(context.function_name)
    return transformer.handle(event, context)
