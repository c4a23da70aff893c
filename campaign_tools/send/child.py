"""The send Lambda behind `infra/send-statemachine.yaml`: one Distributed Map child sends one batch of up to 50
endpoints with the same `run_send` as `pinrec send`, on the same `SendSettings`.

Event (Distributed Map with `ItemBatcher`): `{"Items": [endpoint records], "BatchInput": {"settings": {...},
"campaign_unit": {...} or null}}`; `settings` is what `pinrec send --on-aws` wrote (`on_aws.child_settings`);
`campaign_unit`, set by a campaign's slot function, sends the batch inside the campaign's limits
(`campaigns.child_unit`). Environment: `PINREC_CONFIG` (the
pinrec.toml packaged with the function), `PINREC_LEDGER_TABLE` and `PINREC_TEMPLATE_DIR` (the pre-built template
packaged with it: composing needs only the renderer; `settings.template`, when given, must name it). A child that
raises is retried by Step Functions; the ledger makes that retry send nobody a second message.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from campaign_tools.channels.base import ClientFactory
from campaign_tools.send.parts import SendParts, prepare
from campaign_tools.send.pipeline import RunSummary
from campaign_tools.send.run import client_factory, run_send
from campaign_tools.send.settings import SendSettings
from transformer.aws import AwsOptions
from transformer.config import CONFIG_ENV_VAR
from transformer.errors import PinrecError
from transformer.limits import MAX_ENDPOINTS_PER_INVOCATION

LEDGER_TABLE_ENV = "PINREC_LEDGER_TABLE"
TEMPLATE_DIR_ENV = "PINREC_TEMPLATE_DIR"
"""The pre-built template packaged with the function (`pinrec package --function send`): composed from as is."""


def child_settings(value: object, environment: Mapping[str, str]) -> SendSettings:
    """The settings of one batch: the execution input's, completed by the function's environment."""
    if not isinstance(value, Mapping):
        raise PinrecError("BatchInput.settings must be an object")
    table = environment.get(LEDGER_TABLE_ENV)
    if not table:
        raise PinrecError(f"{LEDGER_TABLE_ENV} is not set")
    return SendSettings.model_validate(
        {
            **value,
            "deliver": True,
            "ledger": f"dynamodb:{table}",
            "config": environment.get(CONFIG_ENV_VAR) or None,
            "built": environment.get(TEMPLATE_DIR_ENV) or None,
        }
    )


@functools.cache
def warm_clients() -> ClientFactory:
    """One boto3 client per service for the container's life: warm invocations skip client creation."""
    return client_factory(AwsOptions())


@functools.cache
def _warm_parts(settings_json: str) -> SendParts:
    """Built once per warm container and settings: the transformer keeps its cache across batches."""
    return prepare(SendSettings.model_validate_json(settings_json), warm_clients())


def send_batch(items: list[object], settings: SendSettings, clients: ClientFactory | None = None) -> RunSummary:
    if len(items) > MAX_ENDPOINTS_PER_INVOCATION:
        raise PinrecError(f"a batch holds at most {MAX_ENDPOINTS_PER_INVOCATION} endpoints, got {len(items)}")
    parts = _warm_parts(settings.model_dump_json()) if clients is None else prepare(settings, clients)
    # The CLI checked the campaign and bound its id before starting the execution: no preflight per batch.
    return run_send(settings, records=items, clients=clients or warm_clients(), parts=parts, preflight=False)


def summary_dict(summary: RunSummary) -> dict[str, Any]:
    return {
        "sent": summary.sent,
        "skipped": dict(summary.all_skipped()),
        "failed": dict(summary.failed),
        "malformed": summary.segment.malformed,
        "seconds": round(summary.seconds, 3),
    }


def handle(event: Mapping[str, Any], environment: Mapping[str, str]) -> dict[str, Any]:
    """One Distributed Map child: its items sent, its summary returned."""
    items = event.get("Items")
    if not isinstance(items, list):
        raise PinrecError("the event has no Items list (run this function as a Distributed Map child with ItemBatcher)")
    batch_input = event.get("BatchInput") or {}
    settings = child_settings(batch_input.get("settings") if isinstance(batch_input, Mapping) else None, environment)
    unit = batch_input.get("campaign_unit") if isinstance(batch_input, Mapping) else None
    if unit is not None:
        return send_unit_batch(items, settings, unit)
    return summary_dict(send_batch(items, settings))


# --- A campaign slot's child (issue 14): `BatchInput.campaign_unit` set, the batch is sent inside the campaign's
# limits and maximum duration (`campaigns.child_unit`); a child without it is the plain send above.
def send_unit_batch(
    items: list[object], settings: SendSettings, unit: object, clients: ClientFactory | None = None
) -> dict[str, Any]:
    from campaign_tools.campaigns.child_unit import send_unit_batch as send_in_limits

    if len(items) > MAX_ENDPOINTS_PER_INVOCATION:
        raise PinrecError(f"a batch holds at most {MAX_ENDPOINTS_PER_INVOCATION} endpoints, got {len(items)}")
    parts = _warm_parts(settings.model_dump_json()) if clients is None else prepare(settings, clients)
    outcome, summary = send_in_limits(settings, unit, items, clients=clients or warm_clients(), parts=parts)
    return {**summary_dict(summary), "skipped": dict(sorted(outcome.skipped.items())), "released": outcome.released}


# --- end of the campaign slot's child


def clear_warm_state() -> None:
    """Forget the container's clients and parts (tests that switch AWS endpoints between runs)."""
    warm_clients.cache_clear()
    _warm_parts.cache_clear()
