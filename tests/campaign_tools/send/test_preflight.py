"""The send's preflight through `pinrec send`: every check that fails is listed in one error before the first message;
nothing is sent and no ledger row is written. AWS is moto's server (DynamoDB, SES v2, S3, Pinpoint GetApp); SES
GetAccount (which moto lacks) answers through `answer_get_account`, End User Messaging SMS and Personalize (which
moto lacks) through botocore's Stubber."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from campaign_tools.cli import main
from campaign_tools.send import run
from campaign_tools.send.parts import PreflightError, assemble
from campaign_tools.send.preflight import preflight
from campaign_tools.send.settings import SendSettings
from tests.aws_fixtures import ACCOUNT, answer_get_account, verify_ses_identity
from tests.campaign_tools.send.test_plugin import PLUGIN
from tests.fakes import ITEMS, write_recommendations, write_segment
from transformer.errors import CatalogUnavailableError

FROM = "news@shop.example.com"
CAMPAIGN_ARN = "arn:aws:personalize:us-east-1:123456789012:campaign/outdoor"
TITLE = '[attributes.Title]\nfield = "name"\n'
URL_TYPO = '[attributes.Url]\ntemplate = "https://shop.example.com/p/{{ item.idd }}"\n'


@dataclass
class SendClients:
    """What the AWS clients the send makes answer where moto cannot."""

    get_account: dict[str, Any] | str | None = None
    """SES GetAccount's answer (a response or an error code); None: moto's own (404, no such call)."""
    stubbed: dict[str, Any] = field(default_factory=dict)
    """service -> a client with an active Stubber, used instead of moto."""


@pytest.fixture
def send_clients(moto_aws: str, monkeypatch: pytest.MonkeyPatch) -> SendClients:
    hooks = SendClients()
    real = run.client

    def make(service: str, *arguments: Any, **options: Any) -> Any:
        if service in hooks.stubbed:
            return hooks.stubbed[service]
        made = real(service, *arguments, **options)
        if service == "sesv2" and hooks.get_account is not None:
            answer_get_account(made, hooks.get_account)
        return made

    monkeypatch.setattr(run, "client", make)
    return hooks


@pytest.fixture
def workspace(tmp_path: Path, make_catalog: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    catalog = make_catalog(ITEMS)
    (tmp_path / "pinrec.toml").write_text(f'[store]\nkind = "sqlite"\npath = "{catalog}"\n{TITLE}', encoding="utf-8")
    (tmp_path / "typo.toml").write_text(
        f'[store]\nkind = "sqlite"\npath = "{catalog}"\n{TITLE}{URL_TYPO}', encoding="utf-8"
    )
    write_segment(tmp_path / "segment.jsonl", 75)
    write_recommendations(tmp_path / "recs.jsonl", 75)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def send(*extra: str, config: str = "pinrec.toml", recommendations: str = "file:recs.jsonl") -> list[str]:
    return [
        "send", "--composer", PLUGIN, "--segment", "segment.jsonl", "--recommendations", recommendations,
        "--config", config, "--campaign-id", "spring", "--ledger", "sqlite:ledger.db", *extra,
    ]  # fmt: skip


def refused(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The problems of the one error the send stopped with; asserts it printed no summary."""
    captured = capsys.readouterr()
    assert captured.out == "", "no run summary: the send never started"
    lines = captured.err.splitlines()
    assert lines[0] == "pinrec: error: campaign spring cannot start (nothing was sent):"
    return [line.removeprefix("  - ") for line in lines[1:]]


def ledger_rows(workspace: Path) -> int:
    if not (workspace / "ledger.db").exists():
        return 0
    with sqlite3.connect(workspace / "ledger.db") as connection:
        return int(connection.execute("SELECT count(*) FROM messages").fetchone()[0])


@pytest.fixture
def ses_sent(moto_aws: str) -> Callable[[], int]:
    from moto.ses.models import ses_backends

    backend = ses_backends[ACCOUNT]["us-east-1"]
    return lambda: len(backend.sent_messages)


