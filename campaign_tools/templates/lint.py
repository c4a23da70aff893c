"""`pinrec templates lint`: every rule a Pinpoint template must pass, as errors and warnings with file and line."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from campaign_tools.channels import email as email_channel
from campaign_tools.channels import push as push_channel
from campaign_tools.channels import sms as sms_channel
from campaign_tools.channels.base import Part
from campaign_tools.templates.authoring import LinkTagger, author_part, link_tagger
from campaign_tools.templates.build import BuiltTemplate, build_template
from campaign_tools.templates.email_pipeline import visible_markup
from campaign_tools.templates.errors import AuthoringError
from campaign_tools.templates.handlebars_paths import path_uses
from campaign_tools.templates.manifest import ASSUMED_MAX_LENGTH, TemplateSource
from campaign_tools.templates.paths import (
    CUSTOM_LIST_MAPS,
    CUSTOM_NUMBER_MAP,
    RECOMMENDATION_ITEMS,
    RECOMMENDATIONS,
    describe_path,
    split_path,
)
from transformer.config import PinrecConfig
from transformer.errors import PinrecError

EMAIL_SIZE_BUDGET = 90 * 1024
"""Rendered per-recipient HTML budget: Gmail clips at ~102 KB, and Pinpoint adds tracking to links and a pixel."""
EMAIL_TEMPLATE_LIMIT = 600_000
SMS_TEMPLATE_LIMIT = 1_600
PUSH_PART_LIMIT = 4_000
EACH_LIMIT = 15
WORST_CASE = "(worst case)"
OTHER_RENDERED_PARTS = (
    email_channel.SUBJECT,
    email_channel.TEXT,
    push_channel.TITLE,
    push_channel.BODY,
    push_channel.URL,
)
ITEM_DATA_ROOTS = (RECOMMENDATIONS, RECOMMENDATION_ITEMS, "Attributes", "User")
OPT_OUT = re.compile(r"\b(STOP|UNSUBSCRIBE|OPT-?OUT|CANCEL|END|QUIT)\b")
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_HTML_TAG = re.compile(r"<html\b[^>]*>", re.IGNORECASE)
_TABLE = re.compile(r"<table\b[^>]*>", re.IGNORECASE)
_UNSUBSCRIBE = re.compile(r"""ses:tags\s*=\s*["'][^"']*unsubscribeLinkTag:""", re.IGNORECASE)
_MJ_BUTTON_TAGGED = re.compile(r"<mj-button\b[^>]*ses:tags", re.IGNORECASE)
_HREF = re.compile(r"""\bhref\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
_HANDLEBARS = re.compile(r"\{\{.*?\}\}", re.DOTALL)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, order=True)
class Finding:
    file: str
    line: int | None
    severity: Severity
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity}: {self.message} [{self.rule}]"


@dataclass
class LintReport:
    template: str
    findings: list[Finding]
    built: BuiltTemplate | None

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity is Severity.WARNING]


class _Linter:
    def __init__(self, built: BuiltTemplate, authored: Mapping[Part, str], renderer: Any) -> None:
        self.built = built
        self.source = built.source
        self.authored = authored
        self.renderer = renderer
        self.findings: list[Finding] = []
        self.manifest = built.source.manifest
        self._sources = {path: path.read_text(encoding="utf-8") for path in self.source.directory.glob("*.jinja")}

    # -- locations -------------------------------------------------------------------------------------------
    def _relative(self, path: Path) -> str:
        return f"{self.source.name}/{path.name}"

    def locate(self, part: Part, line: int | None, snippet: str | None) -> tuple[str, int | None]:
        """Where a built part's text comes from: the source line that holds it literally, else the built line."""
        if snippet:
            own = self.source.files.get(part)
            ordered = sorted(self._sources, key=lambda path: path != own)
            for path in ordered:
                text = self._sources[path]
                at = text.find(snippet)
                if at >= 0:
                    return self._relative(path), text.count("\n", 0, at) + 1
        origin = self.source.files.get(part)
        label = self._relative(origin) if origin else f"{self.source.name}/{part.key}"
        if line is None:
            return label, None
        return f"{label} (generated: line {line} of the built {part.key} part)", None

    def add(self, severity: Severity, rule: str, message: str, part: Part | None = None, **where: Any) -> None:
        if part is not None:
            file, line = self.locate(part, where.get("line"), where.get("snippet"))
        else:
            file, line = where.get("file", self._relative(self.source.manifest_path)), where.get("line")
        finding = Finding(file, line, severity, rule, message)
        if finding not in self.findings:
            self.findings.append(finding)

    # -- Handlebars paths and helpers ------------------------------------------------------------------------
    def handlebars_parts(self) -> Iterable[tuple[Part, str]]:
        for part, text in self.authored.items():
            if part is email_channel.TEXT and self.built.text_derived:
                continue
            yield part, text

    def check_paths(self) -> None:
        names = self.built.attributes.names
        limit = self.manifest.items_per_message
        defaults = self.built.default_substitutions
        for part, text in self.handlebars_parts():
            for use in path_uses(text):
                info = describe_path(use.path, names)
                where = {"line": use.line, "snippet": use.raw}
                if not info.known:
                    rule = "undeclared-attribute" if info.recommendation else "unknown-path"
                    self.add(Severity.ERROR, rule, info.problem or f"unknown variable {use.path}", part, **where)
                    continue
                if info.is_list and use.printed:
                    self.add(
                        Severity.ERROR,
                        "bare-list",
                        f"{use.path} is a list: print one value with .[N] or all with join "
                        "(Pinpoint's Handlebars.java prints whole lists differently from handlebars.js)",
                        part,
                        **where,
                    )
                if use.block == "each" and info.is_list and _unbounded_list(use.path):
                    self.add(
                        Severity.WARNING,
                        "each-over-15",
                        f"each over {use.path}: a custom attribute can hold more than {EACH_LIMIT} values and "
                        f"Pinpoint's each stops at {EACH_LIMIT}",
                        part,
                        **where,
                    )
                if info.index is not None and _is_recommendation_list(use.path) and info.index >= limit:
                    self.add(
                        Severity.ERROR,
                        "index-beyond",
                        f"{use.path}: index {info.index} is beyond RecommendationsPerMessage ({limit}); "
                        "it is always empty",
                        part,
                        **where,
                    )
                condition_only = use.block == "if"
                if info.recommendation is not None and not condition_only and not _has_default(use.path, defaults):
                    self.add(
                        Severity.ERROR,
                        "missing-default",
                        f"{use.path} has no DefaultSubstitutions entry: Pinpoint's test sends (and any endpoint "
                        f'without it) print nothing; add "{RECOMMENDATIONS}.{info.recommendation}" to '
                        "[default_substitutions]",
                        part,
                        **where,
                    )
                if use.triple and use.path.split(".")[0] in ITEM_DATA_ROOTS and part.markup:
                    self.add(
                        Severity.ERROR,
                        "triple-stash",
                        f"{{{{{{{use.path}}}}}}} prints item or user data unescaped into HTML: use {{{{…}}}}",
                        part,
                        **where,
                    )

    def check_hazards(self) -> None:
        from campaign_tools.rendering import lint_hazards

        severity = {
            "unknown-helper": Severity.ERROR,
            "unquoted-argument": Severity.ERROR,
            "bare-list": Severity.ERROR,
            "float-literal": Severity.WARNING,
            "if-number": Severity.WARNING,
        }
        for part, text in self.handlebars_parts():
            lines = text.splitlines()
            for hazard in lint_hazards(text):
                if hazard.code == "triple-stash":
                    if part.markup and any(
                        use.triple and use.line == hazard.line and use.path.split(".")[0] in ITEM_DATA_ROOTS
                        for use in path_uses(text)
                    ):
                        continue  # reported as an error by check_paths, with the path
                    level = Severity.WARNING if part.markup else Severity.NOTE
                elif hazard.code == "bare-list":
                    continue  # check_paths reports bare lists with the path and its declared shape
                else:
                    level = severity.get(hazard.code, Severity.WARNING)
                snippet = _mustache_on(lines, hazard.line)
                self.add(level, hazard.code, hazard.message, part, line=hazard.line, snippet=snippet)

    # -- email -----------------------------------------------------------------------------------------------
    def check_email_static(self) -> None:
        if email_channel.HTML not in self.built.parts:
            return
        html = self.built.parts[email_channel.HTML]
        authored = self.authored[email_channel.HTML]
        part = email_channel.HTML
        html_tag = _HTML_TAG.search(html)
        lang = _attribute(html_tag.group(0), "lang") if html_tag else None
        if not lang or lang.lower() == "und":
            self.add(
                Severity.ERROR,
                "html-lang",
                'the email\'s <html> has no language (lang attribute; MJML writes lang="und" unless <mjml lang> '
                "is set)",
                part,
                line=1,
            )
        for match in _IMG.finditer(html):
            if not re.search(r"\balt\s*=", match.group(0)):
                line = html.count("\n", 0, match.start()) + 1
                self.add(
                    Severity.ERROR,
                    "img-alt",
                    'an image has no alt text (use alt="" for a decorative one)',
                    part,
                    line=line,
                    snippet=_attribute(match.group(0), "src"),
                )
        if not _UNSUBSCRIBE.search(html):
            self.add(
                Severity.ERROR,
                "unsubscribe-link",
                'no unsubscribe link: add a link with ses:tags="unsubscribeLinkTag:NAME" (the unsubscribe() '
                "function writes one)",
                part,
                line=1,
            )
        if _MJ_BUTTON_TAGGED.search(authored):
            match = _MJ_BUTTON_TAGGED.search(authored)
            assert match is not None
            self.add(
                Severity.ERROR,
                "unsubscribe-link",
                "ses:tags on <mj-button> is dropped by MJML: put the unsubscribe link in an <mj-text>",
                part,
                line=authored.count("\n", 0, match.start()) + 1,
                snippet="ses:tags",
            )
        for match in _TABLE.finditer(html):
            if "role=" not in match.group(0):
                self.add(
                    Severity.WARNING,
                    "table-role",
                    'a layout table has no role="presentation": screen readers announce it as data',
                    part,
                    line=html.count("\n", 0, match.start()) + 1,
                )

    def check_links_static(self) -> None:
        """Links written in the template (not coming from a variable) to owned domains carry UTM parameters."""
        tagger = link_tagger(self.source)
        for part in (email_channel.HTML, email_channel.TEXT, sms_channel.BODY, push_channel.BODY, push_channel.URL):
            text = self.built.parts.get(part)
            for url in _literal_urls(text or "", html_part=part is email_channel.HTML):
                self._check_utm(tagger, url, part, f"link {url}", snippet=url)

    def _check_utm(self, tagger: LinkTagger, url: str, part: Part, what: str, snippet: str | None = None) -> None:
        if not tagger.is_owned(url):
            return
        query = parse_qs(urlsplit(url).query)
        missing = [key for key in ("utm_source", "utm_medium", "utm_campaign") if key not in query]
        if missing:
            self.add(
                Severity.WARNING,
                "utm",
                f"{what} points to an owned domain without {', '.join(missing)} (wrap it in utm())",
                part,
                snippet=snippet,
            )

    # -- rendering ------------------------------------------------------------------------------------------
    def render(self, part: Part, sample_id: str, endpoint: Mapping[str, Any]) -> str | None:
        from campaign_tools.rendering import TemplateRenderError

        try:
            return self.built.render(self.renderer, part, endpoint).text
        except TemplateRenderError as error:
            self.add(
                Severity.ERROR,
                "render-error",
                f"rendering for sample {sample_id} failed: {error.reason}",
                part,
                line=error.line,
            )
            return None

    def check_rendered(self) -> None:
        """Render every sample and a worst case: email size and links, SMS encoding and segments, any failure."""
        samples = {**self.built.samples, WORST_CASE: worst_case_endpoint(self.built)}
        sizes: list[tuple[int, str]] = []
        for sample_id, endpoint in samples.items():
            if email_channel.HTML in self.built.parts:
                size = self._check_email_sample(sample_id, endpoint)
                if size is not None and sample_id != WORST_CASE:
                    sizes.append((size, sample_id))
            for part in OTHER_RENDERED_PARTS:
                if part in self.built.parts:
                    rendered = self.render(part, sample_id, endpoint)
                    if part is push_channel.URL and rendered and sample_id != WORST_CASE:
                        what = f"rendered push URL {rendered} ({sample_id})"
                        self._check_utm(link_tagger(self.source), rendered, part, what)
            if sms_channel.BODY in self.built.parts:
                self._check_sms_sample(sample_id, endpoint)
        if sizes:
            size, sample_id = max(sizes)
            self.add(
                Severity.NOTE,
                "email-size",
                f"largest rendered email: {size / 1024:.1f} KB ({sample_id})",
                email_channel.HTML,
            )

    def _check_email_sample(self, sample_id: str, endpoint: Mapping[str, Any]) -> int | None:
        html = self.render(email_channel.HTML, sample_id, endpoint)
        if html is None:
            return None
        size = len(html.encode("utf-8"))
        if size > EMAIL_SIZE_BUDGET:
            self.add(
                Severity.WARNING if sample_id == WORST_CASE else Severity.ERROR,
                "email-size",
                f"rendered email for {sample_id} is {size / 1024:.1f} KB, over the "
                f"{EMAIL_SIZE_BUDGET // 1024} KB budget (Gmail clips at ~102 KB)",
                email_channel.HTML,
            )
        if sample_id != WORST_CASE:
            tagger = link_tagger(self.source)
            for link in visible_markup(html).links:
                self._check_utm(tagger, link, email_channel.HTML, f"rendered link {link} ({sample_id})")
        return size

    def _check_sms_sample(self, sample_id: str, endpoint: Mapping[str, Any]) -> None:
        from campaign_tools.rendering import sms_encoding

        text = self.render(sms_channel.BODY, sample_id, endpoint)
        if text is None:
            return
        if sample_id != WORST_CASE:
            for url in _literal_urls(text, html_part=False):
                self._check_utm(link_tagger(self.source), url, sms_channel.BODY, f"rendered link {url} ({sample_id})")
        info = sms_encoding(text)
        sms_settings = self.manifest.settings_for(sms_channel.CHANNEL)
        assert isinstance(sms_settings, sms_channel.SmsTemplateSettings)
        budget = sms_settings.max_segments
        level = Severity.WARNING if info.segments > budget else Severity.NOTE
        if sample_id == WORST_CASE:
            ucs2 = sms_encoding(text + "\u2019")  # one character outside GSM-7 anywhere in the data
            self.add(
                level,
                "sms-worst-case",
                f"SMS worst case (every variable at its maximum length, from {self.built.attributes.source}, "
                f"else {ASSUMED_MAX_LENGTH} characters): {info.characters} characters, {info.segments} "
                f"{info.encoding} segment(s); {ucs2.segments} if any value has a character outside GSM-7 "
                f"(budget: {budget})",
                sms_channel.BODY,
            )
            return
        self.add(
            level,
            "sms-segments",
            f"SMS for {sample_id}: {info.characters} characters, {info.encoding}, {info.segments} "
            f"segment(s) (budget: {budget})",
            sms_channel.BODY,
        )
        if info.non_gsm_chars:
            self.add(
                Severity.NOTE,
                "sms-gsm7",
                f"SMS for {sample_id} is UCS-2 because of its data: {_describe_non_gsm(info.non_gsm_chars)}",
                sms_channel.BODY,
            )

    def check_sms_static(self) -> None:
        from campaign_tools.rendering import sms_encoding

        if sms_channel.BODY not in self.authored:
            return
        text = self.authored[sms_channel.BODY]
        literal = _HANDLEBARS.sub("", text)
        info = sms_encoding(literal)
        source_text = self.source.files[sms_channel.BODY].read_text(encoding="utf-8")
        for char in info.non_gsm_chars:
            at = source_text.find(char.char)
            line = source_text.count("\n", 0, at) + 1 if at >= 0 else None
            self.add(
                Severity.WARNING,
                "sms-gsm7",
                f"the SMS text itself is outside GSM-7, so every message is UCS-2 (70 characters a segment): "
                f"{_describe_non_gsm([char])}",
                file=self._relative(self.source.files[sms_channel.BODY]),
                line=line,
            )
        if not OPT_OUT.search(literal):
            self.add(
                Severity.WARNING,
                "sms-opt-out",
                'the SMS has no opt-out instruction (e.g. "Reply STOP to opt out")',
                file=self._relative(self.source.files[sms_channel.BODY]),
                line=1,
            )

    def check_sizes(self) -> None:
        parts = self.built.parts
        email = sum(
            len(parts.get(part, "")) for part in (email_channel.SUBJECT, email_channel.HTML, email_channel.TEXT)
        )
        if email > EMAIL_TEMPLATE_LIMIT:
            self.add(
                Severity.ERROR,
                "part-size",
                f"email template is {email:,} characters; Pinpoint accepts {EMAIL_TEMPLATE_LIMIT:,}",
                email_channel.HTML,
            )
        if len(parts.get(sms_channel.BODY, "")) > SMS_TEMPLATE_LIMIT:
            self.add(
                Severity.ERROR,
                "part-size",
                f"SMS template is {len(parts[sms_channel.BODY]):,} characters; Pinpoint accepts {SMS_TEMPLATE_LIMIT:,}",
                sms_channel.BODY,
            )
        for part in (push_channel.TITLE, push_channel.BODY, push_channel.URL):
            if len(parts.get(part, "")) > PUSH_PART_LIMIT:
                self.add(
                    Severity.ERROR,
                    "part-size",
                    f"push {part.key} is {len(parts[part]):,} characters; Pinpoint accepts {PUSH_PART_LIMIT:,}",
                    part,
                )

    def check_defaults(self) -> None:
        names = self.built.attributes.names
        for key in self.built.default_substitutions:
            info = describe_path(key, names)
            if not info.known and not info.is_list:
                self.add(
                    Severity.WARNING,
                    "unknown-default",
                    f"DefaultSubstitutions key {key!r} matches no variable Pinpoint fills: {info.problem}",
                )


def _is_recommendation_list(path: str) -> bool:
    head = split_path(path)[0]
    return head in (RECOMMENDATIONS, RECOMMENDATION_ITEMS)


def _unbounded_list(path: str) -> bool:
    dotted = ".".join(split_path(path))
    return any(dotted.startswith(prefix + ".") for prefix in CUSTOM_LIST_MAPS)


def _has_default(path: str, defaults: Mapping[str, str]) -> bool:
    segments = split_path(path)
    keys = {".".join(split_path(key)) for key in defaults}
    without_indexes = [segment for segment in segments if not re.fullmatch(r"\[\d+\]", segment)]
    return ".".join(segments) in keys or ".".join(without_indexes) in keys


def _mustache_on(lines: list[str], line: int) -> str | None:
    if 1 <= line <= len(lines):
        found = re.search(r"\{\{.*?\}\}", lines[line - 1])
        return found.group(0) if found else None
    return None


def _attribute(tag: str, name: str) -> str | None:
    found = re.search(rf"""\b{name}\s*=\s*["']([^"']*)["']""", tag)
    return found.group(1) if found else None


def _literal_urls(text: str, *, html_part: bool) -> list[str]:
    """Links written in the template (not produced by a variable), from hrefs or from plain text."""
    import html as html_module

    if html_part:
        urls = [html_module.unescape(url) for url in _HREF.findall(text)]
    else:
        urls = re.findall(r"https?://[^\s<>\"']+", text)
    return [url for url in urls if url.startswith(("http://", "https://"))]


def _describe_non_gsm(chars: Iterable[Any]) -> str:
    described = []
    for char in chars:
        shown = f"{char.char!r} (U+{ord(char.char[0]):04X})"
        described.append(f"{shown} -> {char.replacement!r}" if char.replacement else f"{shown}: no GSM-7 equivalent")
    return "; ".join(described)


def _set_path(target: dict[str, Any], segments: list[str], value: Any) -> None:
    for segment in segments[:-1]:
        child = target.get(segment)
        if not isinstance(child, dict):
            child = target[segment] = {}
        target = child
    target[segments[-1]] = value


def worst_case_endpoint(built: BuiltTemplate) -> dict[str, Any]:
    """An endpoint where every variable the template reads holds a value of its maximum length."""
    endpoint: dict[str, Any] = {}
    names = built.attributes.names
    items = built.source.manifest.items_per_message
    for part, text in built.parts.items():
        if part is email_channel.TEXT and built.text_derived:
            continue
        for use in path_uses(text):
            info = describe_path(use.path, names)
            if not info.known:
                continue
            segments = [segment for segment in split_path(use.path) if not re.fullmatch(r"\[\d+\]", segment)]
            if info.recommendation is not None:
                value: Any = ["x" * built.attributes.max_length(info.recommendation)] * items
                segments = segments[:2]
            elif segments[0] == RECOMMENDATION_ITEMS:
                value = ["x" * ASSUMED_MAX_LENGTH] * items
            elif segments[0] == CUSTOM_NUMBER_MAP:
                value = 999_999_999
            elif info.is_list or info.indexed:
                value = ["x" * ASSUMED_MAX_LENGTH]
            else:
                value = "x" * ASSUMED_MAX_LENGTH
            _set_path(endpoint, segments, value)
    return endpoint


def _author_all(source: TemplateSource, built: BuiltTemplate) -> dict[Part, str]:
    return {part: author_part(source, part, built.attributes) for part in source.files}


def lint_template(
    source: TemplateSource, config: PinrecConfig | None = None, renderer: Any | None = None
) -> LintReport:
    """Build the template and run every rule; a build that fails is one error finding with its location."""
    from campaign_tools.templates.build import make_renderer

    renderer = renderer if renderer is not None else make_renderer()
    try:
        built = build_template(source, config, renderer)
    except AuthoringError as error:
        file = f"{source.name}/{error.file.name}" if error.file else source.name
        return LintReport(source.name, [Finding(file, error.line, Severity.ERROR, "authoring", error.message)], None)
    except PinrecError as error:
        # The guarded email pipeline could not render or check a sample: report it, then lint the unguarded build
        # so every other rule still runs.
        try:
            built = build_template(source, config, renderer, guarded=False)
        except PinrecError as again:
            return LintReport(source.name, [Finding(source.name, None, Severity.ERROR, "build", str(again))], None)
        first = Finding(source.name, None, Severity.ERROR, "build", str(error))
    else:
        first = None
    linter = _Linter(built, _author_all(source, built), renderer)
    if first is not None:
        linter.findings.append(first)
    linter.check_defaults()
    linter.check_paths()
    linter.check_hazards()
    linter.check_email_static()
    linter.check_links_static()
    linter.check_sms_static()
    linter.check_sizes()
    linter.check_rendered()
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.NOTE: 2}
    findings = sorted(linter.findings, key=lambda item: (order[item.severity], item.file, item.line or 0))
    return LintReport(source.name, findings, built)
