"""Publishing over an AwsSession whose Pinpoint client is stubbed with botocore's Stubber (moto has no Pinpoint
templates): exact requests, in order; a dry run records the writes instead of sending them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from campaign_tools.aws.errors import AwsError
from campaign_tools.aws.session import AwsSession
from campaign_tools.channels import email as email_channel
from campaign_tools.channels import push as push_channel
from campaign_tools.channels import sms as sms_channel
from campaign_tools.channels.base import Channel
from campaign_tools.cli import main
from campaign_tools.commands import options
from campaign_tools.templates.build import BuiltTemplate, build_template
from campaign_tools.templates.manifest import load_template
from campaign_tools.templates.publish import Action, publish_template

RECOMMENDER = "a1b2c3d4"
GETS = {
    email_channel.CHANNEL: "get_email_template",
    sms_channel.CHANNEL: "get_sms_template",
    push_channel.CHANNEL: "get_push_template",
}
RESPONSES = {
    email_channel.CHANNEL: "EmailTemplateResponse",
    sms_channel.CHANNEL: "SMSTemplateResponse",
    push_channel.CHANNEL: "PushNotificationTemplateResponse",
}
WRITES = {
    email_channel.CHANNEL: "email_template",
    sms_channel.CHANNEL: "sms_template",
    push_channel.CHANNEL: "push_template",
}
REQUEST_KEYS = {
    email_channel.CHANNEL: "EmailTemplateRequest",
    sms_channel.CHANNEL: "SMSTemplateRequest",
    push_channel.CHANNEL: "PushNotificationTemplateRequest",
}
TYPES = {email_channel.CHANNEL: "EMAIL", sms_channel.CHANNEL: "SMS", push_channel.CHANNEL: "PUSH"}
CREATED = {"CreateTemplateMessageBody": {"Arn": "arn:aws:mobiletargeting:us-east-1:1:templates/offer", "Message": "ok"}}
UPDATED = {"MessageBody": {"Message": "ok"}}


@pytest.fixture(scope="module")
def built() -> BuiltTemplate:
    return build_template(load_template("offer"))


@pytest.fixture
def stubbed_session(monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[AwsSession, Stubber]]:
    """An AwsSession (us-east-1, fake credentials) with its Pinpoint client stubbed."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)

    def make(*, dry_run: bool = False, region: str = "us-east-1") -> tuple[AwsSession, Stubber]:
        session = AwsSession(region=region, dry_run=dry_run)
        stubber = Stubber(session.client("pinpoint"))
        stubber.activate()
        return session, stubber

    return make


@pytest.fixture
def client(stubbed_session) -> Iterator[tuple[AwsSession, Stubber]]:
    session, stubber = stubbed_session()
    yield session, stubber
    stubber.assert_no_pending_responses()


@pytest.fixture
def dry_run_client(stubbed_session) -> Iterator[tuple[AwsSession, Stubber]]:
    session, stubber = stubbed_session(dry_run=True)
    yield session, stubber
    stubber.assert_no_pending_responses()


def _not_found(stubber: Stubber, channel: Channel) -> None:
    stubber.add_client_error(
        GETS[channel],
        service_error_code="NotFoundException",
        service_message="Template not found",
        http_status_code=404,
        expected_params={"TemplateName": "offer"},
    )


def _active(stubber: Stubber, channel: Channel, body: dict[str, Any], version: str = "3") -> None:
    response = {
        "CreationDate": "2026-11-01T00:00:00Z",
        "LastModifiedDate": "2026-11-02T00:00:00Z",
        "TemplateName": "offer",
        "TemplateType": TYPES[channel],
        "Version": version,
        **body,
    }
    stubber.add_response(GETS[channel], {RESPONSES[channel]: response}, {"TemplateName": "offer"})


def test_creates_every_channel_when_none_exists(built: BuiltTemplate, client) -> None:
    pinpoint, stubber = client
    requests = built.requests(RECOMMENDER)
    for channel in (email_channel.CHANNEL, sms_channel.CHANNEL, push_channel.CHANNEL):
        _not_found(stubber, channel)
        stubber.add_response(
            f"create_{WRITES[channel]}",
            CREATED,
            {"TemplateName": "offer", REQUEST_KEYS[channel]: requests[channel]},
        )
    said: list[str] = []
    result = publish_template(built, pinpoint, RECOMMENDER, say=said.append)
    assert [plan.action for plan in result.plans] == [Action.CREATE] * 3
    assert requests[email_channel.CHANNEL]["RecommenderId"] == RECOMMENDER
    assert "EMAIL offer: created (version 1 is active)" in said


