"""The one table of what each principal calls, on which resource: the IAM check simulates exactly these.

Derived from the code's calls (and the grants the stacks hold, which their tests tie to the same calls):
- `caller`: whoever runs `pinrec send --deliver` (and `--on-aws`'s preflight): the channel's delivery and preflight
  calls (campaign_tools/channels/email.py, send/preflight.py), the ledger (send/ledgers/dynamodb.py), the suppression
  lookup (send/suppression.py), the catalog sample (config_check), the recommendation source (send/recommendations/);
- `send`: the `--on-aws` child (infra/send-statemachine.yaml SendFunctionRole): the same without the preflight;
- `events`: the events function (infra/events.yaml EventsRole): events/ingest.py's ledger and suppression writes and
  what the SQS event source mapping calls;
- `transformer`: the Pinpoint transformer (infra/template.yaml TransformerRole): the catalog reads.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Need:
    who: str
    """caller, send, events or transformer."""
    resource: str
    """What it is called on: identity, configuration_set, ledger, suppression, catalog, queue, recommendations, any."""
    actions: tuple[str, ...]


LEDGER_WRITES = ("dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:BatchGetItem")
PERSONALIZE = ("personalize:GetRecommendations",)

NEEDS: tuple[Need, ...] = (
    Need("caller", "identity", ("ses:SendEmail", "ses:GetEmailIdentity")),
    Need("caller", "configuration_set", ("ses:SendEmail",)),
    Need("caller", "any", ("ses:GetAccount",)),
    Need("caller", "ledger", ("dynamodb:DescribeTable", *LEDGER_WRITES, "dynamodb:Query")),
    Need("caller", "suppression", ("dynamodb:BatchGetItem", "dynamodb:GetItem")),
    Need("caller", "catalog", ("dynamodb:BatchGetItem", "dynamodb:Scan")),
    Need("caller", "recommendations", PERSONALIZE),
    Need("send", "identity", ("ses:SendEmail",)),
    Need("send", "configuration_set", ("ses:SendEmail",)),
    Need("send", "ledger", LEDGER_WRITES),
    Need("send", "suppression", ("dynamodb:BatchGetItem",)),
    Need("send", "catalog", ("dynamodb:BatchGetItem",)),
    Need("send", "recommendations", PERSONALIZE),
    Need("events", "ledger", ("dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem")),
    Need("events", "suppression", ("dynamodb:UpdateItem",)),
    Need("events", "queue", ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")),
    Need("transformer", "catalog", ("dynamodb:BatchGetItem", "dynamodb:GetItem")),
)
