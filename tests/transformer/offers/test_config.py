"""The [offers] table and the offers file: valid ones load; every broken rule fails the cold start by name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_catalog
from transformer.config import load_config, parse_config
from transformer.errors import ConfigError
from transformer.service import Transformer

STORE = {"kind": "sqlite", "path": "catalog.db"}
ATTRIBUTES = {"OfferTitle": {"field": "title"}, "OfferCode": {"field": "code"}}
ARN = "arn:aws:personalize:us-east-1:123456789012:campaign/offers"
OFFER = {"id": "A", "title": "T", "description": "D", "code": "C-1", "preference": 1}


def _config(tmp_path: Path, offers: dict[str, Any], attributes: dict[str, Any] | None = None, **extra: Any):
    data = {"store": STORE, "attributes": attributes or ATTRIBUTES, "offers": offers, **extra}
    return parse_config(data, base_dir=tmp_path)


def test_defaults_and_catalog_path_relative_to_the_config(tmp_path):
    config = _config(tmp_path, {"catalog": "offers.jsonl"})
    offers = config.offers
    assert offers is not None
    assert offers.catalog == str(tmp_path / "offers.jsonl")
    assert (offers.scoring, offers.exploration, offers.per_endpoint, offers.score_attribute) == ("rank", 0, 1, None)
    assert _config(tmp_path, {"catalog": "store"}).offers.catalog == "store"


def test_personalize_settings_and_score_attribute(tmp_path):
    config = _config(
        tmp_path,
        {
            "catalog": "o.jsonl",
            "scoring": "personalize",
            "campaign_arn": ARN,
            "id_type": "user",
            "region": "eu-west-1",
            "endpoint_url": "http://127.0.0.1:9000",
            "score_attribute": "OfferScore",
            "exploration": 0.25,
            "per_endpoint": 5,
        },
    )
    assert config.offers.campaign_arn == ARN
    assert config.recommendation_attributes() == ["OfferTitle", "OfferCode", "OfferScore"]
    assert config.display_name("OfferScore") == "OfferScore"


@pytest.mark.parametrize(
    ("offers", "expected"),
    [
        ({}, r"offers\.catalog: Field required"),
        ({"catalog": ""}, r"offers\.catalog: String should have at least 1 character"),
        ({"catalog": "o.jsonl", "scoring": "bandit"}, r"offers\.scoring: Input should be 'rank' or 'personalize'"),
        ({"catalog": "o.jsonl", "exploration": 1.5}, r"offers\.exploration: Input should be less than or equal to 1"),
        ({"catalog": "o.jsonl", "exploration": -0.1}, r"offers\.exploration: Input should be greater than or equal"),
        ({"catalog": "o.jsonl", "exploration": float("nan")}, r"offers\.exploration: Input should be a finite number"),
        (
            {"catalog": "o.jsonl", "per_endpoint": 0},
            r"offers\.per_endpoint: Input should be greater than or equal to 1",
        ),
        ({"catalog": "o.jsonl", "per_endpoint": 6}, r"offers\.per_endpoint: Input should be less than or equal to 5"),
        ({"catalog": "o.jsonl", "score_attribute": "Offer Score"}, r"offers\.score_attribute: .*1-50 letters"),
        ({"catalog": "o.jsonl", "scoring": "personalize"}, r"offers: scoring = 'personalize' needs campaign_arn"),
        (
            {"catalog": "o.jsonl", "scoring": "personalize", "campaign_arn": "arn:aws:s3:::bucket"},
            r"offers\.campaign_arn: must be a Personalize campaign ARN",
        ),
        (
            {"catalog": "store", "scoring": "personalize", "campaign_arn": ARN},
            r"offers: scoring = 'personalize' ranks every offer, which the item store cannot list",
        ),
        ({"catalog": "o.jsonl", "campaign_arn": ARN}, r"offers: campaign_arn only apply with scoring = 'personalize'"),
        ({"catalog": "o.jsonl", "id_type": "user"}, r"offers: id_type only apply with scoring = 'personalize'"),
        (
            {"catalog": "o.jsonl", "scoring": "personalize", "campaign_arn": ARN, "id_type": "email"},
            r"offers\.id_type: Input should be 'endpoint' or 'user'",
        ),
        (
            {"catalog": "o.jsonl", "scoring": "personalize", "campaign_arn": ARN, "region": "mars"},
            r"offers\.region: must be an AWS region name",
        ),
        (
            {"catalog": "o.jsonl", "scoring": "personalize", "campaign_arn": ARN, "endpoint_url": "ftp://x"},
            r"offers\.endpoint_url: must be an http:// or https:// URL",
        ),
        (
            {"catalog": "o.jsonl", "scoring": "personalize", "campaign_arn": ARN, "concurrency": 0},
            r"offers\.concurrency: Input should be greater than or equal to 1",
        ),
        ({"catalog": "o.jsonl", "colour": "red"}, r"offers\.colour: unknown key"),
        ({"catalog": "o.jsonl", "score_attribute": "OfferCode"}, r"'OfferCode' is also an \[attributes\] table"),
    ],
)
def test_each_offers_rule_names_its_key(tmp_path, offers, expected):
    with pytest.raises(ConfigError, match=expected):
        _config(tmp_path, offers)


def test_score_attribute_counts_within_the_ten_attribute_limit(tmp_path):
    ten = {f"A{index}": {"field": "title"} for index in range(10)}
    with pytest.raises(ConfigError, match=r"at most 10 recommendation attributes: 10 \[attributes\] tables plus"):
        _config(tmp_path, {"catalog": "o.jsonl", "score_attribute": "OfferScore"}, attributes=ten)
    nine = {f"A{index}": {"field": "title"} for index in range(9)}
    assert _config(tmp_path, {"catalog": "o.jsonl", "score_attribute": "OfferScore"}, attributes=nine)


def test_recommendations_table_does_not_apply_to_offers(tmp_path):
    with pytest.raises(ConfigError, match=r"\[recommendations\] does not apply with \[offers\]"):
        _config(tmp_path, {"catalog": "o.jsonl"}, recommendations={"min_items": 1})


def _transformer_with_offers(tmp_path: Path, lines: list[str], **offers: Any) -> Transformer:
    write_catalog(tmp_path / "catalog.db", [{"id": "x"}])
    (tmp_path / "offers.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Transformer(_config(tmp_path, {"catalog": "offers.jsonl", **offers}))


def _line(**changes: Any) -> str:
    offer = {**OFFER, **changes}
    return json.dumps({key: value for key, value in offer.items() if value is not None})


@pytest.mark.parametrize(
    ("bad_line", "expected"),
    [
        (_line(code=None), r"line 2: code must be a non-empty string"),
        (_line(code="  "), r"line 2: code must be a non-empty string"),
        (_line(title=None), r"line 2: title must be a non-empty string"),
        (_line(description=3), r"line 2: description must be a non-empty string"),
        (_line(id=None), r"line 2: id must be a non-empty string or an integer"),
        (_line(id="x" * 101), r"line 2: id must be at most 100 characters"),
        (_line(preference=None), r"line 2: preference is required"),
        (_line(preference=0), r"line 2: preference must be a finite number greater than 0"),
        (_line(preference=-2), r"line 2: preference must be a finite number greater than 0"),
        (_line(preference="high"), r"line 2: preference must be a number, got str"),
        (_line(preference=True), r"line 2: preference must be a number, got bool"),
        (_line(expires_at="2026-12-01T00:00:00"), r"line 2: expires_at has no time zone"),
        (_line(starts_at="next week"), r"line 2: starts_at is not an ISO 8601 timestamp"),
        (_line(starts_at=20261201), r"line 2: starts_at must be an ISO 8601 string, got int"),
        (
            _line(starts_at="2026-12-01T00:00:00Z", expires_at="2026-11-01T00:00:00Z"),
            r"line 2: expires_at must be later than starts_at",
        ),
        (_line(channels=["EMAIL", "FAX"]), r"line 2: channels holds 1 unknown channel type"),
        (_line(channels=[]), r"line 2: channels must be a non-empty list"),
        (_line(channels="EMAIL"), r"line 2: channels must be a non-empty list"),
        ("{not json", r"line 2: not valid JSON"),
        ("[1, 2]", r"line 2: expected a JSON object, got list"),
        (_line(), r"line 2: duplicate offer id"),
    ],
)
def test_an_invalid_offer_fails_the_cold_start_naming_its_line(tmp_path, bad_line, expected):
    first = _line() if "duplicate" in expected else _line(id="Z")
    with pytest.raises(ConfigError, match=r"offers\.catalog: .*offers\.jsonl " + expected):
        _transformer_with_offers(tmp_path, [first, bad_line])


def test_an_offer_lacking_an_attribute_value_names_the_attribute(tmp_path):
    attributes = {**ATTRIBUTES, "OfferExpiry": {"field": "expires_at"}}
    write_catalog(tmp_path / "catalog.db", [{"id": "x"}])
    (tmp_path / "offers.jsonl").write_text(_line() + "\n", encoding="utf-8")
    config = _config(tmp_path, {"catalog": "offers.jsonl"}, attributes=attributes)
    with pytest.raises(
        ConfigError, match=r"line 1: attribute OfferExpiry \(field 'expires_at' is absent\) has no value"
    ):
        Transformer(config)


def test_missing_or_empty_offers_file(tmp_path):
    write_catalog(tmp_path / "catalog.db", [{"id": "x"}])
    with pytest.raises(ConfigError, match=r"offers\.catalog: offers file .*offers\.jsonl does not exist"):
        Transformer(_config(tmp_path, {"catalog": "offers.jsonl"}))
    with pytest.raises(ConfigError, match=r"holds no offers"):
        _transformer_with_offers(tmp_path, ["", "  "])


def test_personalize_rejects_more_offers_than_one_ranking_call_takes(tmp_path):
    lines = [_line(id=f"O{index}") for index in range(501)]
    with pytest.raises(ConfigError, match=r"holds 501 offers; GetPersonalizedRanking ranks at most 500"):
        _transformer_with_offers(tmp_path, lines, scoring="personalize", campaign_arn=ARN, region="us-east-1")


def test_cold_start_of_the_handler_fails_naming_the_offer_line(tmp_path):
    write_catalog(tmp_path / "catalog.db", [{"id": "x"}])
    (tmp_path / "offers.jsonl").write_text(_line() + "\n" + _line(id="B", code=None) + "\n", encoding="utf-8")
    config = tmp_path / "pinrec.toml"
    config.write_text(
        '[store]\nkind = "sqlite"\npath = "catalog.db"\n[offers]\ncatalog = "offers.jsonl"\n'
        '[attributes.OfferCode]\nfield = "code"\n',
        encoding="utf-8",
    )
    assert load_config(config).offers is not None
    result = subprocess.run(
        [sys.executable, "-c", "import handlers.transformer"],
        env={"PINREC_CONFIG": str(config), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "offers.jsonl line 2: code must be a non-empty string" in result.stderr
