"""`SendSettings`: the one schema `pinrec send` and the send child validate a send against, every problem reported
at once with the option it concerns, the sender settings validated by the chosen channel's own model."""

from __future__ import annotations

from typing import Any

import pytest

from campaign_tools.channels import registry as channel_registry
from campaign_tools.channels.email import EmailSettings
from campaign_tools.channels.push import PushSettings
from campaign_tools.channels.sms import SmsSettings
from campaign_tools.send.settings import SendSettings, SettingsError

MINIMAL: dict[str, Any] = {"campaign_id": "spring", "recommendations": "segment", "template": "recommended-for-you"}


def problems(data: dict[str, Any]) -> list[str]:
    """The problem lines of the SettingsError `data` raises, one per problem."""
    with pytest.raises(SettingsError) as raised:
        SendSettings.model_validate(data)
    heading, *lines = str(raised.value).splitlines()
    assert heading == "invalid send settings:"
    return [line.strip().removeprefix("- ") for line in lines]


def test_the_defaults() -> None:
    settings = SendSettings.model_validate(MINIMAL)
    assert (settings.channel, settings.ledger, settings.per_message, settings.workers) == (
        "email",
        "sqlite:pinrec-send.db",
        5,
        4,
    )
    assert not settings.deliver and not settings.dry_run and settings.rate is None and settings.outbox is None
    assert settings.channel_object is channel_registry.channel("email")


def test_every_problem_is_reported_at_once_naming_its_option() -> None:
    found = problems(
        {
            "campaign_id": "has space",
            "recommendations": "s3:x",
            "template": "t",
            "per_message": 9,
            "rate": 0,
            "ledger": "postgres:x",
            "compose_processes": 0,
            "id_type": "account",
        }
    )
    assert [line.split(":", 1)[0].split(" ")[0] for line in found] == [
        "--campaign-id",
        "--recommendations",
        "--id-type",
        "--per-message",
        "--rate",
        "--compose-processes",
        "--ledger",
    ]
    assert found[0].startswith("--campaign-id: campaign id 'has space': use 1-128 letters")
    assert found[1] == (
        "--recommendations must be personalize:CAMPAIGN_ARN, personalize-recommender:RECOMMENDER_ARN[@ITEM_PATH], "
        "customer-profiles:DOMAIN/RECOMMENDER[@PROFILE_ID_PATH], file:PATH or segment, got 's3:x'"
    )
    assert found[3] == "--per-message: Input should be less than or equal to 5"
    assert found[4] == "--rate: Input should be greater than 0"
    assert found[6] == "--ledger must be sqlite:PATH or dynamodb:TABLE, got 'postgres:x'"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"template": None}, "a send needs --template or --built (or --composer)"),
        ({"built": "b", "templates_dir": "t"}, "--templates-dir goes with --template"),
        ({"outbox": "out", "deliver": True}, "--outbox and --deliver are alternatives: give one"),
        ({"channel": "fax"}, "--channel: unknown channel 'fax': pinrec sends on email, sms, push"),
        ({"colour": "red"}, "--colour: Extra inputs are not permitted"),
        ({"campaign_id": None}, "--campaign-id: Input should be a valid string"),
    ],
)
def test_the_rules_a_send_must_follow(values: dict[str, Any], message: str) -> None:
    assert any(line.startswith(message) for line in problems({**MINIMAL, **values})), message


@pytest.mark.parametrize(
    ("channel", "sender", "model"),
    [
        ("email", {"from_address": "news@shop.example.com", "configuration_set": "cs"}, EmailSettings),
        ("sms", {"origination_identity": "+15550199", "message_type": "TRANSACTIONAL", "max_parts": 2}, SmsSettings),
        ("push", {"application_id": "app-1"}, PushSettings),
    ],
)
def test_sender_settings_are_the_chosen_channel_s_model(channel: str, sender: dict[str, Any], model: type) -> None:
    settings = SendSettings.model_validate({**MINIMAL, "channel": channel, "sender": sender})
    assert type(settings.sender) is model and settings.sender == model(**sender)
    assert SendSettings.model_validate(settings.model_dump(mode="json")) == settings, (
        "what a settings object dumps, it reads back"
    )


def test_sender_settings_are_validated_by_the_chosen_channel() -> None:
    found = problems(
        {**MINIMAL, "channel": "sms", "sender": {"message_type": "BULK", "max_parts": 0, "from_address": "a@b.c"}}
    )
    assert [line.split(":", 1)[0] for line in found] == [
        "--sms-type",
        "--sms-max-parts",
        "--from",
    ]
    assert found[2] == "--from: Extra inputs are not permitted", "an email setting is not an SMS one"
    with pytest.raises(SettingsError, match="--application-id: Extra inputs are not permitted"):
        SendSettings.model_validate({**MINIMAL, "channel": "email", "sender": PushSettings(application_id="app-1")})


def test_settings_without_sender_settings_get_the_channel_s_defaults() -> None:
    """A settings object given no sender settings (an execution input written by hand, a program building
    SendSettings itself) sends with the channel's defaults, as `pinrec send` does when no sender flag is given."""
    for name in channel_registry.names():
        settings = SendSettings.model_validate({**MINIMAL, "channel": name})
        channel = channel_registry.channel(name)
        assert settings.sender == channel.sender_settings(), name


def test_settings_are_immutable() -> None:
    settings = SendSettings.model_validate(MINIMAL)
    with pytest.raises(ValueError, match="frozen"):
        settings.rate = 5
    assert isinstance(settings, SendSettings)
