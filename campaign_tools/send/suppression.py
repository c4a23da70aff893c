"""A send's suppression check: which list it consults, and which endpoints of a batch that list suppresses.

Which list (`choose`), first that applies:
1. `--suppression KIND:TARGET` (`SendSettings.suppression`), or `--suppression none` to consult none;
2. `./pinrec-suppression.db`, when that file exists (where `pinrec suppression` writes by default);
3. none, which the run's description says (and the preflight warns about when the send delivers).
(`$PINREC_SUPPRESSION` configures the deployed functions, not a send: a send's list is named on its command line.)
A list that is named but cannot be read (a SQLite file that does not exist among them: a typo must not send to
everyone) stops the send in its preflight; in an `--on-aws` child (no preflight) the
batch fails and Step Functions retries it. A lookup that fails during a run fails that batch's endpoints
(`suppression_unavailable`, retried by the next run): an endpoint is never delivered unchecked.

Per batch of up to 50 endpoints, one lookup: each address as the channel delivers to it (the channel's address
check: an email's domain in IDNA, a number in E.164), then normalised as the lists store it
(`Channel.normalise_address`). A suppressed endpoint is skipped with the ledger reason `suppressed:<reason>` (its
strongest entry); an unsubscribe from one topic only suppresses sends of that topic (the send's unsubscribe topic:
`--topic`, or the template's `[links] topic`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from campaign_tools.channels.base import Channel, ComposeError
from campaign_tools.send.segments import SegmentEndpoint
from campaign_tools.suppression import registry
from campaign_tools.suppression.base import SuppressionList
from campaign_tools.unsubscribe.links import UnsubscribePlan
from transformer.errors import PinrecError

NONE = "none"
SKIP_PREFIX = "suppressed:"


def check_spec(spec: str) -> str:
    """`spec` when it is `none` or names a known list kind; PinrecError naming --suppression otherwise."""
    if spec == NONE:
        return spec
    try:
        return registry.check_spec(spec)
    except PinrecError:
        raise PinrecError(f"--suppression must be {registry.usage()} or {NONE}, got {spec!r}") from None


@dataclass(frozen=True)
class Choice:
    spec: str | None
    """The list consulted (KIND:TARGET), or None."""
    why: str
    """Where the choice came from, for the run's description."""

    def describe(self) -> str:
        return f"{self.spec} ({self.why})" if self.spec else f"none ({self.why})"


def default_path() -> Path:
    return Path(registry.DEFAULT_SUPPRESSION.partition(":")[2])


def choose(spec: str | None, cwd: Path | None = None) -> Choice:
    """The list a send consults (see the module)."""
    if spec is not None:
        return Choice(None, "--suppression none") if spec == NONE else Choice(spec, "--suppression")
    path = (cwd or Path.cwd()) / default_path()
    if path.is_file():
        return Choice(f"sqlite:{path}", f"./{default_path()} exists")
    return Choice(None, f"no --suppression and no ./{default_path()}")


def send_topic(configured: str | None, composer: object) -> str | None:
    """The topic this send's unsubscribes are scoped to: the composer's plan when it has one, else `--topic`."""
    plan = getattr(composer, "unsubscribe", None)
    return plan.topic_of_send if isinstance(plan, UnsubscribePlan) else configured


class SuppressionCheck:
    """Which endpoints of a batch `suppressions` suppresses for a send of `topic` on `channel`."""

    def __init__(self, suppressions: SuppressionList, channel: Channel, topic: str | None) -> None:
        self.suppressions = suppressions
        self.channel = channel
        self.topic = topic

    def skips(self, endpoints: Sequence[SegmentEndpoint]) -> dict[str, str]:
        """Endpoint id -> `suppressed:<reason>` for the suppressed ones; PinrecError when the list cannot answer."""
        keys: dict[str, str] = {}
        for item in endpoints:
            address = item.endpoint.get("Address")
            if not isinstance(address, str):
                continue
            try:
                keys[item.endpoint_id] = self.channel.normalise_address(self.channel.check_address(address))
            except ComposeError:
                continue  # not deliverable: the composer skips it as invalid_address
        if not keys:
            return {}
        found = self.suppressions.lookup(self.channel.name, set(keys.values()), topic=self.topic)
        return {endpoint_id: f"{SKIP_PREFIX}{found[key].reason}" for endpoint_id, key in keys.items() if key in found}
