"""`pinrec demo`: the main job on the embedded default, printed readably."""

from __future__ import annotations

import argparse
from pathlib import Path

from campaign_tools.console import table
from campaign_tools.demo import DemoRun, run_demo
from transformer.enrich import RECOMMENDATIONS


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "demo",
        help="load the sample catalog and run the transformer on the sample event",
        description="Copies the sample configuration, catalog and Pinpoint event into a work folder, loads the "
        "catalog into SQLite, runs the real Lambda handler on the event and prints what each endpoint gets.",
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
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
