"""A campaign run: segment -> suppression check -> recommendations -> transformer -> composer -> ledger claim -> paced
delivery -> ledger."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from campaign_tools.channels.base import Deliverer, DeliveryError, Message
from campaign_tools.send.batch import BATCH_SIZE, BatchComposer, Enricher, PreparedBatch, prepare_batch
from campaign_tools.send.compose import MessageComposer
from campaign_tools.send.ledgers.base import Claim, ClaimPolicy, Ledger
from campaign_tools.send.pacing import Backoff, TokenBucket
from campaign_tools.send.recommendations.base import RecommendationSource
from campaign_tools.send.segments import SegmentEndpoint, SegmentStats, SkipReason
from transformer.errors import PinrecError


class DeliveryStopped(PinrecError):
    """Every further delivery would fail the same way (the provider refused the account, the outbox cannot be
    written); the campaign stops and resumes after the cause is fixed."""


RECORDED_SEGMENT_SKIPS = frozenset(
    {SkipReason.OPTED_OUT, SkipReason.INACTIVE, SkipReason.NO_ADDRESS, SkipReason.INVALID_ADDRESS}
)
"""Segment skips written to the ledger; endpoints of another channel are only counted."""
DUPLICATE_IN_BATCH = "duplicate_in_batch"
UNRECORDED_SKIPS = frozenset(
    {SkipReason.OTHER_CHANNEL, DUPLICATE_IN_BATCH, Claim.ALREADY_SENT, Claim.IN_PROGRESS, Claim.IN_DOUBT}
)
"""Skips the summary counts that the ledger holds no row for from this run: another channel's endpoints, a repeat
of an id in the same batch, and endpoints the ledger already holds as sent or pending."""


class SuppressionFilter(Protocol):
    def skips(self, endpoints: Sequence[SegmentEndpoint]) -> Mapping[str, str]:
        """Endpoint id -> skip reason for the suppressed endpoints of a batch; PinrecError when it cannot tell."""
        ...


SUPPRESSION_UNAVAILABLE = "suppression_unavailable"


@dataclass
class RunSummary:
    campaign_id: str
    dry_run: bool
    segment: SegmentStats = field(default_factory=SegmentStats)
    sent: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    throttled_retries: int = 0
    seconds: float = 0.0
    delivery_seconds: float = 0.0
    """Time spent inside the deliverer (the delivery target's cost), summed over the delivery threads."""
    stopped: str | None = None

    @property
    def processed(self) -> int:
        return self.sent + sum(self.skipped.values()) + sum(self.failed.values())

    def all_skipped(self) -> Counter[str]:
        """Skips of the segment reader and of the run, by reason."""
        return Counter({str(reason): count for reason, count in self.segment.skipped.items()}) + self.skipped

    def recorded_skipped(self) -> Counter[str]:
        """The skips this run wrote to the ledger (unless it held the endpoint as sent or pending already)."""
        return Counter({reason: n for reason, n in self.all_skipped().items() if reason not in UNRECORDED_SKIPS})

    def not_recorded(self) -> Counter[str]:
        """The rows counted here that wrote no ledger row: unrecorded skips and malformed rows (`malformed`)."""
        counts = Counter({reason: n for reason, n in self.all_skipped().items() if reason in UNRECORDED_SKIPS})
        if self.segment.malformed:
            counts["malformed"] = self.segment.malformed
        return counts


def batches(endpoints: Iterable[SegmentEndpoint], size: int = BATCH_SIZE) -> Iterator[list[SegmentEndpoint]]:
    iterator = iter(endpoints)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class CampaignRun:
    """Sends one campaign; every outcome is counted in `summary` and (unless dry run) recorded in the ledger."""

    def __init__(
        self,
        *,
        campaign_id: str,
        recommendations: RecommendationSource,
        enricher: Enricher,
        composer: MessageComposer | BatchComposer,
        deliverer: Deliverer,
        ledger: Ledger,
        claim_policy: ClaimPolicy,
        pacer: TokenBucket | None = None,
        backoff: Backoff | None = None,
        workers: int = 4,
        dry_run: bool = False,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        progress: Callable[[int], None] | None = None,
        suppression: SuppressionFilter | None = None,
    ) -> None:
        self.campaign_id = campaign_id
        self.suppression = suppression
        self.recommendations = recommendations
        self.enricher = enricher
        self.composer = composer
        self.deliverer = deliverer
        self.ledger = ledger
        self.claim_policy = claim_policy
        self.pacer = pacer
        self.backoff = backoff or Backoff()
        self.workers = max(workers, 1)
        self.summary = RunSummary(campaign_id, dry_run)
        self._now = wall_clock
        self._sleep = sleep
        self._progress = progress
        self._lock = threading.Lock()
        self._stop: str | None = None
        self._stop_error: DeliveryError | None = None
        self._delivering_batch: Future[None] | None = None

    def record_segment_skip(self, endpoint_id: str, reason: SkipReason) -> None:
        if reason in RECORDED_SEGMENT_SKIPS:
            self.ledger.mark_skipped(self.campaign_id, endpoint_id, reason, self._now())

    def run(self, endpoints: Iterable[SegmentEndpoint]) -> RunSummary:
        started = time.monotonic()
        try:
            # `batch_runner` delivers one claimed batch while this thread prepares the next (see _send_claimed).
            with (
                ThreadPoolExecutor(max_workers=self.workers) as pool,
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="pinrec-batch") as batch_runner,
            ):
                try:
                    for chunk in batches(endpoints):
                        self._run_batch(chunk, pool, batch_runner)
                        if self._progress is not None:
                            self._progress(self.summary.processed)
                        if self._stop is not None:
                            break
                    self._finish_delivering()
                except KeyboardInterrupt:
                    # Deliveries under way finish and are recorded; the queued ones are not started.
                    self._stop = "interrupted"
                    self._finish_delivering(raise_error=False)
                    raise
                except BaseException:
                    self._stop = self._stop or "error"
                    self._finish_delivering(raise_error=False)
                    raise
        finally:
            self.summary.seconds = time.monotonic() - started
            self.summary.stopped = self._stop
        if self._stop is not None:
            cause = str(self._stop_error) if self._stop_error is not None else self._stop
            raise DeliveryStopped(
                f"delivery stopped: {cause} — every further message would fail the same way; fix the cause and "
                "re-run (the ledger resumes where this run stopped)"
            )
        return self.summary

    def _finish_delivering(self, *, raise_error: bool = True) -> None:
        """Wait until the batch being delivered is delivered and recorded; its error, if any, is raised here."""
        delivering, self._delivering_batch = self._delivering_batch, None
        if delivering is None:
            return
        if raise_error:
            delivering.result()
        else:
            delivering.exception()

    def _count(self, counter: Counter[str] | None, reason: str = "", count: int = 1) -> None:
        with self._lock:
            if counter is None:
                self.summary.sent += count
            else:
                counter[reason] += count

    def _run_batch(
        self, chunk: list[SegmentEndpoint], pool: ThreadPoolExecutor, batch_runner: ThreadPoolExecutor
    ) -> None:
        sent = self.ledger.sent_among(self.campaign_id, [item.endpoint_id for item in chunk])
        already_sent = sum(1 for item in chunk if item.endpoint_id in sent)
        if already_sent:
            self._count(self.summary.skipped, Claim.ALREADY_SENT, already_sent)
        todo = [item for item in chunk if item.endpoint_id not in sent]
        suppressed = PreparedBatch()
        if self.suppression is not None and todo:
            todo, suppressed = self._unsuppressed(todo, self.suppression)
        prepared = (
            prepare_batch(todo, self.recommendations.lookup(todo), self.enricher, self.composer) if todo else None
        )
        # Everything written to the ledger waits for the batch before: an id it holds may repeat here, and a stop it
        # met records and claims nothing more.
        self._finish_delivering()
        if self._stop is not None:
            return
        self._record_unsendable(suppressed)
        if prepared is None:
            return
        self._record_unsendable(prepared)
        if self.deliverer.idempotent:
            self._send_claimed(prepared.messages, pool, batch_runner)
        else:
            list(pool.map(self._send_one, prepared.messages))

    def _send_claimed(
        self, messages: list[tuple[str, Message]], pool: ThreadPoolExecutor, batch_runner: ThreadPoolExecutor
    ) -> None:
        """An idempotent deliverer's batch: claimed in one ledger transaction, then delivered and recorded sent in
        one by `batch_runner` while the caller prepares the next batch. A claim left pending (the run stopped or
        died before delivering it) is claimed again by the next run."""
        if not messages:
            return
        claims = self.ledger.claim_many(
            self.campaign_id, [item[0] for item in messages], self._now(), self.claim_policy
        )
        claimed = []
        for entry in messages:
            claim = claims[entry[0]]
            if claim is Claim.CLAIMED:
                claimed.append(entry)
            else:
                self._count(self.summary.skipped, claim)
        if claimed:
            self._delivering_batch = batch_runner.submit(self._deliver_claimed, claimed, pool)

    def _deliver_claimed(self, claimed: list[tuple[str, Message]], pool: ThreadPoolExecutor) -> None:
        # A deliverer that only does local work (the outbox writing files) delivers in this one thread: worker threads
        # would only take turns holding the interpreter.
        concurrent = getattr(self.deliverer, "concurrent", True)
        delivered = pool.map(self._deliver, claimed) if concurrent else map(self._deliver, claimed)
        sent = [outcome for outcome in delivered if outcome is not None]
        if sent:
            self.ledger.mark_sent_many(self.campaign_id, sent, self._now())
            self._count(None, count=len(sent))

    def _unsuppressed(
        self, todo: list[SegmentEndpoint], suppression: SuppressionFilter
    ) -> tuple[list[SegmentEndpoint], PreparedBatch]:
        """The endpoints the suppression list lets through, and the others skipped with its reason. When the list
        cannot answer, the batch fails (a later run retries it): nobody is delivered unchecked."""
        try:
            skips = suppression.skips(todo)
        except PinrecError:
            return [], PreparedBatch(failed=dict.fromkeys((item.endpoint_id for item in todo), SUPPRESSION_UNAVAILABLE))
        return [item for item in todo if item.endpoint_id not in skips], PreparedBatch(skipped=dict(skips))

    def _record_unsendable(self, prepared: PreparedBatch) -> None:
        now = self._now()
        if prepared.duplicates:
            self._count(self.summary.skipped, DUPLICATE_IN_BATCH, prepared.duplicates)
        for endpoint_id, reason in prepared.skipped.items():
            self.ledger.mark_skipped(self.campaign_id, endpoint_id, reason, now)
            self._count(self.summary.skipped, reason)
        for endpoint_id, reason in prepared.failed.items():
            claim = self.ledger.claim(self.campaign_id, endpoint_id, now, self.claim_policy)
            if claim is Claim.CLAIMED:
                self.ledger.mark_failed(self.campaign_id, endpoint_id, reason, now)
                self._count(self.summary.failed, reason)
            else:
                self._count(self.summary.skipped, claim)

    def _send_one(self, entry: tuple[str, Message]) -> None:
        endpoint_id = entry[0]
        if self._stop is not None:
            return
        claim = self.ledger.claim(self.campaign_id, endpoint_id, self._now(), self.claim_policy)
        if claim is not Claim.CLAIMED:
            self._count(self.summary.skipped, claim)
            return
        outcome = self._deliver(entry)
        if outcome is not None:
            self.ledger.mark_sent(self.campaign_id, endpoint_id, outcome[1], self._now())
            self._count(None)

    def _deliver(self, entry: tuple[str, Message]) -> tuple[str, str] | None:
        """Deliver one claimed message: (endpoint id, message id), or None when it failed (recorded) or the run
        stopped before delivering it."""
        endpoint_id, message = entry
        if self._stop is not None:
            return None
        attempt = 0
        while True:
            attempt += 1
            if self.pacer is not None:
                self.pacer.acquire()
            started = time.perf_counter()
            try:
                delivered = self.deliverer.deliver(self.campaign_id, endpoint_id, message)
            except DeliveryError as error:
                self._delivering(started)
                if error.throttled and attempt < self.backoff.max_attempts:
                    with self._lock:
                        self.summary.throttled_retries += 1
                    self._sleep(self.backoff.delay(attempt))
                    continue
                self.ledger.mark_failed(self.campaign_id, endpoint_id, error.reason, self._now())
                self._count(self.summary.failed, error.reason)
                if error.fatal:
                    self._stop, self._stop_error = error.reason, error
                return None
            except Exception as error:  # one message's failure is recorded; the campaign goes on
                self._delivering(started)
                reason = f"error_{type(error).__name__}"
                self.ledger.mark_failed(self.campaign_id, endpoint_id, reason, self._now())
                self._count(self.summary.failed, reason)
                return None
            self._delivering(started)
            return endpoint_id, delivered.message_id

    def _delivering(self, started: float) -> None:
        spent = time.perf_counter() - started
        with self._lock:
            self.summary.delivery_seconds += spent
