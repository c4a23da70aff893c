"""The Lambda zip: what goes in, reproducible bytes, config checks, and that the package runs as Lambda runs it.

The dependency step is replaced by a prepared folder here (the same layout `pip install --target` makes);
test_package_pip.py runs pip itself once."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from campaign_tools.cli import main
from campaign_tools.packaging import dependencies
from campaign_tools.packaging.bundle import bundle_entries
from campaign_tools.packaging.python_packages import package_entries
from campaign_tools.packaging.reproducible_zip import FIXED_TIMESTAMP, PackageError, write_zip
from transformer.errors import ConfigError

CONFIG = """
[store]
kind = "sqlite"
path = "{path}"

[attributes.Title]
field = "name"
"""


@pytest.fixture
def deps_dir(tmp_path: Path) -> Path:
    deps = tmp_path / "deps"
    for relative, text in {
        "fakedep/__init__.py": "VALUE = 1\n",
        "fakedep/__pycache__/__init__.cpython-312.pyc": "compiled",
        "fakedep-1.0.dist-info/RECORD": "fakedep/__init__.py,,\n",
        "bin/fakedep-cli": "#!/bin/sh\n",
        "transformer/__init__.py": "stale copy that must not shadow the real package\n",
        "handlers/__init__.py": "stale copy that must not shadow the real package\n",
    }.items():
        path = deps / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return deps


@pytest.fixture
def config_dir(tmp_path: Path, make_catalog) -> Path:
    folder = tmp_path / "deploy"
    folder.mkdir()
    make_catalog([{"id": "p1", "name": "Tent"}, {"id": "p2", "name": "Stove"}], name="deploy/data/catalog.db")
    (folder / "prod.toml").write_text(CONFIG.format(path="data/catalog.db"))
    return folder


def test_zip_holds_config_catalog_transformer_and_dependencies_only(config_dir, deps_dir, tmp_path):
    summary = write_zip(bundle_entries(config_dir / "prod.toml", deps_dir), tmp_path / "out.zip")

    names = zipfile.ZipFile(summary.path).namelist()
    assert names == sorted(names)
    assert "pinrec.toml" in names
    assert "data/catalog.db" in names
    assert {"handlers/__init__.py", "handlers/transformer.py", "handlers/send_batch.py"} <= set(names)
    assert "transformer/handler.py" not in names
    assert "transformer/stores/sqlite.py" in names
    assert "fakedep/__init__.py" in names
    assert "fakedep-1.0.dist-info/RECORD" in names
    assert not [name for name in names if name.startswith(("bin/", "campaign_tools/"))]
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    for own in ("transformer/__init__.py", "handlers/__init__.py"):
        assert b"stale copy" not in zipfile.ZipFile(summary.path).read(own)
    assert summary.files == len(names)


def test_packages_are_selected_with_their_sub_packages_and_never_their_data_folders(tmp_path, monkeypatch):
    source = tmp_path / "source"
    for relative in [
        "pinrec_probe/__init__.py",
        "pinrec_probe/module.py",
        "pinrec_probe/py.typed",
        "pinrec_probe/__pycache__/module.cpython-312.pyc",
        "pinrec_probe/sub/__init__.py",
        "pinrec_probe/sub/leaf.py",
        "pinrec_probe/sub/stray.pyc",
        "pinrec_probe/data/sample.json",
        "pinrec_probe/other/__init__.py",
    ]:
        path = source / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")
    monkeypatch.syspath_prepend(str(source))
    try:
        whole = sorted(entry.arcname for entry in package_entries(["pinrec_probe"]))
        sub_only = sorted(entry.arcname for entry in package_entries(["pinrec_probe.sub", "pinrec_probe.sub"]))
    finally:  # finding a sub-package imports its parents
        for name in [name for name in sys.modules if name.partition(".")[0] == "pinrec_probe"]:
            del sys.modules[name]

    assert whole == [
        "pinrec_probe/__init__.py",
        "pinrec_probe/module.py",
        "pinrec_probe/other/__init__.py",
        "pinrec_probe/py.typed",
        "pinrec_probe/sub/__init__.py",
        "pinrec_probe/sub/leaf.py",
    ]
    assert sub_only == ["pinrec_probe/__init__.py", "pinrec_probe/sub/__init__.py", "pinrec_probe/sub/leaf.py"]
    with pytest.raises(PackageError, match=r"pinrec_probe\.data is not a Python package"):
        package_entries(["pinrec_probe.data"])


def test_rebuild_gives_identical_bytes_even_after_touching_files(config_dir, deps_dir, tmp_path):
    first = write_zip(bundle_entries(config_dir / "prod.toml", deps_dir), tmp_path / "a.zip")
    later = time.time() + 3600
    for path in [*deps_dir.rglob("*"), config_dir / "prod.toml"]:
        os.utime(path, (later, later))
    (deps_dir / "fakedep" / "__init__.py").chmod(0o755)

    second = write_zip(bundle_entries(config_dir / "prod.toml", deps_dir), tmp_path / "b.zip")

    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.code_sha256 == second.code_sha256
    for info in zipfile.ZipFile(second.path).infolist():
        assert info.date_time == FIXED_TIMESTAMP
        assert info.external_attr >> 16 == 0o100644
        assert info.create_system == 3


def test_bundled_package_runs_the_handler_like_lambda(config_dir, deps_dir, tmp_path, sample_event):
    summary = write_zip(bundle_entries(config_dir / "prod.toml", deps_dir), tmp_path / "out.zip")
    task_root = tmp_path / "var-task"
    zipfile.ZipFile(summary.path).extractall(task_root)
    event = {"Endpoints": {"e1": {"ChannelType": "EMAIL", "RecommendationItems": ["p2", "p1"]}}}
    script = (
        "import json, sys\n"
        "import handlers.transformer as handler\n"
        "assert handler.__file__.startswith(sys.argv[1]), handler.__file__\n"
        "class Context:\n"
        "    function_name = 'pinrec'; memory_limit_in_mb = 512; aws_request_id = 'r1'\n"
        "    invoked_function_arn = 'arn:aws:lambda:eu-west-1:123456789012:function:pinrec'\n"
        "    def get_remaining_time_in_millis(self): return 14000\n"
        "print(json.dumps(handler.lambda_handler(json.loads(sys.argv[2]), Context())))\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(task_root),
        "PINREC_CONFIG": str(task_root / "pinrec.toml"),
        "POWERTOOLS_METRICS_NAMESPACE": "pinrec-test",
    }
    completed = subprocess.run(
        [sys.executable, "-c", script, str(task_root), json.dumps(event)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )

    assert completed.returncode == 0, completed.stderr
    response = json.loads(completed.stdout.strip().splitlines()[-1])
    assert response["e1"]["Recommendations"] == {"Title": ["Stove", "Tent"]}


@pytest.mark.parametrize(
    ("store_path", "message"),
    [
        ("/srv/catalog.db", "is absolute"),
        ("../catalog.db", "leaves the config's folder"),
        ("data/missing.db", "does not exist; run 'pinrec catalog load' first"),
    ],
)
def test_store_paths_that_cannot_work_in_lambda_are_refused(config_dir, deps_dir, store_path, message):
    (config_dir / "bad.toml").write_text(CONFIG.format(path=store_path))
    with pytest.raises(PackageError, match=message):
        bundle_entries(config_dir / "bad.toml", deps_dir)


def test_s3_catalog_is_not_bundled(config_dir, deps_dir):
    (config_dir / "s3.toml").write_text(CONFIG.format(path="s3://bucket/catalog/catalog.db"))
    try:
        entries = bundle_entries(config_dir / "s3.toml", deps_dir)
    except ConfigError:
        pytest.skip("this branch's config model has no s3:// catalog paths yet (issue 3)")
    assert not [entry for entry in entries if entry.arcname.endswith(".db")]


def test_invalid_config_is_refused_before_building(config_dir, deps_dir, tmp_path):
    (config_dir / "broken.toml").write_text("[store]\nkind = 'sqlite'\n")
    with pytest.raises(ConfigError):
        bundle_entries(config_dir / "broken.toml", deps_dir)


def test_duplicate_entries_are_refused(tmp_path):
    source = tmp_path / "f"
    source.write_text("x")
    from campaign_tools.packaging.reproducible_zip import ZipEntry

    with pytest.raises(PackageError, match=r"both be a\.py"):
        write_zip([ZipEntry("a.py", source), ZipEntry("a.py", source)], tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()


def test_package_command_reports_size(config_dir, deps_dir, tmp_path, capsys):
    out = tmp_path / "build" / "lambda.zip"
    args = ["package", "--config", str(config_dir / "prod.toml"), "--deps-dir", str(deps_dir), "--out", str(out)]

    assert main([*args, "--output", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert main(args) == 0
    text = capsys.readouterr().out

    assert report["zipped_bytes"] == out.stat().st_size
    assert report["files"] == len(zipfile.ZipFile(out).namelist())
    assert text.startswith(f"wrote {out}: {out.stat().st_size:,} bytes")
    assert f"CodeSha256 {report['code_sha256']}" in text


def test_runtime_requirements_leave_out_dev_tools_and_the_runtime_sdk():
    declared = ["boto3>=1.34", "pydantic>=2.6,<3", 'pytest>=8; extra == "dev"', "aws-lambda-powertools>=3.0,<4"]
    assert dependencies.runtime_requirements(declared=declared) == ["aws-lambda-powertools>=3.0,<4", "pydantic>=2.6,<3"]
    with_sdk = dependencies.runtime_requirements(include_boto3=True, declared=declared)
    assert with_sdk == ["aws-lambda-powertools>=3.0,<4", "boto3>=1.34", "pydantic>=2.6,<3"]
    installed = dependencies.runtime_requirements()
    names = {re.match(r"[A-Za-z0-9._-]+", r).group().lower() for r in installed}
    assert names == {"pydantic", "jinja2", "aws-lambda-powertools"}, "campaign-tool libraries never ship"


def test_the_transformer_imports_only_the_bundled_distributions():
    """Every third-party module the Lambda package imports is one the packager bundles (or the runtime has)."""
    import ast
    import sys

    import transformer

    allowed_modules = {"aws_lambda_powertools", "pydantic", "jinja2", "boto3", "botocore", "transformer"}
    imported: set[str] = set()
    for source in Path(transformer.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"__future__"}
    assert third_party <= allowed_modules, sorted(third_party - allowed_modules)
    assert {dist.replace("-", "_") for dist in dependencies.TRANSFORMER_DISTRIBUTIONS} == allowed_modules - {
        "botocore",
        "transformer",
    }


def test_pip_command_targets_lambda_platform(tmp_path):
    command = dependencies.pip_command(tmp_path, ["pydantic>=2"], arch="arm64", python="3.12")
    assert command[1:4] == ["-m", "pip", "install"]
    assert "--only-binary=:all:" in command
    platforms = [command[i + 1] for i, part in enumerate(command) if part == "--platform"]
    assert platforms == ["manylinux2014_aarch64", "manylinux_2_28_aarch64"]
    assert command[command.index("--python-version") + 1] == "3.12"
    assert command[command.index("--target") + 1] == str(tmp_path)
    assert command[-1] == "pydantic>=2"
    x86 = dependencies.pip_command(tmp_path, [], arch="x86_64", python="3.13")
    assert "manylinux2014_x86_64" in x86


def test_pip_failure_is_one_clear_error(tmp_path):
    def failing(command, **kwargs):
        return subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution found for nothing\n")

    with pytest.raises(PackageError, match="No matching distribution found") as raised:
        dependencies.install(tmp_path, ["nothing"], arch="arm64", python="3.12", runner=failing)
    assert "\n" not in str(raised.value)
