"""The skip-or-fail rule for the handlebars.js oracle: skip with install instructions, fail under CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.campaign_tools.rendering import oracle


def test_a_machine_without_node_skips_with_install_instructions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"npm ci --prefix tests/oracle"):
        oracle.require_oracle()


def test_under_ci_a_missing_oracle_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"CI must run .*npm ci --prefix tests/oracle"):
        oracle.require_oracle()


def test_missing_node_modules_is_detected(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if oracle.missing_reason() is not None and "node_modules" not in (oracle.missing_reason() or ""):
        pytest.skip("node itself is missing here; the previous tests cover that case")
    monkeypatch.setattr(oracle, "ORACLE_DIR", tmp_path)
    assert "handlebars.js is not installed" in (oracle.missing_reason() or "")


def test_the_lockfile_pins_handlebars_4_7_8() -> None:
    import json

    lock = json.loads((oracle.ORACLE_DIR / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"]["node_modules/handlebars"]["version"] == "4.7.8"
