"""Issue 17's bar, end to end: a real send of the shipped `recommended-for-you` template through SES (moto), the
click SES reports for the third recommended item of the recipient's email, ingested like any delivery event, then
forwarded to Personalize (a Stubber asserts the exact PutEvents request: moto has no Personalize Events). Replaying
the same events forwards nothing new; a throttling storm delays forwarding without losing the event, and the events
Lambda records its batch whatever Personalize answers."""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.client
import pytest
from botocore.stub import Stubber

from campaign_tools.catalog.records import read_jsonl
from campaign_tools.cli import main
from campaign_tools.engagement.forward import session_id
from campaign_tools.engagement.links import parse_click
from campaign_tools.engagement.run import ForwardSettings, forward_engagement
from campaign_tools.events.tags import message_tags
from handlers import events as events_handler
from tests.aws_fixtures import verify_ses_identity
from tests.campaign_tools.loop_fixtures import T0, iso, message_ids, ses_record, via_eventbridge
from tests.conftest import DEMO_DATA
from transformer.stores.sqlite import write_snapshot

CAMPAIGN = "spring-picks"
ITEMS = ["P1001", "P1002", "P1003", "P1004", "P1005"]
TRACKING_ID = "0a1b2c3d-tracking"
SENDER = "news@shop.example.com"


