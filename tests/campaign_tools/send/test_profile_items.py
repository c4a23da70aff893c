"""`[store] kind = "profile-items"`: a send from a Customer Profiles recommender renders its messages from the catalog
items GetProfileRecommendations returned (botocore Stubber: moto has no customer-profiles), with no catalog, or after
a catalog that is read first."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from campaign_tools.cli import main
from campaign_tools.send import run

TEMPLATE = "recommended-for-you"
DOMAIN, RECOMMENDER = "shop", "picks"
PROFILES = {f"ep-{n}": f"{n:032x}" for n in range(3)}
"""Endpoint id -> its Customer Profiles profile id (Attributes.ProfileId)."""
ATTRIBUTES = """
[attributes.Title]
field = "name"
[attributes.ItemId]
field = "id"
[attributes.ImageUrl]
field = "image_url"
default = ""
[attributes.Price]
field = "price"
default = ""
[attributes.Url]
template = "{{ item.url }}?utm_source=sms&color={{ item.color | default('none') }}"
"""
BOOTS = {
    "Id": "P1",
    "Name": "Trail Boots",
    "Price": "89.00",
    "Link": "https://shop.example.com/p/P1",
    "ImageLink": "https://cdn.example.com/P1.jpg",
    "Attributes": {"color": "green"},
    "CreatedAt": datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC),
}
JACKET = {"Id": "P2", "Name": "Rain Jacket", "Link": "https://shop.example.com/p/P2", "Category": "outerwear"}
SOCKS = {"Id": "P3", "Name": "Wool Socks", "Price": "12.50", "Link": "https://shop.example.com/p/P3"}
RECOMMENDED = {"ep-0": [BOOTS, JACKET], "ep-1": [JACKET, SOCKS], "ep-2": [SOCKS]}
FIELDS = '\nfields = { "Attributes.color" = "color" }\n'


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    lines = [
        json.dumps(
            {"Id": endpoint_id, "ChannelType": "SMS", "Address": f"+1206555{n:04d}", "Attributes": {"ProfileId": [pid]}}
        )
        for n, (endpoint_id, pid) in enumerate(PROFILES.items())
    ]
    (tmp_path / "segment.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "pinrec.toml").write_text(f'[store]\nkind = "profile-items"{FIELDS}{ATTRIBUTES}', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def profiles_client(monkeypatch: pytest.MonkeyPatch, client: Any) -> None:
    """The send's AWS clients: `client` for customer-profiles; no other service may be called."""

    def make(service: str, *arguments: Any, **options: Any) -> Any:
        assert service == "customer-profiles", f"unexpected client {service}"
        return client

    monkeypatch.setattr(run, "client", make)


