"""`pinrec smoke` end to end on moto (SES, DynamoDB, SQS): the real send to the mailbox simulator addresses, then the
test plays the deployed loop -- for each message moto's SES accepted it publishes what the simulator would (SES
events in EventBridge's shape) to the events queue, and the events function (handlers/events.py) drains the queue
into the ledger and the suppression list -- while the smoke waits; then its checks of the ledger, the suppression
list and the report, and its clean-up. The campaign is a campaign.toml sending the shipped `recommended-for-you`
template over the demo catalog. The recipients it may have are the simulators' and nothing else."""

from __future__ import annotations

import contextlib
import json
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaign_tools.campaigns.definition import parse_campaign
from campaign_tools.catalog.records import read_jsonl
from campaign_tools.doctor.base import Status
from campaign_tools.doctor.permissions import NEEDS
from campaign_tools.send.run import client_factory
from campaign_tools.smoke.recipients import EMAIL_SIMULATOR, SMS_SIMULATOR, NotASimulator, check_recipient
from campaign_tools.smoke.run import SmokeError, SmokeSettings, Waiting, run_smoke, smoke_channels
from campaign_tools.suppression.dynamodb import create_suppression_table, open_dynamodb
from handlers import events as events_handler
from tests.aws_fixtures import ACCOUNT, REGION, answer_get_account, verify_ses_identity
from tests.conftest import DEMO_DATA
from tests.fakes import FakeClock
from transformer.aws import AwsOptions
from transformer.stores.sqlite import write_snapshot

SENDER = "news@shop.example.com"
LEDGER, SUPPRESSION, CONFIGURATION_SET = "pinrec-send-ledger", "pinrec-suppression", "pinrec-events"
ITEMS = ("P1001", "P1002", "P1003")
"""Of the demo catalog (campaign_tools/demo_data), which `recommended-for-you` renders."""


def campaign_toml(config: Path, **tables: str) -> str:
    """A campaign.toml naming the deployed loop's ledger and suppression list, with these channel tables."""
    head = (f'id = "smoke-test"\nname = "Smoke test"\nrecommendations = "segment"\nconfig = "{config}"\n'
            f'ledger = "dynamodb:{LEDGER}"\nsuppression = "dynamodb:{SUPPRESSION}"\n'
            '[schedule]\nstart = 2027-03-01T09:00:00Z\nfrequency = "once"\n')  # fmt: skip
    return head + "".join(f'[{name}]\ntemplate = "recommended-for-you"\n{body}' for name, body in tables.items())


ACCOUNT_ANSWER = {"SendQuota": {"Max24HourSend": 200.0, "MaxSendRate": 1.0, "SentLast24Hours": 0.0},
                  "SendingEnabled": True, "ProductionAccessEnabled": False}  # fmt: skip
SIMULATED = {  # what each simulator address makes SES publish after Send (SES Developer Guide, mailbox simulator)
    "success": [("Delivery", {})],
    "bounce": [("Bounce", {"bounceType": "Permanent", "bounceSubType": "General"})],
    "complaint": [("Delivery", {}), ("Complaint", {"complaintFeedbackType": "abuse"})],
    "suppressionlist": [("Bounce", {"bounceType": "Permanent", "bounceSubType": "OnAccountSuppressionList"})],
}


