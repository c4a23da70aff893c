"""`pinrec migrate` over hand-written fixtures in the documented shapes (tests/data/migrate/project) and a
generated endpoint export of 10,000 records, named and compressed as Pinpoint's export jobs write them."""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import shutil
from collections import Counter
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from campaign_tools.campaigns.definition import load_campaign
from campaign_tools.channels import registry as channel_registry
from campaign_tools.cli import main
from campaign_tools.migrate.run import MigrateSettings, migrate
from campaign_tools.rendering import PinpointRenderer
from campaign_tools.templates.prebuilt import load_prebuilt
from transformer.config import load_config
from transformer.errors import PinrecError

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "migrate" / "project"
NOW = "2026-06-15T00:00:00Z"
CAMPAIGNS = json.loads((FIXTURES / "campaigns.json").read_text())["CampaignsResponse"]["Item"]
STORED_PARTS = {
    "email-subject": ("welcome-email", "Subject"),
    "email-html": ("welcome-email", "HtmlPart"),
    "email-text": ("welcome-email", "TextPart"),
    "sms-body": ("offer-sms", "Body"),
}


def export_records(count: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    records = []
    for number in range(count):
        record: dict[str, Any] = {
            "Id": f"ep-{number}",
            "ChannelType": rng.choice(["EMAIL", "EMAIL", "SMS"]),
            "Address": f"user{number}@example.com",
            "EndpointStatus": "ACTIVE",
            "OptOut": "NONE",
            "User": {"UserId": f"u-{number}", "UserAttributes": {"FirstName": [f"Name{number}"]}},
        }
        if rng.random() < 0.7:
            record["Attributes"] = {"Plan": [rng.choice(["free", "pro", "team"])]}
        if rng.random() < 0.8:
            record["Metrics"] = {"visits": rng.randint(0, 10)}
        records.append(record)
    return records


def expected_engaged(record: dict[str, Any]) -> bool:
    """The `engaged` segment read independently: EMAIL endpoints on the pro plan or with 7+ visits."""
    return record["ChannelType"] == "EMAIL" and (
        "pro" in record.get("Attributes", {}).get("Plan", []) or record.get("Metrics", {}).get("visits", -1) >= 7
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("pinpoint") / "export"
    shutil.copytree(FIXTURES, folder)
    records = export_records(10_000)
    lines = [json.dumps(record) for record in records]
    lines.insert(500, "{broken")
    endpoints = folder / "endpoints" / "app-1" / "export-job-1"
    endpoints.mkdir(parents=True)
    for part in range(2):
        chunk = lines[part * 5001 : (part + 1) * 5001]
        (endpoints / f"{part:04d}-8c6e7c9b").write_bytes(gzip.compress(("\n".join(chunk) + "\n").encode()))
    return folder, records


@pytest.fixture(scope="module")
def migrated(project: tuple[Path, list[dict[str, Any]]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("migrated") / "project"
    assert main(["migrate", "--from", str(project[0]), "--out", str(out), "--now", NOW]) == 0
    return out


def test_every_object_is_listed_with_what_it_became_or_why_not(migrated: Path) -> None:
    report = (migrated / "MIGRATION.md").read_text()
    for expected in (
        "email template **welcome-email**",
        "sms template **offer-sms**",
        "push template **app-push**",
        "recommender configuration **top-picks (rec-1)**",
        "segment **engaged (dim-seg)**",
        "segment **vip list (imp-seg)**",
        "segment **odd (odd-seg)**",
        "campaign **spring picks (c-1)**",
        "campaign **vip push (c-2)**",
        "journey **onboarding**",
        "in-app template **banner**",
        "journeys have no pinrec equivalent",
        "in-app messages are shown by the Pinpoint SDK",
        "BETWEEN takes 2 value(s), got 1",
        "Headers: pinrec's email channel sets its own headers",
        "APNS: per-platform overrides",
        "RecommendationTransformerUri (pinrec-transformer)",
        "1 malformed export records skipped",
    ):
        assert expected in report, expected
    assert "`campaigns/spring-picks-c-1/campaign.toml`: weekly local time, quiet time 21:00-08:00 (skip)" in report
    assert "`campaigns/vip-push-c-2/campaign.toml`: once, quiet time 22:00-07:00 (skip), channels push" in report
    assert "treatment sms-variant has no email message in Pinpoint" in report
    assert "RecommendationsPerMessage" not in report, "carried as the campaign's per_message"
    # Every field of each campaign is kept as exported beside its campaign.toml.
    for folder, campaign_id in (("spring-picks-c-1", "c-1"), ("vip-push-c-2", "c-2")):
        kept = json.loads((migrated / "campaigns" / folder / "pinpoint.json").read_text())["CampaignResponse"]
        assert kept == next(item for item in CAMPAIGNS if item["Id"] == campaign_id)


def test_audiences_hold_exactly_the_endpoints_each_definition_selects(
    migrated: Path, project: tuple[Path, list[dict[str, Any]]]
) -> None:
    _, records = project
    engaged = [json.loads(line)["Id"] for line in (migrated / "audiences" / "engaged-dim-seg.jsonl").open()]
    assert engaged == [record["Id"] for record in records if expected_engaged(record)]
    assert 1_000 < len(engaged) < 9_000
    vip = [json.loads(line)["Id"] for line in (migrated / "audiences" / "vip-list-imp-seg.jsonl").open()]
    assert vip == ["v1", "v2", "v3"]
    assert not (migrated / "audiences" / "odd-odd-seg.jsonl").exists()
    assert json.loads((migrated / "segments" / "odd-odd-seg.json").read_text())["SegmentResponse"]["Id"] == "odd-seg"


def test_imported_templates_render_byte_identically_to_the_stored_parts(migrated: Path) -> None:
    stored = {
        name: json.loads((FIXTURES / "templates" / f"{name}.json").read_text())
        for name in ("welcome-email", "offer-sms", "app-push")
    }
    bodies = {name: next(iter(data.values())) for name, data in stored.items()}
    renderer = PinpointRenderer()
    endpoints = [
        {"Id": "e1", "ChannelType": "EMAIL", "Address": "a@x.org"},
        {
            "Id": "e2",
            "User": {"UserId": "u", "UserAttributes": {"FirstName": ['Zoë <&> "O\'Neil"']}},
            "Attributes": {"Plan": ["pro"]},
            "Metrics": {"visits": 3},
            "RecommendationItems": ["P1", "P2"],
            "Recommendations": {"Title": ["Boots & socks", "Tent"], "Url": ["https://x/p1?a=1&b=2"]},
        },
        {"Id": "e3", "Recommendations": {"Title": ["Only one"]}, "User": {"UserAttributes": {"FirstName": [""]}}},
    ]
    checked = 0
    for channel, name in (("email", "welcome-email"), ("sms", "offer-sms"), ("push", "app-push")):
        template = load_prebuilt(migrated / "templates" / channel / name)
        body = bodies[name]
        for part, text in template.parts.items():
            field = STORED_PARTS.get(part.key, (name, None))[1]
            original = body[field] if field else body["Default"][part.key.removeprefix("push-").capitalize()]
            assert (migrated / "templates" / channel / name / part.built_file).read_bytes() == original.encode()
            assert text == original
            for endpoint in endpoints:
                direct = renderer.render(
                    original, endpoint, default_substitutions=body["DefaultSubstitutions"], escape=part.markup
                )
                assert template.render(renderer, part, endpoint).text == direct.text
                checked += 1
    assert checked == 3 * (3 + 1 + 3)


def test_template_folders_keep_defaults_binding_settings_and_lint(migrated: Path) -> None:
    email = migrated / "templates" / "email" / "welcome-email"
    built = json.loads((email / "template.json").read_text())
    assert built["default_substitutions"] == {
        "Recommendations.Title.[0]": "our bestseller",
        "User.UserAttributes.FirstName": "there",
    }
    assert built["attributes"] == ["Title", "Url"]
    binding = json.loads((email / "pinpoint.json").read_text())
    assert binding["RecommenderId"] == "rec-1" and binding["recommender"] == "recommenders/top-picks"
    lint = (email / "lint.txt").read_text()
    assert "number-print" in lint and "bare-list" not in lint.split("each")[0]
    push = load_prebuilt(migrated / "templates" / "push" / "app-push")
    settings = push.settings_for(channel_registry.channel("push"))
    assert settings is not None and settings.model_dump() == {"action": "URL", "sound": None}


def test_recommenders_become_a_valid_attribute_mapping_and_a_source(migrated: Path) -> None:
    folder = migrated / "recommenders" / "top-picks"
    config = load_config(folder / "pinrec.toml")
    assert list(config.attributes) == ["Title", "Url"]
    assert config.attributes["Title"].display_name == "Product title" and config.attributes["Title"].field == "Title"
    assert json.loads((folder / "send.json").read_text()) == {
        "recommendations": "personalize:arn:aws:personalize:us-east-1:123456789012:campaign/top-picks",
        "id_type": "user",
        "per_message": 3,
    }


def test_an_output_folder_with_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(PinrecError, match="already holds files"):
        migrate(MigrateSettings(source=str(FIXTURES), out=str(tmp_path / "out")))
    with pytest.raises(PinrecError, match="one of them"):
        MigrateSettings(out=str(tmp_path / "x"))


def test_from_api_reads_every_page_through_the_pinpoint_api(tmp_path: Path) -> None:
    client = boto3.client("pinpoint", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    email = json.loads((FIXTURES / "templates" / "welcome-email.json").read_text())
    segments = json.loads((FIXTURES / "segments.json").read_text())["SegmentsResponse"]["Item"]
    recommenders = json.loads((FIXTURES / "recommenders.json").read_text())
    campaigns = json.loads((FIXTURES / "campaigns.json").read_text())
    template_item = {
        "TemplateName": "welcome-email",
        "TemplateType": "EMAIL",
        "CreationDate": "2025-03-01T10:00:00.000Z",
        "LastModifiedDate": "2025-03-02T10:00:00.000Z",
    }
    with Stubber(client) as stubber:
        stubber.add_response(
            "list_templates", {"TemplatesResponse": {"Item": [template_item], "NextToken": "t2"}}, {"PageSize": "100"}
        )
        stubber.add_response("get_email_template", email, {"TemplateName": "welcome-email"})
        stubber.add_response(
            "list_templates", {"TemplatesResponse": {"Item": []}}, {"PageSize": "100", "NextToken": "t2"}
        )
        stubber.add_response(
            "get_segments",
            {"SegmentsResponse": {"Item": segments[:1], "NextToken": "s2"}},
            {"ApplicationId": "app-1", "PageSize": "100"},
        )
        stubber.add_response(
            "get_segments",
            {"SegmentsResponse": {"Item": segments[1:]}},
            {"ApplicationId": "app-1", "PageSize": "100", "Token": "s2"},
        )
        stubber.add_response("get_campaigns", campaigns, {"ApplicationId": "app-1", "PageSize": "100"})
        stubber.add_response(
            "list_journeys", {"JourneysResponse": {"Item": []}}, {"ApplicationId": "app-1", "PageSize": "100"}
        )
        stubber.add_response("get_recommender_configurations", recommenders, {"PageSize": "100"})
        migration = migrate(
            MigrateSettings(
                application_id="app-1",
                out=str(tmp_path / "out"),
                endpoints=(str(FIXTURES / "imports" / "imp-seg" / "vip.json"),),
                now=NOW,
            ),
            client=client,
        )
        stubber.assert_no_pending_responses()
    names = {outcome.name for outcome in migration.outcomes}
    assert {"welcome-email", "top-picks (rec-1)", "engaged (dim-seg)", "spring picks (c-1)"} <= names
    assert (tmp_path / "out" / "templates" / "email" / "welcome-email" / "email.html").is_file()
    # The imported segment's endpoints were not given (no imports/ folder through the API): said, not guessed.
    assert "its imported endpoints were not in the export" in (tmp_path / "out" / "MIGRATION.md").read_text()


def bucket(campaign_id: str, endpoint_id: str) -> int:
    """The assignment hash as README documents it, computed here independently of campaign_tools."""
    digest = hashlib.sha256(f"{campaign_id}\0{endpoint_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000


def plan_json(capsys: pytest.CaptureFixture[str], path: Path, *arguments: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["campaign", "plan", str(path), "--output", "json", *arguments]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def test_migrated_campaigns_validate_and_plan_to_exactly_their_segments(
    migrated: Path, project: tuple[Path, list[dict[str, Any]]], capsys: pytest.CaptureFixture[str]
) -> None:
    _, records = project
    spring = migrated / "campaigns" / "spring-picks-c-1" / "campaign.toml"
    vip = migrated / "campaigns" / "vip-push-c-2" / "campaign.toml"
    for path in (spring, vip):
        assert main(["campaign", "validate", str(path)]) == 0
    # spring picks: weekly at 09:00 local time from 2025-04-01; the endpoints have no time zone, so UTC applies and
    # quiet time does not; judged 10 minutes after the first slot.
    plan = plan_json(capsys, spring, "--now", "2025-04-01T09:10:00Z")
    selected = [record for record in records if expected_engaged(record)]
    expected: Counter[str] = Counter()
    for record in selected:
        value = bucket("spring-picks-c-1", record["Id"])
        expected["holdout" if value < 1_000 else "email" if value < 6_000 else "sms-variant"] += 1
    assert plan["segment"] == {
        "rows": len(selected),
        "eligible": len(selected),
        "malformed": 0,
        "malformed_examples": [],
        "skipped": {},
        "time_zones": {"no_timezone": len(selected)},
    }
    [slot] = plan["slots"]
    assert (slot["at"], slot["state"]) == ("2025-04-01T09:00:00Z", "due")
    assert slot["recipients"] == {group: {"email": n} for group, n in sorted(expected.items())}
    assert sum(expected.values()) == len(selected) and plan["skipped_in_slots"] == {}
    # vip push: ONCE, IMMEDIATE: the slot is when Pinpoint launched it (LastModifiedDate).
    plan = plan_json(capsys, vip, "--now", "2025-03-01T10:05:00Z")
    assert plan["segment"]["eligible"] == plan["segment"]["rows"] == 3
    [slot] = plan["slots"]
    assert (slot["at"], slot["state"], slot["recipients"]) == ("2025-03-01T10:00:00Z", "due", {"default": {"push": 3}})


def test_migrated_campaign_carries_schedule_limits_holdout_and_treatments(migrated: Path) -> None:
    spring = load_campaign(migrated / "campaigns" / "spring-picks-c-1" / "campaign.toml")
    schedule = spring.schedule
    assert (schedule.frequency, schedule.local_time, schedule.start, schedule.timezone) == (
        "weekly",
        True,
        datetime(2025, 4, 1, 9, 0),
        "UTC",
    )
    assert schedule.quiet_time is not None and schedule.quiet_time_mode == "skip"
    assert (schedule.quiet_time.start, schedule.quiet_time.end) == (time(21, 0), time(8, 0))
    assert (spring.limits.daily, spring.limits.total, spring.limits.messages_per_second) == (1, 3, 50)
    assert (spring.holdout_percent, spring.treatment_name, spring.default_share) == (10, "email", 50)
    [treatment] = spring.treatments
    assert (treatment.name, treatment.size_percent) == ("sms-variant", 40)
    assert spring.message("email", "email").built == "templates/email/welcome-email"
    assert spring.message("sms-variant", "sms").built == "templates/sms/offer-sms"
    assert spring.recommendations == "personalize:arn:aws:personalize:us-east-1:123456789012:campaign/top-picks"
    assert (spring.id_type, spring.config) == ("user", "recommenders/top-picks/pinrec.toml")
    assert spring.per_message == 3, "the recommender's RecommendationsPerMessage"
    assert spring.segment == str(migrated / "campaigns" / "spring-picks-c-1" / "../../audiences/engaged-dim-seg.jsonl")
    vip = load_campaign(migrated / "campaigns" / "vip-push-c-2" / "campaign.toml")
    assert vip.schedule.start == datetime(2025, 3, 1, 10, 0, tzinfo=UTC) and vip.recommendations == "segment"
    push = vip.message("default", "push")
    sender = push.sender(channel_registry.channel("push")).model_dump()
    assert (push.built, sender["application_id"]) == ("templates/push/app-push", "app-1")
