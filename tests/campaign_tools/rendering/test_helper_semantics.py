"""Helper behaviour handlebars.js cannot vouch for: hand-computed values, each citing the rule it checks.

Digest and Base64 values are the published test vectors (RFC 1321, FIPS 180-2, RFC 4648), not AWS's helper
page, whose md5 and decode64 examples are wrong.
"""

from __future__ import annotations

import pytest

from campaign_tools.rendering import PinpointRenderer, TemplateRenderError


def render(renderer: PinpointRenderer, template: str, **context: object) -> str:
    return renderer.render(template, context, escape=False).text


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # RFC 1321 appendix A.5
        ('{{md5 ""}}', "d41d8cd98f00b204e9800998ecf8427e"),
        ('{{md5 "abc"}}', "900150983cd24fb0d6963f7d28e17f72"),
        ('{{md5 "message digest"}}', "f96b697d7cb7938d525a2f31aaf161d0"),
        # FIPS 180-2 appendix B.1 / C.1
        ('{{sha256 "abc"}}', "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            '{{sha512 "abc"}}',
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        ),
        # RFC 4648 section 10
        ('{{encode64 "foobar"}}', "Zm9vYmFy"),
        ('{{encode64 "fo"}}', "Zm8="),
        ('{{decode64 "Zm9vYg=="}}', "foob"),
    ],
)
def test_digests_and_base64_match_published_vectors(renderer: PinpointRenderer, template: str, expected: str) -> None:
    assert render(renderer, template) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # Java SimpleDateFormat letters (rendered through CLDR patterns with the same meaning)
        ('{{dateFormat d "yyyy-MM-dd"}}', "2026-02-28"),
        ('{{dateFormat d "EEEE d MMMM yyyy, HH:mm"}}', "Saturday 28 February 2026, 23:30"),
        ('{{dateFormat d "EEE, MMM d, h:mm a" tz="America/New_York"}}', "Sat, Feb 28, 6:30 PM"),
        ('{{dateFormat d "yyyy-MM-dd" tz="Asia/Tokyo"}}', "2026-03-01"),
        ("{{dateFormat d \"'Week' w\"}}", "Week 9"),
        # Locale as the second extra argument, like Handlebars.java
        ('{{dateFormat d "full" "fr_FR"}}', "samedi 28 février 2026"),
        ('{{dateFormat d "full" "de-DE"}}', "Samstag, 28. Februar 2026"),
        ('{{dateFormat d "EEEE" "es_ES"}}', "sábado"),
        # Styles: date only, en_US
        ('{{dateFormat d "short"}}', "2/28/26"),
        ('{{dateFormat d "long"}}', "February 28, 2026"),
        # Accepted inputs: a date, an offset date-time, epoch milliseconds
        ('{{dateFormat "2026-01-05"}}', "Jan 5, 2026"),
        ('{{dateFormat "2026-01-05T01:00:00+02:00" "yyyy-MM-dd HH:mm"}}', "2026-01-04 23:00"),
        ('{{dateFormat ms "yyyy-MM-dd"}}', "2001-09-09"),
        ("{{now \"yyyy-MM-dd'T'HH:mm\"}}", "2026-11-23T09:30"),
        ('{{now format="EEEE"}}', "Monday"),
    ],
)
def test_date_patterns_locales_and_time_zones(renderer: PinpointRenderer, template: str, expected: str) -> None:
    assert render(renderer, template, d="2026-02-28T23:30:00Z", ms=1_000_000_000_000) == expected


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ('{{dateFormat "next tuesday"}}', "not an ISO-8601 date"),
        ('{{dateFormat "2026-01-01" tz="Mars/Olympus"}}', "unknown time zone"),
        ('{{dateFormat "2026-01-01" "full" "xx_YY_ZZ"}}', "unknown locale"),
        ("{{dateFormat flag}}", "not a date"),
    ],
)
def test_bad_dates_zones_and_locales_are_errors(renderer: PinpointRenderer, template: str, problem: str) -> None:
    with pytest.raises(TemplateRenderError, match=problem):
        render(renderer, template, flag=True)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # Handlebars.java slugify keeps letters only: digits and punctuation are dropped, blanks become "-".
        ('{{slugify "  Top 10 Picks!  "}}', "top--picks"),
        ('{{slugify "Crème Brûlée"}}', "crème-brûlée"),
        # StringUtils.abbreviate: width includes the three dots.
        ('{{abbreviate "Handlebars rocks" 13}}', "Handlebars..."),
        ('{{abbreviate "abcd" 4}}', "abcd"),
        # StringUtils.center: the extra pad goes to the right.
        ('{{center "ab" size=5 pad="*"}}', "*ab**"),
        # Empty value: Java StringHelpers print the first extra argument.
        ('{{capitalize missing "n/a"}}', "n/a"),
        ("{{substring missing 2}}", "2"),
        # inflect (handlebars-helpers): negative counts take the singular.
        ('{{inflect -3 "item" "items" true}}', "-3 item"),
        ('{{inflect "1" "item" "items" true}}', "1 item"),
        # ordinalize keeps the number as written and rounds half up for the suffix.
        ('{{ordinalize "112"}}', "112th"),
        ("{{ordinalize 1.5}}", "1.5nd"),
        # eq compares type and value: a numeric string is not a number; 1 and 1.0 are the same number.
        ('{{eq "1" 1}} {{eq 1 1.0}} {{neq "a" "a"}}', "false true false"),
        # Conditionals use Java truthiness: 0 and {} are true, "" and [] are false.
        ("{{and zero obj}} {{or empty list}} {{not zero}}", "true false false"),
        ("{{if zero}} {{if empty yes='y' no='n'}}", "true n"),
        # Math on numeric strings, in decimal, at most 8 places; round is Java Math.round (half up).
        ('{{add "0.1" "0.2"}} {{round "-0.5"}} {{multiply "3" "1.5"}} {{modulo -7 2}}', "0.3 0 4.5 -1"),
        ("{{divide 2 3}} {{divide 1 8}} {{divide 10 4}} {{multiply 0.1 3}}", "0.66666667 0.125 2.5 0.3"),
        # The result is a number: it compares as one.
        ("{{eq (divide 10 5) 2}} {{gt (add 5 2.3) 7}}", "true true"),
    ],
)
def test_java_semantics_where_pinpoint_is_silent(renderer: PinpointRenderer, template: str, expected: str) -> None:
    assert render(renderer, template, zero=0, obj={}, empty="", list=[]) == expected


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ('{{center "ab"}}', "needs a width"),
        ('{{ljust "ab"}}', "needs a width"),
        ('{{rjust "ab" "wide"}}', "not a number"),
        ('{{abbreviate "abc"}}', "needs a width"),
        ('{{replace "abc" "b"}}', "two strings"),
        ("{{join list}}", "separator"),
        ('{{yesno "yes"}}', "expects true, false"),
        ('{{gt "10" 9}}', "cannot compare the string '10' with the number 9"),
        ("{{lt missing 3}}", "a missing value"),
        ('{{eq "a"}}', "two values"),
        ('{{add "x" 1}}', "'x' is not a number"),
        ("{{subtract missing 1}}", "is not a number"),
        ("{{modulo 5 0}}", "division by zero"),
        ('{{decode64 "%%%"}}', "not Base64"),
        ("{{ordinalize}}", "needs a number"),
        ('{{inflect 2 "a"}}', "needs a count"),
        ('{{substring "abc" 1.5}}', "whole number"),
    ],
)
def test_helper_misuse_is_an_error_naming_the_helper(renderer: PinpointRenderer, template: str, problem: str) -> None:
    with pytest.raises(TemplateRenderError, match=problem):
        render(renderer, template, list=["a", "b"])