class DeployedLoop:
    """Plays the deployed stacks: SES events of the messages moto accepted -> the events queue -> the events
    function. `leave_out` names simulator event types it never publishes (a broken loop)."""

    def __init__(self, clients: Callable[[str], Any], queue_url: str, tags: dict[str, dict[str, str]],
                 leave_out: tuple[str, ...] = ()) -> None:  # fmt: skip
        self.clients, self.queue_url, self.tags, self.leave_out = clients, queue_url, tags, leave_out
        self.played: set[str] = set()
        self.rounds = 0
        self.handler_calls: set[str] = set()
        """IAM actions the events function called (what permissions.NEEDS must list for its role)."""

    def __call__(self, seconds: float) -> None:
        with record_calls(set()):  # the loop's own calls are nobody's to grant
            self.play()

    def play(self) -> None:
        from moto.ses.models import ses_backends

        self.rounds += 1
        sqs = self.clients("sqs")
        for message in ses_backends[ACCOUNT][REGION].sent_messages:
            if message.id in self.played:
                continue
            self.played.add(message.id)
            for record in self.records(message):
                sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(record))
        while batch := sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", []):
            records = [{"messageId": m["MessageId"], "body": m["Body"], "eventSource": "aws:sqs"} for m in batch]
            with record_calls(self.handler_calls):
                assert events_handler.handler({"Records": records}) == {"batchItemFailures": []}
            for m in batch:
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])

    def records(self, message: Any) -> list[dict[str, Any]]:
        recipient = message.destinations["ToAddresses"][0]
        local = recipient.partition("@")[0]
        mail = {"timestamp": _iso(0), "source": SENDER, "sendingAccountId": ACCOUNT, "messageId": message.id,
                "destination": [recipient], "headersTruncated": False,
                "tags": {"ses:configuration-set": [CONFIGURATION_SET],
                         **{name: [value] for name, value in self.tags[message.id].items()}}}  # fmt: skip
        published = [("Send", {})] + [event for event in SIMULATED[local] if event[0] not in self.leave_out]
        return [_eventbridge(kind, mail, recipient, fields, n) for n, (kind, fields) in enumerate(published)]


_RECORDING: list[set[str]] = []
"""Where calls are recorded: the innermost `record_calls` (the events function's calls are not the caller's)."""


@contextlib.contextmanager
def record_calls(into: set[str]) -> Iterator[None]:
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def record(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        _RECORDING[-1].add(f"{client.meta.service_model.signing_name}:{operation}")
        return original(client, operation, params)

    _RECORDING.append(into)
    if len(_RECORDING) == 1:
        BaseClient._make_api_call = record
    try:
        yield
    finally:
        _RECORDING.pop()
        if not _RECORDING:
            BaseClient._make_api_call = original


def _iso(offset: float) -> str:
    return datetime.fromtimestamp(1_800_000_000 + offset, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _eventbridge(kind: str, mail: dict[str, Any], recipient: str, fields: dict[str, Any], n: int) -> dict[str, Any]:
    detail: dict[str, Any] = {"eventType": kind, "mail": mail}
    at = _iso(n + 1)
    if kind == "Delivery":
        detail["delivery"] = {"timestamp": at, "recipients": [recipient], "smtpResponse": "250 ok"}
    elif kind == "Bounce":
        detail["bounce"] = {**fields, "bouncedRecipients": [{"emailAddress": recipient}], "timestamp": at,
                            "feedbackId": f"b-{mail['messageId']}"}  # fmt: skip
    elif kind == "Complaint":
        detail["complaint"] = {**fields, "complainedRecipients": [{"emailAddress": recipient}], "timestamp": at,
                               "feedbackId": f"c-{mail['messageId']}"}  # fmt: skip
    else:
        detail["send"] = {}
    return {"version": "0", "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{mail['messageId']}/{kind}")),
            "detail-type": f"Email {kind}", "source": "aws.ses", "account": ACCOUNT, "time": at, "region": REGION,
            "resources": [f"arn:aws:ses:{REGION}:{ACCOUNT}:configuration-set/{CONFIGURATION_SET}"], "detail": detail}  # fmt: skip


