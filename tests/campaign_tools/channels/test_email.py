"""Email: the SES v2 SendEmail request and deliverer (moto's server, Stubber for errors and the account's rate), and
the `.eml` the outbox writes."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import json
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_tools.channels.base import DeliveryError
from campaign_tools.channels.email import (
    DEFAULT_FROM,
    EmailMessage,
    EmailSender,
    EmailSettings,
    SesDeliverer,
    ses_max_send_rate,
    ses_request,
)
from campaign_tools.send.outbox import OutboxDeliverer
from tests.fakes import FakeClock
from transformer.errors import PinrecError

EMAIL = EmailMessage(
    to="ana@example.com",
    subject="Picked for you, Ana — 3 finds",
    html="<p>Hi Ana</p>",
    text="Hi Ana",
    unsubscribe_url="https://shop.example.com/u?e=ep-1",
)


def aws_client(service: str, endpoint_url: str | None = None) -> Any:
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_ses_send_email_through_moto_server_with_exact_request(moto_module_endpoint: str) -> None:
    ses = aws_client("sesv2", moto_module_endpoint)
    ses.create_email_identity(EmailIdentity="news@shop.example.com")
    sent_bodies: list[dict[str, Any]] = []
    ses.meta.events.register(
        "before-send.sesv2.SendEmail", lambda request, **_: sent_bodies.append(json.loads(request.body))
    )
    deliverer = SesDeliverer(ses, EmailSettings(from_address="news@shop.example.com", configuration_set="marketing"))
    delivered = deliverer.deliver("spring-2026", "ep-1", EMAIL)
    assert delivered.message_id
    assert sent_bodies == [
        {
            "FromEmailAddress": "news@shop.example.com",
            "Destination": {"ToAddresses": ["ana@example.com"]},
            "Content": {
                "Simple": {
                    "Subject": {"Data": "Picked for you, Ana — 3 finds", "Charset": "UTF-8"},
                    "Body": {
                        "Html": {"Data": "<p>Hi Ana</p>", "Charset": "UTF-8"},
                        "Text": {"Data": "Hi Ana", "Charset": "UTF-8"},
                    },
                    "Headers": [
                        {"Name": "List-Unsubscribe", "Value": "<https://shop.example.com/u?e=ep-1>"},
                        {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"},
                    ],
                }
            },
            "EmailTags": [
                {"Name": "pinrec-campaign", "Value": "c3ByaW5nLTIwMjY"},
                {"Name": "pinrec-endpoint", "Value": "ZXAtMQ"},
            ],
            "ConfigurationSetName": "marketing",
        }
    ]
    from moto.ses.models import ses_backends

    backend = ses_backends["123456789012"]["us-east-1"]
    assert any(message.id == delivered.message_id for message in backend.sent_messages)


def test_ses_unverified_sender_is_a_per_message_failure(moto_module_endpoint: str) -> None:
    deliverer = SesDeliverer(
        aws_client("sesv2", moto_module_endpoint), EmailSettings(from_address="nobody@elsewhere.example")
    )
    with pytest.raises(DeliveryError) as caught:
        deliverer.deliver("c", "ep-1", EMAIL)
    assert caught.value.reason == "ses_MessageRejected"
    assert not caught.value.throttled and not caught.value.fatal


@pytest.mark.parametrize(
    ("code", "throttled", "fatal"),
    [
        ("TooManyRequestsException", True, False),
        ("LimitExceededException", True, False),
        ("SendingPausedException", False, True),
        ("AccountSuspendedException", False, True),
        ("BadRequestException", False, False),
    ],
)
def test_ses_error_classes(code: str, throttled: bool, fatal: bool) -> None:
    ses = aws_client("sesv2")
    with Stubber(ses) as stubber:
        stubber.add_client_error("send_email", code, http_status_code=400)
        with pytest.raises(DeliveryError) as caught:
            SesDeliverer(ses, EmailSettings(from_address="a@b.example")).deliver("c", "e", EMAIL)
    assert (caught.value.reason, caught.value.throttled, caught.value.fatal) == (f"ses_{code}", throttled, fatal)


def test_ses_request_without_text_part_or_configuration_set() -> None:
    request = ses_request(
        EmailMessage("b@x.org", "S", "<b>H</b>", None, "https://u.example/1"),
        EmailSettings(from_address="a@x.org"),
        "c",
        "e",
    )
    assert request["Content"]["Simple"]["Body"] == {"Html": {"Data": "<b>H</b>", "Charset": "UTF-8"}}
    assert "ConfigurationSetName" not in request


def test_ses_send_rate_from_get_account() -> None:
    ses = aws_client("sesv2")
    with Stubber(ses) as stubber:
        stubber.add_response(
            "get_account", {"SendQuota": {"MaxSendRate": 14.0, "Max24HourSend": 50000.0, "SentLast24Hours": 0.0}}, {}
        )
        assert ses_max_send_rate(ses) == 14.0
        stubber.add_client_error("get_account", "AccessDeniedException", http_status_code=403)
        assert ses_max_send_rate(ses) is None


def test_outbox_email_is_an_rfc5322_message_with_both_parts(tmp_path: Path) -> None:
    outbox = OutboxDeliverer(tmp_path, EmailSender(EmailSettings(from_address="news@shop.example.com")))
    delivered = outbox.deliver("spring/2026", "ep:1", EMAIL)
    path = tmp_path / delivered.message_id
    assert path == tmp_path / "spring%2F2026" / "ep%3A1.eml"
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert parsed["From"] == "news@shop.example.com" and parsed["To"] == "ana@example.com"
    assert parsed["Subject"] == EMAIL.subject
    assert parsed["List-Unsubscribe"] == "<https://shop.example.com/u?e=ep-1>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content().strip() == "Hi Ana"
    assert parsed.get_body(("html",)).get_content().strip() == "<p>Hi Ana</p>"
    first = path.read_bytes()
    outbox.deliver("spring/2026", "ep:1", EMAIL)
    assert path.read_bytes() == first, "re-delivery writes the same bytes to the same file"
    assert sorted(p.name for p in path.parent.iterdir()) == ["ep%3A1.eml"], "no temporary file is left behind"


def test_outbox_keeps_a_long_unsubscribe_url_as_one_header_value(tmp_path: Path) -> None:
    url = "https://shop.example.com/preferences?endpoint=ep-1&utm_source=pinpoint&utm_medium=email&utm_campaign=x" * 2
    message = EmailMessage("b@x.org", "S", "<p>H</p>", None, url)
    path = tmp_path / OutboxDeliverer(tmp_path, EmailSender(EmailSettings())).deliver("c", "e", message).message_id
    assert f"List-Unsubscribe: <{url}>\r\n".encode() in path.read_bytes()


def test_the_outbox_sends_from_a_reserved_address_without_from(tmp_path: Path) -> None:
    path = tmp_path / OutboxDeliverer(tmp_path, EmailSender(EmailSettings())).deliver("c", "e", EMAIL).message_id
    assert email.message_from_bytes(path.read_bytes(), policy=email.policy.default)["From"] == DEFAULT_FROM


def test_delivering_email_needs_a_from_address() -> None:
    clients: dict[str, object] = {}

    def factory(service: str) -> object:
        return clients.setdefault(service, object())

    deliverer = EmailSender(EmailSettings(from_address="a@b.example")).provider(factory)
    assert isinstance(deliverer, SesDeliverer) and deliverer.client is clients["sesv2"]
    for without_from in (EmailSettings(), EmailSettings(from_address=DEFAULT_FROM)):
        with pytest.raises(PinrecError, match="needs --from"):
            EmailSender(without_from).provider(factory)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    subject=st.text(max_size=40),
    endpoint_id=st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=30),
    first=st.integers(1_000_000_000, 2_000_000_000),
    later=st.integers(0, 10**7),
)
def test_an_eml_is_dated_when_first_written_and_a_later_redelivery_writes_the_same_bytes(
    subject: str, endpoint_id: str, first: int, later: int, tmp_path: Path
) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    message = dataclasses.replace(EMAIL, subject=subject)
    clock = FakeClock(first + 0.75)
    sender = EmailSender(EmailSettings(from_address="News <news@shop.example.com>"))
    path = folder / OutboxDeliverer(folder, sender, clock=clock).deliver("spring", endpoint_id, message).message_id
    written = path.read_bytes()
    parsed = email.message_from_bytes(written, policy=email.policy.default)
    assert parsed["Date"].datetime == datetime.fromtimestamp(first, UTC)
    assert re.fullmatch(r"<[0-9a-f]{32}@shop\.example\.com>", parsed["Message-ID"])
    clock.now += later  # a later run delivers the same message again (after a crash, say)
    OutboxDeliverer(folder, sender, clock=clock).deliver("spring", endpoint_id, message)
    assert path.read_bytes() == written
    other = dataclasses.replace(message, html=message.html + "<p>more</p>")
    changed = OutboxDeliverer(folder, sender, clock=clock).deliver("spring", endpoint_id, other)
    reparsed = email.message_from_bytes((folder / changed.message_id).read_bytes(), policy=email.policy.default)
    assert reparsed["Message-ID"] != parsed["Message-ID"] and reparsed["Date"] == parsed["Date"]


def test_each_message_carries_tags_that_name_its_campaign_and_endpoint() -> None:
    from campaign_tools.events.tags import correlation

    message = EmailMessage("b@x.org", "S", "<b>H</b>", None, "https://u.example/1")
    request = ses_request(message, EmailSettings(from_address="a@x.org"), "spring.2026", "ep/ü 1")
    tags = {tag["Name"]: tag["Value"] for tag in request["EmailTags"]}
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", value) for value in tags.values()), "SES allows only these"
    assert correlation(tags) == ("spring.2026", "ep/ü 1")
    too_long = ses_request(message, EmailSettings(from_address="a@x.org"), "c", "e" * 1024)
    assert "EmailTags" not in too_long, "an id no tag can carry: the message is correlated by its message id only"