def test_updates_with_a_new_version_and_shows_the_diff_first(built: BuiltTemplate, client) -> None:
    pinpoint, stubber = client
    requests = built.requests(RECOMMENDER)
    old_sms = {**requests[sms_channel.CHANNEL], "Body": "Old body. Reply STOP to opt out"}
    _active(stubber, email_channel.CHANNEL, requests[email_channel.CHANNEL])
    _active(stubber, sms_channel.CHANNEL, old_sms)
    stubber.add_response(
        "update_sms_template",
        UPDATED,
        {"TemplateName": "offer", "CreateNewVersion": True, "SMSTemplateRequest": requests[sms_channel.CHANNEL]},
    )
    _not_found(stubber, push_channel.CHANNEL)
    stubber.add_response(
        "create_push_template",
        CREATED,
        {"TemplateName": "offer", "PushNotificationTemplateRequest": requests[push_channel.CHANNEL]},
    )
    said: list[str] = []
    result = publish_template(built, pinpoint, RECOMMENDER, say=said.append)
    assert [plan.action for plan in result.plans] == [Action.UNCHANGED, Action.UPDATE, Action.CREATE]
    diff = result.plans[1].diff
    assert "-Old body. Reply STOP to opt out" in diff and "+Example Outfitters:" in diff
    assert said.index(next(line for line in said if "changes against active version 3" in line)) < said.index(
        "SMS offer: new version saved; the active version is unchanged"
    )
    assert said[-1] == "new versions are not active yet: run again with --activate to make them active"


def test_activate_is_an_explicit_extra_call(built: BuiltTemplate, client) -> None:
    pinpoint, stubber = client
    requests = built.requests(RECOMMENDER)
    _active(stubber, email_channel.CHANNEL, {**requests[email_channel.CHANNEL], "Subject": "Old subject"})
    stubber.add_response(
        "update_email_template",
        UPDATED,
        {"TemplateName": "offer", "CreateNewVersion": True, "EmailTemplateRequest": requests[email_channel.CHANNEL]},
    )
    stubber.add_response(
        "update_template_active_version",
        UPDATED,
        {"TemplateName": "offer", "TemplateType": "EMAIL", "TemplateActiveVersionRequest": {"Version": "latest"}},
    )
    _active(stubber, sms_channel.CHANNEL, requests[sms_channel.CHANNEL])
    _active(stubber, push_channel.CHANNEL, requests[push_channel.CHANNEL])
    result = publish_template(built, pinpoint, RECOMMENDER, activate=True, say=lambda _: None)
    assert [plan.activated for plan in result.plans] == [True, False, False]


def test_dry_run_reads_but_never_writes(built: BuiltTemplate, dry_run_client) -> None:
    pinpoint, stubber = dry_run_client
    requests = built.requests(RECOMMENDER)
    _not_found(stubber, email_channel.CHANNEL)
    _active(stubber, sms_channel.CHANNEL, {**requests[sms_channel.CHANNEL], "RecommenderId": "older"})
    _active(stubber, push_channel.CHANNEL, requests[push_channel.CHANNEL])
    said: list[str] = []
    result = publish_template(built, pinpoint, RECOMMENDER, activate=True, say=said.append)
    assert [plan.action for plan in result.plans] == [Action.CREATE, Action.UPDATE, Action.UNCHANGED]
    assert "-older" in result.plans[1].diff and f"+{RECOMMENDER}" in result.plans[1].diff
    assert "SMS offer: would activate the new version" in said
    assert said[-1] == "dry run: nothing was created, updated or activated"
    assert [request.action for request in pinpoint.requested_writes] == [
        "mobiletargeting:CreateEmailTemplate",
        "mobiletargeting:UpdateSmsTemplate",
        "mobiletargeting:UpdateTemplateActiveVersion",
    ]


def test_default_substitutions_diff_is_readable_json(built: BuiltTemplate, dry_run_client) -> None:
    pinpoint, stubber = dry_run_client
    requests = built.requests(RECOMMENDER)
    defaults = json.loads(requests[email_channel.CHANNEL]["DefaultSubstitutions"])
    old = json.dumps({**defaults, "Recommendations.OfferCode": "OLDCODE"})
    for channel in (email_channel.CHANNEL, sms_channel.CHANNEL, push_channel.CHANNEL):
        _active(stubber, channel, {**requests[channel], "DefaultSubstitutions": old})
    result = publish_template(built, pinpoint, RECOMMENDER, say=lambda _: None)
    assert '-  "Recommendations.OfferCode": "OLDCODE",' in result.plans[0].diff
    assert '+  "Recommendations.OfferCode": "SHIPFREE",' in result.plans[0].diff


