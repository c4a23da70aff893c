"""GetPersonalizedRanking calls: one per endpoint, concurrent, retried with backoff, bounded by the deadline.

The only module of the offers flow that touches AWS; boto3 is imported here, and only when a client is made.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from transformer.aws import is_retryable
from transformer.backoff import DeadlineBackoff
from transformer.offers.scoring import personalized_ranking_scores

MAX_RANKING_INPUT = 500
"""Most items one GetPersonalizedRanking call ranks (Amazon Personalize quota for `inputList`)."""

RankingScores = dict[str, float]


@dataclass(frozen=True, slots=True)
class RankingRequest:
    user_id: str
    offer_ids: tuple[str, ...]


@dataclass(slots=True)
class RankingStats:
    calls: int = 0
    """GetPersonalizedRanking requests sent, retries included."""
    retries: int = 0
    failures: int = 0
    """Rankings given up on: a non-retryable error, attempts exhausted, or the deadline reached."""
    seconds: float = 0.0


class RankingFailed(Exception):
    """One endpoint's ranking could not be had; that endpoint is left out."""


def make_client(region: str | None, endpoint_url: str | None, timeout_seconds: float, concurrency: int) -> Any:
    """A personalize-runtime client without botocore's own retries (this module retries within the deadline)."""
    from transformer.aws import AwsOptions, ClientTuning, client

    tuning = ClientTuning(
        attempts=1, connect_timeout=timeout_seconds, read_timeout=timeout_seconds, max_pool_connections=concurrency
    )
    return client("personalize-runtime", AwsOptions(region=region, endpoint_url=endpoint_url), tuning)


class PersonalizeRanker:
    """Ranks offers for users with a Personalize campaign."""

    def __init__(
        self,
        client: Any,
        campaign_arn: str,
        *,
        max_attempts: int = 3,
        concurrency: int = 10,
        base_delay: float = 0.05,
        max_delay: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] | None = None,
    ) -> None:
        self._client = client
        self._campaign_arn = campaign_arn
        self._max_attempts = max_attempts
        self._concurrency = concurrency
        self._clock = clock
        draw = jitter if jitter is not None else random.Random().random  # noqa: S311  # backoff jitter, own state
        self._backoff = DeadlineBackoff(base_delay, max_delay, sleep, clock, draw)
        self.last = RankingStats()
        self._stats_lock = threading.Lock()

    def _count(self, stats: RankingStats, *, calls: int = 0, retries: int = 0) -> None:
        with self._stats_lock:
            stats.calls += calls
            stats.retries += retries

    def rank_many(
        self, requests: Mapping[str, RankingRequest], deadline: float
    ) -> dict[str, RankingScores | RankingFailed]:
        """Every request's scores, or RankingFailed; requests run concurrently and give up at `deadline`."""
        stats = RankingStats()
        self.last = stats
        started = self._clock()
        if not requests:
            return {}
        results: dict[str, RankingScores | RankingFailed] = {}
        executor = ThreadPoolExecutor(max_workers=min(self._concurrency, len(requests)), thread_name_prefix="rank")
        try:
            futures: dict[Future[RankingScores], str] = {
                executor.submit(self._rank_one, request, deadline, stats): key for key, request in requests.items()
            }
            remaining = deadline - self._clock()
            done, _ = wait(futures, timeout=None if math.isinf(remaining) else max(remaining, 0.0))
            for future, key in futures.items():
                if future in done:
                    error = future.exception()
                    results[key] = future.result() if error is None else _as_failure(error)
                else:
                    results[key] = RankingFailed("deadline reached")
        finally:
            executor.shutdown(wait=False, cancel_futures=True)
        stats.failures = sum(isinstance(result, RankingFailed) for result in results.values())
        stats.seconds = self._clock() - started
        return results

    def _rank_one(self, request: RankingRequest, deadline: float, stats: RankingStats) -> RankingScores:
        for attempt in range(self._max_attempts):
            if self._clock() >= deadline:
                raise RankingFailed("deadline reached")
            self._count(stats, calls=1)
            try:
                response = self._client.get_personalized_ranking(
                    campaignArn=self._campaign_arn, inputList=list(request.offer_ids), userId=request.user_id
                )
            except Exception as error:
                if not is_retryable(error) or attempt + 1 == self._max_attempts:
                    raise RankingFailed(type(error).__name__) from None
                if not self._backoff.pause(attempt, deadline):
                    raise RankingFailed("deadline reached") from None
                self._count(stats, retries=1)
                continue
            return personalized_ranking_scores(response.get("personalizedRanking") or [])
        raise RankingFailed("no attempt made")


def _as_failure(error: BaseException) -> RankingFailed:
    return error if isinstance(error, RankingFailed) else RankingFailed(type(error).__name__)


def request_for(user_id: str, offer_ids: Sequence[str]) -> RankingRequest:
    """A request over the offers in id order, so the same offer set always makes the same request."""
    return RankingRequest(user_id, tuple(sorted(offer_ids)))
