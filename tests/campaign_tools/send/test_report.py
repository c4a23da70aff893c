"""Issue 11, counts that agree: over any mix of rows, the run summary's `recorded` counts are exactly what
`pinrec send status` then reports, every row is accounted for once (sent, skipped, failed or malformed), and what the
summary counts but the ledger holds no row for is listed as `not_recorded`."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_tools.cli import main
from tests.campaign_tools.send.test_plugin import PLUGIN
from tests.fakes import ITEMS

KINDS = {
    "sent": {},
    "other_channel": {"ChannelType": "SMS", "Address": "+12065550100"},
    "opted_out": {"OptOut": "ALL"},
    "inactive": {"EndpointStatus": "INACTIVE"},
    "no_address": {"Address": " "},
    "invalid_address": {"Address": "a@example.com, b@example.com"},
    "no_recommendations": {},
    "test_compose_failure": {"User": {"UserAttributes": {"FirstName": ["FAIL"]}}},
    "duplicate_in_batch": {},
    "malformed": {},
}
"""Each kind of row and what makes an endpoint of that kind; the key is the reason the summary counts it under."""


def segment_rows(kinds: list[str]) -> tuple[list[str], list[dict[str, Any]]]:
    """The segment's lines and the recommendations lines for the endpoints that have some."""
    lines, recommendations = [], []
    for n, kind in enumerate(kinds):
        if kind == "malformed":
            lines.append("{not json")
            continue
        endpoint_id = f"ep-{n - 1}" if kind == "duplicate_in_batch" and n > 0 else f"ep-{n}"
        record = {"Id": endpoint_id, "ChannelType": "EMAIL", "Address": f"user{n}@example.com"}
        record |= {"User": {"UserAttributes": {"FirstName": [f"N{n}"]}}} | KINDS[kind]
        lines.append(json.dumps(record))
        if kind != "no_recommendations":
            recommendations.append({"id": endpoint_id, "items": ["P1", "P2"]})
    return lines, recommendations


def reachable(kinds: list[str]) -> bool:
    """A repeat must follow a row that reaches the batch (its twin), and both must be in the same batch of 50."""
    for n, kind in enumerate(kinds):
        if kind == "duplicate_in_batch" and (n == 0 or kinds[n - 1] not in ("sent", "test_compose_failure")):
            return False
    return len(kinds) <= 50 and "sent" in kinds


@pytest.fixture
def folder_for(tmp_path: Path, make_catalog: Callable[..., Path]) -> Callable[[list[str]], Path]:
    catalog = make_catalog(ITEMS)

    def make(kinds: list[str]) -> Path:
        folder = Path(tempfile.mkdtemp(dir=tmp_path))
        (folder / "pinrec.toml").write_text(
            f'[store]\nkind = "sqlite"\npath = "{catalog}"\n[attributes.Title]\nfield = "name"\n', encoding="utf-8"
        )
        lines, recommendations = segment_rows(kinds)
        (folder / "segment.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (folder / "recs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recommendations), encoding="utf-8")
        return folder

    return make


def run(folder: Path, capsys: pytest.CaptureFixture[str], *command: str) -> dict[str, Any]:
    main([*command, "--output", "json"])
    return dict(json.loads(capsys.readouterr().out))


def send(folder: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    arguments = ["send", "--composer", PLUGIN, "--segment", str(folder / "segment.jsonl"), "--campaign-id", "mix"]
    arguments += ["--recommendations", f"file:{folder / 'recs.jsonl'}", "--config", str(folder / "pinrec.toml")]
    return run(folder, capsys, *arguments, "--outbox", str(folder / "out"), "--ledger", f"sqlite:{folder / 'l.db'}")


def status(folder: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    return run(folder, capsys, "send", "status", "mix", "--ledger", f"sqlite:{folder / 'l.db'}")


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=40).filter(reachable))
def test_the_summary_and_send_status_agree_over_any_mix_of_rows(
    kinds: list[str], folder_for: Callable[[list[str]], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = folder_for(kinds)
    summary = send(folder, capsys)
    expected = Counter(kinds)
    counted = Counter({**summary["skipped"], **summary["failed"], "sent": summary["sent"]})
    counted["malformed"] = summary["malformed"]
    assert +counted == +expected, "every row is counted once, under its reason"
    assert summary["rows"] == len(kinds)

    ledger = status(folder, capsys)
    recorded = summary["recorded"]
    assert (ledger["sent"], ledger["skipped"], ledger["failed"]) == (
        recorded["sent"],
        recorded["skipped"],
        recorded["failed"],
    )
    not_recorded = {kind: n for kind, n in expected.items() if kind in ("other_channel", "duplicate_in_batch")}
    assert summary["not_recorded"] == not_recorded | (
        {"malformed": expected["malformed"]} if "malformed" in kinds else {}
    )
    assert ledger["total"] == len(kinds) - sum(summary["not_recorded"].values())

    rerun = send(folder, capsys)
    repeats_of_sent = sum(kind == "duplicate_in_batch" and kinds[n - 1] == "sent" for n, kind in enumerate(kinds))
    assert rerun["not_recorded"].get("already_sent", 0) == summary["sent"] + repeats_of_sent
    assert status(folder, capsys)["sent"] == summary["sent"] + rerun["sent"]


def test_the_text_summary_says_what_it_wrote_to_the_ledger(
    folder_for: Callable[[list[str]], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = folder_for(["sent", "other_channel", "invalid_address", "malformed", "sent"])
    arguments = ["send", "--composer", PLUGIN, "--segment", str(folder / "segment.jsonl"), "--campaign-id", "mix"]
    arguments += ["--recommendations", f"file:{folder / 'recs.jsonl'}", "--config", str(folder / "pinrec.toml")]
    assert main([*arguments, "--outbox", str(folder / "out"), "--ledger", f"sqlite:{folder / 'l.db'}"]) == 0
    out = capsys.readouterr().out
    assert "sent 2, skipped 2, failed 0 of 5 rows" in out
    assert "in the ledger: 3 rows written (2 sent, 1 skipped, 0 failed); counted here only: " in out
    assert "other_channel 1" in out and "malformed 1" in out
    assert main(["send", "status", "mix", "--ledger", f"sqlite:{folder / 'l.db'}"]) == 0
    assert "3 endpoints in the ledger" in capsys.readouterr().out
