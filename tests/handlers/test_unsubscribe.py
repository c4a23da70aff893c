"""The one-click unsubscribe over real HTTP on loopback: the real `handlers.unsubscribe.handler` behind a function
URL stand-in (tests/unsubscribe_server.py) on 127.0.0.1, a real SQLite suppression list.

A valid token's POST suppresses its address (for its topic only, when it has one) and answers 200; posting again
changes nothing. A forged, altered, other-key or replayed-for-another-address token is refused with one generic
page, and nothing is suppressed. A GET shows the confirmation page (its form POSTs) and suppresses nothing. Then
a real `pinrec send` in the `pinrec` mode writes messages whose List-Unsubscribe URL, POSTed as a mail client does,
suppresses that recipient; the next send skips them."""

from __future__ import annotations

import base64
import email
import email.policy
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import handlers.unsubscribe
from campaign_tools.cli import main
from campaign_tools.suppression.base import Reason
from campaign_tools.suppression.sqlite import SqliteSuppressionList
from campaign_tools.unsubscribe.keys import forget_keys
from campaign_tools.unsubscribe.tokens import TAG_BYTES, Claims, SigningKey, fingerprint, issue
from tests.unsubscribe_fixtures import ADDRESSES, KEY_ENV, SECRET, demo_deploy, segment, template_with
from tests.unsubscribe_server import function_url_server

KEY = SigningKey(fingerprint(SECRET.encode()), SECRET.encode())
ONE_CLICK = b"List-Unsubscribe=One-Click"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def suppression_db(tmp_path: Path) -> Path:
    return tmp_path / "suppression.db"


@pytest.fixture
def server(suppression_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv(KEY_ENV, SECRET)
    monkeypatch.setenv(handlers.unsubscribe.KEY_ENV, f"env:{KEY_ENV}")
    monkeypatch.setenv(handlers.unsubscribe.SUPPRESSION_ENV, f"sqlite:{suppression_db}")
    handlers.unsubscribe.reset()
    forget_keys()
    with function_url_server() as base:
        yield base
    handlers.unsubscribe.reset()
    forget_keys()


def http(method: str, url: str, body: bytes | None = None, content_type: str = FORM) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # loopback only
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def suppressed(database: Path) -> list[tuple[str, str, Reason, str | None, str]]:
    if not database.exists():
        return []
    listed = SqliteSuppressionList(database, read_only=True)
    try:
        return [(e.channel, e.address, e.reason, e.topic, e.source) for e in listed.entries()]
    finally:
        listed.close()


def token(address: str = "Ana@Example.com", topic: str | None = "news", key: SigningKey = KEY) -> str:
    return issue(Claims("spring", "ep-ana", address, topic, 20_400), key)


def test_a_valid_one_click_post_suppresses_for_its_topic_and_again_changes_nothing(
    server: str, suppression_db: Path
) -> None:
    url = f"{server}/u/{token()}"
    for _ in range(2):
        status, body, headers = http("POST", url, ONE_CLICK)
        assert (status, body) == (200, "You are unsubscribed.\n")
        assert headers["Content-Type"].startswith("text/plain") and headers["Cache-Control"] == "no-store"
    assert suppressed(suppression_db) == [("email", "ana@example.com", Reason.UNSUBSCRIBE, "news", "one-click")]


def test_a_token_without_topic_suppresses_everything_on_the_channel(server: str, suppression_db: Path) -> None:
    assert http("POST", f"{server}/u/{token(topic=None)}", ONE_CLICK)[0] == 200
    assert suppressed(suppression_db) == [("email", "ana@example.com", Reason.UNSUBSCRIBE, None, "one-click")]


def _edited_for(valid: str, other: str) -> str:
    """The token with its (encrypted) address flipped, bit for bit, into `other` of the same length."""
    data = bytearray(base64.urlsafe_b64decode(valid + "=" * (-len(valid) % 4)))
    start = 2 + data[1] + 3 + TAG_BYTES + 2 + len(b"spring") + 2 + len(b"ep-ana") + 2
    for offset, (was, wanted) in enumerate(zip(b"ana@example.com", other.encode(), strict=True)):
        data[start + offset] ^= was ^ wanted
    return base64.urlsafe_b64encode(bytes(data)).rstrip(b"=").decode()


def _flipped(valid: str) -> str:
    data = bytearray(base64.urlsafe_b64decode(valid + "=" * (-len(valid) % 4)))
    data[len(data) // 2] ^= 0x01
    return base64.urlsafe_b64encode(bytes(data)).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda: "AQhmb3JnZWQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", id="forged"),
        pytest.param(lambda: _flipped(token()), id="altered"),
        pytest.param(lambda: token()[:-3], id="truncated"),
        pytest.param(lambda: token(key=SigningKey(KEY.key_id, b"z" * 40)), id="other-key"),
        pytest.param(lambda: _edited_for(token(), "eve@example.org"), id="replayed-for-another-address"),
    ],
)
def test_a_bad_token_is_refused_with_one_generic_page_and_nothing_is_suppressed(
    server: str, suppression_db: Path, bad: object
) -> None:
    made = bad()  # type: ignore[operator]
    for method in ("POST", "GET"):
        status, body, headers = http(method, f"{server}/u/{made}", ONE_CLICK if method == "POST" else None)
        assert status == 403 and "not valid" in body and headers["Content-Type"].startswith("text/html")
        assert "eve@" not in body and "ana@" not in body
    assert suppressed(suppression_db) == []


