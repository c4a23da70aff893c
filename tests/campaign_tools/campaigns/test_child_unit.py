"""A campaign slot's Step Functions child (`send.child` with `BatchInput.campaign_unit`, `campaigns.child_unit`)
against moto (DynamoDB ledger and limits, SES): its batch sent inside the campaign's caps, shared with every other
campaign's children through the ledger table; its maximum duration; retries; bad blocks refused; a child without a
campaign unit unchanged; the state machine handing the block (or null) to every child."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.decode.cfn_yaml import load as load_template

from campaign_tools.campaigns.limits.base import Caps
from campaign_tools.campaigns.limits.dynamodb import PARTITION, DynamoDbLimits
from campaign_tools.channels.base import ClientFactory
from campaign_tools.send import child, on_aws
from campaign_tools.send.child import LEDGER_TABLE_ENV
from campaign_tools.send.ledgers.base import Claim, ClaimPolicy, State
from campaign_tools.send.ledgers.dynamodb import DynamoDbLedger, create_ledger_table
from campaign_tools.send.run import client_factory
from campaign_tools.send.settings import SendSettings
from tests.campaign_tools.campaigns.limits.test_limits import Serialised
from tests.campaign_tools.send.test_child import SETTINGS, records
from tests.fakes import ITEMS
from transformer.aws import AwsOptions
from transformer.config import CONFIG_ENV_VAR
from transformer.errors import PinrecError

LEDGER = "unit-child-ledger"
STATE_MACHINE = Path(__file__).resolve().parents[3] / "infra" / "send-statemachine.yaml"
NO_CAPS = {"daily": None, "total": None, "project_daily": None, "project_total": None}


@pytest.fixture
def ses(moto_aws: str, tmp_path: Path, make_catalog: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The child's environment on moto (the send child's: config, ledger table, SES identity); moto's SES backend."""
    catalog = make_catalog(ITEMS)
    config = tmp_path / "pinrec.toml"
    config.write_text(f'[store]\nkind = "sqlite"\npath = "{catalog}"\n[attributes.Title]\nfield = "name"\n')
    monkeypatch.setenv(CONFIG_ENV_VAR, str(config))
    monkeypatch.setenv(LEDGER_TABLE_ENV, LEDGER)
    create_ledger_table(boto3.client("dynamodb"), LEDGER)
    boto3.client("sesv2").create_email_identity(EmailIdentity="news@shop.example.com")
    child.clear_warm_state()
    from moto.ses.models import ses_backends

    return ses_backends["123456789012"]["us-east-1"]


def unit_id(campaign: str, slot: datetime, treatment: str = "default") -> str:
    return f"{campaign}.{slot:%Y%m%dT%H%M%SZ}.{treatment}.email"


def campaign_unit(
    campaign: str,
    slot: datetime,
    *,
    treatment: str = "default",
    maximum_duration: int | None = None,
    **caps: int | None,
) -> dict[str, Any]:
    """The block the slot writes (`child_unit.CampaignUnit.to_dict`)."""
    return {
        "campaign": campaign,
        "slot": f"{slot:%Y-%m-%dT%H:%M:%SZ}",
        "treatment": treatment,
        "channel": "email",
        "unit": unit_id(campaign, slot, treatment),
        "caps": {**NO_CAPS, **caps},
        "maximum_duration": maximum_duration,
        "limits": f"dynamodb:{LEDGER}",
    }


def event(unit: dict[str, Any] | None, items: list[Any]) -> dict[str, Any]:
    settings = {**SETTINGS, "campaign_id": unit["unit"]} if unit else SETTINGS
    return {"Items": items, "BatchInput": {"settings": settings, "campaign_unit": unit}}


def now_slot(seconds_ago: float = 60) -> datetime:
    return datetime.fromtimestamp(time.time() - seconds_ago, UTC).replace(microsecond=0)


def addresses(ses: Any, before: int) -> Counter[str]:
    return Counter(address for message in ses.sent_messages[before:] for address in message.destinations["ToAddresses"])