def test_access_denied_is_one_clear_error(built: BuiltTemplate, client) -> None:
    pinpoint, stubber = client
    _not_found(stubber, email_channel.CHANNEL)
    stubber.add_client_error(
        "create_email_template", service_error_code="ForbiddenException", service_message="no", http_status_code=403
    )
    with pytest.raises(
        AwsError,
        match=r"^mobiletargeting:CreateEmailTemplate was denied: grant the caller mobiletargeting:CreateEmailTemplate "
        r"\(AWS: no\)$",
    ):
        publish_template(built, pinpoint, RECOMMENDER, say=lambda _: None)


def test_publish_command_lints_first_and_refuses_errors(template_copy, stubbed_session, monkeypatch, capsys) -> None:
    sessions: list[tuple[AwsSession, Stubber]] = []

    def open_session(arguments: object) -> AwsSession:
        sessions.append(stubbed_session(dry_run=True))  # no response queued: any Pinpoint call fails the test
        return sessions[-1][0]

    monkeypatch.setattr(options, "open_session", open_session)
    broken = template_copy("offer", {"push-title.jinja": [("[[", "{{Recommendations.OfferTitle}} [[")]})
    code = main(["templates", "publish", str(broken.directory), "--recommender-id", RECOMMENDER, "--dry-run"])
    assert code == 1
    assert "1 lint error(s): not publishing" in capsys.readouterr().err
    for _, stubber in sessions:
        stubber.assert_no_pending_responses()


def _command_session(stubbed_session, monkeypatch, seen: list[tuple[object, ...]]) -> Stubber:
    """`pinrec templates publish` gets a stubbed session; `seen` collects the AWS options it was opened with."""
    session, stubber = stubbed_session(dry_run=True, region="eu-west-1")
    for channel in (email_channel.CHANNEL, sms_channel.CHANNEL, push_channel.CHANNEL):
        _not_found(stubber, channel)

    def open_session(arguments: Any) -> AwsSession:
        seen.append((arguments.region, arguments.profile, arguments.endpoint_url, arguments.dry_run))
        return session

    monkeypatch.setattr(options, "open_session", open_session)
    return stubber


def test_publish_command_dry_run_end_to_end(stubbed_session, monkeypatch, capsys) -> None:
    seen: list[tuple[object, ...]] = []
    stubber = _command_session(stubbed_session, monkeypatch, seen)
    args = ["templates", "publish", "offer", "--recommender-id", RECOMMENDER, "--dry-run", "--region", "eu-west-1"]
    assert main(args) == 0
    stubber.assert_no_pending_responses()
    assert seen == [("eu-west-1", None, None, True)]
    out = capsys.readouterr().out
    assert "EMAIL offer: new template (dry run: not created)" in out
    assert "dry run: nothing was changed; 3 write request(s) would be sent:" in out
    assert '1. mobiletargeting:CreateEmailTemplate\n   TemplateName: "offer"' in out


def test_publish_command_json_lists_the_plan_and_the_requests(stubbed_session, monkeypatch, capsys) -> None:
    seen: list[tuple[object, ...]] = []
    stubber = _command_session(stubbed_session, monkeypatch, seen)
    args = ["templates", "publish", "offer", "--recommender-id", RECOMMENDER, "--dry-run", "--output", "json"]
    assert main([*args, "--endpoint-url", "http://localhost:4566"]) == 0
    stubber.assert_no_pending_responses()
    assert seen == [(None, None, "http://localhost:4566", True)]
    data = json.loads(capsys.readouterr().out)
    assert data["template"] == "offer" and data["dry_run"] is True
    assert [plan["action"] for plan in data["results"]] == ["create", "create", "create"]
    calls = [request["call"] for request in data["would_send"]]
    assert calls == [
        "mobiletargeting:CreateEmailTemplate",
        "mobiletargeting:CreateSmsTemplate",
        "mobiletargeting:CreatePushTemplate",
    ]
    assert data["would_send"][1]["parameters"]["SMSTemplateRequest"]["RecommenderId"] == RECOMMENDER