@pytest.fixture
def deployed(aws_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
             make_catalog: Callable[..., Path]) -> Iterator[dict[str, Any]]:  # fmt: skip
    """What the stacks deploy, on moto: the SES identity and configuration set, the ledger and suppression tables, the
    events queue and the events function's environment; and a campaign.toml sending email through them."""
    from moto.sesv2.responses import SESV2Response

    monkeypatch.setenv("AWS_ENDPOINT_URL", aws_endpoint)  # the events function's clients
    monkeypatch.setenv(events_handler.LEDGER_ENV, f"dynamodb:{LEDGER}")
    monkeypatch.setenv(events_handler.SUPPRESSION_ENV, f"dynamodb:{SUPPRESSION}")
    events_handler.reset()
    clients = client_factory(AwsOptions(region=REGION, endpoint_url=aws_endpoint))
    ses = clients("sesv2")
    verify_ses_identity(ses, SENDER)
    ses.create_configuration_set(ConfigurationSetName=CONFIGURATION_SET)
    answer_get_account(ses, ACCOUNT_ANSWER)
    clients("dynamodb").create_table(
        TableName=LEDGER, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "campaign_id", "KeyType": "HASH"}, {"AttributeName": "endpoint_id", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "campaign_id", "AttributeType": "S"}, {"AttributeName": "endpoint_id", "AttributeType": "S"}],
    )  # fmt: skip
    create_suppression_table(clients("dynamodb"), SUPPRESSION)
    queue = clients("sqs").create_queue(QueueName="pinrec-events-events")["QueueUrl"]
    tags: dict[str, dict[str, str]] = {}
    original = SESV2Response.send_email

    def keep_tags(response: Any) -> str:  # moto keeps no tags; SES puts them on every event
        body = original(response)
        sent = json.loads(response.body)
        assert sent["Destination"]["ToAddresses"][0] in EMAIL_SIMULATOR, "a smoke sends to the simulator only"
        tags[json.loads(body)["MessageId"]] = {t["Name"]: t["Value"] for t in sent.get("EmailTags", [])}
        return body

    monkeypatch.setattr(SESV2Response, "send_email", keep_tags)
    config = tmp_path / "pinrec.toml"
    config.write_text((DEMO_DATA / "pinrec.toml").read_text(encoding="utf-8"), encoding="utf-8")
    lines = (DEMO_DATA / "catalog.jsonl").read_text(encoding="utf-8").splitlines()
    write_snapshot(read_jsonl(lines, "id"), tmp_path / "catalog.db", key="id", source="test")
    campaign = tmp_path / "campaign.toml"
    email = f'from_address = "{SENDER}"\nconfiguration_set = "{CONFIGURATION_SET}"\n'
    campaign.write_text(campaign_toml(config, email=email), encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(work))
    yield {"clients": clients, "queue": queue, "tags": tags, "campaign": campaign, "work": work, "config": config}
    events_handler.reset()


def smoke(deployed: dict[str, Any], **loop: Any) -> tuple[Any, DeployedLoop, list[str]]:
    lines: list[str] = []
    play = DeployedLoop(deployed["clients"], deployed["queue"], deployed["tags"], **loop)
    clock = FakeClock()

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        play(seconds)

    settings = SmokeSettings(campaign=deployed["campaign"], items=ITEMS, timeout_seconds=60, poll_seconds=10)
    report = run_smoke(settings, clients=deployed["clients"], waiting=Waiting(sleep, clock, lines.append),
                       now=1_800_000_000)  # fmt: skip
    [result] = report.results
    return result, play, lines


def test_smoke_end_to_end_through_the_replayed_loop(deployed):
    caller_calls: set[str] = set()
    with record_calls(caller_calls):
        result, play, lines = smoke(deployed)
    caller = {action for need in NEEDS if need.who == "caller" for action in need.actions}
    assert caller_calls - {"dynamodb:DeleteItem"} <= caller, "the doctor's IAM table lists what a send calls"
    assert "ses:SendEmail" in caller_calls  # DeleteItem: the clean-up of the simulator addresses' entries
    assert result.campaign_id == "pinrec-smoke-20270115T080000Z-email"
    assert [(f.title, f.status) for f in result.findings if f.status is not Status.OK] == []
    assert result.ok
    titles = {f.title: f.detail for f in result.findings}
    assert titles["send"] == "4 messages accepted to the email simulator"
    assert titles["ledger smoke-suppressionlist"] == "bounce, send"
    assert titles["ledger smoke-complaint"] == "complaint, delivery, send"
    assert titles["suppression smoke-bounce"] == "suppressed: bounce"
    assert titles["suppression smoke-complaint"] == "suppressed: complaint"
    assert titles["suppression smoke-success"] == "suppressed: no"
    assert titles["report"] == "sent 4, delivered 2, hard_bounced 2, complained 1"
    assert lines[0] == "0 of 4 messages have their events (0s)" and lines[-1].startswith("4 of 4")
    assert play.rounds == 1
    granted = {action for need in NEEDS if need.who == "events" for action in need.actions}
    assert play.handler_calls and play.handler_calls <= granted, "the doctor's IAM table lists what the function calls"
    # cleaned up: the simulator addresses' entries and the temporary segment
    listing = open_dynamodb(SUPPRESSION, deployed["clients"], True)
    assert dict(listing.lookup("email", list(EMAIL_SIMULATOR))) == {}
    assert list(deployed["work"].iterdir()) == []


