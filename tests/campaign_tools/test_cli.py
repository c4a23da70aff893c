"""The `pinrec` command: invoke, demo, help, and one-line errors with a non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from campaign_tools.cli import main
from campaign_tools.demo import copy_demo_files
from tests.campaign_tools.test_console_json import JSON_VALUES, TEXTS, read_back
from tests.conftest import write_catalog


@pytest.fixture
def demo_dir(tmp_path: Path, sample_items) -> Path:
    copy_demo_files(tmp_path)
    write_catalog(tmp_path / "catalog.db", sample_items)
    return tmp_path


def test_invoke_prints_the_handler_response_as_json(demo_dir, capsys):
    assert main(["invoke", "--event", str(demo_dir / "event.json"), "--config", str(demo_dir / "pinrec.toml")]) == 0
    captured = capsys.readouterr()
    response = json.loads(captured.out)
    assert sorted(response) == ["ep-email-ana", "ep-email-ben", "ep-push-dev", "ep-sms-chloe"]
    assert response["ep-sms-chloe"]["Recommendations"]["Title"] == [
        "Crème Brûlée Energy Bar (12)",
        "Trail Mix — Sweet & Salty",
    ]
    assert response["ep-email-ben"]["Recommendations"]["Price"][2] == "", "Gift Card has no price: default applies"
    assert "batch enriched" in captured.err


def test_invoke_prints_any_string_and_any_value_the_response_holds(demo_dir, capsys):
    """Lone surrogates included: Pinpoint's events are JSON, and the response echoes the endpoints."""
    event = json.loads((demo_dir / "event.json").read_text(encoding="utf-8"))
    path = demo_dir / "generated-event.json"
    arguments = ["invoke", "--event", str(path), "--config", str(demo_dir / "pinrec.toml")]

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(key=TEXTS, value=JSON_VALUES)
    def check(key: str, value: object) -> None:
        endpoints = dict(event["Endpoints"])
        endpoint = endpoints.pop("ep-email-ana")
        endpoints[f"ep-{key}"] = {**endpoint, "Attributes": {**endpoint["Attributes"], key: value}}
        path.write_text(json.dumps({**event, "Endpoints": endpoints}), encoding="utf-8")
        assert main(arguments) == 0
        response = json.loads(capsys.readouterr().out)
        assert response[read_back(f"ep-{key}")]["Attributes"][read_back(key)] == read_back(value)

    check()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "event file {path} not found"),
        (
            "{not json",
            "event file {path} is not valid JSON: Expecting property name enclosed in double quotes at line 1",
        ),
        ('["a list"]', "event must be a JSON object, got list"),
        ('{"Endpoints": 3}', "event 'Endpoints' must be a JSON object, got a int"),
    ],
)
def test_invoke_rejects_bad_event_files_with_one_line(demo_dir, tmp_path, capsys, content, message):
    path = tmp_path / "event-under-test.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code = main(["invoke", "--event", str(path), "--config", str(demo_dir / "pinrec.toml")])
    err = capsys.readouterr().err
    assert code == 1
    assert f"pinrec: error: {message.format(path=path)}" in err
    assert "Traceback" not in err


def test_invoke_with_an_invalid_config_names_the_key(demo_dir, capsys):
    config = demo_dir / "pinrec.toml"
    config.write_text(config.read_text().replace("min_items = 1", "min_items = 9"), encoding="utf-8")
    assert main(["invoke", "--event", str(demo_dir / "event.json"), "--config", str(config)]) == 1
    assert "recommendations.min_items: Input should be less than or equal to 5" in capsys.readouterr().err


def test_invoke_without_a_catalog_says_how_to_make_one(tmp_path, capsys):
    copy_demo_files(tmp_path)
    assert main(["invoke", "--event", str(tmp_path / "event.json"), "--config", str(tmp_path / "pinrec.toml")]) == 1
    assert "does not exist (create it with 'pinrec catalog load')" in capsys.readouterr().err


def test_demo_prints_each_endpoints_recommendations_and_left_out_reasons(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    assert "Loaded 22 catalog items" in out
    assert "6 endpoints in, 4 out" in out
    assert "Ultralight Rain Jacket" in out
    assert "149.99" in out
    assert "left out, not sent: too_few_items" in out
    assert "left out, not sent: no_items" in out
    assert "ana@example.com" not in out
    assert (tmp_path / "demo" / "catalog.db").is_file()


def test_console_script_help_lists_the_commands():
    result = subprocess.run(
        [str(Path(sys.executable).with_name("pinrec")), "--help"], capture_output=True, text=True, check=True
    )
    for command in ("catalog", "invoke", "demo"):
        assert command in result.stdout
