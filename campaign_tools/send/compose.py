"""Composers: the template composer (pinrec's templates and Pinpoint renderer), or a plugin named on the command line.

A composer turns one enriched endpoint (the transformer's output, `Id` included) into the message its channel sends.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from campaign_tools.channels import registry as channel_registry
from campaign_tools.channels.base import Channel, ComposeError, ComposeInput, Message, Part, Settings
from campaign_tools.templates.prebuilt import SendableTemplate
from campaign_tools.unsubscribe.links import UnsubscribeLink, UnsubscribePlan, UnsubscribeRequest, plan_unsubscribe
from transformer.config import PinrecConfig
from transformer.errors import PinrecError

TEMPLATES_UNAVAILABLE = (
    "templates are not available in this build: pinrec send needs campaign_tools.templates and "
    "campaign_tools.rendering ({error}); pass --composer MODULE:FACTORY to use your own composer"
)


class MessageComposer(Protocol):
    """Turns one enriched endpoint into the message for the channel.

    Implementations must be thread-safe; a message that cannot be made raises `ComposeError`.
    """

    def compose(self, endpoint_id: str, endpoint: Mapping[str, Any]) -> Message: ...


@dataclass(frozen=True)
class ComposerOptions:
    """What a composer factory is given: `factory(options) -> MessageComposer`."""

    template: str | None
    templates_dir: str | None
    channel: str
    """The channel's name: email, sms or push."""
    config: PinrecConfig
    built: str | None = None
    """A folder `pinrec templates build --out` wrote: compose from it instead of building `template` from source."""
    unsubscribe: UnsubscribeRequest | None = None
    """The send's unsubscribe choices (mode, list, topic, endpoint, key location); None: the template's."""
    campaign_id: str | None = None
    """The send's campaign id: what tracked recommendation links carry (`campaign_tools.engagement.links`); None:
    no tracking (a preview)."""


def sendable_template(options: ComposerOptions, renderer: Any) -> SendableTemplate:
    """The template to compose from: the pre-built folder (renderer only), else built now from its source."""
    if options.built:
        from campaign_tools.templates.prebuilt import load_prebuilt

        template = load_prebuilt(Path(options.built))
        if options.template and options.template != template.name:
            raise PinrecError(
                f"the built template in {options.built} is {template.name}, not {options.template} "
                f"(for the send function: pinrec package --function send --template {options.template})"
            )
        template.check_attributes(options.config.attributes)
        return template
    if not options.template:
        raise PinrecError("--template or --built is required (or --composer)")
    from campaign_tools.templates.build import build_template
    from campaign_tools.templates.manifest import load_template

    source = load_template(options.template, options.templates_dir)
    return build_template(source, options.config, renderer).sendable()


def percent_encoded(value: str) -> str:
    """A value substituted into a URL, every character but RFC 3986's unreserved ones percent-encoded (UTF-8)."""
    return quote(value, safe="")


TRACKED_CHANNELS = frozenset({"email"})
"""Channels whose provider reports the link a recipient clicked (SES click events)."""


def tracked_attribute(template: SendableTemplate, channel: str, campaign_id: str | None) -> str | None:
    """The recommendation attribute whose links a send tracks: the template's `track_recommendations`, on a channel
    that reports clicks, in a send with a campaign id; else None (links render as the template has them)."""
    attribute = template.links.get("track_recommendations")
    if not isinstance(attribute, str) or not attribute or channel not in TRACKED_CHANNELS or not campaign_id:
        return None
    return attribute


class TemplateComposer:
    """Renders a template's parts for each endpoint with Pinpoint's substitution semantics, into the message its
    channel defines.

    The template is a `SendableTemplate` either way: built now from its source (`--template`, the full authoring
    pipeline) or read from a pre-built folder (`--built`, the send Lambda: only the renderer is imported).
    """

    def __init__(self, options: ComposerOptions, *, renderer: Any | None = None) -> None:
        try:
            from campaign_tools.rendering import PinpointRenderer, TemplateRenderError
        except ImportError as error:
            raise PinrecError(TEMPLATES_UNAVAILABLE.format(error=error)) from None

        self._render_error = TemplateRenderError
        self.renderer = renderer if renderer is not None else PinpointRenderer()
        self.template = sendable_template(options, self.renderer)
        self.channel: Channel = channel_registry.channel(options.channel)
        if self.channel.name not in self.template.channels:
            channels = ", ".join(self.template.channels)
            raise PinrecError(f"template {self.template.name} has no {self.channel.name} version (it has: {channels})")
        self.unsubscribe: UnsubscribePlan | None = None
        links = dict(self.template.links)
        if self.channel.unsubscribes:
            self.unsubscribe = plan_unsubscribe(self.template.name, links, options.unsubscribe)
            links["unsubscribe"] = self.unsubscribe.mode.value
        self.channel.check_sendable(self.template.name, links)
        self.channel_settings: Settings | None = self.template.settings_for(self.channel)
        self.tracked_attribute = tracked_attribute(self.template, self.channel.name, options.campaign_id)
        self._campaign_id = options.campaign_id or ""

    def _part(self, part: Part, endpoint: Mapping[str, Any], variables: Mapping[str, str] | None = None) -> str:
        if part not in self.template.parts:
            return ""
        data = {**endpoint, **variables} if variables else endpoint
        return str(self.template.render(self.renderer, part, data).text)

    def _unsubscribe(self, endpoint_id: str, endpoint: Mapping[str, Any]) -> Callable[[str], UnsubscribeLink] | None:
        plan = self.unsubscribe
        if plan is None:
            return None
        return lambda address: plan.link(endpoint_id, address, lambda text, name: self._url(text, name, endpoint))

    def _url(self, text: str, name: str, endpoint: Mapping[str, Any]) -> str:
        rendered = self.renderer.render(
            text,
            endpoint,
            default_substitutions=self.template.default_substitutions,
            name=f"{self.template.name}/{name}",
            escape=False,
            encode=percent_encoded,
        )
        return str(rendered.text)

    def compose(self, endpoint_id: str, endpoint: Mapping[str, Any]) -> Message:
        if self.tracked_attribute is not None:
            from campaign_tools.engagement.links import track_endpoint

            endpoint = track_endpoint(endpoint, self.tracked_attribute, self._campaign_id)
        given = ComposeInput(
            endpoint=endpoint,
            render=lambda part, variables=None: self._part(part, endpoint, variables),
            render_url=lambda text, name: self._url(text, name, endpoint),
            links=self.template.links,
            settings=self.channel_settings,
            unsubscribe=self._unsubscribe(endpoint_id, endpoint),
        )
        try:
            return self.channel.compose(given)
        except self._render_error as error:
            raise ComposeError("template_render_error", str(getattr(error, "reason", ""))) from None


def load_plugin(spec: str) -> Callable[[ComposerOptions], MessageComposer]:
    """A composer factory named MODULE:FACTORY: the user's own code, imported by its name."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise PinrecError(f"--composer must be MODULE:FACTORY, got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise PinrecError(f"--composer {spec}: cannot import {module_name}: {error}") from None
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise PinrecError(f"--composer {spec}: {module_name} has no callable {attribute}")
    return factory  # type: ignore[no-any-return]


def make_composer(plugin: str | None, options: ComposerOptions) -> MessageComposer:
    if plugin:
        return load_plugin(plugin)(options)
    return TemplateComposer(options)
