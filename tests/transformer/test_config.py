"""Configuration: valid files load; every rule violation fails with a message naming the key and the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from transformer.config import load_config, parse_config
from transformer.errors import ConfigError

VALID = """
[store]
kind = "sqlite"
path = "catalog.db"

[attributes.Title]
field = "name"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pinrec.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file_gets_documented_defaults_and_paths_relative_to_the_file(tmp_path):
    config = load_config(_write(tmp_path, VALID))
    assert config.store.path == str(tmp_path.resolve() / "catalog.db")
    assert config.store.key == "id"
    assert config.cache.ttl_seconds == 300
    assert config.cache.max_items == 50_000
    assert config.recommendations.min_items == 1
    assert config.recommendations.missing == "drop"
    assert config.display_name("Title") == "Title"


def test_environment_variable_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("PINREC_CONFIG", str(_write(tmp_path, VALID)))
    assert list(load_config().attributes) == ["Title"]


def test_missing_file_says_how_to_point_at_one(tmp_path):
    with pytest.raises(ConfigError, match=r"not found \(set PINREC_CONFIG or pass --config\)"):
        load_config(tmp_path / "absent.toml")


def test_not_toml(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(_write(tmp_path, "[store\nkind = 1"))


def _attributes(count: int) -> dict:
    return {f"A{index}": {"field": "name"} for index in range(count)}


BASE_STORE = {"kind": "sqlite", "path": "c.db"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"attributes": {"T": {"field": "x"}}}, r"store: Field required"),
        (
            {"store": {"kind": "mysql", "path": "x"}, "attributes": {"T": {"field": "x"}}},
            r"store\.kind: must be one of 'sqlite', 'dynamodb'",
        ),
        ({"store": BASE_STORE, "attributes": {}}, r"attributes: .*1 to 10 recommendation attributes, found 0"),
        ({"store": BASE_STORE, "attributes": _attributes(11)}, r"attributes: .*found 11"),
        ({"store": BASE_STORE, "attributes": {"Has space": {"field": "x"}}}, r"attribute name 'Has space' must be"),
        ({"store": BASE_STORE, "attributes": {"A" * 51: {"field": "x"}}}, r"must be 1-50 letters"),
        ({"store": BASE_STORE, "attributes": {"T": {}}}, r"attributes\.T: set exactly one of 'field' or 'template'"),
        (
            {"store": BASE_STORE, "attributes": {"T": {"field": "x", "template": "y"}}},
            r"attributes\.T: set exactly one",
        ),
        ({"store": BASE_STORE, "attributes": {"T": {"field": "x", "max_length": 0}}}, r"attributes\.T\.max_length"),
        (
            {"store": BASE_STORE, "attributes": {"T": {"field": "x", "display_name": "x" * 26}}},
            r"attributes\.T\.display_name: .*1-25",
        ),
        (
            {"store": BASE_STORE, "attributes": {"T": {"field": "x", "colour": "red"}}},
            r"attributes\.T\.colour: unknown key",
        ),
        (
            {"store": BASE_STORE, "cache": {"ttl_seconds": -1}, "attributes": {"T": {"field": "x"}}},
            r"cache\.ttl_seconds",
        ),
        (
            {"store": BASE_STORE, "recommendations": {"min_items": 6}, "attributes": {"T": {"field": "x"}}},
            r"recommendations\.min_items: Input should be less than or equal to 5",
        ),
        (
            {"store": BASE_STORE, "recommendations": {"missing": "blank"}, "attributes": {"T": {"field": "x"}}},
            r"recommendations\.missing: Input should be 'drop' or 'fill'",
        ),
        (
            {"store": BASE_STORE, "recommendations": {"missing": "fill"}, "attributes": {"T": {"field": "x"}}},
            r"needs a 'default' on every attribute; missing on: T",
        ),
        (
            {"store": BASE_STORE, "attributes": {"Url": {"template": "{{ item.id "}}},
            r"attributes\.Url\.template: line 1: unexpected end of template",
        ),
        ({"store": BASE_STORE, "attributes": {"T": {"field": "x"}}, "extra": {}}, r"extra: unknown key"),
    ],
)
def test_each_rule_violation_names_its_key(tmp_path, data, expected):
    with pytest.raises(ConfigError, match=expected):
        parse_config(data, base_dir=tmp_path)


def test_fill_with_defaults_everywhere_is_accepted(tmp_path):
    config = parse_config(
        {
            "store": BASE_STORE,
            "recommendations": {"missing": "fill", "min_items": 2},
            "attributes": {"T": {"field": "x", "default": "-"}, "U": {"template": "{{ item.u }}", "default": ""}},
        },
        base_dir=tmp_path,
    )
    assert config.recommendations.missing == "fill"
    assert config.recommendations.min_items == 2


def test_cold_start_fails_with_the_config_error(tmp_path, monkeypatch):
    """The handler module reads its configuration at import: Lambda reports the error at initialisation."""
    import subprocess
    import sys

    bad = _write(tmp_path, VALID.replace('field = "name"', 'field = "name"\ntemplate = "x"'))
    result = subprocess.run(
        [sys.executable, "-c", "import handlers.transformer"],
        env={"PINREC_CONFIG": str(bad), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "attributes.Title: set exactly one of 'field' or 'template'" in result.stderr
