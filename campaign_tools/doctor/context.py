"""What the checks share: the settings, the campaign and configuration they name, AWS clients, a DNS resolver, and
the deployed stacks (read once), from which the names every check needs are derived -- the campaign's own choice
first, else the stack's output or parameter."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from campaign_tools.doctor.dns import Resolver
from campaign_tools.doctor.settings import DoctorSettings
from campaign_tools.send.settings import SendSettings
from transformer.config import PinrecConfig
from transformer.stores.dynamodb import DynamoDbStoreConfig


@dataclass(frozen=True)
class Stack:
    name: str
    status: str
    outputs: dict[str, str]
    parameters: dict[str, str]

    @property
    def kind(self) -> str:
        """Which of pinrec's templates it was deployed from, by its outputs: transformer, send, events or other."""
        if "QueueUrl" in self.outputs:
            return "events"
        if "StateMachineArn" in self.outputs:
            return "send"
        if "FunctionArn" in self.outputs and "CatalogTableName" in self.outputs:
            return "transformer"
        return "other"


ROLES = {"transformer": "TransformerRole", "send": "SendFunctionRole", "events": "EventsRole"}
"""The role each stack kind deploys (its logical id), whose permissions the IAM check simulates."""


@dataclass
class DoctorContext:
    settings: DoctorSettings
    clients: Callable[[str], Any]
    resolver: Resolver
    campaign: SendSettings | None = None
    config: PinrecConfig | None = None
    now: float = field(default_factory=time.time)
    stacks: dict[str, Stack | None] = field(default_factory=dict)
    """Read by the stacks check: name -> the stack, or None when it does not exist or could not be read."""
    account: str | None = None
    """The caller's account, once the identity check read it."""
    caller_arn: str | None = None

    def stack_of(self, kind: str) -> Stack | None:
        return next((stack for stack in self.stacks.values() if stack is not None and stack.kind == kind), None)

    def _stack_value(self, kind: str, output: str = "", parameter: str = "") -> str | None:
        stack = self.stack_of(kind)
        if stack is None:
            return None
        return (stack.outputs.get(output) if output else None) or (stack.parameters.get(parameter) or None)

    def sender(self, name: str) -> str | None:
        value = getattr(self.campaign.sender, name, None) if self.campaign is not None else None
        return value if isinstance(value, str) and value else None

    @property
    def channel(self) -> str | None:
        return self.campaign.channel if self.campaign is not None else None

    @property
    def from_address(self) -> str | None:
        value = self.sender("from_address")
        return (parseaddr(value)[1] or value) if value else None

    @property
    def sender_domain(self) -> str | None:
        if self.from_address:
            return self.from_address.rpartition("@")[2].lower() or None
        identity = self._stack_value("send", parameter="SenderIdentity")
        return identity.rpartition("@")[2].lower() if identity else None

    @property
    def configuration_set(self) -> str | None:
        if self.channel in (None, "email") and self.sender("configuration_set"):
            return self.sender("configuration_set")
        return self._stack_value("events", output="ConfigurationSetName")

    @property
    def sms_configuration_set(self) -> str | None:
        if self.channel == "sms" and self.sender("configuration_set"):
            return self.sender("configuration_set")
        return self._stack_value("events", output="SmsConfigurationSetName")

    @property
    def ledger_table(self) -> str | None:
        if self.campaign is not None and self.campaign.ledger.startswith("dynamodb:"):
            return self.campaign.ledger.partition(":")[2]
        return self._stack_value("send", output="LedgerTableName")

    @property
    def suppression_spec(self) -> str | None:
        if self.campaign is not None and self.campaign.suppression and self.campaign.suppression != "none":
            return self.campaign.suppression
        table = self._stack_value("events", output="SuppressionTableName")
        return f"dynamodb:{table}" if table else None

    @property
    def catalog_table(self) -> tuple[str, str] | None:
        """(table, key attribute) of the DynamoDB catalog: the configuration's store, else the transformer stack's."""
        store = self.config.store if self.config is not None else None
        if isinstance(store, DynamoDbStoreConfig):
            return store.table, store.key
        table = self._stack_value("transformer", output="CatalogTableName")
        return (table, "id") if table else None

    @property
    def queue_url(self) -> str | None:
        return self._stack_value("events", output="QueueUrl")

    @property
    def dead_letter_queue_url(self) -> str | None:
        return self._stack_value("events", output="DeadLetterQueueUrl")