def serialised_clients() -> ClientFactory:
    """The child's clients, DynamoDB's calls one at a time (moto applies no conditional write atomically)."""
    made = client_factory(AwsOptions())
    dynamodb = Serialised(made("dynamodb"))
    return lambda service: dynamodb if service == "dynamodb" else made(service)


def run_unit_child(unit: dict[str, Any], items: list[Any], clients: ClientFactory) -> dict[str, Any]:
    batch = event(unit, items)["BatchInput"]
    settings = child.child_settings(batch["settings"], os.environ)
    return child.send_unit_batch(items, settings, unit, clients)


def test_two_campaigns_children_racing_on_shared_endpoints_send_each_endpoint_one_message(ses: Any) -> None:
    slot = now_slot()
    units = [campaign_unit(name, slot, daily=1, project_daily=1) for name in ("spring", "summer")]
    shared = [record for record in records(12) if record["OptOut"] == "NONE"]  # 11 endpoints
    before = len(ses.sent_messages)
    start = threading.Barrier(len(units))
    results: dict[str, dict[str, Any]] = {}
    errors: list[BaseException] = []

    clients = serialised_clients()  # one lock for both children's DynamoDB calls

    def child_of(unit: dict[str, Any]) -> None:
        start.wait()
        try:
            results[unit["campaign"]] = run_unit_child(unit, shared, clients)
        except BaseException as error:  # pragma: no cover - shown by the assert below
            errors.append(error)

    threads = [threading.Thread(target=child_of, args=(unit,)) for unit in units]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    sent_to = addresses(ses, before)
    assert sorted(sent_to) == sorted(record["Address"] for record in shared), "every endpoint got a message"
    assert set(sent_to.values()) == {1}, "and none two"
    spring, summer = results["spring"], results["summer"]
    assert spring["sent"] + summer["sent"] == len(shared)
    assert spring["skipped"].get("cap_daily", 0) + summer["skipped"].get("cap_daily", 0) == len(shared)
    assert spring["failed"] == summer["failed"] == {} and spring["released"] == summer["released"] == 0
    ledger = DynamoDbLedger(LEDGER, boto3.client("dynamodb"))
    capped = {row.endpoint_id for unit in units for row in ledger.rows(unit["unit"], State.SKIPPED)}
    sent = {row.endpoint_id for unit in units for row in ledger.rows(unit["unit"], State.SENT)}
    assert capped == sent == {record["Id"] for record in shared}, "each endpoint: sent in one unit, capped in the other"
    limits = DynamoDbLimits(LEDGER, boto3.client("dynamodb"))
    assert {limits.counts("spring", record["Id"], time.time()).project_total for record in shared} == {1}


def test_a_campaign_s_daily_cap_holds_across_its_units_and_a_retried_child_reserves_nothing_twice(ses: Any) -> None:
    slot = now_slot(3600)
    first = campaign_unit("spring", slot, daily=1)
    second = campaign_unit("spring", now_slot(), treatment="variant", daily=1)
    batch = records(3)  # ep-0, ep-1, ep-2
    clients = client_factory(AwsOptions())
    before = len(ses.sent_messages)
    assert run_unit_child(first, batch, clients)["sent"] == 3
    retried = run_unit_child(first, batch, clients)  # Step Functions retries a child that timed out
    assert retried["sent"] == 0 and retried["skipped"] == {"already_sent": 3}
    later = run_unit_child(second, batch, clients)
    assert later["sent"] == 0 and later["skipped"] == {"cap_daily": 3}
    assert len(ses.sent_messages) == before + 3
    other = run_unit_child(campaign_unit("autumn", now_slot(), daily=1), batch, clients)
    assert other["sent"] == 3, "another campaign's daily cap counts only its own messages"
    limits = DynamoDbLimits(LEDGER, boto3.client("dynamodb"))
    assert limits.counts("spring", "ep-0", time.time()).total == 1, "the retry reserved nothing again"


