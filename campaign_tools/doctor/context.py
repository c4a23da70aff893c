"""What the checks share: the settings, the campaign (a campaign.toml) and configuration they name, AWS clients, a DNS
resolver, and the deployed stacks (read once), from which the names every check needs are derived -- the campaign's
own choice first (every channel table it has, its treatments' overrides included), else the stack's output or
parameter."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from campaign_tools.campaigns.definition import CampaignDefinition
from campaign_tools.doctor.dns import Resolver
from campaign_tools.doctor.settings import DoctorSettings
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
    campaign: CampaignDefinition | None = None
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

    def sends(self, channel: str) -> bool:
        """Whether the campaign has a table for this channel (without a campaign: every channel is checked)."""
        return self.campaign is None or channel in self.campaign.channels.given()

    def sender_values(self, channel: str, name: str) -> list[str]:
        """The distinct values of a sender setting on a channel: the campaign's table, then each treatment's."""
        if self.campaign is None or channel not in self.campaign.channels.given():
            return []
        treatments = [self.campaign.treatment_name] + [treatment.name for treatment in self.campaign.treatments]
        messages = [self.campaign.message(treatment, channel) for treatment in treatments]
        values = [getattr(message, name, None) for message in messages]
        return list(dict.fromkeys(value for value in values if isinstance(value, str) and value))

    @property
    def from_addresses(self) -> list[str]:
        return list(
            dict.fromkeys(parseaddr(value)[1] or value for value in self.sender_values("email", "from_address"))
        )

    @property
    def sender_domains(self) -> list[str]:
        """The From domains: of the campaign's addresses, else of the send stack's SenderIdentity."""
        domains = [address.rpartition("@")[2].lower() for address in self.from_addresses]
        if not domains and self.sends("email"):
            identity = self._stack_value("send", parameter="SenderIdentity")
            domains = [identity.rpartition("@")[2].lower()] if identity else []
        return list(dict.fromkeys(domain for domain in domains if domain))

    @property
    def configuration_sets(self) -> list[str]:
        """The SES configuration sets of the campaign's email tables, else the events stack's."""
        if not self.sends("email"):
            return []
        named = self.sender_values("email", "configuration_set")
        stack = self._stack_value("events", output="ConfigurationSetName")
        return named or ([stack] if stack else [])

    @property
    def sms_configuration_sets(self) -> list[str]:
        if not self.sends("sms"):
            return []
        named = self.sender_values("sms", "configuration_set")
        stack = self._stack_value("events", output="SmsConfigurationSetName")
        return named or ([stack] if stack else [])

    @property
    def recommendations(self) -> str | None:
        return self.campaign.recommendations if self.campaign is not None else None

    @property
    def ledger_table(self) -> str | None:
        ledger = self.campaign.ledger if self.campaign is not None else None
        if ledger and ledger.startswith("dynamodb:"):
            return ledger.partition(":")[2]
        return self._stack_value("send", output="LedgerTableName")

    @property
    def suppression_spec(self) -> str | None:
        named = self.campaign.suppression if self.campaign is not None else None
        if named and named != "none":
            return named
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