def test_a_missing_ledger_table_stops_the_send_with_one_error_and_no_summary(
    workspace: Path, send_clients: SendClients, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(send("--outbox", "out", "--ledger", "dynamodb:no-such-table")) == 1
    assert refused(capsys) == [
        "ledger dynamodb:no-such-table: the table does not exist in this account and region: deploy "
        "infra/send-statemachine.yaml (its LedgerTable) or create a table with partition key campaign_id (S) and "
        "sort key endpoint_id (S)"
    ]
    assert not (workspace / "out").exists()
    boto3.client("dynamodb").create_table(
        TableName="wrong-key",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert main(send("--outbox", "out", "--ledger", "dynamodb:wrong-key")) == 1
    assert refused(capsys) == [
        "ledger dynamodb:wrong-key: its key is id (HASH, S), not partition key campaign_id (S) and sort key "
        "endpoint_id (S)"
    ]


def test_a_sqlite_ledger_that_cannot_be_written_is_a_preflight_error(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workspace / "taken").write_text("a file where the ledger's folder should be")
    assert main(send("--outbox", "out", "--ledger", "sqlite:taken/ledger.db")) == 1
    assert refused(capsys) == [f"ledger sqlite:taken/ledger.db: cannot create it: {workspace / 'taken'} is a file"]
    (workspace / "notes.db").write_text("not a database")
    assert main(send("--outbox", "out", "--ledger", "sqlite:notes.db")) == 1
    assert refused(capsys) == ["ledger sqlite:notes.db: the file is not a SQLite database"]
    assert not (workspace / "out").exists()


def test_without_rate_an_unreadable_ses_quota_stops_the_send_instead_of_pacing_at_1_per_second(
    workspace: Path, send_clients: SendClients, ses_sent: Callable[[], int], capsys: pytest.CaptureFixture[str]
) -> None:
    verify_ses_identity(boto3.client("sesv2"), FROM)
    before = ses_sent()
    assert main(send("--deliver", "--from", FROM)) == 1
    assert refused(capsys) == ["cannot read the SES quota (GetAccount: 404): pass --rate or grant ses:GetAccount"]
    send_clients.get_account = "AccessDeniedException"
    assert main(send("--deliver", "--from", FROM)) == 1
    assert refused(capsys) == [
        "cannot read the SES quota (GetAccount: AccessDeniedException): pass --rate or grant ses:GetAccount"
    ]
    assert ses_sent() == before and ledger_rows(workspace) == 0

    assert main(send("--deliver", "--from", FROM, "--rate", "1000")) == 0, "with --rate the quota is not needed"
    captured = capsys.readouterr()
    assert "sent 75" in captured.out and ses_sent() == before + 75
    assert (
        "  SES account not checked (GetAccount: AccessDeniedException): grant ses:GetAccount to check sending is "
        "enabled"
    ) in captured.err.splitlines()


def test_the_ses_quota_read_sets_the_pace_and_the_sandbox_is_noted(
    workspace: Path, send_clients: SendClients, capsys: pytest.CaptureFixture[str]
) -> None:
    verify_ses_identity(boto3.client("sesv2"), "shop.example.com")
    send_clients.get_account = {
        "SendingEnabled": True,
        "ProductionAccessEnabled": False,
        "SendQuota": {"Max24HourSend": 200.0, "MaxSendRate": 1000.0, "SentLast24Hours": 20.0},
    }
    assert main(send("--deliver", "--from", f"Shop <{FROM}>")) == 0, "the From's domain is a verified identity"
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    assert err[0].endswith("pace 1000/s (SES MaxSendRate)")
    assert err[1:3] == [
        "  SES quota: 180 of 200 messages left in 24 hours",
        "  the SES account is in the sandbox: it delivers only to verified addresses",
    ]
    assert "sent 75" in captured.out


def test_every_failing_check_is_listed_in_one_error(
    workspace: Path, send_clients: SendClients, ses_sent: Callable[[], int], capsys: pytest.CaptureFixture[str]
) -> None:
    boto3.client("sesv2").create_email_identity(EmailIdentity=FROM)  # not verified for sending yet
    send_clients.get_account = {
        "SendingEnabled": False,
        "SendQuota": {"Max24HourSend": 50000.0, "MaxSendRate": 14.0, "SentLast24Hours": 50000.0},
    }
    arguments = send(
        "--deliver", "--from", FROM, "--ledger", "dynamodb:no-such-table", recommendations="file:nope.jsonl"
    )
    arguments[arguments.index("segment.jsonl")] = "s3://no-bucket/segment.jsonl"
    before = ses_sent()
    assert main(arguments) == 1
    assert refused(capsys) == [
        "--recommendations file:nope.jsonl: nope.jsonl not found",
        "--segment s3://no-bucket/segment.jsonl: cannot read s3://no-bucket/segment.jsonl: NoSuchBucket",
        "ledger dynamodb:no-such-table: the table does not exist in this account and region: deploy "
        "infra/send-statemachine.yaml (its LedgerTable) or create a table with partition key campaign_id (S) and "
        "sort key endpoint_id (S)",
        "SES sending is paused for this account and region (GetAccount SendingEnabled false)",
        "the SES 24-hour quota is used up (50,000 of 50,000 sent)",
        f"--from {FROM}: the SES identity {FROM} (VerificationStatus SUCCESS) is not verified for sending yet",
    ]
    assert ses_sent() == before


def test_an_unknown_from_identity_is_named(
    workspace: Path, send_clients: SendClients, capsys: pytest.CaptureFixture[str]
) -> None:
    send_clients.get_account = {"SendingEnabled": True, "SendQuota": {"MaxSendRate": 10.0}}
    assert main(send("--deliver", "--from", "offers@elsewhere.example.org")) == 1
    assert refused(capsys) == [
        "--from offers@elsewhere.example.org: neither the address nor the domain elsewhere.example.org is an SES "
        "identity in this account and region: verify one first"
    ]


def sms_client() -> tuple[Any, Stubber]:
    sms = boto3.client(
        "pinpoint-sms-voice-v2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(sms)
    stubber.activate()
    return sms, stubber


@pytest.fixture
def sms_workspace(workspace: Path) -> Path:
    records = [{"Id": f"s{n}", "ChannelType": "SMS", "Address": f"+1206555010{n}"} for n in range(3)]
    (workspace / "segment.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records))
    (workspace / "recs.jsonl").write_text("".join(json.dumps({"id": r["Id"], "items": ["P1"]}) + "\n" for r in records))
    return workspace


def test_an_sms_origination_identity_that_does_not_exist_stops_the_send(
    sms_workspace: Path, send_clients: SendClients, capsys: pytest.CaptureFixture[str]
) -> None:
    sms, stubber = sms_client()
    send_clients.stubbed["pinpoint-sms-voice-v2"] = sms
    stubber.add_client_error(
        "describe_phone_numbers", "ResourceNotFoundException", expected_params={"PhoneNumberIds": ["phone-0123"]}
    )
    stubber.add_response(
        "describe_phone_numbers",
        {"PhoneNumbers": [{**phone_number("+15550100"), "Status": "ACTIVE"}]},
    )
    stubber.add_response("describe_pools", {"Pools": [pool("pool-9", "DELETING")]}, {"PoolIds": ["pool-9"]})
    for identity, problem in [
        (
            "phone-0123",
            "--origination-identity phone-0123: no such origination identity in End User Messaging SMS in this account and region",
        ),
        (
            "+15550199",
            "--origination-identity +15550199: no such phone number in End User Messaging SMS in this account and region",
        ),
        ("pool-9", "--origination-identity pool-9: the pool is DELETING, not ACTIVE"),
    ]:
        assert main(send("--channel", "sms", "--deliver", "--rate", "10", "--origination-identity", identity)) == 1
        assert refused(capsys) == [problem]
    stubber.assert_no_pending_responses()
    assert ledger_rows(sms_workspace) == 0


def phone_number(number: str) -> dict[str, Any]:
    return {
        "PhoneNumberArn": f"arn:aws:sms-voice:us-east-1:{ACCOUNT}:phone-number/phone-1",
        "PhoneNumberId": "phone-1",
        "PhoneNumber": number,
        "Status": "ACTIVE",
        "IsoCountryCode": "US",
        "MessageType": "TRANSACTIONAL",
        "NumberCapabilities": ["SMS"],
        "NumberType": "LONG_CODE",
        "MonthlyLeasingPrice": "1.00",
        "TwoWayEnabled": False,
        "SelfManagedOptOutsEnabled": False,
        "OptOutListName": "Default",
        "DeletionProtectionEnabled": False,
        "CreatedTimestamp": "2026-01-01T00:00:00Z",
    }


def pool(pool_id: str, status: str) -> dict[str, Any]:
    return {
        "PoolArn": f"arn:aws:sms-voice:us-east-1:{ACCOUNT}:pool/{pool_id}",
        "PoolId": pool_id,
        "Status": status,
        "MessageType": "TRANSACTIONAL",
        "TwoWayEnabled": False,
        "SelfManagedOptOutsEnabled": False,
        "OptOutListName": "Default",
        "SharedRoutesEnabled": False,
        "DeletionProtectionEnabled": False,
        "CreatedTimestamp": "2026-01-01T00:00:00Z",
    }


def test_an_active_phone_number_or_sender_id_passes_the_sms_check(
    sms_workspace: Path, send_clients: SendClients
) -> None:
    sms, stubber = sms_client()
    stubber.add_response("describe_phone_numbers", {"PhoneNumbers": [phone_number("+15550199")]})
    stubber.add_response(
        "describe_sender_ids",
        {"SenderIds": [{"SenderIdArn": "arn:aws:sms-voice:us-east-1:1:sender-id/PINREC/GB", "SenderId": "PINREC",
                        "IsoCountryCode": "GB", "MessageTypes": ["TRANSACTIONAL"], "MonthlyLeasingPrice": "0",
                        "DeletionProtectionEnabled": False, "Registered": True}]},
        {"Filters": [{"Name": "sender-id", "Values": ["PINREC"]}]},
    )  # fmt: skip
    for identity in ("+15550199", "PINREC"):
        settings = sms_settings(sms_workspace, identity).model_copy(update={"suppression": "none"})
        parts, checked = preflight(
            settings, lambda service: sms if service == "pinpoint-sms-voice-v2" else run.client(service)
        )
        assert checked.notes == [] and parts.config.attributes["Title"].field == "name"
    stubber.assert_no_pending_responses()


def sms_settings(folder: Path, identity: str) -> SendSettings:
    return SendSettings.model_validate(
        {
            "campaign_id": "spring",
            "channel": "sms",
            "composer": PLUGIN,
            "config": str(folder / "pinrec.toml"),
            "segment": str(folder / "segment.jsonl"),
            "recommendations": f"file:{folder / 'recs.jsonl'}",
            "ledger": f"sqlite:{folder / 'ledger.db'}",
            "deliver": True,
            "rate": 10,
            "sender": {"origination_identity": identity},
        }
    )


def test_a_push_application_that_does_not_exist_stops_the_send(
    workspace: Path, send_clients: SendClients, capsys: pytest.CaptureFixture[str]
) -> None:
    records = [{"Id": f"d{n}", "ChannelType": "GCM", "Address": f"token-{n}"} for n in range(3)]
    (workspace / "segment.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records))
    (workspace / "recs.jsonl").write_text("".join(json.dumps({"id": r["Id"], "items": ["P1"]}) + "\n" for r in records))
    assert main(send("--channel", "push", "--deliver", "--application-id", "no-such-app")) == 1
    assert refused(capsys) == ["--application-id no-such-app: no such push application in this account and region"]
    assert main(send("--channel", "push", "--deliver")) == 1
    assert refused(capsys) == ["--deliver for push needs --application-id (the End User Messaging push application)"]
    application = boto3.client("pinpoint").create_app(CreateApplicationRequest={"Name": "shop"})["ApplicationResponse"]
    settings = SendSettings.model_validate(
        {
            "campaign_id": "spring", "channel": "push", "composer": PLUGIN, "config": "pinrec.toml",
            "segment": "segment.jsonl", "recommendations": "file:recs.jsonl", "ledger": "sqlite:ledger.db",
            "deliver": True, "sender": {"application_id": application["Id"]},
        }
    )  # fmt: skip
    preflight(settings, run.client_factory(settings.aws.options()))  # passes: the application exists
    assert ledger_rows(workspace) == 0


def test_a_personalize_campaign_that_does_not_exist_stops_the_send(
    workspace: Path, send_clients: SendClients, capsys: pytest.CaptureFixture[str]
) -> None:
    personalize = boto3.client(
        "personalize-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    send_clients.stubbed["personalize-runtime"] = personalize
    with Stubber(personalize) as stubber:
        stubber.add_client_error("get_recommendations", "ResourceNotFoundException", "campaign not found")
        arguments = send(
            "--outbox", "out", "--recommendation-concurrency", "1", recommendations=f"personalize:{CAMPAIGN_ARN}"
        )
        assert main(arguments) == 1
    assert refused(capsys) == [
        f"--recommendations personalize:{CAMPAIGN_ARN}: Personalize GetRecommendations failed: "
        "ResourceNotFoundException: campaign not found"
    ]
    assert not (workspace / "out").exists() and ledger_rows(workspace) == 0


def test_a_recommendation_source_failing_for_every_endpoint_of_the_first_batch_stops_the_send(
    workspace: Path, send_clients: SendClients, capsys: pytest.CaptureFixture[str]
) -> None:
    personalize = boto3.client(
        "personalize-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    send_clients.stubbed["personalize-runtime"] = personalize
    with Stubber(personalize) as stubber:
        for _ in range(50):
            stubber.add_client_error("get_recommendations", "InvalidNextTokenException", http_status_code=400)
        assert main(send("--outbox", "out", recommendations=f"personalize:{CAMPAIGN_ARN}")) == 1
    assert refused(capsys) == [
        f"--recommendations personalize:{CAMPAIGN_ARN}: the lookup failed for every one of the first 50 endpoints "
        "(personalize_InvalidNextTokenException 50)"
    ]


def test_a_template_the_configuration_does_not_declare_attributes_for_is_listed_with_the_other_problems(
    workspace: Path, send_clients: SendClients, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = send("--outbox", "out", "--ledger", "dynamodb:no-such-table")
    arguments[arguments.index("--composer") : arguments.index("--composer") + 2] = [
        "--template",
        "recommended-for-you",
    ]
    assert main(arguments) == 1
    problems = refused(capsys)
    assert problems[0] == (
        "template recommended-for-you uses attributes the recommender configuration does not declare: ItemId, "
        "ImageUrl, Price, Url (declared: Title)"
    )
    assert problems[1].startswith("ledger dynamodb:no-such-table: the table does not exist")
    assert not (workspace / "out").exists()


@pytest.mark.parametrize("mode", [["--dry-run"], ["--outbox", "out"]], ids=["dry run", "outbox"])
def test_an_attribute_template_typo_stops_the_send_naming_the_attribute(
    workspace: Path, capsys: pytest.CaptureFixture[str], mode: list[str]
) -> None:
    assert main(send(*mode, config="typo.toml")) == 1
    assert refused(capsys) == [
        "attribute Url has no value for any of the 9 items checked (template failed: undefined name 'idd' (9)) and "
        "no default: every item is unknown, so every endpoint would be left out (transformer_too_few_items)"
    ]
    assert not (workspace / "out").exists() and ledger_rows(workspace) == 0


def test_a_catalog_without_the_recommended_items_or_without_items_stops_the_send(
    workspace: Path, make_catalog: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    other = make_catalog([{"id": f"Q{n}", "name": f"Other {n}"} for n in range(5)], name="other.db")
    (workspace / "other.toml").write_text(f'[store]\nkind = "sqlite"\npath = "{other}"\n{TITLE}')
    assert main(send("--dry-run", config="other.toml")) == 1
    assert refused(capsys) == [
        f"none of the 10 item ids recommended to the first 50 endpoints is in catalog {other}: check "
        "--recommendations and the configuration's [store]"
    ]
    empty = make_catalog([], name="empty.db")
    (workspace / "empty.toml").write_text(f'[store]\nkind = "sqlite"\npath = "{empty}"\n{TITLE}')
    assert main(send("--dry-run", config="empty.toml")) == 1
    assert refused(capsys) == [
        f"catalog {empty} holds no items: every endpoint would be left out (load it with pinrec catalog load)"
    ]


def test_a_preflight_refusal_is_a_pinrec_error_listing_its_problems(workspace: Path) -> None:
    settings = SendSettings.model_validate(
        {"campaign_id": "spring", "composer": PLUGIN, "config": "typo.toml", "segment": "segment.jsonl",
         "recommendations": "file:recs.jsonl", "dry_run": True}
    )  # fmt: skip
    with pytest.raises(PreflightError) as caught:
        run.SendRun(settings)
    assert len(caught.value.problems) == 1 and "attribute Url" in caught.value.problems[0]


def test_a_catalog_that_cannot_be_sampled_is_checked_on_the_first_batch_s_items(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = SendSettings.model_validate(
        {"campaign_id": "spring", "composer": PLUGIN, "config": "typo.toml", "segment": "segment.jsonl",
         "recommendations": "file:recs.jsonl", "dry_run": True}
    )  # fmt: skip
    parts, _ = assemble(settings, run.client_factory(settings.aws.options()))
    assert parts is not None

    def denied(count: int) -> list[str]:
        raise CatalogUnavailableError("DynamoDB table items: AccessDeniedException")

    monkeypatch.setattr(parts.transformer.store, "sample_ids", denied)
    with pytest.raises(PreflightError) as caught:
        preflight(settings, run.client_factory(settings.aws.options()), parts)
    assert caught.value.problems == [
        "attribute Url has no value for any of the 9 items checked (template failed: undefined name 'idd' (9)) and "
        "no default: every item is unknown, so every endpoint would be left out (transformer_too_few_items)"
    ], "the 9 catalog items the first batch is recommended"
    sound = settings.model_copy(update={"config": "pinrec.toml"})
    parts, _ = assemble(sound, run.client_factory(sound.aws.options()))
    assert parts is not None
    monkeypatch.setattr(parts.transformer.store, "sample_ids", denied)
    _, checked = preflight(sound, run.client_factory(sound.aws.options()), parts)
    assert checked.notes == [
        f"warning: catalog {workspace / 'catalog.db'} cannot be sampled (DynamoDB table items: AccessDeniedException): "
        "attributes checked on fewer items"
    ]


def test_the_preflight_reads_at_most_the_first_rows_to_find_endpoints_of_the_channel(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sms = {f"ep-{n}": {"ChannelType": "SMS", "Address": f"+1555{n:04d}"} for n in range(1_200)}
    write_segment(workspace / "segment.jsonl", 1_203, **sms)
    write_recommendations(workspace / "recs.jsonl", 1_203)
    assert main(send("--dry-run")) == 0, "a warning: the endpoints of the channel may come later"
    captured = capsys.readouterr()
    assert (
        "  warning: no email endpoint to send to among the first 1,000 rows of the segment (skipped: other_channel 1000)"
    ) in captured.err.splitlines()
    assert "would send 3, skipped 1,200" in captured.out