def test_a_retried_child_keeps_the_reservation_of_a_message_in_doubt_and_releases_the_undelivered(ses: Any) -> None:
    unit = campaign_unit("spring", now_slot(), daily=1)
    limits = DynamoDbLimits(LEDGER, boto3.client("dynamodb"))
    caps = Caps(daily=1)
    # A child killed between its claim of ep-0 and the delivery: ep-0 reserved and pending (perhaps delivered).
    assert limits.reserve(unit["unit"], "spring", ["ep-0", "ep-3"], caps, time.time()) == {"ep-0": None, "ep-3": None}
    ledger = DynamoDbLedger(LEDGER, boto3.client("dynamodb"))
    policy = ClaimPolicy(run_id="killed", lease_seconds=3600)
    assert ledger.claim(unit["unit"], "ep-0", time.time(), policy) is Claim.CLAIMED
    retried = run_unit_child(unit, records(4), client_factory(AwsOptions()))  # ep-3 is opted out
    assert retried["sent"] == 2 and retried["skipped"] == {"in_progress": 1, "opted_out": 1}, retried
    assert retried["released"] == 1, "ep-3 got no message: its reservation is given back"
    now = time.time()
    assert limits.counts("spring", "ep-0", now).daily == 1, "ep-0's message is in doubt: it still counts"
    assert limits.counts("spring", "ep-3", now).daily == 0
    assert limits.pending_among(unit["unit"], ["ep-0", "ep-1", "ep-3", "ep-9"]) == {"ep-0"}


def test_a_total_cap_skips_cap_total(ses: Any) -> None:
    clients = client_factory(AwsOptions())
    run_unit_child(campaign_unit("spring", now_slot(90_000), total=1), records(2), clients)
    again = run_unit_child(campaign_unit("spring", now_slot(), total=1), records(2), clients)
    assert again["sent"] == 0 and again["skipped"] == {"cap_total": 2}


def test_past_the_maximum_duration_the_batch_is_skipped_and_nothing_is_reserved(ses: Any) -> None:
    clients = client_factory(AwsOptions())
    before = len(ses.sent_messages)
    late = campaign_unit("spring", now_slot(7200), maximum_duration=3600, daily=1)
    result = run_unit_child(late, records(3), clients)
    assert result["sent"] == 0 and result["skipped"] == {"maximum_duration": 3}
    assert len(ses.sent_messages) == before
    ledger = DynamoDbLedger(LEDGER, boto3.client("dynamodb"))
    skipped = {row.endpoint_id: row.reason for row in ledger.rows(late["unit"], State.SKIPPED)}
    assert skipped == {"ep-0": "maximum_duration", "ep-1": "maximum_duration", "ep-2": "maximum_duration"}
    items = boto3.client("dynamodb").scan(TableName=LEDGER)["Items"]
    assert not [item for item in items if item["campaign_id"]["S"].startswith(PARTITION)], "no reservation"
    in_time = campaign_unit("spring", now_slot(60), treatment="variant", maximum_duration=3600)
    assert run_unit_child(in_time, records(3), clients)["sent"] == 3


def test_the_lambda_entry_point_sends_a_unit_batch_and_bad_items_count_only_themselves(ses: Any) -> None:
    unit = campaign_unit("spring", now_slot(), daily=1)
    items: list[Any] = [*records(3), "not an endpoint", {"Id": 5, "ChannelType": "EMAIL"}, {"ChannelType": "EMAIL"}]
    before = len(ses.sent_messages)
    result = child.handle(event(unit, items), os.environ)
    assert result["sent"] == 3 and result["malformed"] == 3 and result["failed"] == {}, result
    assert len(ses.sent_messages) == before + 3


def test_a_child_without_a_campaign_unit_is_the_plain_send(ses: Any) -> None:
    before = len(ses.sent_messages)
    result = child.handle(event(None, records(5)), os.environ)  # the null the state machine gives --on-aws runs
    assert result["sent"] == 4 and result["skipped"] == {"opted_out": 1} and "released" not in result
    assert len(ses.sent_messages) == before + 4
    items = boto3.client("dynamodb").scan(TableName=LEDGER)["Items"]
    assert not [item for item in items if item["campaign_id"]["S"].startswith(PARTITION)], "no reservation"


