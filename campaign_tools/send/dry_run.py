"""`--dry-run`: compose and check every message as delivery would (SMS part budget included), send nothing."""

from __future__ import annotations

import time

from campaign_tools.channels.base import Delivered, Message, Sender


class DryRunDeliverer:
    idempotent = True

    def __init__(self, sender: Sender) -> None:
        self._sender = sender

    def describe(self) -> str:
        return "dry run (nothing delivered)"

    def deliver(self, campaign_id: str, endpoint_id: str, message: Message) -> Delivered:
        self._sender.outbox_file(message, campaign_id, endpoint_id, time.time())
        return Delivered("dry-run")
