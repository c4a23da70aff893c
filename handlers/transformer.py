"""AWS Lambda entry point that Amazon Pinpoint invokes as the recommender transformer
(`handlers.transformer.lambda_handler`).

The configuration is read and the catalog opened at cold start, so an invalid configuration fails the
function's initialisation with a message naming the key and the rule.

Metrics: each batch prints one EMF document (`transformer.observability.record_batch`), and the first invocation
of a container also prints `ColdStart`, as Powertools' `log_metrics(capture_cold_start_metric=True)` did.
"""

from __future__ import annotations

import gc
from typing import Any

from transformer.collector import collect_young_less_often
from transformer.observability import logger, record_cold_start
from transformer.service import Transformer

transformer = Transformer.from_config_file()

# This module is the function's entry point and owns its process: what the cold start built (modules, the
# configuration, the catalog connection) lives as long as the container, so no collection need scan it again; a
# warm batch's ~1,100 short-lived objects ran a collection in nearly every batch at Python's default threshold
# (steady batches take 5-15% less with it raised: bench/RESULTS.md).
gc.freeze()
collect_young_less_often()


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    record_cold_start(context.function_name)
    return transformer.handle(event, context)
