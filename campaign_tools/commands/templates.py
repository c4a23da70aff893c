"""`pinrec templates list|build|lint|preview|publish`: message templates from source to Pinpoint."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from campaign_tools.console import table
from campaign_tools.templates.errors import TemplateError
from campaign_tools.templates.manifest import Manifest, TemplateSource, list_templates, load_template
from campaign_tools.templates.preview import PreviewReport, summary_labels
from transformer.config import CONFIG_ENV_VAR, DEFAULT_CONFIG_FILE, PinrecConfig, load_config

DEFAULT_BUILD_DIR = Path("build") / "templates"
DEFAULT_PREVIEW_DIR = Path("build") / "preview"


def register(commands: argparse._SubParsersAction) -> None:
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
        "only with --activate. --dry-run shows the diff and the plan and changes nothing.",
    )
    _add_source_options(publish)
    publish.add_argument("--recommender-id", required=True, help="the Pinpoint recommender model the templates use")
    publish.add_argument("--activate", action="store_true", help="make the new versions the active ones")
    publish.add_argument("--dry-run", action="store_true", help="show the diff and the plan; change nothing")
    publish.add_argument("--region", help="AWS region (default: the AWS configuration's)")
    publish.add_argument("--profile", help="AWS named profile")
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


def _config(path: str | None) -> PinrecConfig | None:
    return load_config(path) if path else None


def _load(arguments: argparse.Namespace) -> TemplateSource:
    return load_template(arguments.name, arguments.templates_dir)


def run_list(arguments: argparse.Namespace) -> int:
    rows = []
    for folder in list_templates(arguments.templates_dir):
        source = load_template(str(folder))
        manifest: Manifest = source.manifest
        rows.append((manifest.name, ", ".join(manifest.channels), str(folder), manifest.description))
    if not rows:
        print("no templates found")
        return 0
    print(table(("name", "channels", "folder", "description"), rows))
    return 0


def run_build(arguments: argparse.Namespace) -> int:
    from campaign_tools.templates.build import build_template, write_build

    source = _load(arguments)
    built = build_template(source, _config(arguments.config))
    out = Path(arguments.out) if arguments.out else DEFAULT_BUILD_DIR / source.name
    written = write_build(built, out, arguments.recommender_id)
    print(f"built {source.name} in {built.seconds:.2f}s -> {out}")
    for check in built.checks:
        print(
            f"  guard {check.stage}: {check.samples} sample(s), {check.words} words and {check.links} links unchanged"
        )
    for path in written:
        print(f"  {path} ({path.stat().st_size:,} bytes)")
    return 0


def run_lint(arguments: argparse.Namespace) -> int:
    from campaign_tools.templates.lint import Severity, lint_template

    source = _load(arguments)
    report = lint_template(source, _config(arguments.config))
    for finding in report.findings:
        if arguments.quiet and finding.severity is Severity.NOTE:
            continue
        print(finding)
    errors, warnings = len(report.errors), len(report.warnings)
    print(f"{source.name}: {errors} error(s), {warnings} warning(s)")
    return 1 if errors else 0


def _preview_config(explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    from_env = os.environ.get(CONFIG_ENV_VAR)
    if from_env:
        return Path(from_env)
    local = Path(DEFAULT_CONFIG_FILE)
    return local if local.is_file() else None


def run_preview(arguments: argparse.Namespace) -> int:
    from campaign_tools.templates.preview import preview_from_files

    source = _load(arguments)
    event_path = Path(arguments.event) if arguments.event else source.sample_event_path
    if event_path is None:
        raise TemplateError(f"template {source.name} has no sample_event: pass --event FILE")
    out = Path(arguments.out) if arguments.out else DEFAULT_PREVIEW_DIR / source.name
    report = preview_from_files(source, event_path, _preview_config(arguments.config), out)
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
    from campaign_tools.templates import publish
    from campaign_tools.templates.lint import lint_template

    source = _load(arguments)
    started = time.perf_counter()
    report = lint_template(source, _config(arguments.config))
    if report.errors or report.built is None:
        for finding in report.errors:
            print(finding, file=sys.stderr)
        raise TemplateError(f"template {source.name} has {len(report.errors)} lint error(s): not publishing")
    client = publish.pinpoint_client(arguments.region, arguments.profile)
    publish.publish_template(
        report.built, client, arguments.recommender_id, activate=arguments.activate, dry_run=arguments.dry_run
    )
    print(f"done in {time.perf_counter() - started:.1f}s")
    return 0
