"""Before/after of the transformer through its Lambda handler, for comparing two source trees on one catalog.

    PYTHONPATH=TREE python bench/handler_ab.py CONFIG.toml

Imports `handlers.transformer` (and the bench's data and naive baseline) from whichever tree PYTHONPATH names first,
so the same file measures `main` and a branch alike: cache cold, hot and steady batches through `lambda_handler`
(logs at INFO and metrics written to /dev/null) against the naive baseline, in one process. Prints one line.
"""

from __future__ import annotations

import contextlib
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO"


def median_ms(action: Callable[[Any], object], events: list[Any]) -> float:
    times = []
    for event in events:
        started = time.perf_counter()
        action(event)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> int:
    config = sys.argv[1]
    catalog_size = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    os.environ["PINREC_CONFIG"] = config
    import handlers.transformer as module
    from bench import data
    from bench.naive import NaiveTransformer, sqlite_lookup
    from campaign_tools.local_lambda import LocalContext

    sink = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    for handler in module.logger.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sink)
    context = LocalContext(timeout_seconds=10.0**9)
    campaign = data.Campaign(catalog_size, seed=data.SEED + 1)

    def call(event: dict[str, Any]) -> None:
        with contextlib.redirect_stdout(sink):
            module.lambda_handler(event, context)

    transformer = module.transformer
    cold = []
    for _ in range(15):
        transformer.cache.clear()
        event = campaign.event()
        started = time.perf_counter()
        call(event)
        cold.append(time.perf_counter() - started)
    hot = median_ms(call, [event] * 300)
    transformer.cache.clear()
    for _ in range(2000):
        transformer.enrich_event(campaign.event())
    steady = median_ms(call, [campaign.event() for _ in range(200)])
    naive = NaiveTransformer(transformer.config, sqlite_lookup(transformer.config.store.location))
    baseline = median_ms(naive.handle, [campaign.event() for _ in range(20)])
    cold_ms = statistics.median(cold) * 1000
    print(
        f"naive {baseline:.3f} ms | cold {cold_ms:.3f} ms ({baseline / cold_ms:.1f}x) | hot {hot:.3f} ms "
        f"({baseline / hot:.1f}x) | steady {steady:.3f} ms ({baseline / steady:.1f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
