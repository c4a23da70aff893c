"""The unsubscribe function's zip (`pinrec package --function unsubscribe`): its handler, the suppression and
unsubscribe packages and nothing of templates, rendering or configuration; rebuilt byte for byte; and, extracted,
it answers a one-click POST with nothing but its own files and the standard library on the path (no site-packages:
its only dependency, boto3, is the Lambda runtime's and is needed only for Secrets Manager, SSM or DynamoDB)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from campaign_tools.cli import main
from campaign_tools.unsubscribe.tokens import Claims, SigningKey, fingerprint, issue

SECRET = "zip-test-secret-" + "0123456789" * 3


def package(tmp_path: Path, out: Path, *extra: str) -> int:
    return main(["package", "--function", "unsubscribe", "--out", str(out), "--output", "json", *extra])


def test_the_zip_holds_the_handler_and_its_packages_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    assert package(tmp_path, first) == 0
    assert package(tmp_path, second) == 0
    assert first.read_bytes() == second.read_bytes()
    assert "no runtime dependencies to install" in capsys.readouterr().err
    names = zipfile.ZipFile(first).namelist()
    assert {
        "handlers/unsubscribe.py",
        "campaign_tools/__init__.py",
        "campaign_tools/unsubscribe/endpoint.py",
        "campaign_tools/unsubscribe/tokens.py",
        "campaign_tools/suppression/registry.py",
        "transformer/aws.py",
    } <= set(names)
    assert not [name for name in names if name.startswith(("campaign_tools/rendering/", "campaign_tools/templates/"))]
    assert {"campaign_tools/send/ledgers/dynamodb.py", "campaign_tools/events/model.py"} <= set(names), "PINREC_LEDGER"
    assert not [name for name in names if name.startswith(("template/", "templates/"))]
    assert not [name for name in names if name.startswith("campaign_tools/send/") and name.count("/") == 2
                and name not in ("campaign_tools/send/__init__.py", "campaign_tools/send/pacing.py")]  # fmt: skip
    channels = [name for name in names if name.startswith("campaign_tools/channels/")]
    assert "campaign_tools/channels/addresses/email.py" in channels, "the suppression list's address spellings"
    lean = ("campaign_tools/channels/__init__.py", "campaign_tools/channels/addresses/")
    assert all(name.startswith(lean) for name in channels), "no channel module beyond its lean addresses"
    assert "pinrec.toml" not in names


def test_the_extracted_zip_answers_a_one_click_post_with_only_the_standard_library(tmp_path: Path) -> None:
    out = tmp_path / "unsubscribe.zip"
    assert package(tmp_path, out) == 0
    task_root = tmp_path / "var-task"
    zipfile.ZipFile(out).extractall(task_root)
    key = SigningKey(fingerprint(SECRET.encode()), SECRET.encode())
    token = issue(Claims("spring", "ep-ana", "ana@example.com", None, 20_400), key)
    event = {
        "version": "2.0",
        "rawPath": f"/u/{token}",
        "headers": {"content-type": "application/x-www-form-urlencoded"},
        "requestContext": {"http": {"method": "POST", "path": f"/u/{token}"}},
        "body": "TGlzdC1VbnN1YnNjcmliZT1PbmUtQ2xpY2s=",
        "isBase64Encoded": True,
    }
    script = (
        "import json, sys\n"
        "import handlers.unsubscribe\n"
        "answer = handlers.unsubscribe.handler(json.loads(sys.argv[1]))\n"
        "from campaign_tools.suppression.sqlite import SqliteSuppressionList\n"
        "listed = [e.address for e in SqliteSuppressionList(sys.argv[2]).entries()]\n"
        "print(json.dumps({'status': answer['statusCode'], 'listed': listed,\n"
        "                  'outside': sorted({m.__file__.split('/')[-2] for m in list(sys.modules.values())\n"
        "                     if getattr(m, '__file__', None) and 'site-packages' in m.__file__})}))\n"
    )
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(task_root),
        "PINREC_UNSUBSCRIBE_KEY": "env:UNSUBSCRIBE_SECRET",
        "UNSUBSCRIBE_SECRET": SECRET,
        "PINREC_SUPPRESSION": f"sqlite:{tmp_path / 'suppression.db'}",
    }
    completed = subprocess.run(
        [sys.executable, "-S", "-c", script, json.dumps(event), str(tmp_path / "suppression.db")],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == {"status": 200, "listed": ["ana@example.com"], "outside": []}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--template", "offer"], "--template and --templates-dir go with --function send"),
        (["--config", "pinrec.toml"], "--config does not go with --function unsubscribe"),
    ],
)
def test_unsubscribe_package_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert package(tmp_path, tmp_path / "x.zip", *extra) == 1
    assert message in capsys.readouterr().err and not (tmp_path / "x.zip").exists()