def test_a_loop_that_loses_complaints_fails_the_smoke_after_its_timeout(deployed):
    result, play, _ = smoke(deployed, leave_out=("Complaint",))
    assert not result.ok
    failed = {f.title: f for f in result.findings if f.status is Status.FAILURE}
    assert set(failed) == {"events", "ledger smoke-complaint", "suppression smoke-complaint", "report"}
    assert failed["events"].detail == "not all events arrived within 60s"
    assert failed["events"].fix.startswith("run pinrec doctor (events check)")
    assert (
        failed["ledger smoke-complaint"].detail
        == "events ['delivery', 'send']; the simulator promises ['complaint', 'delivery']"
    )
    assert play.rounds == 6, "it waited until the timeout"
    assert dict(open_dynamodb(SUPPRESSION, deployed["clients"], True).lookup("email", list(EMAIL_SIMULATOR))) == {}


def test_a_previous_smokes_entries_do_not_skip_the_simulators(deployed):
    from campaign_tools.suppression.base import Reason, Suppression

    listing = open_dynamodb(SUPPRESSION, deployed["clients"], False)
    listing.add([Suppression("email", "bounce@simulator.amazonses.com", Reason.BOUNCE, 1.0, "earlier smoke")])
    result, _, _ = smoke(deployed)
    assert result.ok, [f for f in result.findings if f.status is Status.FAILURE]


def test_campaigns_without_what_the_loop_needs_are_refused():
    base = {"id": "c", "name": "C", "recommendations": "segment",
            "schedule": {"start": "2027-03-01T09:00:00Z", "frequency": "once"}}  # fmt: skip
    push_only = parse_campaign({**base, "push": {"template": "t"}, "suppression": "none"})
    with pytest.raises(SmokeError) as refused:
        smoke_channels(push_only)
    assert str(refused.value).splitlines()[1:] == [
        "  - the campaign has no [email] or [sms] table: push has no simulator",
        '  - the campaign names no ledger: name the one the events function writes (ledger = "dynamodb:TABLE", its '
        "PINREC_LEDGER)",
        "  - the campaign names no suppression list: name the one the events function writes",
    ]
    no_sets = parse_campaign({**base, "email": {"template": "t"}, "sms": {"template": "t"}, "push": {"template": "t"},
                              "ledger": "dynamodb:l", "suppression": "dynamodb:s"})  # fmt: skip
    with pytest.raises(SmokeError) as refused:
        smoke_channels(no_sets)
    assert str(refused.value).splitlines()[1:] == [
        "  - [email] names no configuration_set: without it no event comes back",
        "  - [sms] names no configuration_set: without it no event comes back",
    ]
    ready = parse_campaign({**base, "email": {"template": "t", "configuration_set": "e"}, "push": {"template": "t"},
                            "ledger": "dynamodb:l", "suppression": "dynamodb:s"})  # fmt: skip
    assert smoke_channels(ready) == ["email"]


SIMULATORS = {**EMAIL_SIMULATOR, **SMS_SIMULATOR}


@given(address=st.one_of(st.emails(), st.text(max_size=80), st.from_regex(r"\+[0-9]{6,15}", fullmatch=True)),
       channel=st.sampled_from(["email", "sms", "push"]))  # fmt: skip
def test_no_address_outside_the_simulators_can_be_a_smoke_recipient(address, channel):
    simulators = {"email": EMAIL_SIMULATOR, "sms": SMS_SIMULATOR}.get(channel, {})
    if address in simulators:
        assert check_recipient(channel, address) == address
        return
    with pytest.raises(NotASimulator) as refused:
        check_recipient(channel, address)
    assert str(refused.value) in {  # never naming the address
        "pinrec smoke refuses this email recipient: it is not a simulator",
        "pinrec smoke refuses this sms recipient: it is not a simulator",
        "pinrec smoke sends email and sms only: push has no simulator",
    }


@pytest.mark.parametrize("address", ["Success@simulator.amazonses.com", "success@simulator.amazonses.com ",
                                     "success+x@simulator.amazonses.com", "bounce@simulator.amazonses.co",
                                     "+1 425 414 7755", "+14254147756", None, 14254147755])  # fmt: skip
def test_near_misses_are_refused(address):
    for channel in ("email", "sms"):
        with pytest.raises(NotASimulator):
            check_recipient(channel, address)


