"""`pinrec demo`: the main job on the embedded default, printed readably."""

from __future__ import annotations

import argparse
from pathlib import Path

from campaign_tools.console import table
from campaign_tools.demo import DemoRun, run_demo
from campaign_tools.templates.preview import PreviewReport
from transformer.enrich import RECOMMENDATIONS


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "demo",
        help="load the sample catalog, run the transformer on the sample event, preview the messages",
        description="Copies the sample configuration, catalog and Pinpoint event into a work folder, loads the "
        "catalog into SQLite, runs the real Lambda handler on the event and prints what each endpoint gets, "
        "then renders the recommended-for-you template for every enriched endpoint into a preview gallery.",
    )
    parser.add_argument("--out", default="pinrec-demo", help="work folder (default: ./pinrec-demo)")
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    print(render(run_demo(Path(arguments.out))))
    return 0


def render(demo: DemoRun) -> str:
    endpoints = demo.event["Endpoints"]
    lines = [
        f"Loaded {demo.load.loaded} catalog items into {demo.workdir / 'catalog.db'}",
        f"Ran transformer.handler.lambda_handler on {demo.workdir / 'event.json'}: "
        f"{len(endpoints)} endpoints in, {len(demo.response)} out",
        "",
    ]
    for endpoint_id, endpoint in endpoints.items():
        channel = endpoint.get("ChannelType", "?") if isinstance(endpoint, dict) else "?"
        requested = endpoint.get("RecommendationItems") if isinstance(endpoint, dict) else None
        header = f"{endpoint_id} ({channel}) recommended {requested if requested is not None else 'nothing'}"
        if endpoint_id not in demo.response:
            reason = demo.left_out.get(endpoint_id)
            lines += [header, f"  left out, not sent: {reason.value if reason else 'unknown'}", ""]
            continue
        recommendations = demo.response[endpoint_id][RECOMMENDATIONS]
        names = list(recommendations)
        rows = list(zip(*(recommendations[name] for name in names), strict=True))
        lines += [header, _indent(table(names, rows)), ""]
    lines.append(f"Transformer logs and metrics (counts only, no personal data): {demo.workdir / 'transformer.log'}")
    lines.append(
        f"Full response: pinrec invoke --event {demo.workdir / 'event.json'} --config {demo.workdir / 'pinrec.toml'}"
    )
    if demo.preview is not None:
        lines += ["", *_preview_lines(demo.preview)]
    return "\n".join(lines)


def _preview_lines(preview: PreviewReport) -> list[str]:
    rows = [
        (
            endpoint.endpoint_id,
            endpoint.channel,
            f"{endpoint.sms.encoding}, {endpoint.sms.segments}" if endpoint.sms else "-",
            f"{endpoint.email_bytes / 1024:.1f} KB" if endpoint.email_bytes is not None else "-",
        )
        for endpoint in preview.endpoints
    ]
    return [
        f"Messages from the {preview.template} template, rendered as Pinpoint would send them:",
        _indent(table(("endpoint", "channel", "SMS segments", "email size"), rows)),
        f"Open the preview gallery: {preview.index.resolve().as_uri()}",
        f"  (pinrec templates preview {preview.template} --event {demo_path(preview, 'event.json')} "
        f"--config {demo_path(preview, 'pinrec.toml')})",
    ]


def demo_path(preview: PreviewReport, name: str) -> Path:
    return preview.out_dir.parent / name


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