def test_every_documented_helper_is_registered(renderer: PinpointRenderer) -> None:
    conditionals = {"and", "eq", "gt", "gte", "if", "lt", "lte", "neq", "not", "or"}
    strings = {"abbreviate", "capitalize", "capitalizeFirst", "center", "cut", "dateFormat", "inflect", "join"}
    strings |= {"ljust", "lower", "now", "ordinalize", "replace", "rjust", "slugify", "stripTags", "substring"}
    strings |= {"upper", "yesno"}
    math = {"add", "ceiling", "decode64", "divide", "encode64", "floor", "md5", "modulo", "multiply", "round"}
    math |= {"sha256", "sha512", "subtract", "uuid"}
    assert conditionals | strings | math | {"lookup"} <= renderer.helper_names


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # Java Character.toTitleCase: a character whose capital is two letters stays as it is ...
        ('{{capitalizeFirst "ßa"}}', "ßa"),
        # ... and digraphs take their titlecase form, not the all-capital one.
        ('{{capitalizeFirst "ǆemal"}} {{capitalize "ǉubav je"}}', "ǅemal ǈubav Je"),
        # Words are split at Java whitespace, which does not include the no-break space.
        ('{{capitalize "a\u00a0b c\td"}}', "A\u00a0b C\tD"),
    ],
)
def test_title_casing_follows_java(renderer: PinpointRenderer, template: str, expected: str) -> None:
    assert render(renderer, template) == expected


