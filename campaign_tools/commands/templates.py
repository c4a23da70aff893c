"""`pinrec templates list|build|lint|preview|publish`: message templates from source to Pinpoint."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from campaign_tools.commands import options
from campaign_tools.console import print_json, table
from campaign_tools.templates import workflows
from campaign_tools.templates.preview import PreviewReport, summary_labels
from campaign_tools.templates.workflows import DEFAULT_BUILD_DIR, DEFAULT_PREVIEW_DIR


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    templates = commands.add_parser(
        "templates",
        help="build, lint, preview and publish Pinpoint message templates",
        description="Templates are folders holding template.toml and jinja2 sources (see README, 'Message "
        "templates'). NAME is a folder path, a folder under ./templates (or --templates-dir), or a template "
        "shipped with pinrec (recommended-for-you, offer).",
    )
    actions = templates.add_subparsers(title="actions", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="list the templates pinrec can find")
    _add_source_options(listing, name=False)
    listing.set_defaults(run=run_list)

    build = actions.add_parser(
        "build",
        help="write the Handlebars parts and the exact Pinpoint template requests",
        description="Renders the jinja2 sources into Pinpoint Handlebars, compiles MJML, inlines CSS, derives "
        "the text part (unless authored), guards each email stage by rendering the sample endpoints before and "
        "after it, and writes the parts plus EmailTemplateRequest / SMSTemplateRequest / "
        "PushNotificationTemplateRequest JSON, exactly as publish sends them.",
    )
    _add_source_options(build)
    build.add_argument("--out", help=f"output folder (default: {DEFAULT_BUILD_DIR}/NAME)")
    build.add_argument("--recommender-id", help="put this RecommenderId in the request JSON, as publish will")
    build.set_defaults(run=run_build)

    lint = actions.add_parser(
        "lint",
        help="check a template against Pinpoint's rules; exits 1 on errors",
        description="Errors and warnings with file and line: unknown or undeclared variables, bare lists, "
        "indexes past RecommendationsPerMessage, each over long lists, undocumented helpers, unquoted "
        "arguments, missing defaults, unescaped item data, unsubscribe link, alt text, lang, UTM on owned "
        "links, SMS encoding and segments (worst case too), rendered email size and Pinpoint's part limits.",
    )
    _add_source_options(lint)
    lint.add_argument("--quiet", action="store_true", help="print errors and warnings only, not notes")
    lint.set_defaults(run=run_lint)

    preview = actions.add_parser(
        "preview",
        help="run the transformer on an event and render every endpoint's messages into a gallery",
        description="Runs the real transformer on the event (with --config, $PINREC_CONFIG or ./pinrec.toml), "
        "then renders each endpoint's email, SMS and push parts the way Pinpoint substitutes them. Writes "
        "per-endpoint files and an index.html gallery, prints SMS encoding and segments, email size and the "
        "branches each endpoint took, and lists endpoints the transformer left out. Without any configuration, "
        "the Recommendations already in the event are used (the shipped templates' sample events have them).",
    )
    _add_source_options(preview, config_help="transformer configuration (default: $PINREC_CONFIG or ./pinrec.toml)")
    preview.add_argument("--event", help="Pinpoint transformer event JSON (default: the template's sample_event)")
    preview.add_argument("--out", help=f"output folder (default: {DEFAULT_PREVIEW_DIR}/NAME)")
    preview.set_defaults(run=run_preview)

    publish = actions.add_parser(
        "publish",
        help="create the Pinpoint templates, or save a new version of them",
        description="Lints and builds the template, shows for each channel the diff against the active "
        "version, then creates the template or updates it with CreateNewVersion. A new version becomes active "
        "only with --activate. --dry-run shows the diff, the plan and the exact write requests, and changes nothing.",
    )
    _add_source_options(publish)
    publish.add_argument("--recommender-id", required=True, help="the Pinpoint recommender model the templates use")
    publish.add_argument("--activate", action="store_true", help="make the new versions the active ones")
    options.add_aws_options(publish)
    publish.set_defaults(run=run_publish)


def _add_source_options(parser: argparse.ArgumentParser, *, name: bool = True, config_help: str = "") -> None:
    if name:
        parser.add_argument("name", metavar="NAME", help="template name or folder")
        parser.add_argument(
            "--config",
            help=config_help
            or "recommender configuration (pinrec.toml) to check the template's attributes and max lengths against",
        )
    parser.add_argument("--templates-dir", help="folder of template folders (default: ./templates)")


def _template(arguments: argparse.Namespace) -> dict[str, Any]:
    """The values of `_add_source_options`, as every workflow on one template takes them."""
    return {"name": arguments.name, "templates_dir": arguments.templates_dir, "config": arguments.config}


def run_list(arguments: argparse.Namespace) -> int:
    sources = workflows.find_templates(workflows.ListSettings(templates_dir=arguments.templates_dir))
    if not sources:
        print("no templates found")
        return 0
    rows = [
        (source.name, ", ".join(source.manifest.channels), str(source.directory), source.manifest.description)
        for source in sources
    ]
    print(table(("name", "channels", "folder", "description"), rows))
    return 0


def run_build(arguments: argparse.Namespace) -> int:
    settings = workflows.BuildSettings(
        **_template(arguments), out=arguments.out, recommender_id=arguments.recommender_id
    )
    result = workflows.build(settings)
    built = result.built
    print(f"built {built.name} in {built.seconds:.2f}s -> {result.out}")
    for check in built.checks:
        print(
            f"  guard {check.stage}: {check.samples} sample(s), {check.words} words and {check.links} links unchanged"
        )
    for path, size in result.written.items():
        print(f"  {path} ({size:,} bytes)")
    return 0


def run_lint(arguments: argparse.Namespace) -> int:
    from campaign_tools.templates.lint import Severity

    report = workflows.lint(workflows.LintSettings(**_template(arguments)))
    for finding in report.findings:
        if arguments.quiet and finding.severity is Severity.NOTE:
            continue
        print(finding)
    errors, warnings = len(report.errors), len(report.warnings)
    print(f"{report.template}: {errors} error(s), {warnings} warning(s)")
    return 1 if errors else 0


def run_preview(arguments: argparse.Namespace) -> int:
    report = workflows.preview(
        workflows.PreviewSettings(**_template(arguments), event=arguments.event, out=arguments.out)
    )
    print(describe_preview(report))
    return 1 if report.failed else 0


def describe_preview(report: PreviewReport) -> str:
    labels = summary_labels()
    rows = [
        (
            endpoint.endpoint_id,
            endpoint.channel,
            *(endpoint.summary(label) or "-" for label in labels),
            endpoint.branch_summary(),
        )
        for endpoint in report.endpoints
    ]
    lines = [
        f"Preview of {report.template}: {len(report.endpoints)} endpoint(s), recommendations from {report.enriched_by}",
        "",
        table(("endpoint", "channel", *labels, "branches"), rows),
    ]
    details = [(endpoint.endpoint_id, endpoint.branch_details(report.parts)) for endpoint in report.endpoints]
    if any(lines_ for _, lines_ in details):
        lines += ["", "Branches taken (line numbers of the built parts):"]
        for endpoint_id, branch_lines in details:
            lines += [f"  {endpoint_id}"] + [f"    {line}" for line in branch_lines]
    for endpoint in report.failed:
        lines += ["", f"{endpoint.endpoint_id}: rendering failed"] + [f"  {error}" for error in endpoint.errors]
    if report.left_out:
        lines += ["", "Left out by the transformer (Pinpoint sends them nothing):"]
        lines += [f"  {endpoint_id}: {reason}" for endpoint_id, reason in report.left_out.items()]
    lines += ["", f"Gallery: {report.index.resolve().as_uri()}"]
    return "\n".join(lines)


def run_publish(arguments: argparse.Namespace) -> int:
    settings = workflows.PublishSettings(
        **_template(arguments),
        recommender_id=arguments.recommender_id,
        activate=arguments.activate,
        dry_run=arguments.dry_run,
        region=arguments.region,
        profile=arguments.profile,
        endpoint_url=arguments.endpoint_url,
    )
    session = options.open_session(arguments)
    as_text = arguments.output == "text"
    say: Callable[[str], None] = print if as_text else _quiet
    try:
        result = workflows.publish(settings, session, say=say)
    except workflows.LintRefused as refused:
        for finding in refused.findings:
            print(finding, file=sys.stderr)
        raise
    if not as_text:
        print_json({**result.to_dict(), **options.requests_json(session)})
        return 0
    if session.dry_run:
        print(f"\n{options.render_requests(session.requested_writes)}")
    print(f"done in {result.seconds:.1f}s")
    return 0


def _quiet(_: str) -> None:
    pass