def test_a_get_shows_a_page_whose_form_posts_and_suppresses_nothing(server: str, suppression_db: Path) -> None:
    status, body, headers = http("GET", f"{server}/u/{token()}")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert re.search(r'<form method="post" action="">', body)
    assert '<input type="hidden" name="List-Unsubscribe" value="One-Click">' in body
    assert "ana@" not in body.lower() and "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert suppressed(suppression_db) == []
    assert http("POST", f"{server}/u/{token()}", ONE_CLICK)[0] == 200, "the form's POST is the one-click POST"
    assert len(suppressed(suppression_db)) == 1


def test_other_paths_and_methods(server: str, suppression_db: Path) -> None:
    assert http("GET", f"{server}/")[0] == 404
    assert http("GET", f"{server}/x/{token()}")[0] == 404
    status, _, headers = http("PUT", f"{server}/u/{token()}", b"")
    assert status == 405 and headers["Allow"] == "GET, POST"
    assert http("POST", f"{server}/unsubscribe/u/{token()}", ONE_CLICK)[0] == 200, "below a path prefix too"
    assert len(suppressed(suppression_db)) == 1


def test_a_multipart_one_click_body_is_accepted(server: str, suppression_db: Path) -> None:
    body = b'--b\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--b--\r\n'
    assert http("POST", f"{server}/u/{token()}", body, "multipart/form-data; boundary=b")[0] == 200
    assert len(suppressed(suppression_db)) == 1


def test_an_unreadable_key_answers_503_and_suppresses_nothing(
    server: str, suppression_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV)
    handlers.unsubscribe.reset()
    forget_keys()
    status, body, _ = http("POST", f"{server}/u/{token()}", ONE_CLICK)
    assert status == 503 and "try again" in body.lower()
    assert suppressed(suppression_db) == []


