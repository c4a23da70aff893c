"""SMS encoding and segments at the exact carrier boundaries, plus properties of the split."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaign_tools.rendering import sms_encoding, sms_segments

ESCAPED = "^{}\\[]~|€"


def test_empty_message_has_no_segment() -> None:
    info = sms_encoding("")
    assert (info.encoding, info.units, info.segments, info.parts) == ("GSM-7", 0, 0, ())


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm7_boundaries(length: int, segments: int) -> None:
    info = sms_encoding("a" * length)
    assert (info.encoding, info.units, info.segments) == ("GSM-7", length, segments)
    if segments > 1:
        assert [len(part) for part in info.parts[:-1]] == [153] * (segments - 1)


@pytest.mark.parametrize(
    ("length", "segments"),
    [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_ucs2_boundaries(length: int, segments: int) -> None:
    info = sms_encoding("ж" * length)
    assert (info.encoding, info.units, info.segments) == ("UCS-2", length, segments)


@pytest.mark.parametrize("char", list(ESCAPED))
def test_extension_characters_cost_two_septets(char: str) -> None:
    info = sms_encoding(char * 80)
    assert (info.encoding, info.characters, info.units, info.segments) == ("GSM-7", 80, 160, 1)
    assert sms_encoding(char * 80 + "a").segments == 2


def test_an_escape_pair_is_never_split_across_parts() -> None:
    text = "a" * 152 + "€" + "b" * 10
    info = sms_encoding(text)
    assert info.units == 152 + 2 + 10
    assert info.parts == ("a" * 152, "€" + "b" * 10)
    assert info.segments == 2


def test_a_surrogate_pair_is_never_split_across_parts() -> None:
    text = "x" * 66 + "😀" + "y" * 10
    info = sms_encoding(text)
    assert (info.encoding, info.characters, info.units) == ("UCS-2", 77, 78)
    assert info.parts == ("x" * 66, "😀" + "y" * 10)


def test_emoji_count_two_units_in_a_single_part() -> None:
    assert (sms_encoding("😀" * 35).segments, sms_encoding("😀" * 35 + "a").segments) == (1, 2)


def test_one_curly_apostrophe_switches_the_whole_message_to_ucs2() -> None:
    plain = "It's 50% off today only, " + "a" * 120
    curly = plain.replace("'", "\u2019")
    assert sms_encoding(plain).encoding == "GSM-7" and sms_encoding(plain).segments == 1
    info = sms_encoding(curly)
    assert (info.encoding, info.segments) == ("UCS-2", 3)
    assert [(c.char, c.count, c.replacement) for c in info.non_gsm_chars] == [("\u2019", 1, "'")]
    assert info.suggested_text == plain


@pytest.mark.parametrize(
    ("char", "replacement"),
    [
        ("\u2018", "'"),
        ("\u201c", '"'),
        ("\u201d", '"'),
        ("\u2014", "-"),
        ("\u2013", "-"),
        ("\u2026", "..."),
        ("\u00a0", " "),
        ("\u2122", "TM"),
        ("\u00e1", "a"),
        ("\u00ea", "e"),
        ("\t", " "),
        ("\u200b", ""),
    ],
)
def test_non_gsm_characters_come_with_replacements(char: str, replacement: str) -> None:
    info = sms_encoding(f"Save{char}now")
    assert info.encoding == "UCS-2"
    assert info.non_gsm_chars[0].replacement == replacement
    assert info.suggested_text == f"Save{replacement}now"
    assert sms_encoding(info.suggested_text).encoding == "GSM-7"


def test_characters_without_a_faithful_replacement_are_listed_without_one() -> None:
    info = sms_encoding("Hi 😀 \u4f60")
    assert [(c.char, c.replacement) for c in info.non_gsm_chars] == [("😀", None), ("\u4f60", None)]
    assert info.suggested_text is None
    assert info.non_gsm_chars[0].name == "GRINNING FACE"


def test_gsm7_letters_with_accents_stay_gsm7() -> None:
    info = sms_encoding("é è ù ì ò Ç Ø ø Å å Ä Ö Ñ Ü ß ¿ ¡ £ ¥ §")
    assert info.encoding == "GSM-7"
    assert info.non_gsm_chars == ()


_gsm_text = st.text(alphabet="abcXYZ 0123.,!?@£$¥èéùìòÇØøÅåÄÖÑÜß§¿¡\n" + ESCAPED, max_size=700)
_any_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=400)


@given(text=st.one_of(_gsm_text, _any_text))
def test_parts_recompose_the_text_and_fit_their_limit(text: str) -> None:
    info = sms_encoding(text)
    assert "".join(info.parts) == text
    assert info.segments == len(info.parts)
    for part in info.parts:
        assert sms_encoding(part).encoding == info.encoding or info.encoding == "UCS-2"
        assert sms_encoding(part).units <= info.per_part


@given(text=st.one_of(_gsm_text, _any_text), extra=st.sampled_from(["a", "€", "ж", "😀"]))
def test_segment_count_never_drops_when_the_text_grows(text: str, extra: str) -> None:
    assert sms_encoding(text + extra).segments >= sms_encoding(text).segments


GSM_HEAVY = st.text(
    alphabet=st.sampled_from(list("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./09:;<=>?¡AZÄÖÑÜ§¿azäöñüà\n\r"))
    | st.sampled_from(list("^{}\\[]~|€\x0c\x1b’™😀ç"))
    | st.characters(),
    max_size=700,
)


@given(GSM_HEAVY)
def test_the_part_count_is_the_full_encodings_for_any_text(text: str) -> None:
    assert sms_segments(text) == sms_encoding(text).segments


@pytest.mark.parametrize(("length", "parts"), [(0, 0), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3)])
def test_basic_gsm_text_is_counted_from_its_length_at_the_part_boundaries(length: int, parts: int) -> None:
    text = ("Hello world, Ünicode ÄÖ @£$ " * 30)[:length]
    assert sms_segments(text) == parts == sms_encoding(text).segments
