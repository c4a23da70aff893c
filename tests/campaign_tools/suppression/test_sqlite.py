"""The SQLite suppression list: normalised addresses, the earliest entry per reason, the strongest reason reported,
complaints removed only with force, read-only opens that create nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaign_tools.suppression.base import Reason, Suppression
from campaign_tools.suppression.registry import open_suppression
from campaign_tools.suppression.sqlite import SqliteSuppressionList, SuppressionError
from transformer.errors import PinrecError


def no_clients(service: str) -> object:
    raise AssertionError(service)


def test_entries_match_however_the_address_is_written(tmp_path: Path) -> None:
    suppressions = SqliteSuppressionList(tmp_path / "s.db")
    added = suppressions.add(
        [
            Suppression("email", "Ana@Example.com ", Reason.BOUNCE, 200.0, "event-1"),
            Suppression("email", "ana@example.com", Reason.BOUNCE, 100.0, "event-0"),
            Suppression("email", "ana@example.com", Reason.COMPLAINT, 300.0, "event-2"),
            Suppression("sms", "+1 (206) 555-0100", Reason.OPT_OUT, 50.0, "list"),
        ]
    )
    assert added == 4
    found = suppressions.lookup("email", ["ANA@example.COM", "bo@example.com"])
    assert list(found) == ["ANA@example.COM"]
    assert found["ANA@example.COM"].reason is Reason.COMPLAINT, "the strongest reason is reported"
    bounce = [entry for entry in suppressions.entries("email") if entry.reason is Reason.BOUNCE]
    assert [(entry.since, entry.source) for entry in bounce] == [(100.0, "event-0")], "the earliest entry is kept"
    assert suppressions.lookup("sms", ["+12065550100"])["+12065550100"].reason is Reason.OPT_OUT
    assert suppressions.add([Suppression("email", "ana@example.com", Reason.BOUNCE, 400.0)]) == 0


def test_a_complaint_is_removed_only_with_force(tmp_path: Path) -> None:
    suppressions = SqliteSuppressionList(tmp_path / "s.db")
    suppressions.add([Suppression("email", "a@example.com", Reason.COMPLAINT, 1.0)])
    with pytest.raises(SuppressionError, match="--force"):
        suppressions.remove("email", "a@example.com")
    assert suppressions.lookup("email", ["a@example.com"])
    assert suppressions.remove("email", "A@example.com", force=True)
    assert not suppressions.lookup("email", ["a@example.com"])
    assert not suppressions.remove("email", "a@example.com")


def test_the_registry_opens_a_list_and_a_read_only_open_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(PinrecError, match="--suppression must be"):
        open_suppression("postgres:x", no_clients)
    with pytest.raises(SuppressionError, match="no such suppression list"):
        open_suppression(f"sqlite:{tmp_path / 'typo.db'}", no_clients, read_only=True)
    assert not (tmp_path / "typo.db").exists()
    written = open_suppression(f"sqlite:{tmp_path / 's.db'}", no_clients)
    written.add([Suppression("push", "token-1", Reason.MANUAL, 1.0)])
    written.close()
    reader = open_suppression(f"sqlite:{tmp_path / 's.db'}", no_clients, read_only=True)
    assert [entry.address for entry in reader.entries()] == ["token-1"]
