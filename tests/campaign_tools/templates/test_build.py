"""Build: jinja2 -> Handlebars, the guarded email pipeline, and the exact Pinpoint request JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from campaign_tools.channels import email as email_channel
from campaign_tools.channels import push as push_channel
from campaign_tools.channels import sms as sms_channel
from campaign_tools.cli import main
from campaign_tools.templates.authoring import author_part
from campaign_tools.templates.build import build_template
from campaign_tools.templates.email_pipeline import derive_text_part, inline_css, mjml_to_html
from campaign_tools.templates.errors import AuthoringError, PipelineGuardError, TemplateError
from campaign_tools.templates.manifest import load_template, recommender_attributes
from transformer.config import parse_config

OFFER_DEFAULTS = {
    "Recommendations.OfferCode": "SHIPFREE",
    "Recommendations.OfferDescription": "Orders over $50 ship free to anywhere in the US.",
    "Recommendations.OfferExpiry": "the end of the month",
    "Recommendations.OfferTitle": "Free shipping on your next order",
    "User.UserAttributes.FirstName": "there",
}
OFFER_DESCRIPTION = "One personal coupon offer: title, description, code and expiry, by email, SMS and push."


def test_offer_requests_have_exactly_the_pinpoint_shapes(renderer: object) -> None:
    built = build_template(load_template("offer"), renderer=renderer)
    requests = built.requests("rec-123")
    assert set(requests) == {email_channel.CHANNEL, sms_channel.CHANNEL, push_channel.CHANNEL}
    email, sms, push = requests[email_channel.CHANNEL], requests[sms_channel.CHANNEL], requests[push_channel.CHANNEL]
    assert set(email) == {
        "Subject",
        "HtmlPart",
        "TextPart",
        "DefaultSubstitutions",
        "TemplateDescription",
        "RecommenderId",
    }
    assert email["Subject"] == "{{User.UserAttributes.FirstName.[0]}}, your offer: {{Recommendations.OfferTitle.[0]}}"
    assert json.loads(email["DefaultSubstitutions"]) == OFFER_DEFAULTS
    assert email["TemplateDescription"] == OFFER_DESCRIPTION
    assert email["RecommenderId"] == "rec-123"
    assert email["HtmlPart"].startswith("<!DOCTYPE html>") and '<html lang="en"' in email["HtmlPart"]
    assert email["TextPart"].startswith("Hi {{User.UserAttributes.FirstName.[0]}}, this one is just for you.")
    assert sms == {
        "Body": "Example Outfitters: {{Recommendations.OfferTitle.[0]}} with code {{Recommendations.OfferCode.[0]}}, "
        "until {{Recommendations.OfferExpiry.[0]}}. https://shop.example.com/offers?utm_source=pinpoint&"
        "utm_medium=sms&utm_campaign=offer&utm_content=sms Reply STOP to opt out",
        "DefaultSubstitutions": email["DefaultSubstitutions"],
        "TemplateDescription": OFFER_DESCRIPTION,
        "RecommenderId": "rec-123",
    }
    assert push == {
        "Default": {
            "Action": "URL",
            "Body": "Code {{Recommendations.OfferCode.[0]}}, until {{Recommendations.OfferExpiry.[0]}}. "
            "{{Recommendations.OfferDescription.[0]}}",
            "Title": "{{Recommendations.OfferTitle.[0]}}",
            "Url": "https://shop.example.com/offers?code={{Recommendations.OfferCode.[0]}}&utm_source=pinpoint&"
            "utm_medium=push&utm_campaign=offer&utm_content=push",
        },
        "DefaultSubstitutions": email["DefaultSubstitutions"],
        "TemplateDescription": OFFER_DESCRIPTION,
        "RecommenderId": "rec-123",
    }
    assert "RecommenderId" not in built.requests()[sms_channel.CHANNEL]


def test_build_command_writes_parts_and_request_json(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["templates", "build", "recommended-for-you", "--out", str(out), "--recommender-id", "r1"]) == 0
    printed = capsys.readouterr().out
    assert "guard mjml: 5 sample(s)" in printed and "guard text-part" in printed
    names = {path.name for path in out.iterdir()}
    assert names == {
        "email-subject.txt",
        "email.html",
        "email.txt",
        "email.mjml",
        "sms.txt",
        "push-title.txt",
        "push-body.txt",
        "push-url.txt",
        "EmailTemplateRequest.json",
        "SMSTemplateRequest.json",
        "PushNotificationTemplateRequest.json",
        "template.json",
    }
    email = json.loads((out / "EmailTemplateRequest.json").read_text(encoding="utf-8"))
    assert email["HtmlPart"] == (out / "email.html").read_text(encoding="utf-8")
    assert email["TextPart"] == (out / "email.txt").read_text(encoding="utf-8")
    assert email["RecommenderId"] == "r1"
    push = json.loads((out / "PushNotificationTemplateRequest.json").read_text(encoding="utf-8"))
    assert push["Default"]["Url"] == "{{Recommendations.Url.[0]}}"


def test_built_email_is_inlined_accessible_and_keeps_block_tags_in_comments(renderer: object) -> None:
    html = build_template(load_template("recommended-for-you"), renderer=renderer).parts[email_channel.HTML]
    assert '<html lang="en"' in html
    assert 'ses:tags="unsubscribeLinkTag:recommended-for-you"' in html
    assert all("alt=" in tag for tag in re.findall(r"<img\b[^>]*>", html))
    assert all('role="presentation"' in tag for tag in re.findall(r"<table\b[^>]*>", html))
    assert "prefers-color-scheme: dark" in html and '<meta name="color-scheme"' in html
    assert "fonts.googleapis.com" not in html
    # Block tags live in comments, each starting a line, so parsers never move them out of the table.
    block_tags = re.findall(r"\{\{[#/][^}]*\}\}", html)
    assert block_tags and all(f"<!-- {tag} -->" in html for tag in block_tags)
    assert html.count("{{#if") == html.count("{{/if}}")


def test_derived_text_part_branches_like_the_html(renderer: object) -> None:
    built = build_template(load_template("recommended-for-you"), renderer=renderer)
    text = built.parts[email_channel.TEXT]
    ana = built.samples["ep-email-ana"]  # three items: the fourth and fifth cards must not appear
    rendered = renderer.render(text, ana, default_substitutions=built.default_substitutions, escape=False).text
    assert "Trail Runner 2 Shoes" in rendered and "Daypack 22 L" in rendered
    assert rendered.count("View product <https://shop.example.com/p/") == 3
    assert "Our bestsellers" not in rendered
    assert "Unsubscribe <https://shop.example.com/preferences?endpoint=ep-email-ana&" in rendered


def test_test_send_shows_the_featured_card_with_defaults_only(renderer: object) -> None:
    built = build_template(load_template("recommended-for-you"), renderer=renderer)
    html = built.render(renderer, email_channel.HTML, {}).text
    assert html.count("Our bestsellers this week") == 3  # preheader, and the featured card's image alt and name
    assert html.count("View product") == 1
    assert "Hi there, these are for you" in html


@pytest.mark.parametrize(
    ("stage", "broken", "complaint"),
    [
        ("compile_mjml", lambda source: mjml_to_html(source.replace("Your code", "")), "visible text"),
        (
            "inline",
            lambda html: inline_css(html).replace(
                'href="https://shop.example.com/?', 'href="https://shop.example.com/x?'
            ),
            "links",
        ),
        ("inline", lambda html: inline_css(html.replace("<tbody>", "")).replace("Valid until", "Until"), "text"),
    ],
)
def test_guards_catch_a_stage_that_drops_text_or_links(stage, broken, complaint, renderer: object) -> None:
    source = load_template("offer")
    with pytest.raises(PipelineGuardError, match=complaint) as raised:
        build_template(source, renderer=renderer, email_stages={stage: broken})
    assert "offer" in str(raised.value)


def test_guard_catches_a_text_part_that_loses_a_link(renderer: object) -> None:
    def lossy(html: str) -> str:
        return re.sub(r" <https://shop\.example\.com/\?[^>]*>", "", derive_text_part(html), count=1)

    with pytest.raises(PipelineGuardError, match="stage 'text-part' changed the links"):
        build_template(load_template("recommended-for-you"), renderer=renderer, email_stages={"derive_text": lossy})


def test_guard_catches_css_inline_fostering_a_block_tag_out_of_a_table(template_copy, renderer: object) -> None:
    # A block tag written as text between rows (not in a comment) is moved out of the table by the HTML parser.
    source = template_copy(
        "offer",
        {
            "email.mjml.jinja": [
                (
                    '<mj-text align="center" padding="16px 16px 0" font-size="14px" color="#4a5561">'
                    "Your code</mj-text>",
                    "<mj-raw>{{#if Attributes.Vip.[0]}}</mj-raw><mj-text>Your code</mj-text><mj-raw>{{/if}}</mj-raw>",
                )
            ]
        },
    )
    with pytest.raises(PipelineGuardError, match="css-inline"):
        build_template(source, renderer=renderer)


def test_jinja_delimiters_leave_handlebars_alone(template_copy, renderer: object) -> None:
    source = template_copy(
        "offer",
        {"push-body.jinja": [("Code ", "{{#each Recommendations.OfferCode}}{{this}}{{/each}} {# not jinja #} Code ")]},
    )
    text = author_part(source, push_channel.BODY, recommender_attributes(source.manifest))
    assert text.startswith("{{#each Recommendations.OfferCode}}{{this}}{{/each}} {# not jinja #} Code ")


def test_jinja_variables_are_escaped_in_html_and_undefined_names_fail(template_copy) -> None:
    source = template_copy("offer", {"email.mjml.jinja": [("Use my code</mj-button>", "[[ '<b>' ]]</mj-button>")]})
    html = author_part(source, email_channel.HTML, recommender_attributes(source.manifest))
    assert "&lt;b&gt;</mj-button>" in html
    broken = template_copy("offer", {"sms.jinja": [("Example", "[[ shop_name ]]")]})
    with pytest.raises(AuthoringError, match="shop_name") as raised:
        author_part(broken, sms_channel.BODY, recommender_attributes(broken.manifest))
    assert raised.value.line == 1 and raised.value.file is not None and raised.value.file.name == "sms.jinja"


def test_rec_refuses_undeclared_attributes_and_indexes_beyond_the_limit(template_copy) -> None:
    undeclared = template_copy("offer", {"push-title.jinja": [("OfferTitle", "Colour")]})
    with pytest.raises(AuthoringError, match=r"Recommendations.Colour is not among the recommender's attributes"):
        author_part(undeclared, push_channel.TITLE, recommender_attributes(undeclared.manifest))
    beyond = template_copy("recommended-for-you", {"push-url.jinja": [("'Url', 0", "'Url', 5")]})
    with pytest.raises(AuthoringError, match=r"index 5 is beyond RecommendationsPerMessage \(5\)"):
        author_part(beyond, push_channel.URL, recommender_attributes(beyond.manifest))


def test_utm_is_added_to_owned_links_only(template_copy) -> None:
    source = template_copy(
        "offer",
        {
            "sms.jinja": [
                ("[[ utm('https://shop.example.com/offers', 'sms') ]]", "[[ utm('https://other.example/x') ]]")
            ]
        },
    )
    text = author_part(source, sms_channel.BODY, recommender_attributes(source.manifest))
    assert "https://other.example/x Reply" in text


def test_attributes_are_checked_against_the_recommender_configuration(tmp_path: Path) -> None:
    config = parse_config(
        {"store": {"kind": "sqlite", "path": "c.db"}, "attributes": {"Title": {"field": "name", "max_length": 25}}},
        base_dir=tmp_path,
    )
    with pytest.raises(TemplateError, match=r"does not declare: ItemId, ImageUrl, Price, Url"):
        recommender_attributes(load_template("recommended-for-you").manifest, config)
    offer_like = parse_config(
        {
            "store": {"kind": "sqlite", "path": "c.db"},
            "attributes": {
                name: {"field": name.lower(), **({"max_length": 12} if name == "OfferTitle" else {})}
                for name in ("OfferTitle", "OfferDescription", "OfferCode", "OfferExpiry")
            },
        },
        base_dir=tmp_path,
    )
    attributes = recommender_attributes(load_template("offer").manifest, offer_like)
    assert attributes.max_length("OfferTitle") == 12  # the configuration wins
    assert attributes.max_length("OfferCode") == 16  # else the manifest's


def test_bad_manifest_is_reported_with_key_and_rule(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "template.toml").write_text(
        'name = "-bad"\ndescription = "x"\nchannels = ["email", "fax"]\n[attributes.Title]\n', encoding="utf-8"
    )
    with pytest.raises(TemplateError) as raised:
        load_template(str(folder))
    message = str(raised.value)
    assert "name: name must be 1-128 characters" in message and "channels.1" in message


def test_missing_part_and_unknown_template_are_clear_errors(template_copy) -> None:
    source = template_copy("offer")
    (source.directory / "sms.jinja").unlink()
    with pytest.raises(TemplateError, match=r"has channel sms but no sms\.jinja"):
        load_template(str(source.directory))
    with pytest.raises(TemplateError, match="template 'nope' not found"):
        load_template("nope")


def test_when_not_survives_the_pipeline_into_the_text_part(template_copy, renderer: object) -> None:
    source = template_copy(
        "offer",
        {
            "email.mjml.jinja": [
                (
                    "[[ rec('OfferDescription', 0) ]]</mj-text>",
                    "[[ rec('OfferDescription', 0) ]]</mj-text>[% call when_not(path('Attributes.Vip.[0]')) %]"
                    "<mj-text>Join our club for more offers.</mj-text>[% endcall %]",
                )
            ],
            "email-text.jinja": [("Hi", "Hi")],
        },
    )
    (source.directory / "email-text.jinja").unlink()
    built = build_template(load_template(str(source.directory)), renderer=renderer)
    assert "{{#if Attributes.Vip.[0]}}{{else}}" in built.parts[email_channel.TEXT]
    ana = built.samples["ep-email-ana"]
    for part, escape in ((email_channel.HTML, True), (email_channel.TEXT, False)):
        text = renderer.render(built.parts[part], ana, default_substitutions=built.default_substitutions, escape=escape)
        assert "Join our club for more offers." in text.text
        vip = renderer.render(
            built.parts[part],
            {**ana, "Attributes": {"Vip": ["yes"]}},
            default_substitutions=built.default_substitutions,
            escape=escape,
        )
        assert "Join our club" not in vip.text


def test_jinja_syntax_errors_name_file_and_line(template_copy) -> None:
    source = template_copy("offer", {"email.mjml.jinja": [("<mj-body", "[% if %]\n<mj-body")]})
    with pytest.raises(AuthoringError) as raised:
        author_part(source, email_channel.HTML, recommender_attributes(source.manifest))
    assert raised.value.file is not None and raised.value.file.name == "email.mjml.jinja"
    text = (source.directory / "email.mjml.jinja").read_text(encoding="utf-8").splitlines()
    assert text[raised.value.line - 1] == "  [% if %]"
    assert str(raised.value).startswith(f"{raised.value.file}:{raised.value.line}: jinja2 syntax:")
