"""Email in each unsubscribe mode: the exact SES SendEmail request and the `.eml`.

- `ses`: SendEmail carries ListManagementOptions and no List-Unsubscribe of pinrec's (SES adds its own); the HTML
  link is SES's `{{amazonSESUnsubscribeUrl}}`; the preflight checks the contact list and topic exist (moto's
  GetContactList).
- `pinrec`: exactly one List-Unsubscribe, the signed URL (which verifies to the campaign, endpoint, address and
  topic), with List-Unsubscribe-Post, in the `.eml` and in the SES request alike; the template's link is the same URL.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.client
import pytest

from campaign_tools.channels.email import (
    EmailMessage,
    EmailSender,
    EmailSettings,
    SesDeliverer,
    email_mime,
    ses_request,
)
from campaign_tools.cli import main
from campaign_tools.unsubscribe.keys import forget_keys
from campaign_tools.unsubscribe.links import SES_UNSUBSCRIBE_URL, ListManagement
from campaign_tools.unsubscribe.tokens import KeyRing, SigningKey, fingerprint, verify
from tests.aws_fixtures import verify_ses_identity
from tests.unsubscribe_fixtures import KEY_ENV, SECRET, demo_deploy, segment, template_with

FROM = "news@shop.example.com"
LISTED = EmailMessage(
    to="ana@example.com",
    subject="Picked for you",
    html=f'<p><a href="{SES_UNSUBSCRIBE_URL}">Unsubscribe</a></p>',
    text=f"Unsubscribe <{SES_UNSUBSCRIBE_URL}>",
    unsubscribe_url="",
    list_management=ListManagement("newsletter", "news"),
)
RING = KeyRing(SigningKey(fingerprint(SECRET.encode()), SECRET.encode()))


def test_the_ses_mode_request_carries_list_management_and_no_list_unsubscribe_of_pinrecs() -> None:
    assert ses_request(LISTED, EmailSettings(from_address=FROM, configuration_set="marketing"), "spring", "ep-1") == {
        "FromEmailAddress": FROM,
        "Destination": {"ToAddresses": ["ana@example.com"]},
        "Content": {
            "Simple": {
                "Subject": {"Data": "Picked for you", "Charset": "UTF-8"},
                "Body": {
                    "Html": {"Data": f'<p><a href="{SES_UNSUBSCRIBE_URL}">Unsubscribe</a></p>', "Charset": "UTF-8"},
                    "Text": {"Data": f"Unsubscribe <{SES_UNSUBSCRIBE_URL}>", "Charset": "UTF-8"},
                },
            }
        },
        "EmailTags": [
            {"Name": "pinrec-campaign", "Value": "c3ByaW5n"},
            {"Name": "pinrec-endpoint", "Value": "ZXAtMQ"},
        ],
        "ConfigurationSetName": "marketing",
        "ListManagementOptions": {"ContactListName": "newsletter", "TopicName": "news"},
    }
    without_topic = EmailMessage("a@example.com", "S", "<p>H</p>", None, "", list_management=ListManagement("all"))
    assert ses_request(without_topic, EmailSettings(from_address=FROM), "c", "e")["ListManagementOptions"] == {
        "ContactListName": "all"
    }


def test_the_ses_mode_request_reaches_moto_as_built(moto_aws: str) -> None:
    ses = boto3.client("sesv2")
    verify_ses_identity(ses, FROM)
    bodies: list[dict[str, Any]] = []
    ses.meta.events.register(
        "before-send.sesv2.SendEmail", lambda request, **_: bodies.append(json.loads(request.body))
    )
    settings = EmailSettings(from_address=FROM)
    assert SesDeliverer(ses, settings).deliver("spring", "ep-1", LISTED).message_id
    assert bodies == [json.loads(json.dumps(ses_request(LISTED, settings, "spring", "ep-1")))]
    assert "Headers" not in bodies[0]["Content"]["Simple"]


def test_the_ses_mode_eml_has_no_list_unsubscribe_and_a_message_id_of_its_own() -> None:
    mime = email.message_from_bytes(
        EmailSender(EmailSettings()).outbox_file(LISTED, "spring", "ep-1", 0).data, policy=email.policy.default
    )
    assert mime.get_all("List-Unsubscribe") is None and mime.get_all("List-Unsubscribe-Post") is None
    unlisted = EmailMessage("ana@example.com", LISTED.subject, LISTED.html, LISTED.text, "https://u.example/1")
    other = email.message_from_bytes(email_mime(unlisted, EmailSettings(from_address=FROM), ("spring", "ep-1"), 0))
    assert mime["Message-ID"] != other["Message-ID"]


@pytest.fixture
def ses_requests(moto_aws: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    ses = boto3.client("sesv2")
    verify_ses_identity(ses, FROM)
    ses.create_contact_list(
        ContactListName="newsletter",
        Topics=[
            {"TopicName": "news", "DisplayName": "News", "Description": "d", "DefaultSubscriptionStatus": "OPT_IN"}
        ],
    )
    requests: list[dict[str, Any]] = []
    real = botocore.client.BaseClient._make_api_call

    def spy(client: Any, operation: str, parameters: dict[str, Any]) -> Any:
        if operation == "SendEmail":
            requests.append(parameters)
        return real(client, operation, parameters)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", spy)
    monkeypatch.setenv(KEY_ENV, SECRET)
    forget_keys()
    yield requests
    forget_keys()


def send(tmp_path: Path, mode_links: str, *extra: str) -> list[str]:
    config = demo_deploy(tmp_path / "deploy")
    template = template_with(tmp_path / "templates", mode_links)
    segment_path, recommendations = segment(tmp_path)
    return [
        "send", "--template", str(template), "--config", str(config), "--segment", str(segment_path),
        "--recommendations", f"file:{recommendations}", "--campaign-id", "spring",
        "--ledger", f"sqlite:{tmp_path / 'ledger.db'}", *extra,
    ]  # fmt: skip


DELIVER = ("--deliver", "--from", FROM, "--rate", "100")


def test_a_ses_mode_send_delivers_with_list_management_and_ses_placeholder(
    tmp_path: Path, ses_requests: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(send(tmp_path, 'unsubscribe = "ses"\ncontact_list = "newsletter"\ntopic = "news"', *DELIVER)) == 0
    assert "sent 3, skipped 0, failed 0" in capsys.readouterr().out
    assert len(ses_requests) == 3
    for request in ses_requests:
        assert request["ListManagementOptions"] == {"ContactListName": "newsletter", "TopicName": "news"}
        simple = request["Content"]["Simple"]
        assert "Headers" not in simple, "no List-Unsubscribe of pinrec's: SES adds its own"
        html = simple["Body"]["Html"]["Data"]
        assert re.findall(r'href="([^"]*)" ses:tags="unsubscribeLinkTag', html) == [SES_UNSUBSCRIBE_URL]
        assert f"<{SES_UNSUBSCRIBE_URL}>" in simple["Body"]["Text"]["Data"]


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        (("--contact-list", "nope"), "the SES contact list nope does not exist"),
        (("--topic", "sports"), "has no topic sports (its topics: news)"),
    ],
)
def test_the_preflight_checks_the_contact_list_and_topic_exist(
    tmp_path: Path,
    ses_requests: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    extra: tuple[str, ...],
    problem: str,
) -> None:
    links = 'unsubscribe = "ses"\ncontact_list = "newsletter"\ntopic = "news"'
    assert main(send(tmp_path, links, *DELIVER, *extra)) == 1
    error = capsys.readouterr().err
    assert "cannot start (nothing was sent)" in error and problem in error
    assert ses_requests == []


def test_a_pinrec_mode_send_carries_exactly_one_signed_list_unsubscribe_in_ses_and_eml(
    tmp_path: Path, ses_requests: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = (
        "--unsubscribe-endpoint",
        "https://abc.lambda-url.eu-west-1.on.aws/",
        "--unsubscribe-key",
        f"env:{KEY_ENV}",
    )
    assert main(send(tmp_path, 'unsubscribe = "pinrec"\ntopic = "news"', *DELIVER, *endpoint)) == 0
    assert (
        main(
            send(tmp_path / "o", 'unsubscribe = "pinrec"\ntopic = "news"', "--outbox", str(tmp_path / "out"), *endpoint)
        )
        == 0
    )
    capsys.readouterr()
    by_address = {request["Destination"]["ToAddresses"][0]: request for request in ses_requests}
    assert sorted(by_address) == ["Ana@example.com", "bo@example.com", "cy@example.com"]
    for endpoint_id, address in (("ep-ana", "Ana@example.com"), ("ep-bo", "bo@example.com")):
        simple = by_address[address]["Content"]["Simple"]
        assert "ListManagementOptions" not in by_address[address]
        headers = simple["Headers"]
        assert [header["Name"] for header in headers] == ["List-Unsubscribe", "List-Unsubscribe-Post"]
        assert headers[1]["Value"] == "List-Unsubscribe=One-Click"
        url = headers[0]["Value"].removeprefix("<").removesuffix(">")
        parts = urlsplit(url)
        assert (parts.scheme, parts.hostname) == ("https", "abc.lambda-url.eu-west-1.on.aws")
        claims = verify(parts.path.removeprefix("/u/"), RING)
        assert (claims.campaign_id, claims.endpoint_id, claims.address, claims.topic) == (
            "spring", endpoint_id, address.lower(), "news"
        )  # fmt: skip
        html = simple["Body"]["Html"]["Data"]
        assert re.findall(r'href="([^"]*)" ses:tags="unsubscribeLinkTag', html) == [url]
        eml = email.message_from_bytes((tmp_path / "out" / "spring" / f"{endpoint_id}.eml").read_bytes())
        assert eml.get_all("List-Unsubscribe") == [f"<{url}>"]
        assert eml.get_all("List-Unsubscribe-Post") == ["List-Unsubscribe=One-Click"]
