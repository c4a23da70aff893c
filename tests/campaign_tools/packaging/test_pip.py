"""`pinrec package` with the real pip step: wheels for Lambda's platform, not this machine's. Needs PyPI (or a
warm pip cache); a few seconds with the cache."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from campaign_tools.cli import main


@pytest.mark.slow
def test_package_installs_arm64_wheels_without_boto3_and_rebuilds_identically(tmp_path, make_catalog, capsys):
    catalog = make_catalog([{"id": "p1", "name": "Tent"}])
    config = tmp_path / "pinrec.toml"
    config.write_text(f'[store]\nkind = "sqlite"\npath = "{catalog.name}"\n\n[attributes.Title]\nfield = "name"\n')
    outputs = [tmp_path / "a.zip", tmp_path / "b.zip"]

    for out in outputs:
        assert main(["package", "--config", str(config), "--out", str(out), "--output", "json"]) == 0
    reports = [
        json.loads(line) for line in capsys.readouterr().out.split("\n}\n") if line.strip() for line in [line + "}"]
    ]

    assert outputs[0].read_bytes() == outputs[1].read_bytes()
    assert reports[0]["code_sha256"] == reports[1]["code_sha256"]
    archive = zipfile.ZipFile(outputs[0])
    names = archive.namelist()
    top = {Path(name).parts[0] for name in names}
    assert {"pydantic", "pydantic_core", "jinja2", "aws_lambda_powertools", "transformer"} <= top
    assert not top & {"boto3", "botocore", "campaign_tools", "pytest", "moto"}
    (wheel,) = [name for name in names if name.startswith("pydantic_core-") and name.endswith("/WHEEL")]
    tags = [line for line in archive.read(wheel).decode().splitlines() if line.startswith("Tag:")]
    assert tags and all("cp312" in tag and "aarch64" in tag for tag in tags)
    native = [name for name in names if name.startswith("pydantic_core/") and name.endswith(".so")]
    assert native and all("aarch64" in name for name in native)


@pytest.mark.slow
@pytest.mark.parametrize(("arch", "machine"), [("arm64", "aarch64"), ("x86_64", "x86_64")])
def test_the_send_functions_dependencies_have_cp312_wheels_for_both_architectures(tmp_path, arch, machine):
    """The send child's runtime (transformer + renderer) installs from wheels on Lambda's platforms; the authoring
    libraries (css-inline has no aarch64 wheel at all) are not among them."""
    from campaign_tools.packaging import dependencies

    requirements = dependencies.runtime_requirements(distributions=dependencies.SEND_DISTRIBUTIONS)
    dependencies.install(tmp_path, requirements, arch=arch, python="3.12")

    top = {path.name for path in tmp_path.iterdir()}
    assert {"dotpromptz_handlebars", "gsm0338", "babel", "pydantic", "pydantic_core", "jinja2"} <= top
    assert not top & {"mjml", "css_inline", "lxml", "inscriptis", "boto3", "botocore"}
    native = [path.name for path in (tmp_path / "pydantic_core").glob("*.so")]
    assert native and all("cpython-312" in name and machine in name for name in native)
