"""jinja2 sources -> Pinpoint Handlebars. Jinja uses `[% %]`, `[[ ]]` and `[# #]`, so `{{…}}` passes through.

Sources emit Handlebars either literally or through the functions below, which check every variable path against
the endpoint shape and the recommender's declared attributes while the template is built.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jinja2
from markupsafe import Markup, escape

from campaign_tools.channels.base import Part
from campaign_tools.templates.errors import AuthoringError
from campaign_tools.templates.manifest import RecommenderAttributes, TemplateSource
from campaign_tools.templates.paths import describe_path
from campaign_tools.templates.sandbox import TemplateSandbox, render_bounded
from campaign_tools.unsubscribe.links import LINK_VARIABLE

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign")


class SourceKind(StrEnum):
    """How a part's source is written, which decides escaping and how block tags are wrapped."""

    MJML = "mjml"
    HTML = "html"
    TEXT = "text"


def kind_of(source: TemplateSource, part: Part) -> SourceKind:
    if part.markup:
        return SourceKind.MJML if source.files[part].name.endswith(".mjml.jinja") else SourceKind.HTML
    return SourceKind.TEXT


@dataclass(frozen=True)
class LinkTagger:
    """Adds UTM parameters to links on the template's owned domains, at authoring time."""

    owned_domains: tuple[str, ...]
    source: str
    campaign: str

    def is_owned(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == domain or host.endswith("." + domain) for domain in self.owned_domains)

    def tag(self, url: str, medium: str, content: str | None = None) -> str:
        if not self.is_owned(url):
            return url
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        present = {key for key, _ in query}
        wanted = {"utm_source": self.source, "utm_medium": medium, "utm_campaign": self.campaign}
        if content:
            wanted["utm_content"] = content
        query += [(key, value) for key, value in wanted.items() if key not in present]
        return urlunsplit(parts._replace(query=urlencode(query, safe="{}[].")))


def link_tagger(source: TemplateSource) -> LinkTagger:
    links = source.manifest.links
    return LinkTagger(links.owned_domains, links.utm_source, links.utm_campaign or source.name)


def _handlebars(text: str) -> Markup:
    """Mark generated Handlebars as safe for jinja2: every path in it was checked, every literal escaped."""
    return Markup(text)  # noqa: S704 - built only from checked paths and escaped values


class _Functions:
    """The functions a source calls; each returns Handlebars text and refuses paths the endpoint cannot fill."""

    def __init__(self, source: TemplateSource, part: Part, attributes: RecommenderAttributes) -> None:
        self._source = source
        self._part = part
        self._markup = kind_of(source, part)
        self._attributes = attributes
        self._tagger = link_tagger(source)

    def _checked(self, path: object) -> str:
        if not isinstance(path, str) or re.search(r"[{}\s]", path.replace(" ", "") if "[" in path else path):
            raise AuthoringError(f"{path!r} is not a variable path")
        info = describe_path(path, self._attributes.names)
        if not info.known:
            raise AuthoringError(info.problem or f"unknown variable {path}")
        if info.is_list:
            raise AuthoringError(f"{path} is a list: pick one value with .[N] (or print it with join)")
        if info.index is not None and info.recommendation is not None:
            limit = self._source.manifest.items_per_message
            if info.index >= limit:
                raise AuthoringError(f"{path}: index {info.index} is beyond RecommendationsPerMessage ({limit})")
        return path

    def path(self, path: str) -> Markup:
        return _handlebars(self._checked(path))

    def var(self, path: str) -> Markup:
        return _handlebars("{{%s}}" % self._checked(path))  # noqa: UP031 - braces are Handlebars, not a format

    def rec_path(self, attribute: str, index: object) -> Markup:
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise AuthoringError(f"rec_path({attribute!r}, {index!r}): the index must be a whole number >= 0")
        return _handlebars(self._checked(f"Recommendations.{attribute}.[{index}]"))

    def rec(self, attribute: str, index: object) -> Markup:
        return _handlebars("{{%s}}" % self.rec_path(attribute, index))  # noqa: UP031

    def _block(self, opening: str, body: str, closing: str) -> Markup:
        if self._markup is SourceKind.MJML:
            return _handlebars(f"<mj-raw><!-- {opening} --></mj-raw>{body}<mj-raw><!-- {closing} --></mj-raw>")
        if self._markup is SourceKind.HTML:
            # Inside an HTML comment a block tag stays where it is written: parsers never foster comments.
            return _handlebars(f"<!-- {opening} -->{body}<!-- {closing} -->")
        return _handlebars(f"{opening}{body}{closing}")

    def when(self, path: str, caller: Callable[[], str]) -> Markup:
        checked = self._checked(path)
        return self._block("{{#if %s}}" % checked, caller(), "{{/if}}")  # noqa: UP031

    def when_not(self, path: str, caller: Callable[[], str]) -> Markup:
        checked = self._checked(path)
        return self._block("{{#if %s}}{{else}}" % checked, caller(), "{{/if}}")  # noqa: UP031

    def utm(self, url: str, content: str | None = None) -> Markup:
        tagged = self._tagger.tag(str(url), self._part.channel, content)
        return escape(tagged) if self._markup is not SourceKind.TEXT else _handlebars(tagged)

    def unsubscribe_url(self) -> Markup:
        """The unsubscribe URL as the part prints it: links.unsubscribe_url in the `url` mode; otherwise the reserved
        variable the composer fills for each endpoint with the mode's link (pinrec's signed URL, SES's
        placeholder, or links.unsubscribe_url)."""
        links = self._source.manifest.links
        if links.unsubscribe != "url":
            return _handlebars("{{%s}}" % LINK_VARIABLE)  # noqa: UP031 - braces are Handlebars, not a format
        if not links.unsubscribe_url:
            raise AuthoringError(f"unsubscribe() needs links.unsubscribe_url in {self._source.manifest_path.name}")
        return (
            escape(links.unsubscribe_url) if self._markup is not SourceKind.TEXT else _handlebars(links.unsubscribe_url)
        )

    def unsubscribe(self, text: str, **attributes: str) -> Markup:
        if self._markup is SourceKind.TEXT:
            raise AuthoringError("unsubscribe() makes an HTML link: use it in the email HTML part")
        links = self._source.manifest.links
        href = self.unsubscribe_url()
        extra = "".join(f' {escape(key.replace("_", "-"))}="{escape(value)}"' for key, value in attributes.items())
        return _handlebars(
            f'<a href="{href}" ses:tags="unsubscribeLinkTag:{escape(links.unsubscribe_tag)}"{extra}>{escape(text)}</a>'
        )

    def globals(self) -> dict[str, object]:
        return {
            "manifest": self._source.manifest,
            "items": range(self._source.manifest.items_per_message),
            "path": self.path,
            "var": self.var,
            "rec": self.rec,
            "rec_path": self.rec_path,
            "when": self.when,
            "when_not": self.when_not,
            "utm": self.utm,
            "unsubscribe": self.unsubscribe,
            "unsubscribe_url": self.unsubscribe_url,
        }