def stubbed(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Stubber]:
    client = boto3.client(
        "customer-profiles", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    profiles_client(monkeypatch, client)
    return client, Stubber(client)


def expect_recommendations(stubber: Stubber, recommended: dict[str, list[dict[str, Any]]]) -> None:
    """One GetProfileRecommendations per profile, exactly this request, in segment order."""
    for endpoint_id, items in recommended.items():
        stubber.add_response(
            "get_profile_recommendations",
            {"Recommendations": [{"CatalogItem": item, "Score": 0.9} for item in items]},
            {"DomainName": DOMAIN, "ProfileId": PROFILES[endpoint_id], "RecommenderName": RECOMMENDER, "MaxResults": 3},
        )


def send(*extra: str, config: str = "pinrec.toml") -> list[str]:
    return [
        "send", "--template", TEMPLATE, "--channel", "sms", "--sms-max-parts", "4", "--segment", "segment.jsonl",
        "--recommendations", f"customer-profiles:{DOMAIN}/{RECOMMENDER}@Attributes.ProfileId", "--per-message", "3",
        "--recommendation-concurrency", "1", "--config", config, "--campaign-id", "autumn", "--outbox", "out",
        "--ledger", "sqlite:ledger.db", "--suppression", "none", "--output", "json", *extra,
    ]  # fmt: skip


def bodies(workspace: Path) -> dict[str, str]:
    folder = workspace / "out" / "autumn"
    return {
        path.stem: json.loads(path.read_text())["SendTextMessage"]["MessageBody"] for path in sorted(folder.iterdir())
    }


def sms(title: str, price: str, url: str) -> str:
    shown_price = f" (${price})" if price else ""
    return f"Example Outfitters: picked for you, {title}{shown_price} {url} Reply STOP to opt out"


def summary(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    out = capsys.readouterr().out
    document: dict[str, Any] = json.loads(out)
    return document


def test_a_send_with_no_catalog_renders_the_items_customer_profiles_returned(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, stubber = stubbed(monkeypatch)
    with stubber:
        expect_recommendations(stubber, RECOMMENDED)  # the preflight's first batch; the run is answered by the cache
        assert main(send()) == 0
        stubber.assert_no_pending_responses()
    assert summary(capsys)["sent"] == 3
    assert bodies(workspace) == {
        "ep-0": sms("Trail Boots", "89.00", "https://shop.example.com/p/P1?utm_source=sms&color=green"),
        "ep-1": sms("Rain Jacket", "", "https://shop.example.com/p/P2?utm_source=sms&color=none"),
        "ep-2": sms("Wool Socks", "12.50", "https://shop.example.com/p/P3?utm_source=sms&color=none"),
    }


def test_with_a_catalog_the_catalog_is_read_first_and_profile_items_fill_only_the_ids_it_lacks(
    workspace: Path,
    make_catalog: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    catalog = make_catalog(
        [
            {"id": "P1", "name": "Catalog Boots", "price": "79.00", "url": "https://c.example.com/P1", "color": "red"},
            {"id": "P9", "name": "Catalog Only", "url": "https://c.example.com/P9"},
        ]
    )
    (workspace / "mixed.toml").write_text(
        f'[store]\nkind = "profile-items"{FIELDS}[store.catalog]\nkind = "sqlite"\npath = "{catalog}"\n{ATTRIBUTES}',
        encoding="utf-8",
    )
    _, stubber = stubbed(monkeypatch)
    with stubber:
        expect_recommendations(stubber, RECOMMENDED)
        assert main(send(config="mixed.toml")) == 0
    assert summary(capsys)["sent"] == 3
    assert bodies(workspace) == {
        "ep-0": sms("Catalog Boots", "79.00", "https://c.example.com/P1?utm_source=sms&color=red"),
        "ep-1": sms("Rain Jacket", "", "https://shop.example.com/p/P2?utm_source=sms&color=none"),
        "ep-2": sms("Wool Socks", "12.50", "https://shop.example.com/p/P3?utm_source=sms&color=none"),
    }


class HostileProfiles:
    """GetProfileRecommendations answering whatever JSON a service could send (botocore's Stubber validates
    responses, so this client stands in for one that does not)."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.requests: list[dict[str, Any]] = []

    def get_profile_recommendations(self, **request: Any) -> Any:
        self.requests.append(request)
        return self.answers[request["ProfileId"]]


def test_item_fields_of_any_json_value_leave_items_unknown_and_never_fail_the_send(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile_items = [
        {"Id": "H1", "Name": {"nested": ["object"]}, "Link": "https://shop.example.com/p/H1"},
        {"Id": "H2", "Name": ["a", "list"], "Link": None},
        {"Id": "H3", "Name": None},
        {"Id": "H4", "Name": "No link", "Link": 7, "Attributes": "not a map"},
        {"Id": "H5", "Name": 1e400, "Link": "https://x.example.com"},
        {"Id": 12, "Name": "an id that is not an item id"},
        "a catalog item that is a string",
        {"Id": "\ud800", "Name": "lone surrogate id"},
    ]
    client = HostileProfiles(
        {
            PROFILES["ep-0"]: {"Recommendations": [{"CatalogItem": item} for item in hostile_items[:3]]},
            PROFILES["ep-1"]: {"Recommendations": [{"CatalogItem": item} for item in hostile_items[3:]] + [None, 5]},
            PROFILES["ep-2"]: {"Recommendations": [{"CatalogItem": BOOTS}, {"CatalogItem": hostile_items[1]}]},
        }
    )
    profiles_client(monkeypatch, client)
    assert main(send()) == 0
    result = summary(capsys)
    assert result["sent"] == 2
    assert result["skipped"] == {"transformer_too_few_items": 1}
    assert bodies(workspace) == {
        "ep-1": sms("No link", "", "7?utm_source=sms&color=none"),
        "ep-2": sms("Trail Boots", "89.00", "https://shop.example.com/p/P1?utm_source=sms&color=green"),
    }


def test_profile_items_with_any_other_source_stop_the_send_before_anything_is_sent(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (workspace / "recs.jsonl").write_text('{"id": "ep-0", "items": ["P1"]}\n', encoding="utf-8")
    arguments = send()
    arguments[arguments.index("--recommendations") + 1] = "file:recs.jsonl"
    assert main(arguments) == 1
    error = capsys.readouterr().err
    assert "[store] kind = 'profile-items' reads the item fields a Customer Profiles recommender returns" in error
    assert "--recommendations customer-profiles:DOMAIN/RECOMMENDER" in error
    assert not (workspace / "out").exists()
