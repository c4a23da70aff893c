"""Holdout and treatments: shares within 0.5 points over 100,000 endpoints, the same group on every run."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from campaign_tools.campaigns.assignment import Assignment, bucket
from tests.campaign_tools.campaigns.helpers import campaign

ENDPOINTS = 100_000


def test_shares_over_100000_endpoints_are_within_half_a_point():
    definition = campaign(
        holdout_percent=10,
        treatments=[{"name": "b", "size_percent": 25}, {"name": "c", "size_percent": 5}],
    )
    assignment = Assignment.of(definition)
    counts = Counter(assignment.group_of(f"endpoint-{n}") for n in range(ENDPOINTS))
    expected = {"holdout": 10, "default": 60, "b": 25, "c": 5}
    for group, percent in expected.items():
        assert abs(counts[group] * 100 / ENDPOINTS - percent) < 0.5, (group, counts[group])


def test_the_bucket_is_sha256_and_does_not_change_between_versions():
    assert bucket("spring-sale", "endpoint-1") == bucket("spring-sale", "endpoint-1")
    assert [bucket("spring-sale", f"e{n}") for n in range(3)] == [_sha_bucket(f"e{n}") for n in range(3)]


def _sha_bucket(recipient: str) -> int:
    import hashlib

    return int.from_bytes(hashlib.sha256(f"spring-sale\0{recipient}".encode()).digest()[:8], "big") % 10_000


@settings(max_examples=200, deadline=None)
@given(recipient=st.text(min_size=1, max_size=40), holdout=st.integers(0, 50), size=st.integers(1, 50))
def test_re_running_assigns_the_same_group(recipient, holdout, size):
    definition = campaign(holdout_percent=holdout, treatments=[{"name": "b", "size_percent": size}])
    first = Assignment.of(definition).group_of(recipient)
    again = Assignment.of(campaign(holdout_percent=holdout, treatments=[{"name": "b", "size_percent": size}]))
    assert again.group_of(recipient) == first


def test_assign_by_user_keeps_a_users_endpoints_together():
    assignment = Assignment.of(campaign(assign_by="user", holdout_percent=50))
    groups = {assignment.group(f"e{n}", {"User": {"UserId": "u-1"}}) for n in range(50)}
    assert len(groups) == 1
    assert assignment.recipient_id("e1", {"User": {"UserId": 5}}) == "e1"
