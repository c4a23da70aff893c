"""The shipped template sources live in the top-level templates/ folder, which is also where `pinrec templates` looks
for a user's templates (./templates). Run from a checkout, both are the same folder: it is searched and listed once,
and every command finds the same sources as from anywhere else."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from campaign_tools.cli import main
from campaign_tools.templates.manifest import (
    builtin_templates_dir,
    find_template,
    list_templates,
    load_template,
    template_search_dirs,
)

CHECKOUT = Path(__file__).resolve().parents[3]
SHIPPED = ["offer", "recommended-for-you"]


def test_an_editable_install_reads_the_top_level_templates_folder_itself() -> None:
    assert builtin_templates_dir().resolve() == (CHECKOUT / "templates").resolve()
    assert sorted(folder.name for folder in list_templates()) == SHIPPED


def test_from_the_checkout_the_shipped_folder_is_searched_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CHECKOUT)

    assert len(template_search_dirs()) == 1
    assert [folder.name for folder in list_templates()] == SHIPPED
    assert find_template("offer").resolve() == (builtin_templates_dir() / "offer").resolve()


@pytest.mark.parametrize("where", ["checkout", "elsewhere"])
def test_list_shows_each_shipped_template_once_wherever_it_runs(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(CHECKOUT if where == "checkout" else tmp_path)

    assert main(["templates", "list"]) == 0
    rows = capsys.readouterr().out.splitlines()[2:]

    assert [row.split()[0] for row in rows] == SHIPPED
    assert all(str(builtin_templates_dir()) in row for row in rows)


def test_lint_finds_the_same_sources_from_the_checkout_and_from_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = []
    for folder in (CHECKOUT, tmp_path):
        monkeypatch.chdir(folder)
        assert main(["templates", "lint", "offer"]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]


def test_a_user_template_of_the_same_name_wins_and_is_listed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "templates" / "offer"
    shutil.copytree(builtin_templates_dir() / "offer", user)
    monkeypatch.chdir(tmp_path)

    assert find_template("offer") == Path.cwd() / "templates" / "offer"
    assert load_template("offer").directory == Path.cwd() / "templates" / "offer"
    listed = list_templates()
    assert [folder.name for folder in listed] == SHIPPED
    assert listed[0] == Path.cwd() / "templates" / "offer"
