"""`pinrec send report`: the command over `campaign_tools.report.run.campaign_report`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from campaign_tools.cli import main
from tests.campaign_tools.report.builders import EMAIL, EMAIL_EVENTS, SMS, SMS_EVENTS, write


@pytest.fixture
def ledger(tmp_path: Path) -> str:
    write(tmp_path / "ledger.db", EMAIL, EMAIL_EVENTS)
    write(tmp_path / "ledger.db", SMS, SMS_EVENTS)
    return f"sqlite:{tmp_path / 'ledger.db'}"


def test_text_report(ledger: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", "report", "sms-sale", "--ledger", ledger]) == 0

    output = capsys.readouterr().out
    assert output.startswith("campaign sms-sale (sms): 5 ledger rows, 7 events")
    assert "  failed                    3   blocked:SPAM 1, failed:UNREACHABLE 1, throttled 1" in output


def test_json_report(ledger: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", "report", "spring", "--ledger", ledger, "--output", "json"]) == 0

    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "pinrec.campaign-report/1"
    assert (data["total"]["sent"], data["total"]["delivered"], data["total"]["hard_bounced"]) == (11, 8, 2)
    assert len(data["warnings"]) == 5


def test_html_report(ledger: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "reports" / "spring.html"

    assert main(["send", "report", "spring", "--ledger", ledger, "--html", str(target)]) == 0

    captured = capsys.readouterr()
    assert captured.out.startswith("campaign spring (email)")
    assert captured.err.strip() == f"HTML report: {target}"
    assert target.read_text(encoding="utf-8").count("<svg") == 3


def test_errors_are_one_line(ledger: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", "report", "nope", "--ledger", ledger]) == 1
    assert "campaign nope has no rows in ledger" in capsys.readouterr().err

    assert main(["send", "report", "spring", "--ledger", f"sqlite:{tmp_path / 'missing.db'}"]) == 1
    assert "no such ledger" in capsys.readouterr().err

    assert main(["send", "report", "spring", "--ledger", "postgres:x"]) == 1
    assert "--ledger must be" in capsys.readouterr().err

    assert main(["send", "report", "spring", "--ledger", ledger, "--html", str(tmp_path)]) == 1
    assert "--html must name a file" in capsys.readouterr().err

    assert main(["send", "report", "", "--ledger", ledger]) == 1
    assert "CAMPAIGN" in capsys.readouterr().err
