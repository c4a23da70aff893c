"""`pinrec templates preview` writes every endpoint's files safely, whatever its id.

The class: endpoint ids, which come from the event, used as folder names. Whatever they hold (the gallery's own
`index.html`, `..`, `/`, absolute paths, NUL, names too long for a file system, ids equal but for case, Windows
device names), every endpoint renders into its own folder directly inside the output folder, no two share one even
where names ignore case, nothing is written outside the output folder, and index.html stays the gallery.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_tools.cli import main
from campaign_tools.templates.build import BuiltTemplate, build_template, make_renderer
from campaign_tools.templates.manifest import builtin_templates_dir, load_template
from campaign_tools.templates.preview import MAX_FOLDER_NAME, EnrichedEvent, enrich_event, preview_template

SPECIAL_IDS = (
    "index.html",
    "INDEX.HTML",
    "..",
    ".",
    "/",
    "/etc/passwd",
    "../../outside",
    "a/../../b",
    "nul\x00byte",
    "x" * 500,
    "é" * 300,
    "Ana",
    "ana",
    "CON",
    "",
    "index.html-2",
)
endpoint_ids = st.lists(st.one_of(st.sampled_from(SPECIAL_IDS), st.text(max_size=300)), min_size=1, max_size=6)


@pytest.fixture(scope="module")
def built() -> tuple[BuiltTemplate, Any, dict[str, Any]]:
    """recommended-for-you built once, its renderer, and one enriched endpoint of its sample event."""
    renderer = make_renderer()
    source = load_template("recommended-for-you")
    assert source.sample_event_path is not None
    sample = json.loads(source.sample_event_path.read_text(encoding="utf-8"))
    endpoint = next(iter(enrich_event(sample, None).response.values()))
    return build_template(source, renderer=renderer), renderer, endpoint


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=endpoint_ids)
def test_every_endpoint_id_renders_into_its_own_folder_inside_the_output(
    built: tuple[BuiltTemplate, Any, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory, ids: list[str]
) -> None:
    template, renderer, endpoint = built
    root = tmp_path_factory.mktemp("preview")
    out = root / "out"
    unique = list(dict.fromkeys(ids))
    report = preview_template(template, EnrichedEvent(dict.fromkeys(unique, endpoint), {}, "test"), out, renderer)
    assert [preview.endpoint_id for preview in report.endpoints] == unique
    folders = [preview.folder for preview in report.endpoints]
    assert all(folder.parent == out and folder.is_dir() for folder in folders)
    assert all(0 < len(folder.name) <= MAX_FOLDER_NAME for folder in folders)
    assert len({folder.name.casefold() for folder in folders}) == len(folders)
    assert all(folder.name.casefold() != "index.html" for folder in folders)
    for preview in report.endpoints:
        assert preview.errors == []
        written = {path.name for path in preview.folder.iterdir()}
        assert written == set().union(*(shown.files for shown in preview.shown.values()))
    assert (out / "index.html").is_file()
    gallery = (out / "index.html").read_text(encoding="utf-8")
    assert all(f'id="{folder.name}"' in gallery for folder in folders)
    assert sorted(path.name for path in root.iterdir()) == ["out"]


@pytest.mark.parametrize("endpoint_id", ["index.html", "..", "/etc/passwd", "Index.HTML"])
def test_preview_command_with_an_id_like_the_gallery(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], endpoint_id: str
) -> None:
    source = builtin_templates_dir() / "recommended-for-you" / "sample-event.json"
    event = json.loads(source.read_text(encoding="utf-8"))
    endpoints = event["Endpoints"]
    endpoints[endpoint_id] = endpoints.pop(next(iter(endpoints)))
    (tmp_path / "event.json").write_text(json.dumps(event), encoding="utf-8")
    out = tmp_path / "out"
    status = main(
        ["templates", "preview", "recommended-for-you", "--event", str(tmp_path / "event.json"), "--out", str(out)]
    )
    assert status == 0, capsys.readouterr().err
    assert (out / "index.html").is_file()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["event.json", "out"]
