"""Fixtures for the template tools: editable copies of the shipped templates, the renderer, and Chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from campaign_tools.templates.build import make_renderer
from campaign_tools.templates.manifest import TemplateSource, builtin_templates_dir, load_template

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_HINT = "install Chromium to run it: apt-get install -y chromium (Debian/Ubuntu)"


@pytest.fixture(scope="session")
def renderer() -> object:
    return make_renderer()


TemplateCopy = Callable[..., TemplateSource]


@pytest.fixture
def template_copy(tmp_path: Path) -> TemplateCopy:
    """Copy a shipped template into tmp_path and apply `edits`: {file: [(old, new), ...]} (old must be present)."""

    def make(name: str, edits: dict[str, list[tuple[str, str]]] | None = None) -> TemplateSource:
        copies = tmp_path / "templates"
        target = copies / name
        counter = 2
        while target.exists():
            target, counter = copies / f"{name}-{counter}", counter + 1
        shutil.copytree(builtin_templates_dir() / name, target)
        for file, replacements in (edits or {}).items():
            path = target / file
            text = path.read_text(encoding="utf-8")
            for old, new in replacements:
                assert old in text, f"fixture edit: {old!r} not in {file}"
                text = text.replace(old, new, 1)
            path.write_text(text, encoding="utf-8")
        return load_template(str(target))

    return make


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium binary. Missing: skip with how to install it, except under CI=true where it is a failure."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"Chromium is required under CI=true but was not found; {CHROMIUM_HINT}")
    pytest.skip(f"real-browser test needs Chromium; {CHROMIUM_HINT}")