def test_the_key_ring_rotates_old_links_keep_working(
    server: str, suppression_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = SigningKey("2026-05", b"o" * 32)
    monkeypatch.setenv(
        KEY_ENV, '{"current": "2026-11", "keys": {"2026-05": "' + "o" * 32 + '", "2026-11": "' + "n" * 32 + '"}}'
    )
    handlers.unsubscribe.reset()
    forget_keys()
    assert http("POST", f"{server}/u/{token(key=old)}", ONE_CLICK)[0] == 200
    assert len(suppressed(suppression_db)) == 1


# The whole loop: pinrec send (outbox, pinrec mode) -> the List-Unsubscribe URL -> one-click POST -> suppressed.


def send_arguments(tmp_path: Path, campaign: str, base: str, *extra: str) -> list[str]:
    config = demo_deploy(tmp_path / "deploy")
    template = tmp_path / "templates" / "recommended-for-you"
    if not template.exists():
        template_with(tmp_path / "templates", 'unsubscribe = "pinrec"\ntopic = "news"')
    segment_path, recommendations = segment(tmp_path)
    return [
        "send", "--template", str(template), "--config", str(config), "--segment", str(segment_path),
        "--recommendations", f"file:{recommendations}", "--campaign-id", campaign,
        "--outbox", str(tmp_path / "outbox"), "--ledger", f"sqlite:{tmp_path / 'ledger.db'}",
        "--unsubscribe-endpoint", base, "--unsubscribe-key", f"env:{KEY_ENV}", *extra,
    ]  # fmt: skip


def list_unsubscribe(eml: Path) -> tuple[str, str, list[str]]:
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    headers = message.get_all("List-Unsubscribe") or []
    assert len(headers) == 1 and message.get_all("List-Unsubscribe-Post") == ["List-Unsubscribe=One-Click"]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    return str(headers[0]).strip("<>"), html, re.findall(r'href="([^"]*)" ses:tags="unsubscribeLinkTag', html)


def test_a_sent_messages_list_unsubscribe_url_suppresses_its_recipient(
    server: str, suppression_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(send_arguments(tmp_path, "spring", server)) == 0
    assert "sent 3" in capsys.readouterr().out
    url, _, links = list_unsubscribe(tmp_path / "outbox" / "spring" / "ep-ana.eml")
    assert links == [url] and urlsplit(url).path.startswith("/u/") and url.startswith(server)
    assert "ana" not in urlsplit(url).path.lower()
    assert http("POST", url, ONE_CLICK)[0] == 200
    assert suppressed(suppression_db) == [("email", "ana@example.com", Reason.UNSUBSCRIBE, "news", "one-click")]


def test_an_unsubscribed_address_is_skipped_by_the_next_send(
    server: str, suppression_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from campaign_tools.send.settings import SendSettings

    if "suppression" not in SendSettings.model_fields:
        pytest.skip("the send-side suppression check (SendSettings.suppression, issue 13) is not merged yet")
    assert main(send_arguments(tmp_path, "spring", server)) == 0
    url, _, _ = list_unsubscribe(tmp_path / "outbox" / "spring" / "ep-ana.eml")
    assert http("POST", url, ONE_CLICK)[0] == 200
    capsys.readouterr()
    arguments = send_arguments(
        tmp_path, "summer", server, "--suppression", f"sqlite:{suppression_db}", "--topic", "news"
    )
    assert main([*arguments, "--output", "json"]) == 0
    output = capsys.readouterr().out
    assert '"suppressed:unsubscribe": 1' in output
    assert sorted(path.name for path in (tmp_path / "outbox" / "summer").iterdir()) == ["ep-bo.eml", "ep-cy.eml"]
    assert set(ADDRESSES) == {"ep-ana", "ep-bo", "ep-cy"}


def test_with_a_ledger_each_unsubscribe_is_an_event_of_its_campaign_that_the_report_counts(
    server: str,
    suppression_db: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`PINREC_LEDGER` set: the POST also records a `subscription` / `unsubscribed` event (detail `one-click`) for
    the token's campaign and endpoint; posting again is a duplicate; `pinrec send report` counts it under
    unsubscribed. A token whose endpoint the ledger does not know still unsubscribes."""
    import json

    from campaign_tools.send.ledgers.sqlite import SqliteLedger

    ledger = tmp_path / "ledger.db"
    assert main(send_arguments(tmp_path, "spring", server)) == 0
    url, _, _ = list_unsubscribe(tmp_path / "outbox" / "spring" / "ep-ana.eml")
    monkeypatch.setenv(handlers.unsubscribe.LEDGER_ENV, f"sqlite:{ledger}")
    handlers.unsubscribe.reset()
    assert http("POST", url, ONE_CLICK)[0] == 200
    assert http("POST", url, ONE_CLICK)[0] == 200
    stranger = f"{server}/u/{issue(Claims('spring', 'ep-nobody', 'zed@example.com', 'news', 20_400), KEY)}"
    assert http("POST", stranger, ONE_CLICK)[0] == 200
    handlers.unsubscribe.reset()  # closes the function's ledger
    assert ("email", "zed@example.com", Reason.UNSUBSCRIBE, "news", "one-click") in suppressed(suppression_db)
    reader = SqliteLedger(ledger, read_only=True)
    (stored,) = list(reader.events("spring"))
    reader.close()
    assert (stored.endpoint_id, stored.kind, stored.subtype, stored.detail, stored.topic, stored.message_id) == (
        "ep-ana",
        "subscription",
        "unsubscribed",
        "one-click",
        "news",
        None,
    )
    capsys.readouterr()
    assert main(["send", "report", "spring", "--ledger", f"sqlite:{ledger}", "--output", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["events"], report["total"]["unsubscribed"], report["total"]["sent"]) == (1, 1, 3)
    assert sum(report["series"]["first_events"]["subscription"]) == 1


def test_a_ledger_that_cannot_be_written_costs_the_report_not_the_unsubscribe(
    server: str, suppression_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from campaign_tools.send.ledgers.base import LedgerError
    from campaign_tools.send.ledgers.sqlite import SqliteLedger

    def failing(*_: object) -> None:
        raise LedgerError("throttled")

    monkeypatch.setenv(handlers.unsubscribe.LEDGER_ENV, f"sqlite:{tmp_path / 'ledger.db'}")
    monkeypatch.setattr(SqliteLedger, "record_events", failing)
    handlers.unsubscribe.reset()
    assert http("POST", f"{server}/u/{token()}", ONE_CLICK)[0] == 200
    assert suppressed(suppression_db) == [("email", "ana@example.com", Reason.UNSUBSCRIBE, "news", "one-click")]
    (tmp_path / "not-a-ledger").mkdir()
    monkeypatch.setenv(handlers.unsubscribe.LEDGER_ENV, f"sqlite:{tmp_path / 'not-a-ledger'}")
    handlers.unsubscribe.reset()
    status, _, _ = http("POST", f"{server}/u/{token(topic=None)}", ONE_CLICK)
    assert status == 503, "a ledger that cannot be opened is a configuration error, as a key that cannot be read"
