"""`pinrec demo`: the main job on the embedded default, printed readably."""

from __future__ import annotations

import argparse
from pathlib import Path

from campaign_tools.console import table
from campaign_tools.demo import DemoRun, OffersDemoRun, run_demo, run_offers_demo
from campaign_tools.templates.preview import PreviewReport, summary_labels
from transformer.enrich import RECOMMENDATIONS


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "demo",
        help="load the sample catalog, run the transformer on the sample event, preview the messages",
        description="Copies the sample configuration, catalog and Pinpoint event into a work folder, loads the "
        "catalog into SQLite, runs the real Lambda handler on the event and prints what each endpoint gets, "
        "then renders the recommended-for-you template for every enriched endpoint into a preview gallery. "
        "Then runs the offers flow (pinrec-offers.toml, offers.jsonl, event-offers.json), prints which offer "
        "each endpoint gets, every candidate's scores and why the others were excluded, and previews the "
        "offer template.",
    )
    parser.add_argument("--out", default="pinrec-demo", help="work folder (default: ./pinrec-demo)")
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    print(render(run_demo(Path(arguments.out))))
    print()
    print(render_offers(run_offers_demo(Path(arguments.out))))
    return 0


def render(demo: DemoRun) -> str:
    endpoints = demo.event["Endpoints"]
    lines = [
        f"Loaded {demo.load.loaded} catalog items into {demo.workdir / 'catalog.db'}",
        f"Ran handlers.transformer.lambda_handler on {demo.workdir / 'event.json'}: "
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


def _preview_lines(preview: PreviewReport, event: str = "event.json", config: str = "pinrec.toml") -> list[str]:
    labels = summary_labels()
    rows = [
        (endpoint.endpoint_id, endpoint.channel, *(endpoint.summary(label) or "-" for label in labels))
        for endpoint in preview.endpoints
    ]
    return [
        f"Messages from the {preview.template} template, rendered as Pinpoint would send them:",
        _indent(table(("endpoint", "channel", *labels), rows)),
        f"Open the preview gallery: {preview.index.resolve().as_uri()}",
        f"  (pinrec templates preview {preview.template} --event {demo_path(preview, event)} "
        f"--config {demo_path(preview, config)})",
    ]


def demo_path(preview: PreviewReport, name: str) -> Path:
    return preview.out_dir.parent / name


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())


def render_offers(demo: OffersDemoRun) -> str:
    """Which offer each sample endpoint gets, every candidate's scores, and why the others were excluded."""
    settings = demo.engine.settings
    send_time = demo.engine.send_time.isoformat() if demo.engine.send_time else "now"
    endpoints = demo.event["Endpoints"]
    lines = [
        "Offers: the best eligible offer per endpoint "
        f"(scoring {settings.scoring}, exploration {settings.exploration}, per_endpoint {settings.per_endpoint})",
        f"Ran the handler with {demo.workdir / 'pinrec-offers.toml'} on {demo.workdir / 'event-offers.json'} "
        f"(send time {send_time}): {len(endpoints)} endpoints in, {len(demo.response)} out",
        "",
    ]
    for endpoint_id, endpoint in endpoints.items():
        channel = endpoint.get("ChannelType", "?") if isinstance(endpoint, dict) else "?"
        requested = endpoint.get("RecommendationItems") if isinstance(endpoint, dict) else None
        lines.append(f"{endpoint_id} ({channel}) candidates {requested if requested is not None else 'none'}")
        decision = demo.engine.decisions.get(endpoint_id)
        if decision is not None and (decision.scored or decision.excluded):
            chosen = {entry.offer.id: rank for rank, entry in enumerate(decision.chosen, start=1)}
            rows = [
                (
                    entry.offer.id,
                    f"{entry.model_score:.4f}",
                    f"{entry.offer.preference:g}",
                    f"{entry.share:.4f}",
                    f"{entry.score:.4f}",
                    f"chosen #{chosen[entry.offer.id]}" if entry.offer.id in chosen else "eligible, lower score",
                )
                for entry in sorted(decision.scored, key=lambda entry: (-entry.score, entry.offer.id))
            ]
            rows += [
                (offer_id, "", "", "", "", f"excluded: {reason.value}")
                for offer_id, reason in decision.excluded.items()
            ]
            header = ("offer", "model", "preference", "share", "score", "outcome")
            lines.append(_indent(table(header, rows)))
        if endpoint_id in demo.response:
            recommendations = demo.response[endpoint_id][RECOMMENDATIONS]
            names = list(recommendations)
            values = list(zip(*(recommendations[name] for name in names), strict=True))
            lines += ["  Recommendations:", _indent(_indent(table(names, values)))]
        else:
            reason = demo.left_out.get(endpoint_id)
            lines.append(f"  left out, not sent: {reason.value if reason else 'unknown'}")
        lines.append("")
    if demo.preview is not None:
        lines += _preview_lines(demo.preview, "event-offers.json", "pinrec-offers.toml")
    lines.append(f"Offers logs and metrics (counts only): {demo.workdir / 'transformer-offers.log'}")
    return "\n".join(lines)
