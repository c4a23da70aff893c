"""The templates workflows: settings checked at once, then one function per action (build, lint, preview, publish)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from botocore.stub import Stubber

from campaign_tools.aws.session import AwsSession
from campaign_tools.settings import InvalidSettings
from campaign_tools.templates import workflows
from campaign_tools.templates.build import build_template, write_build
from campaign_tools.templates.errors import TemplateError
from campaign_tools.templates.manifest import builtin_templates_dir, load_template
from campaign_tools.templates.publish import Action
from transformer.config import CONFIG_ENV_VAR

RECOMMENDER = "a1b2c3d4"
DEMO_CONFIG = Path(str(resources.files("campaign_tools") / "demo_data" / "pinrec.toml"))
GETS = ("get_email_template", "get_sms_template", "get_push_template")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current directory without $PINREC_CONFIG, so every default is the documented one."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)
    return tmp_path


@pytest.fixture
def broken_offer(tmp_path: Path) -> Path:
    """A copy of the shipped offer template with one lint error (a raw Handlebars list in the push title)."""
    folder = tmp_path / "templates" / "offer"
    shutil.copytree(builtin_templates_dir() / "offer", folder)
    title = folder / "push-title.jinja"
    title.write_text(title.read_text(encoding="utf-8").replace("[[", "{{Recommendations.OfferTitle}} [[", 1), "utf-8")
    return folder


@pytest.fixture
def pinpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[AwsSession, Stubber]]:
    """A dry-run session whose Pinpoint client is stubbed; the test queues the responses."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    session = AwsSession(region="eu-west-1", dry_run=True)
    with Stubber(session.client("pinpoint")) as stubber:
        yield session, stubber
        stubber.assert_no_pending_responses()


def test_settings_report_every_violation_at_once() -> None:
    with pytest.raises(InvalidSettings) as raised:
        workflows.BuildSettings(name="", recommender_id="not an id!", out=3)  # type: ignore[arg-type]
    name, out, recommender_id = raised.value.violations
    assert name == "NAME: String should have at least 1 character"
    assert out.startswith("--out: Input is not a valid path")
    assert recommender_id == "recommender id 'not an id!' must be 1-64 letters, digits, '_' or '-'"
    with pytest.raises(InvalidSettings, match="--recommender-id: Field required"):
        workflows.PublishSettings(name="offer")  # type: ignore[call-arg]


def test_list_finds_the_shipped_templates(workdir: Path) -> None:
    names = [source.name for source in workflows.find_templates(workflows.ListSettings())]
    assert {"offer", "recommended-for-you"} <= set(names)


def test_build_writes_exactly_what_build_template_writes(workdir: Path) -> None:
    result = workflows.build(workflows.BuildSettings(name="offer", recommender_id=RECOMMENDER))

    assert result.out == Path("build") / "templates" / "offer"
    expected = write_build(build_template(load_template("offer")), workdir / "expected", RECOMMENDER)
    assert sorted(path.name for path in result.written) == sorted(path.name for path in expected)
    for path in expected:
        assert (result.out / path.name).read_bytes() == path.read_bytes(), path.name
    assert all(size == path.stat().st_size for path, size in result.written.items())


def test_lint_reports_findings_with_their_severity(broken_offer: Path) -> None:
    assert workflows.lint(workflows.LintSettings(name="offer")).errors == []
    report = workflows.lint(workflows.LintSettings(name=str(broken_offer)))
    assert len(report.errors) == 1
    assert report.template == "offer"


def test_preview_config_is_explicit_else_the_environment_else_a_local_pinrec_toml(workdir: Path, monkeypatch) -> None:
    assert workflows.PreviewSettings(name="offer").config is None
    (workdir / "pinrec.toml").write_text("", encoding="utf-8")
    assert workflows.PreviewSettings(name="offer").config == Path("pinrec.toml")
    monkeypatch.setenv(CONFIG_ENV_VAR, "/etc/pinrec.toml")
    assert workflows.PreviewSettings(name="offer").config == Path("/etc/pinrec.toml")
    assert workflows.PreviewSettings(name="offer", config=DEMO_CONFIG).config == DEMO_CONFIG


def test_preview_defaults_to_the_sample_event_and_build_preview(workdir: Path) -> None:
    report = workflows.preview(workflows.PreviewSettings(name="offer"))

    assert report.out_dir == Path("build") / "preview" / "offer"
    assert report.enriched_by == "the Recommendations already in the event"
    assert report.failed == [] and report.endpoints
    assert report.index.is_file()


def test_publish_refuses_lint_errors_before_any_aws_call(broken_offer: Path, pinpoint) -> None:
    session, _ = pinpoint  # no response queued: any call would fail
    settings = workflows.PublishSettings(name=str(broken_offer), recommender_id=RECOMMENDER, dry_run=True)

    with pytest.raises(workflows.LintRefused, match="template offer has 1 lint error\\(s\\): not publishing") as raised:
        workflows.publish(settings, session, say=lambda _: None)

    assert len(raised.value.findings) == 1
    assert session.requested_writes == []


def test_publish_dry_run_records_the_exact_requests(pinpoint) -> None:
    session, stubber = pinpoint
    for get in GETS:
        stubber.add_client_error(get, "NotFoundException", "Template not found", 404, {"TemplateName": "offer"})
    said: list[str] = []
    settings = workflows.PublishSettings(name="offer", recommender_id=RECOMMENDER, dry_run=True, activate=True)

    result = workflows.publish(settings, session, say=said.append)

    assert [plan.action for plan in result.plans] == [Action.CREATE] * 3
    assert said[0] == "EMAIL offer: new template (dry run: not created)"
    assert [request.action for request in session.requested_writes] == [
        "mobiletargeting:CreateEmailTemplate",
        "mobiletargeting:CreateSmsTemplate",
        "mobiletargeting:CreatePushTemplate",
    ]
    sms = session.requested_writes[1].params
    assert sms["TemplateName"] == "offer" and sms["SMSTemplateRequest"]["RecommenderId"] == RECOMMENDER
    data = result.to_dict()
    assert data["dry_run"] is True and [plan["template_type"] for plan in data["results"]] == ["EMAIL", "SMS", "PUSH"]
    json.dumps(data)  # the command prints it as JSON


def test_a_dry_run_is_never_sent_through_a_session_that_writes(monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings = workflows.PublishSettings(name="offer", recommender_id=RECOMMENDER, dry_run=True, region="eu-west-1")

    with pytest.raises(TemplateError, match="a dry run needs a dry-run session"):
        workflows.publish(settings, AwsSession(region="eu-west-1"))
    session = settings.open_session()
    assert session.dry_run and session.region == "eu-west-1"
