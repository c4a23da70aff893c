"""Item-level click tracking: the recommended items' links carry the item, its position and the send's campaign id
as query parameters, and a click event's link is read back into them.

Why query parameters (and not SES `ses:tags` link tags): SES rewrites every link for click tracking and reports the
ORIGINAL URL in the click event's `click.link`, query string included, whatever the markup pipeline did; link tags
are attributes of the `<a>` element, which MJML drops from `<mj-button>` and `<mj-image>` and which a template's own
inliner may drop too. Query parameters also reach the landing page, so a site can attribute its own conversions.

The parameters (`pinrec_item`, `pinrec_pos`, `pinrec_c`) hold only what the message already shows (the item's page
is its link) and the campaign id; never a user id or an address.

Opt-in: a template's `[links] track_recommendations = "Url"` names the recommendation attribute that holds each
item's link. A send of that template on the email channel rewrites the endpoint's `Recommendations.<attribute>`
values before rendering (`track_endpoint`), so every place the template prints them (`{{Recommendations.Url.[2]}}`,
the authoring helper `rec('Url', 2)`) prints the tracked link. Templates that do not opt in render unchanged, and the
template itself stays plain Pinpoint Handlebars (no helper Pinpoint lacks).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit, urlunsplit

RECOMMENDATIONS = "Recommendations"
RECOMMENDATION_ITEMS = "RecommendationItems"
"""`transformer.enrich`'s names, repeated: the events function's zip must not import the transformer core (jinja2)."""

ITEM_PARAMETER = "pinrec_item"
POSITION_PARAMETER = "pinrec_pos"
CAMPAIGN_PARAMETER = "pinrec_c"
MAX_POSITION = 5
MAX_LINK = 2048
"""Longest link read back (what the SES source keeps of `click.link`)."""
UNIT_ID = re.compile(
    r"(?P<campaign>.+)\.(?P<slot>\d{8}T\d{6}Z)\.(?P<treatment>[A-Za-z0-9][A-Za-z0-9_-]{0,31})\.[a-z][a-z0-9_]*"
)
"""A campaign unit's send id, `<campaign>.<slot>.<treatment>.<channel>` (`campaigns.units.SendUnit.send_id`)."""


@dataclass(frozen=True, slots=True)
class TrackedClick:
    """What a tracked link names: the item, its position (1-5) in the message, the send's campaign id and, for a
    campaign unit, the campaign and treatment."""

    item_id: str
    position: int
    send_id: str
    campaign: str
    treatment: str | None = None

    @property
    def attribution_source(self) -> str:
        """Personalize's `eventAttributionSource`: the campaign, with its treatment when the send is a unit."""
        return f"{self.campaign}/{self.treatment}" if self.treatment else self.campaign


def split_send_id(send_id: str) -> tuple[str, str | None]:
    """(campaign, treatment) of a send id: a unit's `<campaign>.<slot>.<treatment>.<channel>`, else (id, None)."""
    match = UNIT_ID.fullmatch(send_id)
    return (match.group("campaign"), match.group("treatment")) if match else (send_id, None)


def tracked_url(url: str, item_id: str, position: int, send_id: str) -> str | None:
    """`url` with the tracking parameters added (before any fragment), or None when it is no http(s) URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    added = (
        f"{ITEM_PARAMETER}={quote(item_id, safe='')}&{POSITION_PARAMETER}={position}"
        f"&{CAMPAIGN_PARAMETER}={quote(send_id, safe='')}"
    )
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def parse_click(link: object) -> TrackedClick | None:
    """The tracked click a link names, or None when it is not one of ours (any value may arrive)."""
    if not isinstance(link, str) or not link or len(link) > MAX_LINK or ITEM_PARAMETER not in link:
        return None
    try:
        query = parse_qs(urlsplit(link).query, keep_blank_values=False, max_num_fields=100)
    except ValueError:
        return None
    values = [query.get(name) for name in (ITEM_PARAMETER, POSITION_PARAMETER, CAMPAIGN_PARAMETER)]
    if any(found is None or len(found) != 1 for found in values):
        return None
    item_id, position_text, send_id = (found[0] for found in values if found is not None)
    if not position_text.isdigit() or not 1 <= int(position_text) <= MAX_POSITION:
        return None
    if not item_id or len(item_id) > 256 or not send_id or len(send_id) > 256:
        return None
    campaign, treatment = split_send_id(send_id)
    return TrackedClick(item_id, int(position_text), send_id, campaign, treatment)


def positions(endpoint: Mapping[str, Any], attribute: str) -> list[tuple[int, str, str]] | None:
    """(position, item id, link) of each recommended item whose link the endpoint holds, or None when the links do
    not line up with the recommended items (the transformer dropped an unknown item: positions would be wrong)."""
    recommendations = endpoint.get(RECOMMENDATIONS)
    items = endpoint.get(RECOMMENDATION_ITEMS)
    links = recommendations.get(attribute) if isinstance(recommendations, Mapping) else None
    if not isinstance(links, list) or not isinstance(items, list) or len(links) != len(items):
        return None
    return [
        (index + 1, item, link)
        for index, (item, link) in enumerate(zip(items, links, strict=True))
        if isinstance(item, str) and item and isinstance(link, str) and index < MAX_POSITION
    ]


def track_endpoint(endpoint: Mapping[str, Any], attribute: str, send_id: str) -> Mapping[str, Any]:
    """The endpoint with each recommended item's link in `Recommendations.<attribute>` tracked; the endpoint itself
    when nothing can be tracked (its links stay as they are)."""
    found = positions(endpoint, attribute)
    if not found:
        return endpoint
    recommendations = endpoint[RECOMMENDATIONS]
    links = list(recommendations[attribute])
    for position, item_id, link in found:
        tracked = tracked_url(link, item_id, position, send_id)
        if tracked is not None:
            links[position - 1] = tracked
    return {**endpoint, RECOMMENDATIONS: {**recommendations, attribute: links}}
