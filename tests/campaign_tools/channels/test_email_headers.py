"""Issue 11, headers: nothing an endpoint or the catalog holds can add a header or change the List-Unsubscribe URL.

The Subject is folded onto one line (each run of CR, LF or other control characters becomes one space); the
values substituted into `links.unsubscribe_url` are percent-encoded; a composer's further headers are refused when
they could break the header block. Generated over any user attribute, catalog title and endpoint id.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import botocore.client
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaign_tools.catalog.records import read_jsonl
from campaign_tools.channels.base import ComposeError
from campaign_tools.channels.email import INVALID_HEADER, INVALID_UNSUBSCRIBE_URL, RESERVED_HEADERS, EmailMessage
from campaign_tools.cli import main
from campaign_tools.send.compose import ComposerOptions, TemplateComposer
from tests.aws_fixtures import verify_ses_identity
from tests.conftest import DEMO_DATA
from transformer.config import load_config
from transformer.stores.sqlite import write_snapshot

CONTROL = "".join(chr(code) for code in [*range(0x20), *range(0x7F, 0xA0)]) + "\u2028\u2029"
hostile_text = st.lists(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=8)
    | st.sampled_from(["\r\n", "\n", "\r", "\r\nBcc: x@evil.example", "<", ">", ",", "\u2028"])
).map("".join)
"""Any text, with line breaks and header-looking pieces often."""
endpoint_ids = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=80).filter(lambda text: text.strip())


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    (folder / "pinrec.toml").write_text((DEMO_DATA / "pinrec.toml").read_text(encoding="utf-8"), encoding="utf-8")
    lines = (DEMO_DATA / "catalog.jsonl").read_text(encoding="utf-8").splitlines()
    write_snapshot(read_jsonl(lines, "id"), folder / "catalog.db", key="id", source="test")
    return folder


@pytest.fixture(scope="module")
def composer(demo_folder: Path) -> TemplateComposer:
    config = load_config(demo_folder / "pinrec.toml")
    return TemplateComposer(ComposerOptions("recommended-for-you", None, "email", config))


def enriched(endpoint_id: str, first_name: str, title: str) -> dict[str, Any]:
    return {
        "Id": endpoint_id,
        "ChannelType": "EMAIL",
        "Address": "ana@example.com",
        "User": {"UserAttributes": {"FirstName": [first_name]}},
        "Recommendations": {
            "Title": [title],
            "ItemId": ["P1"],
            "ImageUrl": ["https://cdn.example.com/p1.jpg"],
            "Price": ["1.00"],
            "Url": ["https://shop.example.com/p/P1"],
        },
    }


@settings(max_examples=150, deadline=None)
@given(endpoint_id=endpoint_ids, first_name=hostile_text, title=hostile_text)
def test_no_attribute_catalog_value_or_id_can_change_the_headers(
    composer: TemplateComposer, endpoint_id: str, first_name: str, title: str
) -> None:
    message = composer.compose(endpoint_id, enriched(endpoint_id, first_name, title))
    assert isinstance(message, EmailMessage)
    assert not any(character in CONTROL for character in message.subject), "the Subject is one line"
    url = message.unsubscribe_url
    parts = urlsplit(url)
    assert (parts.scheme, parts.hostname, parts.path) == ("https", "shop.example.com", "/preferences")
    assert parse_qs(parts.query)["endpoint"] == [endpoint_id], "the id is one query value, whole"
    header = dict(message.all_headers())["List-Unsubscribe"]
    assert header == f"<{url}>" and url.isascii() and not any(c in CONTROL + " <>," for c in url)


@settings(max_examples=200)
@given(name=st.text(min_size=1) | st.sampled_from(sorted(RESERVED_HEADERS)) | st.just("X-Campaign"), value=hostile_text)
def test_a_further_header_is_refused_unless_it_is_one_plain_field(name: str, value: str) -> None:
    plain_name = name.isascii() and name.isprintable() and ":" not in name and " " not in name
    plain = plain_name and name.lower() not in RESERVED_HEADERS and not any(c in CONTROL for c in value)
    try:
        EmailMessage("a@example.com", "S", "<p>H</p>", None, "https://u.example/1", headers=((name, value),))
    except ComposeError as error:
        assert error.reason == INVALID_HEADER and not plain
        return
    assert plain


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "https://", "https://x.example/a b", "https://x.example/\r\nBcc: y", "https://x.example/ä"],
)
def test_an_unsubscribe_url_that_is_not_an_http_url_of_rfc3986_characters_is_refused(url: str) -> None:
    with pytest.raises(ComposeError, match=INVALID_UNSUBSCRIBE_URL):
        EmailMessage("a@example.com", "S", "<p>H</p>", None, url)


# Through `pinrec send --template recommended-for-you --deliver` on moto's SES.


@pytest.fixture
def ses_requests(moto_aws: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Every SendEmail request the send makes, as it goes to moto's SES."""
    verify_ses_identity(boto3.client("sesv2"), "news@shop.example.com")
    requests: list[dict[str, Any]] = []
    real = botocore.client.BaseClient._make_api_call

    def spy(client: Any, operation: str, parameters: dict[str, Any]) -> Any:
        if operation == "SendEmail":
            requests.append(parameters)
        return real(client, operation, parameters)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", spy)
    yield requests


def test_injected_headers_never_reach_ses(
    demo_folder: Path, tmp_path: Path, ses_requests: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    endpoints = {
        "ep-crlf": "Ana\r\nBcc: victim@evil.example",
        "ep-1>, <https://evil.example/x?a=1&b": "Bo",
        "ep 2\r\nX-Injected: 1": "Cy\u2028Dee\x00",
    }
    records = [
        {
            "Id": key,
            "ChannelType": "EMAIL",
            "Address": f"u{n}@example.com",
            "User": {"UserAttributes": {"FirstName": [name]}},
        }
        for n, (key, name) in enumerate(endpoints.items())
    ]
    (tmp_path / "segment.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    recommendations = [{"id": key, "items": ["P1001"]} for key in endpoints]
    (tmp_path / "recs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recommendations), encoding="utf-8")
    arguments = ["send", "--template", "recommended-for-you", "--config", str(demo_folder / "pinrec.toml")]
    arguments += ["--segment", str(tmp_path / "segment.jsonl"), "--recommendations", f"file:{tmp_path / 'recs.jsonl'}"]
    arguments += ["--campaign-id", "h1", "--ledger", f"sqlite:{tmp_path / 'l.db'}", "--deliver"]
    arguments += ["--from", "news@shop.example.com", "--rate", "100"]
    assert main(arguments) == 0
    assert "sent 3, skipped 0, failed 0" in capsys.readouterr().out
    assert len(ses_requests) == len(endpoints)
    for request in ses_requests:
        simple = request["Content"]["Simple"]
        assert not any(character in CONTROL for character in simple["Subject"]["Data"])
        headers = {header["Name"]: header["Value"] for header in simple["Headers"]}
        assert list(headers) == ["List-Unsubscribe", "List-Unsubscribe-Post"]
        url = headers["List-Unsubscribe"].removeprefix("<").removesuffix(">")
        assert parse_qs(urlsplit(url).query)["endpoint"][0] in endpoints and not any(c in CONTROL + " <>," for c in url)