def test_one_smoke_campaign_per_channel_table_sms_to_the_us_simulator_numbers(deployed, tmp_path):
    """A campaign with [email], [sms] and [push] tables: email to the mailbox simulator, SMS to the US simulator
    numbers, push skipped (no simulator). SMS: moto has no End User Messaging SMS, so SendTextMessage is answered here
    (and refuses any number but a simulator's); the loop publishes each message's SMS events (bare, as the SNS raw
    delivery puts them on the queue)."""
    from types import SimpleNamespace

    sent: list[dict[str, Any]] = []

    def send_text(params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        request = json.loads(params["body"])
        assert request["DestinationPhoneNumber"] in SMS_SIMULATOR, "a smoke texts the simulator only"
        sent.append({**request, "MessageId": f"sms-{len(sent)}"})
        return SimpleNamespace(status_code=200), {"MessageId": sent[-1]["MessageId"]}

    clients = deployed["clients"]
    clients("pinpoint-sms-voice-v2").meta.events.register(
        "before-call.pinpoint-sms-voice-v2.SendTextMessage", send_text
    )
    campaign = tmp_path / "mixed.toml"
    email = f'from_address = "{SENDER}"\nconfiguration_set = "{CONFIGURATION_SET}"\n'
    sms = f'configuration_set = "{CONFIGURATION_SET}"\n'
    push = 'application_id = "0123456789abcdef0123456789abcdef"\n'
    campaign.write_text(campaign_toml(deployed["config"], email=email, sms=sms, push=push), encoding="utf-8")
    play = DeployedLoop(clients, deployed["queue"], deployed["tags"])
    outcome = {"+14254147755": ("TEXT_DELIVERED", "DELIVERED"), "+14254147167": ("TEXT_UNREACHABLE", "UNREACHABLE")}

    def loop(seconds: float) -> None:
        play(seconds)
        records = []
        for message in sent:
            event_type, status = outcome[message["DestinationPhoneNumber"]]
            for n, (kind, state) in enumerate([("TEXT_PENDING", "PENDING"), (event_type, status)]):
                records.append({"messageId": f"{message['MessageId']}-{n}", "eventSource": "aws:sqs", "body": json.dumps({
                    "eventType": kind, "eventVersion": "1.0", "eventTimestamp": 1_800_000_000_000 + n, "isFinal": n == 1,
                    "destinationPhoneNumber": message["DestinationPhoneNumber"], "messageId": message["MessageId"],
                    "messageStatus": state, "context": message.get("Context", {})})})  # fmt: skip
        assert events_handler.handler({"Records": records}) == {"batchItemFailures": []}

    settings = SmokeSettings(campaign=campaign, items=ITEMS[:1], timeout_seconds=60, poll_seconds=10)
    report = run_smoke(settings, clients=clients, waiting=Waiting(loop, FakeClock()), now=1_800_000_000)
    assert report.ok, [f for r in report.results for f in r.findings if f.status is not Status.OK]
    email, sms, push = report.results
    assert [(r.channel, r.campaign_id) for r in report.results] == [
        ("email", "pinrec-smoke-20270115T080000Z-email"),
        ("sms", "pinrec-smoke-20270115T080000Z-sms"),
        ("push", "pinrec-smoke-20270115T080000Z-push"),
    ]
    assert {f.title: f.detail for f in email.findings}["report"] == "sent 4, delivered 2, hard_bounced 2, complained 1"
    assert sorted(m["DestinationPhoneNumber"] for m in sent) == sorted(SMS_SIMULATOR)
    titles = {f.title: f.detail for f in sms.findings}
    assert titles["ledger smoke-sms-failure"] == "failed, send"
    assert titles["report"] == "sent 2, delivered 1, hard_bounced 0, complained 0"
    assert [(f.status, f.detail) for f in push.findings] == [(Status.SKIPPED, "push has no simulator: not sent")]
    assert report.to_dict()["ok"] is True and len(report.to_dict()["campaigns"]) == 3


def test_the_command_refuses_a_campaign_the_loop_cannot_answer(tmp_path, capsys):
    from campaign_tools.cli import main

    campaign = tmp_path / "c.toml"
    campaign.write_text(campaign_toml(tmp_path / "pinrec.toml", email='from_address = "a@b.example"\n'))
    assert main(["smoke", "--campaign", str(campaign)]) == 1
    error = capsys.readouterr().err
    assert "cannot run the smoke campaign" in error and "[email] names no configuration_set" in error