def test_a_partial_that_includes_itself_is_an_error_not_a_crash(renderer: PinpointRenderer) -> None:
    with pytest.raises(TemplateRenderError, match=r"nest too deeply|depth"):
        render(renderer, '{{#*inline "loop"}}x{{> loop}}{{/inline}}\n{{> loop}}')


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # inputFormat: SimpleDateFormat letters; a date without a zone is local time in tz, so the day stays.
        ('{{dateFormat d inputFormat="MM/dd/yyyy" outputFormat="yyyy-MM-dd" tz="Asia/Tokyo"}}', "2020-09-19"),
        ('{{dateFormat "19.9.2020 17:05" inputFormat="d.M.yyyy HH:mm" outputFormat="h:mm a"}}', "5:05 PM"),
        # Names match in any case, full or abbreviated, in the given locale.
        ('{{dateFormat "3 sept. 2020" inputFormat="d MMM yyyy" outputFormat="EEEE" locale="fr_FR"}}', "jeudi"),
        ('{{dateFormat "SEPTEMBER 3, 2020" inputFormat="MMMM d, yyyy" outputFormat="short"}}', "9/3/20"),
        # Abutting numbers take as many digits as their letters; "yy" lands within 80 years before and 20 after now.
        ('{{dateFormat "200919" inputFormat="yyMMdd" outputFormat="long"}}', "September 19, 2020"),
        # (now is 2026-11-23: two-digit years fall from 1946-11-23 to 2046-11-22)
        ('{{dateFormat "470101" inputFormat="yyMMdd" outputFormat="yyyy"}}', "1947"),
        ('{{dateFormat "451231" inputFormat="yyMMdd" outputFormat="yyyy"}}', "2045"),
        ('{{dateFormat "461201" inputFormat="yyMMdd" outputFormat="yyyy"}}', "1946"),
        ('{{dateFormat "460101" inputFormat="yyMMdd" outputFormat="yyyy"}}', "2046"),
        # Lenient: out-of-range fields roll over; an offset in the text wins over tz; trailing text is ignored.
        ('{{dateFormat "02/30/2020" inputFormat="MM/dd/yyyy" outputFormat="yyyy-MM-dd"}}', "2020-03-01"),
        ('{{dateFormat "2020-09-19 23:30 -0700" inputFormat="yyyy-MM-dd HH:mm Z" outputFormat="d HH:mm"}}', "20 06:30"),
        ('{{dateFormat "2020-09-19 (Sat)" inputFormat="yyyy-MM-dd" outputFormat="D"}}', "263"),
        # Output letters as SimpleDateFormat prints them: u is the ISO day number, S milliseconds, X ISO offsets,
        # k 1-24, K 0-11, F the weekday's occurrence in the month, '' a quote.
        (
            '{{dateFormat "2020-09-19T00:05:07.045-07:00" "u S SSS X XX XXX k K F \'\'yy" tz="America/Los_Angeles"}}',
            "6 45 045 -07 -0700 -07:00 24 0 3 '20",
        ),
        ('{{dateFormat "2020-09-19T12:00:00Z" "G yyyy EEE MMM LLLL a"}}', "AD 2020 Sat Sep September PM"),
        ("{{dateFormat \"2020-09-19\" \"'Week' w 'of' yyyy\"}}", "Week 38 of 2020"),
        ('{{dateFormat "2020-09-19" outputFormat="full" locale="de_DE"}}', "Samstag, 19. September 2020"),
        # The positional format wins over outputFormat=, which wins over format=.
        ('{{dateFormat "2020-09-19" "short" outputFormat="long" format="full"}}', "9/19/20"),
        ('{{dateFormat "2020-09-19" outputFormat="long" format="full"}}', "September 19, 2020"),
    ],
)
def test_java_date_patterns_parse_and_print_as_simpledateformat(
    renderer: PinpointRenderer, template: str, expected: str
) -> None:
    assert render(renderer, template, d="09/19/2020") == expected


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ('{{dateFormat "19/09/2020" inputFormat="yyyy-MM-dd"}}', "does not match the inputFormat"),
        ('{{dateFormat "Smarch 3" inputFormat="MMMM d"}}', "does not match the inputFormat"),
        ('{{dateFormat "2020-09-19" "yyyy-MM-dd q"}}', "illegal pattern character 'q'"),
        ('{{dateFormat "2020-09-19" "\'unclosed"}}', "unterminated quote"),
        ('{{dateFormat "09/19/2020"}}', 'inputFormat="MM/dd/yyyy"'),
    ],
)
def test_bad_date_patterns_are_errors(renderer: PinpointRenderer, template: str, problem: str) -> None:
    with pytest.raises(TemplateRenderError, match=problem):
        render(renderer, template)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # Handlebars.java compares two strings with String.compareTo: character by character.
        ('{{gt "9" "17"}} {{gt "100" "17"}} {{lt "Zoe" "adam"}}', "true false true"),
        ("{{gt age '17' yes='adult' no='minor'}}", "adult"),  # the documented example, wrong for "9"
        ("{{gt metric 17}} {{gte 17 17.0}}", "false true"),  # numbers compare as numbers
    ],
)
def test_comparisons_follow_handlebars_java(renderer: PinpointRenderer, template: str, expected: str) -> None:
    assert render(renderer, template, age="9", metric=9.0) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (
            '{{inflect 3 "apple" "apples" includeCount=true}} {{inflect "1" "apple" "apples" includeCount=true}}',
            "3 apples 1 apple",
        ),
        ('{{inflect 0 "apple" "apples"}} {{inflect 2 "apple" "apples" includeCount=false}}', "apples apples"),
        ("{{yesno t}} {{yesno f}} {{yesno upper}} {{yesno empty}} {{yesno t yes='Y'}}", "yes no yes maybe Y"),
        (
            '[{{ljust "ab" 5}}] [{{rjust "ab" 5 pad="."}}] [{{center "ab" 6}}] [{{ljust "ab" 1 size=4}}]',
            "[ab   ] [...ab] [  ab  ] [ab  ]",
        ),
    ],
)
def test_documented_arguments(renderer: PinpointRenderer, template: str, expected: str) -> None:
    assert render(renderer, template, t="true", f="false", upper="TRUE", empty="") == expected
