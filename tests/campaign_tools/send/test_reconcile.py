"""Reconciliation: the verdict of each pending row (as properties), and what `reconcile` does to a real SQLite ledger
with events in it: accepted rows become sent, unconfirmed ones are released to the normal retry path, the rest is
left as it is, and a second pass changes nothing."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_tools.events.model import DeliveryEvent, EventKind
from campaign_tools.send.ledgers.base import Claim, ClaimPolicy, Ledger, State
from campaign_tools.send.ledgers.sqlite import SqliteLedger
from campaign_tools.send.reconcile import (
    RECONCILED_WITHOUT_ID,
    UNCONFIRMED,
    ReconcileError,
    ReconcilePolicy,
    ReconcileSettings,
    Verdict,
    reconcile,
    run_reconcile,
    verdict,
)

LEASE, GRACE = 100.0, 50.0
POLICY = ReconcilePolicy(LEASE, GRACE)
NOW = 10_000.0
CAMPAIGN = "spring"

ages = st.floats(min_value=0, max_value=1_000, allow_nan=False)
moments = st.none() | st.floats(min_value=0, max_value=20_000, allow_nan=False)


@given(age=ages, accepted=st.booleans(), latest=moments)
def test_a_verdict_follows_the_lease_the_events_and_the_grace(age: float, accepted: bool, latest: float | None) -> None:
    claimed = NOW - age
    found = verdict(claimed, NOW, accepted, latest, POLICY)
    if age < LEASE:
        assert found is Verdict.IN_PROGRESS, "a row within its lease is never touched, events or not"
    elif accepted:
        assert found is Verdict.ACCEPTED
    elif age < LEASE + GRACE:
        assert found is Verdict.AWAITING_EVENTS
    else:
        heard = latest is not None and latest >= claimed
        assert found is (Verdict.UNCONFIRMED if heard else Verdict.UNHEARD)


@given(age=ages, later=st.floats(min_value=0, max_value=1_000, allow_nan=False), latest=moments)
def test_time_only_moves_a_row_forward(age: float, later: float, latest: float | None) -> None:
    order = [Verdict.IN_PROGRESS, Verdict.AWAITING_EVENTS, Verdict.UNHEARD, Verdict.UNCONFIRMED]
    claimed = NOW - age
    before = verdict(claimed, NOW, False, latest, POLICY)
    after = verdict(claimed, NOW + later, False, latest, POLICY)
    assert order.index(after) >= order.index(before)
    assert verdict(claimed, NOW + later, True, latest, POLICY) in (Verdict.IN_PROGRESS, Verdict.ACCEPTED)


def send_event(endpoint_id: str, occurred_at: float, message_id: str | None, *, tagged: bool = True) -> DeliveryEvent:
    return DeliveryEvent(
        event_id=f"{endpoint_id}-{occurred_at}-{message_id}",
        channel="email",
        kind=EventKind.SEND,
        occurred_at=occurred_at,
        message_id=message_id,
        campaign_id=CAMPAIGN if tagged else None,
        endpoint_id=endpoint_id if tagged else None,
    )


RUN = ClaimPolicy("old-run")


def pending(ledger: Ledger, endpoint_id: str, claimed_at: float) -> None:
    assert ledger.claim(CAMPAIGN, endpoint_id, claimed_at, RUN) is Claim.CLAIMED


def states(ledger: SqliteLedger) -> dict[str, tuple[str, str | None, str | None]]:
    rows = ledger._connection.execute(
        "SELECT endpoint_id, state, reason, message_id FROM messages WHERE campaign_id = ?", (CAMPAIGN,)
    )
    return {endpoint: (state, reason, message) for endpoint, state, reason, message in rows}


@pytest.fixture
def ledger(tmp_path: Path) -> SqliteLedger:
    return SqliteLedger(tmp_path / "ledger.db")


def test_each_kind_of_pending_row_is_settled_as_its_verdict_says(ledger: SqliteLedger) -> None:
    pending(ledger, "in-lease", NOW - 10)
    pending(ledger, "accepted", NOW - 120)
    pending(ledger, "accepted-no-id", NOW - 500)
    pending(ledger, "awaiting", NOW - 120)
    pending(ledger, "unconfirmed", NOW - 400)
    pending(ledger, "sent", NOW - 900)
    ledger.mark_sent(CAMPAIGN, "sent", "m-sent", NOW - 899)
    ledger.record_events(
        [
            send_event("accepted", NOW - 119, "m-accepted"),
            send_event("accepted-no-id", NOW - 400, None),
            send_event("in-lease", NOW - 9, "m-in-lease"),
            send_event("sent", NOW - 300, "m-sent"),  # proves events kept flowing after 'unconfirmed' was claimed
        ],
        NOW,
    )

    found = reconcile(ledger, CAMPAIGN, NOW, POLICY)

    assert dict(found.counts) == {
        Verdict.IN_PROGRESS: 1,
        Verdict.ACCEPTED: 2,
        Verdict.AWAITING_EVENTS: 1,
        Verdict.UNCONFIRMED: 1,
    }
    assert found.oldest[Verdict.ACCEPTED] == NOW - 500 and found.oldest[Verdict.AWAITING_EVENTS] == NOW - 120
    assert states(ledger) == {
        "in-lease": ("pending", None, None),
        "accepted": ("sent", None, "m-accepted"),
        "accepted-no-id": ("sent", None, RECONCILED_WITHOUT_ID),
        "awaiting": ("pending", None, None),
        "unconfirmed": ("failed", UNCONFIRMED, None),
        "sent": ("sent", None, "m-sent"),
    }
    next_run = ClaimPolicy("next-run", lease_seconds=LEASE)
    assert ledger.claim(CAMPAIGN, "unconfirmed", NOW + 1, next_run) is Claim.CLAIMED, "the normal retry path"
    assert ledger.claim(CAMPAIGN, "awaiting", NOW + 1, next_run) is Claim.IN_DOUBT
    assert not reconcile(ledger, CAMPAIGN, NOW + 1, POLICY).reconciled, "a second pass finds nothing to settle"
    text = "\n".join(found.lines())
    assert "2 in doubt marked sent" in text and "1 released to be sent again (failed: unconfirmed)" in text
    assert "1 awaiting events" in text


def test_without_events_since_its_claim_a_row_stays_in_doubt(ledger: SqliteLedger) -> None:
    pending(ledger, "ep-1", NOW - 1_000)
    first = reconcile(ledger, CAMPAIGN, NOW, POLICY)
    assert dict(first.counts) == {Verdict.UNHEARD: 1}, "no event at all: events may not be flowing"
    assert "no event of this campaign arrived since they were claimed" in "\n".join(first.lines())
    pending(ledger, "ep-2", NOW - 2_000)
    ledger.mark_sent(CAMPAIGN, "ep-2", "m-2", NOW - 1_999)
    ledger.record_events([send_event("ep-2", NOW - 1_999, "m-2")], NOW)
    assert dict(reconcile(ledger, CAMPAIGN, NOW, POLICY).counts) == {Verdict.UNHEARD: 1}, "only older events"
    ledger.record_events([send_event("ep-2", NOW - 999, "m-2-open")], NOW)
    assert dict(reconcile(ledger, CAMPAIGN, NOW, POLICY).counts) == {Verdict.UNCONFIRMED: 1}
    assert states(ledger)["ep-1"] == ("failed", UNCONFIRMED, None)


def test_only_the_tags_reach_an_in_doubt_row_which_has_no_message_id_yet(ledger: SqliteLedger) -> None:
    pending(ledger, "ep-1", NOW - 200)
    recorded = ledger.record_events([send_event("ep-1", NOW - 199, "m-1", tagged=False)], NOW)
    assert recorded.unknown == 1, "an untagged event of an in-doubt message names no row"
    assert dict(reconcile(ledger, CAMPAIGN, NOW, POLICY).counts) == {Verdict.UNHEARD: 1}
    ledger.record_events([send_event("ep-1", NOW - 199, "m-1")], NOW)
    assert dict(reconcile(ledger, CAMPAIGN, NOW, POLICY).counts) == {Verdict.ACCEPTED: 1}
    assert states(ledger)["ep-1"] == ("sent", None, "m-1")


def test_a_dry_run_judges_and_changes_nothing(ledger: SqliteLedger) -> None:
    pending(ledger, "ep-1", NOW - 200)
    ledger.record_events([send_event("ep-1", NOW - 199, "m-1")], NOW)
    found = reconcile(ledger, CAMPAIGN, NOW, POLICY, apply=False)
    assert (found.reconciled, found.applied) == (1, False)
    assert "would be marked sent" in "\n".join(found.lines())
    assert states(ledger)["ep-1"] == ("pending", None, None)


class ClaimedMeanwhile:
    """A ledger in which another run claims `endpoint_id` right after the reconciliation read the events."""

    def __init__(self, inner: SqliteLedger, endpoint_id: str) -> None:
        self.inner = inner
        self.endpoint_id = endpoint_id

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def accepted_among(self, campaign_id: str, endpoint_ids: Sequence[str]) -> dict[str, str | None]:
        found = self.inner.accepted_among(campaign_id, endpoint_ids)
        retrying = ClaimPolicy("retrying-run", lease_seconds=LEASE, reclaim_expired=True)
        assert self.inner.claim(CAMPAIGN, self.endpoint_id, NOW, retrying) is Claim.CLAIMED
        return found


def test_a_row_another_run_claimed_meanwhile_is_not_released(ledger: SqliteLedger) -> None:
    pending(ledger, "ep-1", NOW - 1_000)
    pending(ledger, "ep-2", NOW - 1_000)
    pending(ledger, "other", NOW - 6)
    ledger.record_events([send_event("other", NOW - 5, "m")], NOW)
    found = reconcile(ClaimedMeanwhile(ledger, "ep-1"), CAMPAIGN, NOW, POLICY)  # type: ignore[arg-type]
    assert (found.released, found.counts[Verdict.IN_PROGRESS]) == (1, 2)
    assert states(ledger)["ep-1"] == ("pending", None, None), "the other run's claim stands"
    assert states(ledger)["ep-2"] == ("failed", UNCONFIRMED, None)


ROW_STATES = st.sampled_from(["pending", "sent", "failed", "skipped"])
ROWS = st.lists(st.tuples(ROW_STATES, st.floats(min_value=0, max_value=600, allow_nan=False)), min_size=1, max_size=12)
EVENTS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=11),
        st.floats(min_value=-600, max_value=0, allow_nan=False),
        st.booleans(),
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS, events=EVENTS)
def test_reconciling_any_ledger_settles_only_what_it_may_and_twice_is_once(
    rows: list[tuple[str, float]], events: list[tuple[int, float, bool]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        ledger = SqliteLedger(Path(folder) / "ledger.db", durable=False)
        for index, (state, age) in enumerate(rows):
            endpoint = f"ep-{index}"
            pending(ledger, endpoint, NOW - age)
            if state == "sent":
                ledger.mark_sent(CAMPAIGN, endpoint, f"m-{index}", NOW - age)
            elif state == "failed":
                ledger.mark_failed(CAMPAIGN, endpoint, "ses_Throttling", NOW - age)
            elif state == "skipped":
                ledger.mark_failed(CAMPAIGN, endpoint, "x", NOW - age)
                ledger.mark_skipped(CAMPAIGN, endpoint, "no_recommendations", NOW - age)
        ledger.record_events(
            [
                send_event(f"ep-{index}", NOW + offset, f"m-{index}" if with_id else None)
                for index, offset, with_id in events
            ],
            NOW,
        )
        before = states(ledger)
        with_events = {event.endpoint_id for event in ledger.events(CAMPAIGN)}
        latest = max((event.occurred_at for event in ledger.events(CAMPAIGN)), default=None)

        found = reconcile(ledger, CAMPAIGN, NOW, POLICY)
        after = states(ledger)

        for index, (_, age) in enumerate(rows):
            endpoint, claimed = f"ep-{index}", NOW - age
            if before[endpoint][0] != "pending":
                assert after[endpoint] == before[endpoint], "only pending rows are touched"
                continue
            expected = verdict(claimed, NOW, endpoint in with_events, latest, POLICY)
            assert endpoint in found.decided[expected]
            if expected is Verdict.ACCEPTED:
                assert after[endpoint][0] == "sent" and after[endpoint][2] in (f"m-{index}", RECONCILED_WITHOUT_ID)
            elif expected is Verdict.UNCONFIRMED:
                assert endpoint not in with_events and age >= LEASE + GRACE
                assert after[endpoint] == ("failed", UNCONFIRMED, None)
            else:
                assert after[endpoint] == before[endpoint], "in progress or still in doubt: left as it is"
        assert sum(found.counts.values()) == sum(state == "pending" for state, _, _ in before.values())
        again = reconcile(ledger, CAMPAIGN, NOW, POLICY)
        assert again.reconciled == again.released == 0 and states(ledger) == after
        ledger.close()


def test_run_reconcile_needs_an_existing_ledger_and_valid_settings(tmp_path: Path) -> None:
    with pytest.raises(ReconcileError) as caught:
        ReconcileSettings(campaign_id="bad id", ledger="postgres:x", grace_seconds=-1)
    assert sorted(caught.value.violations) == [
        "--campaign-id: campaign id 'bad id': use 1-128 letters, digits, '_', '.' or '-', starting with a letter or "
        "digit",
        "--grace: Input should be greater than or equal to 0",
        "--ledger must be sqlite:PATH or dynamodb:TABLE, got 'postgres:x'",
    ]
    missing = ReconcileSettings(campaign_id=CAMPAIGN, ledger=f"sqlite:{tmp_path / 'none.db'}")
    with pytest.raises(Exception, match="no such ledger"):
        run_reconcile(missing, None, NOW)
    assert not (tmp_path / "none.db").exists()
    ledger = SqliteLedger(tmp_path / "ledger.db")
    pending(ledger, "ep-1", NOW - 2_000)
    ledger.record_events([send_event("ep-1", NOW - 1_999, "m-1")], NOW)
    ledger.close()
    spec = f"sqlite:{tmp_path / 'ledger.db'}"
    dry = run_reconcile(ReconcileSettings(campaign_id=CAMPAIGN, ledger=spec, dry_run=True), None, NOW)
    assert (dry.reconciled, dry.applied) == (1, False)
    done = run_reconcile(ReconcileSettings(campaign_id=CAMPAIGN, ledger=spec), None, NOW)
    assert (done.reconciled, done.applied) == (1, True)
    reread = SqliteLedger(tmp_path / "ledger.db", read_only=True)
    assert [row.endpoint_id for row in reread.rows(CAMPAIGN, State.SENT)] == ["ep-1"]
    reread.close()


class WithoutLatestEventQuery:
    """A ledger without the optional `latest_event_at` query: its events are read instead."""

    def __init__(self, inner: SqliteLedger) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> object:
        if name == "latest_event_at":
            raise AttributeError(name)
        return getattr(self.inner, name)


def test_the_latest_event_is_the_same_whether_queried_or_read(ledger: SqliteLedger) -> None:
    pending(ledger, "ep-1", NOW - 1_000)
    pending(ledger, "ep-2", NOW - 1_000)
    pending(ledger, "other", NOW - 2_000)
    ledger.record_events([send_event("other", NOW - 999, "m"), send_event("other", NOW - 1_500, "m0")], NOW)
    assert ledger.latest_event_at(CAMPAIGN) == NOW - 999 and ledger.latest_event_at("nobody") is None
    read = reconcile(WithoutLatestEventQuery(ledger), CAMPAIGN, NOW, POLICY, apply=False)  # type: ignore[arg-type]
    queried = reconcile(ledger, CAMPAIGN, NOW, POLICY, apply=False)
    assert read.counts == queried.counts == {Verdict.UNCONFIRMED: 2, Verdict.ACCEPTED: 1}
