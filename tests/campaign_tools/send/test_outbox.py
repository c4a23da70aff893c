"""The outbox whatever the channel: safe, distinct file names, and files written whole or not at all."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from campaign_tools.channels.base import DeliveryError, Message, OutboxFile, Sender
from campaign_tools.send.outbox import FATAL_ERRNOS, OutboxDeliverer, delivery_error, file_name
from tests.fakes import FakeClock


@pytest.mark.parametrize("identifier", ["..", ".", "a/b", "a%2Fb", "é", "x" * 300, "CON", "a b"])
def test_outbox_file_names_are_safe_and_distinct(identifier: str) -> None:
    name = file_name(identifier)
    assert "/" not in name and name not in (".", "..") and len(name) <= 200
    others = {
        file_name(other)
        for other in ["..", ".", "a/b", "a%2Fb", "é", "x" * 300, "x" * 299, "a b"]
        if other != identifier
    }
    assert name not in others


class TextSender(Sender):
    """Writes the message's repr as a `.txt`, or refuses it."""

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse

    def outbox_file(self, message: Message, campaign_id: str, endpoint_id: str, created: float) -> OutboxFile:
        if self.refuse:
            raise DeliveryError("refused")
        return OutboxFile("txt", repr(message).encode())

    def provider(self, clients: object) -> object:
        raise NotImplementedError


def test_outbox_files_are_named_by_campaign_and_endpoint_and_replaced_whole(tmp_path: Path) -> None:
    outbox = OutboxDeliverer(tmp_path, TextSender())
    assert outbox.idempotent and outbox.describe() == f"outbox {tmp_path}"
    delivered = outbox.deliver("spring/2026", "ep:1", "first")
    assert delivered.message_id == "spring%2F2026/ep%3A1.txt"
    outbox.deliver("spring/2026", "ep:1", "second")
    assert (tmp_path / delivered.message_id).read_text() == "'second'"
    assert [path.name for path in (tmp_path / "spring%2F2026").iterdir()] == ["ep%3A1.txt"], "no temporary file left"


def test_a_message_the_sender_refuses_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(DeliveryError, match="refused"):
        OutboxDeliverer(tmp_path, TextSender(refuse=True)).deliver("c", "e", "x")
    assert not any(tmp_path.iterdir())


def test_an_unwritable_outbox_is_a_per_message_failure(tmp_path: Path) -> None:
    (tmp_path / "c").write_text("a file where the campaign folder would be")
    with pytest.raises(DeliveryError) as caught:
        OutboxDeliverer(tmp_path, TextSender()).deliver("c", "e", "x")
    assert caught.value.reason == "outbox_write_failed"


def test_leftover_temporary_files_of_killed_runs_are_removed_by_the_next_run(tmp_path: Path) -> None:
    """A killed process cannot remove its temporary file; the next run removes those older than itself."""
    folder = tmp_path / "c"
    folder.mkdir()
    clock = FakeClock(2_000_000_000.0)
    leftovers = [folder / ".tmp-abc123.eml", folder / ".tmp-def456.txt"]
    for path in leftovers:
        path.write_bytes(b"")
        os.utime(path, (clock.now - 60, clock.now - 60))
    in_flight = folder / ".tmp-ghi789.txt"  # another run's, written after this one started
    in_flight.write_bytes(b"partial")
    os.utime(in_flight, (clock.now + 1, clock.now + 1))
    outbox = OutboxDeliverer(tmp_path, TextSender(), clock=clock)
    outbox.deliver("c", "e", "x")
    assert sorted(path.name for path in folder.iterdir()) == [".tmp-ghi789.txt", "e.txt"]


@pytest.mark.parametrize("code", sorted(errno.errorcode))
def test_an_outbox_error_every_message_would_meet_stops_the_run_any_other_fails_one_message(code: int) -> None:
    error = delivery_error(OSError(code, os.strerror(code)))
    assert error.fatal == (code in FATAL_ERRNOS)
    assert error.reason == FATAL_ERRNOS.get(code, "outbox_write_failed")
    assert not error.throttled


def test_two_runs_writing_one_campaign_folder_never_share_a_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each deliverer (and each of its threads) writes through a temporary name of its own, so two runs into the
    same folder cannot rename each other's half-written file into place."""
    first, second = OutboxDeliverer(tmp_path, TextSender()), OutboxDeliverer(tmp_path, TextSender())
    names: list[str] = []
    original = os.replace

    def recording_replace(source: str, target: str) -> None:
        names.append(os.path.basename(source))
        original(source, target)

    monkeypatch.setattr(os, "replace", recording_replace)
    first.deliver("c", "a", "x")
    second.deliver("c", "b", "y")
    first.deliver("c", "c", "z")
    monkeypatch.undo()
    assert names[0] == names[2] != names[1]
    assert all(name.startswith(".tmp-") and name.endswith(".txt") for name in names)
    assert sorted(path.name for path in (tmp_path / "c").iterdir()) == ["a.txt", "b.txt", "c.txt"]


def test_outbox_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    delivered = OutboxDeliverer(tmp_path, TextSender()).deliver("c", "e", "x")
    assert (tmp_path / delivered.message_id).stat().st_mode & 0o777 == 0o600