def _environment(source: TemplateSource, markup: SourceKind) -> jinja2.Environment:
    # Text parts (subject, SMS, push, text email) are not HTML: escaping them would print &amp; to readers.
    return TemplateSandbox(
        loader=jinja2.FileSystemLoader(source.directory),
        block_start_string="[%",
        block_end_string="%]",
        variable_start_string="[[",
        variable_end_string="]]",
        comment_start_string="[#",
        comment_end_string="#]",
        undefined=jinja2.StrictUndefined,
        autoescape=markup is not SourceKind.TEXT,  # on for every HTML and MJML source
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def _source_line(error: BaseException, files: set[str]) -> tuple[Path | None, int | None]:
    """The template file and line a jinja2 error came from (jinja rewrites tracebacks to template lines)."""
    found: tuple[Path | None, int | None] = (None, None)
    for frame, line in traceback.walk_tb(error.__traceback__):
        filename = frame.f_code.co_filename
        if filename in files:
            found = (Path(filename), line)
    return found


def author_part(source: TemplateSource, part: Part, attributes: RecommenderAttributes) -> str:
    """Render one part's jinja2 source into the Handlebars text Pinpoint stores."""
    file = source.files[part]
    markup = kind_of(source, part)
    environment = _environment(source, markup)
    environment.globals.update(_Functions(source, part, attributes).globals())
    candidates = {str(path.resolve()) for path in source.directory.glob("*.jinja")} | {str(file)}
    candidates |= {str(path) for path in source.directory.glob("*.jinja")}
    try:
        rendered = render_bounded(environment.get_template(file.name))
    except jinja2.TemplateSyntaxError as error:
        where = Path(error.filename) if error.filename else file
        raise AuthoringError(f"jinja2 syntax: {error.message}", where, error.lineno) from None
    except AuthoringError as error:
        origin, line = _source_line(error, candidates)
        raise AuthoringError(error.message, origin or file, line) from None
    except jinja2.UndefinedError as error:
        origin, line = _source_line(error, candidates)
        raise AuthoringError(f"undefined in jinja2 source: {error.message}", origin or file, line) from None
    except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError) as error:
        origin, line = _source_line(error, candidates)
        raise AuthoringError(f"{type(error).__name__}: {error}", origin or file, line) from None
    except RecursionError:
        raise AuthoringError("the source recurses without end (a macro that calls itself?)", file) from None
    return rendered.strip() + ("\n" if markup is not SourceKind.TEXT else "")
