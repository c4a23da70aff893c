"""The outbox whatever the channel: safe, distinct file names, and files written whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaign_tools.channels.base import DeliveryError, Message, OutboxFile, Sender
from campaign_tools.send.outbox import OutboxDeliverer, file_name


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
