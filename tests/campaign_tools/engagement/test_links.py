"""Tracked recommendation links: what a send adds to each item's link, and what a click's link gives back."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from campaign_tools.engagement.links import TrackedClick, parse_click, split_send_id, track_endpoint, tracked_url

item_ids = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=100)


@given(item_ids, st.integers(1, 5), st.sampled_from(["spring", "spring.20270115T080000Z.picks.email"]))
def test_a_tracked_link_gives_back_its_item_position_and_send(item_id: str, position: int, send_id: str) -> None:
    url = tracked_url("https://shop.example.com/p/x?utm_source=pinpoint#reviews", item_id, position, send_id)
    assert url is not None and url.endswith("#reviews") and "utm_source=pinpoint&pinrec_item=" in url
    click = parse_click(url)
    assert click is not None
    assert (click.item_id, click.position, click.send_id) == (item_id, position, send_id)


def test_a_unit_send_id_names_its_campaign_and_treatment_the_attribution_source() -> None:
    click = parse_click(tracked_url("https://s.example/p", "P1", 3, "spring.20270115T080000Z.picks.email"))
    assert click == TrackedClick("P1", 3, "spring.20270115T080000Z.picks.email", "spring", "picks")
    assert click.attribution_source == "spring/picks"
    assert split_send_id("plain-send") == ("plain-send", None)


@given(st.from_type(object) | st.text(max_size=300))
def test_any_value_is_a_tracked_click_or_none_never_an_error(value: Any) -> None:
    assert parse_click(value) is None or isinstance(parse_click(value), TrackedClick)


def test_links_that_are_not_ours_or_are_damaged_read_as_none() -> None:
    for link in [
        "https://s.example/p?utm_source=x",
        "https://s.example/p?pinrec_item=P1&pinrec_pos=6&pinrec_c=c",
        "https://s.example/p?pinrec_item=P1&pinrec_pos=x&pinrec_c=c",
        "https://s.example/p?pinrec_item=P1&pinrec_item=P2&pinrec_pos=1&pinrec_c=c",
        "https://s.example/p?pinrec_item=P1&pinrec_pos=1",
        "https://[::1/p?pinrec_item=P1&pinrec_pos=1&pinrec_c=c",
    ]:
        assert parse_click(link) is None, link
    assert tracked_url("mailto:a@b.example", "P1", 1, "c") is None
    assert tracked_url("{{Url}}", "P1", 1, "c") is None


def endpoint(items: list[str], urls: list[Any]) -> dict[str, Any]:
    return {"RecommendationItems": items, "Recommendations": {"Url": urls, "Title": ["a"] * len(urls)}}


def test_each_recommended_items_link_is_tracked_in_place_and_nothing_else_changes() -> None:
    given_endpoint = endpoint(["P1", "P2"], ["https://s.example/1", "https://s.example/2?a=b"])
    tracked = track_endpoint(given_endpoint, "Url", "spring")
    assert tracked["Recommendations"]["Url"] == [
        "https://s.example/1?pinrec_item=P1&pinrec_pos=1&pinrec_c=spring",
        "https://s.example/2?a=b&pinrec_item=P2&pinrec_pos=2&pinrec_c=spring",
    ]
    assert tracked["Recommendations"]["Title"] == ["a", "a"]
    assert given_endpoint["Recommendations"]["Url"][0] == "https://s.example/1"  # the input is not changed


def test_links_that_do_not_line_up_with_the_items_are_left_as_they_are() -> None:
    dropped = endpoint(["P1", "P2", "P3"], ["https://s.example/1", "https://s.example/3"])  # P2 unknown, dropped
    assert track_endpoint(dropped, "Url", "spring") is dropped
    no_attribute = endpoint(["P1"], ["https://s.example/1"])
    assert track_endpoint(no_attribute, "Link", "spring") is no_attribute
    odd = endpoint(["P1", "P2"], [None, "not a url"])
    assert track_endpoint(odd, "Url", "spring")["Recommendations"]["Url"] == [None, "not a url"]