def _bad(**changes: Any) -> dict[str, Any]:
    return {**campaign_unit("spring", datetime(2030, 1, 1, 9, tzinfo=UTC)), **changes}


@pytest.mark.parametrize(
    ("unit", "message"),
    [
        ("spring", "campaign_unit must be an object"),
        ({"unit": "spring"}, "needs campaign, slot, treatment, channel"),
        (_bad(caps=None), "campaign_unit.caps must be an object of daily, total"),
        (_bad(caps={"weekly": 1}), "campaign_unit.caps must be an object"),
        (_bad(caps={**NO_CAPS, "daily": 0}), r"caps.daily must be a whole number of at least 1, or null"),
        (_bad(caps={**NO_CAPS, "total": "1"}), r"caps.total must be a whole number"),
        (_bad(caps={**NO_CAPS, "project_daily": True}), r"caps.project_daily must be a whole number"),
        (_bad(maximum_duration=-1), "maximum_duration must be a positive number of seconds"),
        (_bad(maximum_duration="1h"), "maximum_duration must be a positive number of seconds"),
        (_bad(limits=None), "campaign_unit.limits must name the limits store"),
        (
            _bad(limits="dynamodb:elsewhere"),
            f"limits are in dynamodb:elsewhere, this child's ledger is dynamodb:{LEDGER}",
        ),
        (_bad(unit="spring.20300101T090000Z.other.email"), "is not the unit of the input"),
    ],
)
def test_a_bad_campaign_unit_is_refused_naming_what_is_wrong(ses: Any, unit: object, message: str) -> None:
    bad = {"Items": records(1), "BatchInput": {"settings": {**SETTINGS, "campaign_id": _bad()["unit"]}}}
    bad["BatchInput"]["campaign_unit"] = unit
    with pytest.raises(PinrecError, match=message):
        child.handle(bad, os.environ)


def test_a_unit_block_for_another_send_than_the_settings_is_refused(ses: Any) -> None:
    unit = campaign_unit("spring", datetime(2030, 1, 1, 9, tzinfo=UTC))
    mismatched = {"Items": records(1), "BatchInput": {"settings": SETTINGS, "campaign_unit": unit}}
    with pytest.raises(PinrecError, match=f"campaign_unit {unit['unit']} is not the unit the settings send"):
        child.handle(mismatched, os.environ)


def _pass(state: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    """What a JSONPath Pass state of the two kinds the definition uses outputs (Amazon States Language)."""
    if "Result" in state:
        assert state["ResultPath"].startswith("$.")
        return {**value, state["ResultPath"][2:]: state["Result"]}
    (key, expression), *_ = state["Parameters"].items()
    assert expression == "States.JsonMerge($.defaults, $, false)", "a shallow merge, the input's keys winning"
    merged = {**value["defaults"], **value}
    assert state["OutputPath"] == f"$.{key.removesuffix('.$')}"
    return merged


def test_the_state_machine_hands_every_child_the_unit_block_or_null() -> None:
    definition = load_template(str(STATE_MACHINE))["Resources"]["StateMachine"]["Properties"]["Definition"]
    states = definition["States"]
    settings = on_aws.child_settings(
        SendSettings.model_validate({"campaign_id": "spring", "recommendations": "segment", "template": "t"}), None, 2
    )
    plain = on_aws.execution_input("b", "k", settings, 2)
    unit = campaign_unit("spring", datetime(2030, 1, 1, 9, tzinfo=UTC))
    for execution, expected in [(plain, None), ({**plain, "campaign_unit": unit}, unit)]:
        name, value = definition["StartAt"], execution
        while states[name]["Type"] == "Pass":
            value, name = _pass(states[name], value), states[name]["Next"]
        assert name == "SendBatches"
        batch_input = {
            key.removesuffix(".$"): value[path.removeprefix("$.")]
            for key, path in states[name]["ItemBatcher"]["BatchInput"].items()
        }
        assert batch_input == {"settings": settings, "campaign_unit": expected}
        assert value["segment"] == {"Bucket": "b", "Key": "k"} and value["max_concurrency"] == 2
