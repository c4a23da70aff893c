"""The transformer's runtime dependencies, installed with pip for Lambda's platform rather than this machine's.

The version specifiers come from pinrec's own package metadata (pyproject's `dependencies`), so there is one source
of truth; only the distributions the `transformer` package imports are bundled (the campaign tools' template and
rendering libraries never ship in the Lambda). boto3/botocore are left out by default: the Lambda Python runtime provides them, and bundling them adds ~20 MB.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

from campaign_tools.packaging.reproducible_zip import PackageError

DISTRIBUTION = "pinrec"
RUNTIME_PROVIDED = frozenset({"boto3", "botocore"})
TRANSFORMER_DISTRIBUTIONS = frozenset({"aws-lambda-powertools", "pydantic", "jinja2", "boto3"})
"""What the Lambda package imports; tests/campaign_tools/packaging/test_zip.py checks the transformer imports nothing else."""
RENDERER_DISTRIBUTIONS = frozenset({"dotpromptz-handlebars", "gsm0338", "babel"})
"""What `campaign_tools.rendering` adds for the send function; tests/campaign_tools/packaging/test_send_bundle.py checks its imports."""
RECIPIENT_DISTRIBUTIONS = frozenset({"email-validator", "phonenumberslite"})
"""What the channels check recipients with (campaign_tools/channels/email.py, sms.py)."""
SEND_DISTRIBUTIONS = TRANSFORMER_DISTRIBUTIONS | RENDERER_DISTRIBUTIONS | RECIPIENT_DISTRIBUTIONS
UNSUBSCRIBE_DISTRIBUTIONS = frozenset({"boto3"})
"""The unsubscribe function needs only the SDK (Secrets Manager or SSM, DynamoDB), which Lambda's runtime provides:
tests/campaign_tools/packaging/test_unsubscribe_bundle.py runs its zip with nothing else on the path."""
EVENTS_DISTRIBUTIONS = frozenset({"boto3"})
"""The events function needs only the SDK (DynamoDB), which Lambda's runtime provides:
tests/campaign_tools/packaging/test_events_bundle.py runs its zip with nothing else on the path."""
ARCHITECTURES = {"arm64": "aarch64", "x86_64": "x86_64"}
PYTHON_VERSIONS = ("3.12", "3.13")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_requirements(
    *,
    include_boto3: bool = False,
    declared: Sequence[str] | None = None,
    distributions: frozenset[str] = TRANSFORMER_DISTRIBUTIONS,
) -> list[str]:
    """The install requirements of `distributions` (default the transformer's; no extras), optionally without the
    SDK."""
    requirements = []
    for requirement in declared if declared is not None else (metadata.requires(DISTRIBUTION) or []):
        if "extra" in requirement.partition(";")[2]:
            continue
        match = _NAME.match(requirement)
        if match is None:
            continue
        name = _normalized(match.group())
        if name not in distributions:
            continue
        if not include_boto3 and name in RUNTIME_PROVIDED:
            continue
        requirements.append(requirement.strip())
    return sorted(requirements)


def pip_command(
    target: Path,
    requirements: Sequence[str],
    *,
    arch: str,
    python: str,
    constraint: Path | None = None,
) -> list[str]:
    """pip install of wheels only, for manylinux on `arch` and CPython `python`, into `target`."""
    machine = ARCHITECTURES[arch]
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--target",
        str(target),
        "--implementation",
        "cp",
        "--python-version",
        python,
        "--only-binary=:all:",
        # Lambda's Amazon Linux 2023 has glibc 2.34: manylinux2014 (2.17) up to 2.28 wheels all load.
        "--platform",
        f"manylinux2014_{machine}",
        "--platform",
        f"manylinux_2_28_{machine}",
    ]
    if constraint is not None:
        command += ["--constraint", str(constraint)]
    return command + list(requirements)


def install(
    target: Path,
    requirements: Sequence[str],
    *,
    arch: str,
    python: str,
    constraint: Path | None = None,
    runner: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
) -> None:
    command = pip_command(target, requirements, arch=arch, python=python, constraint=constraint)
    completed = runner(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        detail = " ".join((completed.stderr or completed.stdout or "").strip().splitlines()[-3:])
        raise PackageError(
            f"pip could not install the runtime dependencies for linux/{arch}, Python {python}: {detail} "
            "(PyPI must be reachable, or pass --deps-dir with dependencies installed beforehand)"
        )
