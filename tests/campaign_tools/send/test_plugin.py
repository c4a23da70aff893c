"""A composer written in the tests, loaded by
`pinrec send --composer tests.campaign_tools.send.test_plugin:make_composer` (`PLUGIN`).

It stands in for the template composer (issue 5's renderer) in CLI and subprocess tests: the rest of the path —
segment, recommendations, transformer, ledger, delivery — is pinrec's real code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from campaign_tools.channels.base import ComposeError, Message
from campaign_tools.channels.email import EmailMessage
from campaign_tools.channels.push import PushMessage
from campaign_tools.channels.sms import SmsMessage
from campaign_tools.send.compose import ComposerOptions, load_plugin
from transformer.errors import PinrecError

PLUGIN = "tests.campaign_tools.send.test_plugin:make_composer"
"""How `pinrec send --composer` names this module's composer factory."""


def _first(endpoint: Mapping[str, Any], *path: str) -> str:
    value: Any = endpoint
    for key in path:
        value = value.get(key, {}) if isinstance(value, Mapping) else {}
    return value[0] if isinstance(value, list) and value else ""


class PlainComposer:
    """Email, SMS and push from the endpoint's first name and recommended titles; no template engine."""

    sms_max_segments = 1

    def __init__(self, channel: str) -> None:
        self.channel = channel
        """The channel's name: email, sms or push."""

    @staticmethod
    def sms_segments(text: str) -> int:
        return -(-len(text) // 160)

    def compose(self, endpoint_id: str, endpoint: Mapping[str, Any]) -> Message:
        name = _first(endpoint, "User", "UserAttributes", "FirstName") or "there"
        titles = endpoint["Recommendations"]["Title"]
        if name == "FAIL":
            raise ComposeError("test_compose_failure")
        if self.channel == "email":
            items = "".join(f"<li>{title}</li>" for title in titles)
            return EmailMessage(
                to=endpoint["Address"],
                subject=f"Picked for you, {name}",
                html=f"<p>Hi {name}</p><ul>{items}</ul>",
                text=f"Hi {name}\n" + "\n".join(titles),
                unsubscribe_url=f"https://shop.example.com/unsubscribe?e={endpoint['Id']}",
            )
        if self.channel == "sms":
            return SmsMessage(to=endpoint["Address"], body=f"Hi {name}: {titles[0]}" + " more" * (name == "Long") * 40)
        return PushMessage(
            token=endpoint["Address"],
            channel_type=endpoint["ChannelType"],
            title=f"For {name}",
            body=titles[0],
            url="https://shop.example.com/app",
            action="URL",
        )


def make_composer(options: ComposerOptions) -> PlainComposer:
    return PlainComposer(options.channel)


def test_plugin_loads_by_module_and_factory() -> None:
    factory = load_plugin(PLUGIN)
    assert factory is make_composer


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("tests.campaign_tools.send.test_plugin", "MODULE:FACTORY"),
        ("no_such_module_xyz:make", "cannot import no_such_module_xyz"),
        ("tests.campaign_tools.send.test_plugin:nothing_here", "has no callable nothing_here"),
    ],
)
def test_plugin_errors_are_clear(spec: str, message: str) -> None:
    with pytest.raises(PinrecError, match=message):
        load_plugin(spec)
