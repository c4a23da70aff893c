"""The option groups every command shares, so each flag means the same everywhere:

- `--region`, `--profile`, `--endpoint-url`: where and as whom AWS is called (default: the SDK's own resolution);
- `--dry-run`: read what is there, change nothing, show what would change;
- `--output text|json`: how a command prints its result; `--out PATH` is always a path to write to.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from campaign_tools.aws.outcome import Outcome
from campaign_tools.aws.session import AwsSession, Request
from campaign_tools.console import json_text, print_json
from transformer.aws import AwsOptions


def add_aws_options(parser: argparse.ArgumentParser, *, dry_run: bool = True, output: bool = True) -> None:
    group = parser.add_argument_group("AWS options")
    group.add_argument("--region", help="AWS region (default: the profile's, or $AWS_REGION)")
    group.add_argument("--profile", help="AWS named profile for credentials (default: the SDK's resolution)")
    group.add_argument(
        "--endpoint-url", help="AWS endpoint override, e.g. a local emulator (default: $AWS_ENDPOINT_URL or AWS)"
    )
    if dry_run:
        add_dry_run_option(group)
    if output:
        add_output_option(group)


def add_dry_run_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup, help: str | None = None) -> None:
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help=help or "read the current state, change nothing, and print the exact write requests that would be sent",
    )


def add_output_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument("--output", choices=("text", "json"), default="text", help="output format (default: text)")


def aws_options(arguments: argparse.Namespace) -> AwsOptions:
    """The AWS options of a command run (those of `add_aws_options`)."""
    return AwsOptions(
        region=getattr(arguments, "region", None),
        profile=getattr(arguments, "profile", None),
        endpoint_url=getattr(arguments, "endpoint_url", None),
    )


def open_session(arguments: argparse.Namespace) -> AwsSession:
    """The session a command runs in. Tests replace this to reach moto or a stubbed client."""
    options = aws_options(arguments)
    return AwsSession(
        region=options.region,
        profile=options.profile,
        endpoint_url=options.endpoint_url,
        dry_run=getattr(arguments, "dry_run", False),
    )


def report(
    arguments: argparse.Namespace,
    session: AwsSession,
    outcomes: Sequence[Outcome],
    *,
    footer: Sequence[str] = (),
    extra: dict[str, Any] | None = None,
) -> None:
    """Print what each step did (or would do) and, in a dry run, every write request."""
    if arguments.output == "json":
        data: dict[str, Any] = {"dry_run": session.dry_run, "results": [outcome.to_dict() for outcome in outcomes]}
        data.update(requests_json(session))
        data.update(extra or {})
        print_json(data)
        return
    blocks = [outcome.text(session.dry_run) for outcome in outcomes]
    if session.dry_run:
        blocks.append(render_requests(session.requested_writes))
    if footer:
        blocks.append("\n".join(footer))
    print("\n\n".join(blocks))


def requests_json(session: AwsSession) -> dict[str, Any]:
    """The write requests of a run: `requests` (sent) or, in a dry run, `would_send`."""
    key = "would_send" if session.dry_run else "requests"
    return {key: [request.to_dict() for request in session.requested_writes]}


def render_requests(requests: Sequence[Request]) -> str:
    """Write requests as text: each call and its exact parameters; JSON-string parameters are shown formatted."""
    if not requests:
        return "dry run: nothing would change, no write request would be sent"
    lines = [f"dry run: nothing was changed; {len(requests)} write request(s) would be sent:"]
    for number, request in enumerate(requests, start=1):
        lines.append("")
        lines.append(f"{number}. {request.action}")
        for name, value in request.params.items():
            lines += _parameter_lines(name, value)
    return "\n".join(lines)


def _parameter_lines(name: str, value: Any) -> list[str]:
    if isinstance(value, str):
        try:
            document = json.loads(value)
        except ValueError:
            document = None
        if isinstance(document, dict):
            body = json_text(document)
            return [f"   {name}: (a JSON string; formatted here, sent compact)", *_indent(body, 6)]
        return [f"   {name}: {json_text(value)}"]
    if isinstance(value, dict | list):
        return [f"   {name}:", *_indent(json_text(value), 6)]
    return [f"   {name}: {json_text(value)}"]


def _indent(text: str, width: int) -> list[str]:
    return [" " * width + line for line in text.splitlines()]
