"""The send child's zip (`pinrec package --function send`): the pre-built template it carries composes exactly what
`pinrec send --template` composes from source, rebuilds are byte-identical, and the child's imports need only the
bundled distributions -- never the authoring pipeline (MJML, CSS inlining, lxml, inscriptis).

The dependency step is replaced by a prepared folder here; test_package_pip.py runs pip for both architectures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from campaign_tools.channels import registry as channel_registry
from campaign_tools.cli import main
from campaign_tools.packaging import dependencies
from campaign_tools.send.compose import ComposerOptions, TemplateComposer
from tests.conftest import DEMO_DATA
from transformer.config import load_config
from transformer.service import Transformer

TEMPLATE = "recommended-for-you"
ADDRESSES = {"email": "ana@example.com", "sms": "+12065550123", "push": "fcm-token-example-0001"}
"""One endpoint composed on every channel: each channel checks its recipient, so each gets an address of its kind."""
AUTHORING_MODULES = (
    "mjml",
    "css_inline",
    "lxml",
    "inscriptis",
    "campaign_tools.templates.build",
    "campaign_tools.templates.email_pipeline",
    "campaign_tools.templates.authoring",
)
FORBID_AUTHORING = f"""
import sys
FORBIDDEN = {AUTHORING_MODULES!r}
class Forbid:
    def find_spec(self, name, path=None, target=None):
        if name in FORBIDDEN or name.split('.')[0] in FORBIDDEN:
            raise ImportError(f'the send child must not import {{name}}')
        return None
sys.meta_path.insert(0, Forbid())
"""


@pytest.fixture
def deploy(tmp_path: Path) -> Path:
    """The demo config and its SQLite catalog, as a team would package them."""
    from campaign_tools.catalog.records import read_jsonl
    from transformer.stores.sqlite import write_snapshot

    folder = tmp_path / "deploy"
    folder.mkdir()
    (folder / "pinrec.toml").write_text((DEMO_DATA / "pinrec.toml").read_text(encoding="utf-8"), encoding="utf-8")
    lines = (DEMO_DATA / "catalog.jsonl").read_text(encoding="utf-8").splitlines()
    write_snapshot(read_jsonl(lines, "id"), folder / "catalog.db", key="id", source="test")
    return folder


@pytest.fixture
def deps_dir(tmp_path: Path) -> Path:
    deps = tmp_path / "deps"
    (deps / "fakedep").mkdir(parents=True)
    (deps / "fakedep" / "__init__.py").write_text("VALUE = 1\n")
    return deps


def package_send(deploy: Path, deps_dir: Path, out: Path, *extra: str) -> int:
    return main(
        [
            "package",
            "--function",
            "send",
            "--template",
            TEMPLATE,
            "--config",
            str(deploy / "pinrec.toml"),
            "--deps-dir",
            str(deps_dir),
            "--out",
            str(out),
            "--output",
            "json",
            *extra,
        ]
    )


def enriched_endpoint(deploy: Path, endpoint_id: str) -> dict[str, Any]:
    event = json.loads((DEMO_DATA / "event.json").read_text(encoding="utf-8"))
    response = Transformer(load_config(deploy / "pinrec.toml")).enrich_event(event).response
    return {"Id": endpoint_id, **response[endpoint_id]}


CHILD_COMPOSE = """
import dataclasses, json, os, sys
import handlers.send_batch
from campaign_tools.send import child
from campaign_tools.send.parts import prepare
task_root, endpoint = sys.argv[1], json.loads(sys.argv[2])
environment = {**os.environ, child.LEDGER_TABLE_ENV: 'ledger'}
messages = {}
addresses = json.loads(sys.argv[4])
for channel in ('email', 'sms', 'push'):
    value = {'campaign_id': 'c', 'recommendations': 'segment', 'channel': channel, 'template': sys.argv[3]}
    composer = prepare(child.child_settings(value, environment), child.warm_clients()).composer
    addressed = {**endpoint, 'Address': addresses[channel]}
    messages[channel] = dataclasses.asdict(composer.compose(endpoint['Id'], addressed))
