"""What a send builds from its settings before it reads a single endpoint: the configuration, the transformer (its
catalog opened), the composer (its template built and checked against the configuration) and the recommendation
source. A warm Lambda keeps them between batches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from campaign_tools.channels.base import ClientFactory
from campaign_tools.send.compose import ComposerOptions, MessageComposer, make_composer
from campaign_tools.send.profile_items import supply_profile_items
from campaign_tools.send.recommendations import registry as source_registry
from campaign_tools.send.recommendations.base import RecommendationSource
from campaign_tools.send.settings import SendSettings
from transformer.config import PinrecConfig, load_config
from transformer.errors import PinrecError
from transformer.service import Transformer

Built = TypeVar("Built")


class PreflightError(PinrecError):
    """A send cannot start: its parts cannot be built, or a check before the first message failed. The message
    lists every problem found; nothing was sent and nothing was written to the ledger."""

    def __init__(self, campaign_id: str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        listed = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"campaign {campaign_id} cannot start (nothing was sent):\n{listed}")


@dataclass(frozen=True)
class SendParts:
    """What a send builds once and a warm Lambda keeps between batches: the transformer keeps its cache."""

    config: PinrecConfig
    transformer: Transformer
    composer: MessageComposer
    recommendations: RecommendationSource


def _attempt(problems: list[str], build: Callable[[], Built], prefix: str = "") -> Built | None:
    try:
        return build()
    except PinrecError as error:
        problems.append(f"{prefix}{error}")
        return None


def assemble(settings: SendSettings, clients: ClientFactory) -> tuple[SendParts | None, list[str]]:
    """The send's parts, or why they cannot be built: every independent part is tried, so each problem is known."""
    problems: list[str] = []
    config = _attempt(problems, lambda: load_config(settings.config))
    source = _attempt(
        problems,
        lambda: source_registry.open_source(settings.recommendations, settings.source_options(), clients),
        f"--recommendations {settings.recommendations}: ",
    )
    if config is None:
        return None, problems
    options = ComposerOptions(
        settings.template,
        settings.templates_dir,
        settings.channel,
        config,
        built=settings.built,
        unsubscribe=settings.unsubscribe_request(),
    )
    composer = _attempt(problems, lambda: make_composer(settings.composer, options))
    transformer = _attempt(problems, lambda: Transformer(config))
    if composer is None or transformer is None or source is None:
        return None, problems
    try:
        supply_profile_items(config, transformer.store, source)
    except PinrecError as error:
        problems.append(str(error))
        return None, problems
    return SendParts(config, transformer, composer, source), problems


def prepare(settings: SendSettings, clients: ClientFactory) -> SendParts:
    """The send's parts; PreflightError listing every problem when some cannot be built."""
    parts, problems = assemble(settings, clients)
    if parts is None:
        raise PreflightError(settings.campaign_id, problems)
    return parts
