"""Composers: the template composer (pinrec's templates and Pinpoint renderer), or a plugin named on the command line.

The templates and the renderer (`campaign_tools.templates`, `campaign_tools.rendering`) are imported only when a
template composer is built, so the rest of `pinrec send` works in a build without them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from campaign_tools.send.delivery_sms import SegmentCounter
from campaign_tools.send.messages import (
    Channel,
    ComposeError,
    EmailMessage,
    Message,
    MessageComposer,
    PushMessage,
    SmsMessage,
)
from transformer.config import PinrecConfig
from transformer.errors import PinrecError

TEMPLATES_UNAVAILABLE = (
    "templates are not available in this build: pinrec send needs campaign_tools.templates and "
    "campaign_tools.rendering ({error}); pass --composer MODULE:FACTORY to use your own composer"
)


@dataclass(frozen=True)
class ComposerOptions:
    """What a composer factory is given: `factory(options) -> MessageComposer`."""

    template: str | None
    templates_dir: str | None
    channel: Channel
    config: PinrecConfig
    built: str | None = None
    """A folder `pinrec templates build --out` wrote: compose from it instead of building `template` from source."""


def _import(*modules: str) -> list[Any]:
    try:
        return [importlib.import_module(name) for name in modules]
    except ImportError as error:
        raise PinrecError(TEMPLATES_UNAVAILABLE.format(error=error)) from None


def sendable_template(options: ComposerOptions, renderer: Any) -> Any:
    """The template to compose from: the pre-built folder (renderer only), else built now from its source."""
    if options.built:
        (prebuilt,) = _import("campaign_tools.templates.prebuilt")
        template = prebuilt.load_prebuilt(Path(options.built))
        if options.template and options.template != template.name:
            raise PinrecError(
                f"the built template in {options.built} is {template.name}, not {options.template} "
                f"(for the send function: pinrec package --function send --template {options.template})"
            )
        template.check_attributes(options.config.attributes)
        return template
    if not options.template:
        raise PinrecError("--template or --built is required (or --composer)")
    build, manifest_module = _import("campaign_tools.templates.build", "campaign_tools.templates.manifest")
    source = manifest_module.load_template(options.template, options.templates_dir)
    return build.build_template(source, options.config, renderer).sendable()


def sms_segment_counter() -> SegmentCounter:
    """The renderer's SMS part counter (GSM-7 / UCS-2, escape and surrogate pairs never split)."""
    (rendering,) = _import("campaign_tools.rendering")
    encoding: Callable[[str], Any] = rendering.sms_encoding
    return lambda text: int(encoding(text).segments)


def _text(endpoint: Mapping[str, Any], key: str) -> str:
    value = endpoint.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ComposeError("no_address")
    return value


class TemplateComposer:
    """Renders a template's parts for each endpoint with Pinpoint's substitution semantics.

    The template is a `SendableTemplate` either way: built now from its source (`--template`, the full authoring
    pipeline) or read from a pre-built folder (`--built`, the send Lambda: only the renderer is imported).
    """

    def __init__(self, options: ComposerOptions, *, renderer: Any | None = None) -> None:
        (rendering,) = _import("campaign_tools.rendering")
        self._render_error = rendering.TemplateRenderError
        self.renderer = renderer if renderer is not None else rendering.PinpointRenderer()
        self.template = sendable_template(options, self.renderer)
        self.channel = options.channel
        if self.channel.value not in self.template.channels:
            channels = ", ".join(str(channel) for channel in self.template.channels)
            raise PinrecError(f"template {self.template.name} has no {options.channel} version (it has: {channels})")
        if self.channel is Channel.EMAIL and not self.template.unsubscribe_url:
            raise PinrecError(
                f"template {self.template.name} sets no links.unsubscribe_url: email campaigns need a "
                "List-Unsubscribe link"
            )
        self.sms_max_segments: int = self.template.sms_max_segments

    def _part(self, part_name: str, endpoint: Mapping[str, Any]) -> str:
        part = next((part for part in self.template.parts if part.name == part_name), None)
        if part is None:
            return ""
        return str(self.template.render(self.renderer, part, endpoint).text)

    def _unsubscribe_url(self, endpoint: Mapping[str, Any]) -> str:
        rendered = self.renderer.render(
            self.template.unsubscribe_url,
            endpoint,
            default_substitutions=self.template.default_substitutions,
            name=f"{self.template.name}/links.unsubscribe_url",
            escape=False,
        )
        return str(rendered.text)

    def compose(self, endpoint_id: str, endpoint: Mapping[str, Any]) -> Message:
        try:
            return self._compose(endpoint)
        except self._render_error as error:
            raise ComposeError("template_render_error", str(getattr(error, "reason", ""))) from None

    def _compose(self, endpoint: Mapping[str, Any]) -> Message:
        address = _text(endpoint, "Address")
        if self.channel is Channel.EMAIL:
            return EmailMessage(
                to=address,
                subject=self._part("EMAIL_SUBJECT", endpoint).strip(),
                html=self._part("EMAIL_HTML", endpoint),
                text=self._part("EMAIL_TEXT", endpoint) or None,
                unsubscribe_url=self._unsubscribe_url(endpoint),
            )
        if self.channel is Channel.SMS:
            return SmsMessage(to=address, body=self._part("SMS_BODY", endpoint).strip())
        return PushMessage(
            token=address,
            channel_type=str(endpoint.get("ChannelType")),
            title=self._part("PUSH_TITLE", endpoint).strip(),
            body=self._part("PUSH_BODY", endpoint).strip(),
            url=self._part("PUSH_URL", endpoint).strip() or None,
            action=self.template.push_action,
            sound=self.template.push_sound,
        )


def load_plugin(spec: str) -> Callable[[ComposerOptions], MessageComposer]:
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