bundled = ('handlers.send_batch', 'campaign_tools.send.child', 'campaign_tools.templates.prebuilt')
for name in (*bundled, 'campaign_tools.rendering'):
    assert sys.modules[name].__file__.startswith(task_root), sys.modules[name].__file__
loaded = sorted(name for name in sys.modules if name.startswith('campaign_tools.templates'))
print(json.dumps({'messages': messages, 'loaded': loaded}))
"""


def test_the_extracted_zip_composes_what_the_template_source_composes(deploy, deps_dir, tmp_path, capsys):
    out = tmp_path / "send.zip"
    assert package_send(deploy, deps_dir, out) == 0
    capsys.readouterr()
    task_root = tmp_path / "var-task"
    zipfile.ZipFile(out).extractall(task_root)
    endpoint = enriched_endpoint(deploy, "ep-email-ana")
    env = {
        **os.environ,
        "PYTHONPATH": str(task_root),
        "PINREC_CONFIG": str(task_root / "pinrec.toml"),
        "PINREC_TEMPLATE_DIR": str(task_root / "template"),
    }
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            FORBID_AUTHORING + CHILD_COMPOSE,
            str(task_root),
            json.dumps(endpoint),
            TEMPLATE,
            json.dumps(ADDRESSES),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    child = json.loads(completed.stdout.strip().splitlines()[-1])

    config = load_config(deploy / "pinrec.toml")
    for channel in channel_registry.names():
        # the same campaign id as the child's: the template tracks its recommendation links per send
        options = ComposerOptions(TEMPLATE, None, channel, config, campaign_id="c")
        from_source = TemplateComposer(options).compose("ep-email-ana", {**endpoint, "Address": ADDRESSES[channel]})
        assert child["messages"][channel] == json.loads(json.dumps(asdict(from_source))), channel
    assert child["messages"]["email"]["subject"] and "<html" in child["messages"]["email"]["html"]
    assert child["loaded"] == [
        "campaign_tools.templates",
        "campaign_tools.templates.errors",
        "campaign_tools.templates.prebuilt",
    ]


def test_the_zip_holds_the_prebuilt_template_and_code_but_no_template_sources(deploy, deps_dir, tmp_path, capsys):
    out = tmp_path / "send.zip"
    assert package_send(deploy, deps_dir, out) == 0
    report = json.loads(capsys.readouterr().out)
    names = zipfile.ZipFile(out).namelist()

    assert report["files"] == len(names) == len(set(names))
    assert {"pinrec.toml", "catalog.db", "template/template.json", "template/email.html", "template/sms.txt"} <= set(
        names
    )
    assert {"handlers/send_batch.py", "handlers/transformer.py", "campaign_tools/send/child.py"} <= set(names)
    assert "campaign_tools/rendering/renderer.py" in names and "fakedep/__init__.py" in names
    assert not [
        name for name in names if name.startswith(("campaign_tools/demo_data/", "templates/", "pinrec_templates/"))
    ]
    assert not [name for name in names if name.endswith((".jinja", "template.toml"))], "template sources never ship"
    sendable = json.loads(zipfile.ZipFile(out).read("template/template.json"))
    assert sendable["name"] == TEMPLATE and sendable["html_escaped_parts"] == ["email-html"]


def test_send_rebuilds_are_byte_identical_even_after_touching_files(deploy, deps_dir, tmp_path, capsys):
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    assert package_send(deploy, deps_dir, first) == 0
    later = time.time() + 3600
    for path in [*deps_dir.rglob("*"), *deploy.iterdir()]:
        os.utime(path, (later, later))
    assert package_send(deploy, deps_dir, second) == 0
    reports = [json.loads(part + "}") for part in capsys.readouterr().out.split("\n}\n") if part.strip()]

    assert first.read_bytes() == second.read_bytes()
    assert reports[0]["code_sha256"] == reports[1]["code_sha256"]


def test_the_default_function_still_builds_the_transformer_zip_only(deploy, deps_dir, tmp_path, capsys):
    out = tmp_path / "transformer.zip"
    args = ["package", "--config", str(deploy / "pinrec.toml"), "--deps-dir", str(deps_dir), "--out", str(out)]
    assert main(args) == 0
    names = zipfile.ZipFile(out).namelist()
    assert not [name for name in names if name.startswith(("campaign_tools/", "template/"))]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--function", "send"], "--function send needs --template NAME"),
        (["--function", "send", "--template", "no-such-template"], "no-such-template"),
        (["--template", TEMPLATE], "--template and --templates-dir go with --function send"),
    ],
)
def test_package_errors_are_clear_and_build_nothing(deploy, tmp_path, capsys, extra, message):
    args = ["package", "--config", str(deploy / "pinrec.toml"), "--deps-dir", str(tmp_path)]
    assert main([*args, "--out", str(tmp_path / "x.zip"), *extra]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("pinrec: error:") and message in error and "Traceback" not in error
    assert not (tmp_path / "x.zip").exists()


def test_importing_the_prebuilt_loader_leaves_the_authoring_pipeline_out():
    script = (
        "import sys\n"
        "import campaign_tools.templates.prebuilt, campaign_tools.rendering, handlers.send_batch\n"
        f"print(sorted(name for name in {AUTHORING_MODULES!r} if name in sys.modules))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    assert completed.stdout.strip() == "[]"


def _distribution_closure(names: frozenset[str]) -> set[str]:
    """The distributions and everything they require (no extras), as pip would install them."""
    seen: set[str] = set()
    pending = [dependencies._normalized(name) for name in names]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requirements = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # a requirement whose marker excludes this Python (pytz for babel): not importable either
        for requirement in requirements:
            if "extra" not in requirement.partition(";")[2]:
                match = dependencies._NAME.match(requirement)
                if match:
                    pending.append(dependencies._normalized(match.group()))
    return seen


def test_the_send_child_imports_only_the_bundled_distributions(tmp_path):
    """Import the handler and compose one message from a pre-built template (lazy imports included), then map
    every third-party module loaded to its distribution: each must be one the send zip bundles or requires."""
    from campaign_tools.templates.build import build_template, write_build
    from campaign_tools.templates.manifest import load_template

    write_build(build_template(load_template(TEMPLATE)), tmp_path / "built")
    script = FORBID_AUTHORING + (
        "import json\n"
        "import handlers.send_batch\n"
        "from campaign_tools.channels.sms import renderer_segment_counter\n"
        "from campaign_tools.send.compose import ComposerOptions, TemplateComposer\n"
        "from transformer.config import parse_config\n"
        "config = parse_config({'store': {'kind': 'sqlite', 'path': 'x.db'}, 'attributes': {name: {'field': 'n'} for name in ('Title', 'ItemId', 'ImageUrl', 'Price', 'Url')}}, base_dir='.')\n"
        f"composer = TemplateComposer(ComposerOptions(None, None, 'email', config, built={str(tmp_path / 'built')!r}))\n"
        "composer.compose('e1', {'Address': 'a@example.com', 'Recommendations': {'Title': ['x']}})\n"
        "renderer_segment_counter()('hello')\n"
        "from babel.dates import format_date\n"
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60, cwd=tmp_path
    )
    assert completed.returncode == 0, completed.stderr
    loaded = set(json.loads(completed.stdout.strip().splitlines()[-1]))
    third_party = (
        loaded - set(sys.stdlib_module_names) - {"__future__", "__main__", "transformer", "campaign_tools", "handlers"}
    )
    owners = metadata.packages_distributions()
    bundled = _distribution_closure(dependencies.SEND_DISTRIBUTIONS) | {"botocore"}
    unbundled = {
        module: owners.get(module)
        for module in third_party
        if not module.startswith(("_", "__"))
        and not {dependencies._normalized(owner) for owner in owners.get(module, [])} & bundled
    }
    assert not unbundled
    assert {"dotpromptz_handlebars", "gsm0338", "babel", "pydantic"} <= third_party
