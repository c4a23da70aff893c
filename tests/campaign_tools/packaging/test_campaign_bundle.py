"""The campaign functions' zips (`pinrec package --function campaign-slot|campaign-trigger --campaign FILE`): the
campaign file rewritten to read its templates and configuration from the zip, every template it sends pre-built,
and, extracted as Lambda does, the handlers import from that folder and compose the unit's message from it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from campaign_tools.cli import main
from campaign_tools.packaging.package import PackageSettings
from campaign_tools.settings import InvalidSettings
from tests.campaign_tools.packaging.test_send_bundle import deploy, deps_dir  # noqa: F401 - fixtures

CAMPAIGN = """# spring
id = "spring"
name = "Spring"
segment = "s3://pinrec-segments/segments/spring.jsonl"
recommendations = "segment"
holdout_percent = 10

[email]
template = "recommended-for-you"
from_address = "shop@example.com"

[sms]
template = "recommended-for-you"
origination_identity = "+15555550100"

[[treatments]]
name = "texts"
size_percent = 30
[treatments.sms]
template = "recommended-for-you"

[schedule]
start = 2030-01-01T09:00:00Z
frequency = "daily"

[limits]
messages_per_second = 20
"""

IN_LAMBDA = """
import json, os, sys
from datetime import UTC, datetime
import handlers.campaign_slot, handlers.campaign_trigger
from campaign_tools.campaigns.definition import load_campaign
from campaign_tools.campaigns.slot import SlotTarget, unit_settings
from campaign_tools.campaigns.units import SendUnit
from campaign_tools.send.parts import prepare
from campaign_tools.send.run import client_factory
from transformer.aws import AwsOptions
task_root = sys.argv[1]
definition = load_campaign(os.environ['PINREC_CAMPAIGN'])
target = SlotTarget('arn:aws:states:us-east-1:123456789012:stateMachine:s', 'ledger', 's3://b/units/')
names = {}
for treatment, channel in (('default', 'email'), ('texts', 'sms')):
    unit = SendUnit(definition.id, datetime(2030, 1, 1, 9, tzinfo=UTC), treatment, channel)
    parts = prepare(unit_settings(definition, unit, target), client_factory(AwsOptions(region='us-east-1')))
    names[channel] = parts.composer.template.name
for name in ('handlers.campaign_slot', 'handlers.campaign_trigger', 'campaign_tools.campaigns.slot'):
    assert sys.modules[name].__file__.startswith(task_root), sys.modules[name].__file__
assert not any(name.startswith('mjml') for name in sys.modules), 'no authoring pipeline at run time'
print(json.dumps(names))
"""


def package(function: str, campaign: Path, deploy: Path, deps: Path, out: Path) -> int:  # noqa: F811
    arguments = ["package", "--function", function, "--campaign", str(campaign)]
    arguments += ["--config", str(deploy / "pinrec.toml"), "--deps-dir", str(deps), "--out", str(out)]
    return main([*arguments, "--output", "json"])


@pytest.mark.parametrize("function", ["campaign-slot", "campaign-trigger"])
def test_the_extracted_zip_sends_the_campaign_from_its_own_folder(
    function: str,
    deploy: Path,  # noqa: F811
    deps_dir: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    campaign = tmp_path / "spring.toml"
    campaign.write_text(CAMPAIGN, encoding="utf-8")
    out = tmp_path / f"{function}.zip"
    assert package(function, campaign, deploy, deps_dir, out) == 0
    assert json.loads(capsys.readouterr().out)["files"] > 0
    names = zipfile.ZipFile(out).namelist()
    assert {"campaign.toml", "pinrec.toml", "templates/recommended-for-you/template.json"} <= set(names)
    assert "handlers/campaign_slot.py" in names and "handlers/campaign_trigger.py" in names
    packaged = tomllib.loads(zipfile.ZipFile(out).read("campaign.toml").decode())
    assert packaged["config"] == "pinrec.toml"
    for table in (packaged["email"], packaged["sms"], packaged["treatments"][0]["sms"]):
        assert table["built"] == "templates/recommended-for-you" and "template" not in table
    assert packaged["email"]["from_address"] == "shop@example.com" and packaged["holdout_percent"] == 10
    task_root = tmp_path / "var-task"
    zipfile.ZipFile(out).extractall(task_root)
    environment = {**os.environ, "PYTHONPATH": str(task_root), "PINREC_CAMPAIGN": str(task_root / "campaign.toml")}
    completed = subprocess.run(
        [sys.executable, "-c", IN_LAMBDA, str(task_root)],
        cwd=task_root,  # Lambda's working folder: the zip's root
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == {"email": "recommended-for-you", "sms": "recommended-for-you"}


def test_a_rebuilt_zip_is_byte_identical(deploy: Path, deps_dir: Path, tmp_path: Path, capsys) -> None:  # noqa: F811
    campaign = tmp_path / "spring.toml"
    campaign.write_text(CAMPAIGN, encoding="utf-8")
    assert package("campaign-slot", campaign, deploy, deps_dir, tmp_path / "a.zip") == 0
    assert package("campaign-slot", campaign, deploy, deps_dir, tmp_path / "b.zip") == 0
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_a_campaign_function_needs_its_campaign_with_an_s3_segment(
    deploy: Path,  # noqa: F811
    deps_dir: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(InvalidSettings, match="--function campaign-slot needs --campaign FILE"):
        PackageSettings(function="campaign-slot")
    with pytest.raises(InvalidSettings, match="--campaign goes with --function campaign-slot"):
        PackageSettings(function="send", template="t", campaign=Path("c.toml"))
    with pytest.raises(InvalidSettings, match="--template goes with --function send"):
        PackageSettings(function="campaign-trigger", campaign=Path("c.toml"), template="t")
    local = tmp_path / "local.toml"
    local.write_text(CAMPAIGN.replace("s3://pinrec-segments/segments/spring.jsonl", "spring.jsonl"), encoding="utf-8")
    assert package("campaign-slot", local, deploy, deps_dir, tmp_path / "x.zip") != 0
    assert "segment must be in S3" in capsys.readouterr().err
    assert not (tmp_path / "x.zip").exists()