@pytest.fixture
def sent(moto_aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """One email of the shipped template to endpoint ep-1 (user user-7, recommendations by user id), through SES;
    yields its HTML, message id and the folder."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pinrec.toml").write_text((DEMO_DATA / "pinrec.toml").read_text(encoding="utf-8"), encoding="utf-8")
    lines = (DEMO_DATA / "catalog.jsonl").read_text(encoding="utf-8").splitlines()
    write_snapshot(read_jsonl(lines, "id"), tmp_path / "catalog.db", key="id", source="test")
    endpoint = {"Id": "ep-1", "ChannelType": "EMAIL", "Address": "ana@example.com", "User": {"UserId": "user-7"}}
    (tmp_path / "segment.jsonl").write_text(json.dumps(endpoint) + "\n", encoding="utf-8")
    (tmp_path / "recs.jsonl").write_text(json.dumps({"id": "user-7", "items": ITEMS}) + "\n", encoding="utf-8")
    verify_ses_identity(boto3.client("sesv2"), SENDER)
    requests: list[dict[str, Any]] = []
    real = botocore.client.BaseClient._make_api_call

    def spy(client: Any, operation: str, parameters: dict[str, Any]) -> Any:
        if operation == "SendEmail":
            requests.append(parameters)
        return real(client, operation, parameters)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", spy)
    arguments = ["send", "--template", "recommended-for-you", "--config", "pinrec.toml", "--segment", "segment.jsonl"]
    arguments += ["--recommendations", "file:recs.jsonl", "--id-type", "user", "--campaign-id", CAMPAIGN]
    arguments += ["--ledger", "sqlite:ledger.db", "--deliver", "--from", SENDER, "--rate", "100"]
    assert main(arguments) == 0
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", real)
    (request,) = requests
    yield {
        "html": request["Content"]["Simple"]["Body"]["Html"]["Data"],
        "text": request["Content"]["Simple"]["Body"]["Text"]["Data"],
        "message_id": message_ids(tmp_path / "ledger.db", CAMPAIGN)["ep-1"],
        "folder": tmp_path,
    }


def item_links(markup: str) -> list[str]:
    """The tracked links of the markup, each once (a card links its item three times), in order."""
    links = (html.unescape(href) for href in re.findall(r'href="([^"]*)"', markup))
    return list(dict.fromkeys(link for link in links if "pinrec_item=" in link))


def click_record(message_id: str, link: str, at: float) -> dict[str, Any]:
    tags = message_tags(CAMPAIGN, "ep-1")
    details = {"timestamp": iso(at), "ipAddress": "192.0.2.1", "userAgent": "Mail", "link": link, "linkTags": {}}
    return via_eventbridge(ses_record("Click", message_id, "ana@example.com", T0, tags=tags, details=details), at)


def personalize_stub() -> tuple[Any, Stubber]:
    client = boto3.client(
        "personalize-events", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    return client, Stubber(client)


def settings(**overrides: Any) -> ForwardSettings:
    return ForwardSettings(
        campaign_ids=(CAMPAIGN,), tracking_id=TRACKING_ID, ledger="sqlite:ledger.db", concurrency=1, **overrides
    )


def ingest(folder: Path, records: list[dict[str, Any]]) -> None:
    (folder / "events.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    assert main(["events", "ingest", "events.jsonl", "--ledger", "sqlite:ledger.db"]) == 0


def ledger_click_id(folder: Path) -> str:
    import sqlite3

    with sqlite3.connect(folder / "ledger.db") as connection:
        (row,) = connection.execute("SELECT event_id FROM events WHERE kind = 'click'").fetchall()
    connection.close()
    return str(row[0])


def test_every_recommended_link_of_the_email_names_its_item_position_and_campaign(sent: dict[str, Any]) -> None:
    links = item_links(sent["html"])
    named = [parse_click(link) for link in links]
    assert [(click.item_id, click.position, click.send_id) for click in named if click] == [
        (item, position, CAMPAIGN) for position, item in enumerate(ITEMS, start=1)
    ]
    assert all("pinrec_c=spring-picks" in link and "user-7" not in link for link in links)
    assert all(link.startswith("https://shop.example.com/") for link in links)
    # the links the template adds itself (logo, see all, preferences) are not recommendation links
    assert "https://shop.example.com/recommended?utm_source=pinpoint" in html.unescape(sent["html"])


def test_a_click_on_the_third_item_becomes_exactly_one_putevents_event_and_a_replay_forwards_nothing(
    sent: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = sent["folder"]
    third = item_links(sent["html"])[2]
    assert "pinrec_pos=3" in third
    clicked_at = T0 + 600
    ingest(folder, [click_record(sent["message_id"], third, clicked_at)])
    client, stubber = personalize_stub()
    expected = {
        "trackingId": TRACKING_ID,
        "userId": "user-7",
        "sessionId": session_id(CAMPAIGN, "ep-1"),
        "eventList": [
            {
                "eventId": f"click:{ledger_click_id(folder)}",
                "eventType": "click",
                "itemId": ITEMS[2],
                "sentAt": datetime.fromtimestamp(clicked_at, UTC),
                "metricAttribution": {"eventAttributionSource": CAMPAIGN},
            }
        ],
    }
    stubber.add_response("put_events", {}, expected)
    with stubber:
        report = forward_engagement(settings(), clients=lambda service: client)
    stubber.assert_no_pending_responses()
    assert (report.events, report.forwarded, report.calls, report.queued) == (1, 1, 1, 0)

    # The same events again (SES delivers at least once), and another run: nothing new is sent.
    ingest(folder, [click_record(sent["message_id"], third, clicked_at)] * 2)
    with stubber:  # no responses queued: any call would fail the test
        again = forward_engagement(settings(), clients=lambda service: client)
    assert (again.events, again.forwarded, again.already, again.calls) == (1, 0, 1, 0)
    capsys.readouterr()


def test_a_throttling_storm_delays_forwarding_but_loses_no_event(sent: dict[str, Any]) -> None:
    folder = sent["folder"]
    links = item_links(sent["html"])
    ingest(folder, [click_record(sent["message_id"], link, T0 + 60 * n) for n, link in enumerate(links[:2])])
    client, stubber = personalize_stub()
    for _ in range(12):  # two runs' worth of attempts (6 each), all throttled
        stubber.add_client_error("put_events", "ThrottlingException", "Rate exceeded", 400)
    stubber.add_response("put_events", {})
    slept: list[float] = []
    with stubber:
        first = forward_engagement(settings(), clients=lambda service: client, sleep=slept.append)
        second = forward_engagement(settings(), clients=lambda service: client, sleep=slept.append)
        third = forward_engagement(settings(), clients=lambda service: client, sleep=slept.append)
        fourth = forward_engagement(settings(), clients=lambda service: client, sleep=slept.append)
    stubber.assert_no_pending_responses()
    # both clicks are one message's: one call of two events
    assert (first.queued, first.forwarded, first.retries) == (2, 0, 5)
    assert (second.queued, second.forwarded) == (2, 0)
    assert (third.queued, third.forwarded, third.calls) == (0, 2, 1)
    assert (fourth.forwarded, fourth.already, fourth.calls) == (0, 2, 0)
    assert len(slept) == 10


def test_the_events_lambda_records_its_batch_first_and_never_waits_for_a_throttled_personalize(
    sent: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = sent["folder"]
    links = item_links(sent["html"])
    records = [click_record(sent["message_id"], link, T0 + 60 * n) for n, link in enumerate(links)]
    sqs = {
        "Records": [
            {"messageId": f"m{n}", "eventSource": "aws:sqs", "body": json.dumps(r)} for n, r in enumerate(records)
        ]
    }
    client, stubber = personalize_stub()
    stubber.add_client_error("put_events", "ThrottlingException", "Rate exceeded", 400)
    order: list[str] = []
    real_put = client.put_events

    def put_events(**request: Any) -> Any:
        order.append("put_events")
        return real_put(**request)

    monkeypatch.setattr(client, "put_events", put_events)
    monkeypatch.setattr(events_handler, "client", lambda service, *a, **k: client)
    monkeypatch.setenv("PINREC_LEDGER", f"sqlite:{folder / 'ledger.db'}")
    monkeypatch.setenv("PINREC_SUPPRESSION", "")
    monkeypatch.setenv("PINREC_PERSONALIZE_TRACKER", TRACKING_ID)
    events_handler.reset()
    ledger, _ = events_handler.stores({"PINREC_LEDGER": f"sqlite:{folder / 'ledger.db'}"})
    real_record = ledger.record_events

    def record_events(*arguments: Any, **options: Any) -> Any:
        order.append("record_events")
        return real_record(*arguments, **options)

    monkeypatch.setattr(ledger, "record_events", record_events)
    try:
        with stubber:
            answer = events_handler.handler(sqs)
    finally:
        events_handler.reset()
    stubber.assert_no_pending_responses()
    assert answer == {"batchItemFailures": []}
    assert order == ["record_events", "put_events"]  # recorded first; one attempt, no retry, no wait
    # all five clicks are recorded and still queued: the next `pinrec engagement forward` sends them
    client2, stubber2 = personalize_stub()
    stubber2.add_response("put_events", {})
    with stubber2:
        report = forward_engagement(settings(), clients=lambda service: client2)
    assert (report.events, report.forwarded, report.calls) == (5, 5, 1)


def test_a_purchase_of_a_recommended_item_is_forwarded_once_with_its_value_and_the_campaign(
    sent: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = sent["folder"]
    bought = time.time() + 3600  # an hour after the send (recorded now)
    lines = [
        {
            "endpoint_id": "ep-1",
            "time": bought,
            "event_type": "purchase",
            "item_id": "P1004",
            "value": 89.0,
            "id": "o1",
        },
        {"user_id": "user-7", "time": bought, "event_type": "purchase", "id": "o2"},  # no item: not forwarded
        {"endpoint_id": "ep-9", "time": bought, "event_type": "purchase", "item_id": "P1", "id": "o3"},  # no recipient
        {"endpoint_id": "ep-1", "time": bought, "event_type": "signup", "item_id": "P1", "id": "o4"},  # not asked for
    ]
    (folder / "conversions.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    assert main(["conversions", "ingest", "conversions.jsonl", "--conversions", "sqlite:ledger.db"]) == 0
    client, stubber = personalize_stub()
    expected = {
        "trackingId": TRACKING_ID,
        "userId": "user-7",
        "sessionId": session_id(CAMPAIGN, "ep-1"),
        "eventList": [
            {
                "eventId": "conversion:o1",
                "eventType": "purchase",
                "itemId": "P1004",
                "sentAt": datetime.fromtimestamp(bought, UTC),
                "metricAttribution": {"eventAttributionSource": CAMPAIGN},
                "eventValue": 89.0,
            }
        ],
    }
    stubber.add_response("put_events", {}, expected)
    forwarding = settings(conversion_types=("purchase",), conversions="sqlite:ledger.db")
    with stubber:
        report = forward_engagement(forwarding, clients=lambda service: client)
        again = forward_engagement(forwarding, clients=lambda service: client)
    stubber.assert_no_pending_responses()
    assert (report.forwarded, again.forwarded, again.already) == (1, 0, 1)
    assert report.skipped == {"conversion_without_item": 1, "conversion_of_no_recipient_in_window": 1}
    capsys.readouterr()
